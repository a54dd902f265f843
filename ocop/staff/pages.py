"""Staff pages: the producers and products of their area, what needs attention, and acting on a
producer's behalf (recorded in the audit log with the producer it was done for)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from ocop.accounts.access import combine, get_producer, producer_scope
from ocop.catalog.access import product_scope
from ocop.accounts.audit import record
from ocop.accounts.auth import Me, requires_staff
from ocop.catalog.services import EXPIRING_DAYS
from ocop.catalog.certificates import current_certificates
from ocop.catalog.tables import Image, Product
from ocop.domain.dates import today_vn
from ocop.marketplace.tables import Listing
from ocop.producers.addresses import province_name, ward_name
from ocop.producers.tables import Producer
from ocop.web.render import client_ip, form_dict, render, see_other

PAGE = {"include_in_schema": False, "guards": [requires_staff]}


async def attention(me: Me) -> dict[str, list[dict[str, Any]]]:
    """Products in ``me``'s area needing attention: rejected listings, certificates expiring within
    90 days (or expired), and products without a usable photo."""
    scope = product_scope(me)
    base = Product.select(Product.id, Product.name, Product.producer.legal_name.as_alias("producer_name"))
    products = await (base.where(scope) if scope is not None else base)
    ids = [p["id"] for p in products]
    by_id = {p["id"]: p for p in products}
    if not ids:
        return {"rejected": [], "expiring": [], "no_photo": []}
    rejected = await Listing.select(Listing.product, Listing.last_error).where(
        Listing.product.is_in(ids) & (Listing.state == "rejected")
    )
    limit = today_vn() + timedelta(days=EXPIRING_DAYS)
    expiring = [cert for cert in (await current_certificates(ids)).values()
                if cert["expires_on"] is not None and cert["expires_on"] <= limit]
    with_photo = {
        r["product"]
        for r in await Image.select(Image.product).where(Image.product.is_in(ids) & (Image.status == "ready"))
    }
    return {
        "rejected": [{**by_id[r["product"]], "reason": r["last_error"]} for r in rejected],
        "expiring": [{**by_id[r["product"]], "expires_on": r["expires_on"]} for r in expiring],
        "no_photo": [by_id[i] for i in ids if i not in with_photo],
    }


@get("/staff", **PAGE)
async def staff_home(request: Request[Any, Any, Any], me: Me) -> Template:
    q = request.query_params.get("q", "")
    query = Producer.select(
        Producer.id, Producer.legal_name, Producer.tax_code, Producer.province_code, Producer.commune_code
    )
    clause = combine(
        producer_scope(me), Producer.name_folded.like(f"%{q.strip().lower()}%") if q.strip() else None
    )
    if clause is not None:
        query = query.where(clause)
    producers = await query.order_by(Producer.name_folded).limit(200)
    counts: dict[int, int] = {}
    if producers:
        for row in await Product.select(Product.producer).where(
            Product.producer.is_in([p["id"] for p in producers])
        ):
            counts[row["producer"]] = counts.get(row["producer"], 0) + 1
    for p in producers:
        p["products"] = counts.get(p["id"], 0)
        p["place"] = ", ".join(
            x
            for x in (ward_name(p["province_code"], p["commune_code"]), province_name(p["province_code"]))
            if x
        )
    return render(
        "staff/index.html",
        producers=producers,
        attention=await attention(me),
        q=q,
        area=province_name(me.area_province_code) if me.is_staff else "",
    )


@post("/staff/act-as", **PAGE)
async def act_as(request: Request[Any, Any, Any], me: Me) -> Redirect:
    """Start (or, with an empty id, stop) acting on a producer's behalf."""
    form = await form_dict(request)
    raw = form.get("producer_id", "")
    session = dict(request.session)
    if raw.isdigit():
        producer = await get_producer(me, int(raw))
        session["acting_for"] = producer["id"]
        await record(
            me, "staff.act_as", "producer", producer["id"], producer_id=producer["id"], ip=client_ip(request)
        )
        request.scope["session"] = session
        return see_other("/products")
    session.pop("acting_for", None)
    request.scope["session"] = session
    return see_other("/staff")


ROUTES = [staff_home, act_as]
