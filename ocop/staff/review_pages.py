"""Staff's one flow after an import: review what was imported, then publish it.

Imported products arrive as drafts. The review page lists them per producer, says which are ready
for the producer's connected shops and, for the others, why not (no connected shop, or what each
marketplace still needs), and offers to publish the ready ones in one press. Publishing turns a
ready draft into an active product and asks for a listing on every connected shop it is ready for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from piccolo.query.functions.aggregate import Count

from ocop.accounts.access import acting_producer, combine
from ocop.accounts.audit import record
from ocop.accounts.auth import Me, Principal, requires_staff
from ocop.catalog.access import product_scope
from ocop.catalog.certificates import current_certificates
from ocop.catalog.readiness import readiness
from ocop.catalog.variant_store import variants_of
from ocop.catalog.services import images_of
from ocop.catalog.tables import Product
from ocop.domain.dates import today_vn
from ocop.imports.tables import ImportBatch
from ocop.marketplace.jobs import kick
from ocop.marketplace.publishing import PublishError, request_publish
from ocop.marketplace.listings import STATE_LABELS, STATE_LABELS_EN
from ocop.marketplace.tables import Listing, Shop
from ocop.marketplaces import NAMES
from ocop.producers.tables import Producer
from ocop.web.render import client_ip, form_dict, id_param, render, see_other

MAX_SHOWN = 500


@dataclass
class Candidate:
    id: int
    name: str
    status: str
    ready_for: list[int] = field(default_factory=list)
    """Connected shop ids this product is ready for."""
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(vi, en) reasons it is not ready anywhere."""


@dataclass
class ProducerReview:
    id: int
    name: str
    shops: int
    ready: list[Candidate] = field(default_factory=list)
    not_ready: list[Candidate] = field(default_factory=list)


async def _since(me: Principal, batch_id: int | None) -> datetime | None:
    """The start of an import run of ``me``'s area: products it wrote were updated after it."""
    if batch_id is None:
        return None
    row = await ImportBatch.select(ImportBatch.started_at).where(ImportBatch.id == batch_id).first()
    return row["started_at"] if row else None


async def review(me: Principal, *, producer_id: int | None = None, since: datetime | None = None,
                 product_ids: list[int] | None = None, drafts_only: bool = True) -> list[ProducerReview]:
    """The products in ``me``'s area (optionally one producer's, those written since an import
    started, or the given ids), grouped by producer, each ready or not with its reasons."""
    clause = combine(
        product_scope(me),
        Product.status.is_in(["draft"] if drafts_only else ["draft", "active"]),
        Product.producer == producer_id if producer_id else None,
        Product.updated_at >= since if since else None,
        Product.id.is_in(product_ids or [0]) if product_ids is not None else None,
    )
    query = Product.select().order_by(Product.producer).order_by(Product.name_folded).limit(MAX_SHOWN)
    products = await (query.where(clause) if clause is not None else query)
    producer_ids = sorted({p["producer"] for p in products})
    names = {r["id"]: r["legal_name"] for r in await Producer.select(Producer.id, Producer.legal_name)
             .where(Producer.id.is_in(producer_ids or [0]))}
    shops: dict[int, list[dict[str, Any]]] = {}
    for shop in await Shop.select(Shop.id, Shop.producer, Shop.marketplace).where(
            Shop.producer.is_in(producer_ids or [0]) & (Shop.status == "connected")):
        shops.setdefault(shop["producer"], []).append(shop)
    today = today_vn()
    certificates = await current_certificates([p["id"] for p in products])
    out: dict[int, ProducerReview] = {}
    for product in products:
        owner = product["producer"]
        group = out.setdefault(owner, ProducerReview(owner, names.get(owner, ""), len(shops.get(owner, []))))
        candidate = Candidate(product["id"], product["name"], product["status"])
        if not shops.get(owner):
            candidate.problems.append(("chủ thể chưa kết nối gian hàng nào trên sàn",
                                       "the producer has no connected marketplace shop"))
        else:
            checks = {r.marketplace: r for r in readiness(product, certificates.get(product["id"]),
                                                          await images_of(product["id"]), today,
                                                          await variants_of(product["id"]))}
            for shop in shops[owner]:
                check = checks.get(shop["marketplace"])
                if check is None or check.ready:
                    candidate.ready_for.append(shop["id"])
                elif (check.message_vi, check.message_en) not in candidate.problems:
                    candidate.problems.append((check.message_vi, check.message_en))
        (group.ready if candidate.ready_for else group.not_ready).append(candidate)
    return list(out.values())


@get("/staff/publish", include_in_schema=False, guards=[requires_staff])
async def publish_review(request: Request[Any, Any, Any], me: Me) -> Template:
    params = request.query_params
    batch_id = id_param(params.get("batch"))
    producer_id = id_param(params.get("producer")) or me.acting_for_producer_id
    groups = await review(me, producer_id=producer_id, since=await _since(me, batch_id))
    return render("marketplace/review.html", groups=groups, batch_id=batch_id, producer_id=producer_id,
                  ready=sum(len(g.ready) for g in groups), not_ready=sum(len(g.not_ready) for g in groups),
                  labels=NAMES, message=params.get("msg", ""))


@post("/staff/publish/ready", include_in_schema=False, guards=[requires_staff])
async def publish_ready(request: Request[Any, Any, Any], me: Me) -> Redirect:
    """Publish the ready drafts the review page listed (checked again here: the page may be old)."""
    form = await request.form()
    ids = [int(v) for v in form.getall("product", []) if str(v).isdigit()]
    if not ids:
        return see_other("/staff/publish?msg=none")
    groups = await review(me, product_ids=ids)
    requested = 0
    producers = []
    for group in groups:
        producers.append(group.id)
        for candidate in group.ready:
            if candidate.status == "draft":
                await Product.update({Product.status: "active"}).where(
                    (Product.id == candidate.id) & (Product.status == "draft"))
            for shop_id in candidate.ready_for:
                try:
                    requested += (await request_publish(candidate.id, shop_id, cause=f"user:{me.user_id}")).changed
                except PublishError:
                    continue
        await record(me, "listing.bulk_publish", "producer", group.id, producer_id=group.id,
                     changes={"requested": requested, "products": [c.id for c in group.ready]},
                     ip=client_ip(request))
    await kick(request.app.state.queue.redis)
    query = "&".join(f"producer={p}" for p in producers) or "msg=none"
    return see_other(f"/staff/publish/progress?{query}")


@post("/staff/publish", include_in_schema=False, guards=[requires_staff])
async def bulk_publish(request: Request[Any, Any, Any], me: Me) -> Redirect:
    """Publish every active product of a producer (in your area) to all its connected shops, and
    its drafts that are ready for them (imported products arrive as drafts)."""
    form = await form_dict(request)
    producer_id = await acting_producer(me, id_param(form.get("producer")))
    shops = await Shop.select(Shop.id).where((Shop.producer == producer_id) & (Shop.status == "connected"))
    products = await Product.select(Product.id).where((Product.producer == producer_id) & (Product.status == "active"))
    targets = [(p["id"], s["id"]) for p in products for s in shops]
    for group in await review(me, producer_id=producer_id):
        for candidate in group.ready:
            await Product.update({Product.status: "active"}).where(
                (Product.id == candidate.id) & (Product.status == "draft"))
            targets += [(candidate.id, shop_id) for shop_id in candidate.ready_for]
    count = 0
    for product_id, shop_id in targets:
        try:
            count += (await request_publish(product_id, shop_id, cause=f"user:{me.user_id}")).changed
        except PublishError:
            continue
    await record(me, "listing.bulk_publish", "producer", producer_id, producer_id=producer_id,
                 changes={"requested": count}, ip=client_ip(request))
    await kick(request.app.state.queue.redis)
    return see_other(f"/staff/publish/progress?producer={producer_id}")


@get("/staff/publish/progress", include_in_schema=False, guards=[requires_staff])
async def bulk_progress(request: Request[Any, Any, Any], me: Me) -> Template:
    """Publishing progress of one or more producers (the review page publishes for several)."""
    requested = [id_param(v) for v in request.query_params.getall("producer", [])] or [None]
    producer_ids = [await acting_producer(me, p) for p in requested]
    rows = await (Listing.select(Listing.state, Count(Listing.id, alias="n"))
                  .where(Listing.shop.producer.is_in(producer_ids)).group_by(Listing.state))
    counts = {r["state"]: r["n"] for r in rows}
    waiting = sum(counts.get(s, 0) for s in ("pending", "publishing"))
    total = sum(counts.values())
    connected = await Shop.count().where(Shop.producer.is_in(producer_ids) & (Shop.status == "connected"))
    template = "marketplace/_progress.html" if request.headers.get("hx-request") else "marketplace/progress.html"
    return render(template, producer_id=producer_ids[0], producer_query="&".join(f"producer={p}" for p in producer_ids),
                  counts=counts, waiting=waiting, total=total, connected=connected,
                  done=total - waiting, labels_vi=STATE_LABELS, labels_en=STATE_LABELS_EN)


ROUTES = [publish_review, publish_ready, bulk_publish, bulk_progress]
