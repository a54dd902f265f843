"""Pages for connecting shops, publishing products and watching sync (issue 6).

Producers act on their own data; staff and admins act for a producer of their area (the producer
is named in the URL or chosen on the staff pages) and every action is audited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from connectors.base import ConnectorError
from ocop import db
from ocop.catalog.tables import Variant
from ocop.catalog.variants import label as variant_label
from ocop.accounts.access import acting_producer, owned_by, producer_scope
from ocop.catalog.access import get_product
from ocop.accounts.audit import record
from ocop.accounts.auth import Me, requires_staff, requires_user
from ocop.accounts.tables import User
from ocop.domain.dates import VN_TZ
from ocop.marketplace import oauth_state
from ocop.marketplace.jobs import kick
from ocop.marketplace.listings import STATE_LABELS, STATE_LABELS_EN
from ocop.marketplace import stock
from ocop.marketplace.publishing import PublishError, request_publish, request_unlist
from ocop.marketplace.reasons import cause_words, explain, halves, user_ids_of
from ocop.marketplace.shops import ShopConnectError, authorize_url, complete_authorization, verify_state
from ocop.marketplace.sync import history_progress, sync_statuses
from ocop.marketplace.tables import Listing, ListingEvent, Shop, SyncRun
from ocop.marketplaces import NAMES
from ocop.producers.tables import Producer
from ocop.marketplace.variant_sales import product_sales
from ocop.logs import log
from ocop.web.render import client_ip, id_param, render, see_other

PAGE = {"include_in_schema": False, "guards": [requires_user]}


# The sync page's words for run kinds and their counters, as (vi, en).
SYNC_KINDS = {"status": ("Trạng thái tin đăng", "Listing status"), "orders": ("Đơn hàng", "Orders"),
              "tokens": ("Làm mới quyền truy cập", "Access refresh"),
              "reconcile": ("Đối soát tin đăng", "Listing reconciliation"),
              "reconcile_orders": ("Đối soát đơn hàng", "Order reconciliation"),
              "history": ("Lịch sử đơn hàng", "Order history")}
SYNC_COUNTS = {"checked": ("đã kiểm tra", "checked"), "changed": ("thay đổi", "changed"),
               "errors": ("lỗi", "errors"), "orders": ("đơn lưu", "orders stored"),
               "listed": ("đơn đọc được", "orders read"), "days": ("ngày", "days"),
               "refreshed": ("đã làm mới", "refreshed"), "failed": ("không làm mới được", "failed"),
               "needs_reauth": ("cần kết nối lại", "need reconnecting"),
               "adopted": ("đã nhận lại từ sàn", "adopted from the marketplace"),
               "missing": ("không có trên sàn", "not on the marketplace"),
               "requeued": ("đăng lại", "published again"), "windows": ("khoảng thời gian", "windows"),
               "shops": ("gian hàng", "shops"), "stock_due": ("tồn kho gửi lại", "stock pushed again")}


# Why a shop could not be connected (the callback's ``?err=`` code), as (vi, en).
CONNECT_ERRORS = {
    "shop_taken": ("Gian hàng này đã được kết nối với một chủ thể khác. Nếu đây là gian hàng của bạn, "
                   "hãy báo cán bộ xã để gỡ liên kết cũ.",
                   "This shop is already connected to another producer. If it is yours, ask your commune "
                   "officer to remove the old link."),
    "bad_state": ("Liên kết ủy quyền không hợp lệ hoặc đã hết hạn. Vui lòng bấm kết nối lại từ đầu.",
                  "The authorization link is invalid or expired. Please start connecting again."),
    "exchange_failed": ("Sàn từ chối ủy quyền. Vui lòng thử lại; nếu vẫn lỗi, báo cán bộ xã.",
                        "The marketplace refused the authorization. Try again; if it keeps failing, tell "
                        "your commune officer."),
}


@get("/shops", **PAGE)
async def shops_page(request: Request[Any, Any, Any], me: Me) -> Template:
    producer_id = await acting_producer(me, id_param(request.query_params.get("producer")))
    producer = await Producer.select().where(Producer.id == producer_id).first()
    rows = await Shop.select().where(Shop.producer == producer_id).order_by(Shop.marketplace)
    error = request.query_params.get("err", "")
    return render("marketplace/shops.html", producer=producer, shops=rows, names=NAMES,
                  history={row["id"]: _history(row) for row in rows},
                  message=request.query_params.get("msg", ""),
                  error=CONNECT_ERRORS.get(error, CONNECT_ERRORS["exchange_failed"]) if error else None)


def _history(shop: dict[str, Any]) -> dict[str, Any] | None:
    """How far the shop's order history has been read, for people: percent, and the Vietnamese
    days it reaches and aims at (``None`` before the backfill starts)."""
    progress = history_progress(shop)
    if progress is None:
        return None
    return {"percent": int(progress * 100), "done": progress >= 1.0,
            "until": _vn_day(shop["history_until"]), "from": _vn_day(shop["history_from"])}


def _vn_day(value: datetime) -> date:
    """The Vietnamese calendar day of a stored time (a naive value is UTC, as SQLite hands it back)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(VN_TZ).date()


@get("/shops/connect/{marketplace:str}", **PAGE)
async def connect(request: Request[Any, Any, Any], me: Me, marketplace: FromPath[str]) -> Redirect:
    """A link, not a form: our CSP (``form-action 'self'``) rightly stops a form submission from
    being redirected to another site, and this step only sends the seller to the marketplace's
    consent page (the signed ``state`` binds the answer to this producer)."""
    if marketplace not in NAMES:
        raise NotFoundException("Not found.")
    producer_id = await acting_producer(me, id_param(request.query_params.get("producer")))
    market = request.app.state.market
    await record(me, "shop.connect_started", "producer", producer_id, producer_id=producer_id,
                 changes={"marketplace": marketplace}, ip=client_ip(request))
    url = authorize_url(market.env, market.settings.resolved_secret_key(), producer_id, marketplace,
                        nonce=oauth_state.start(request))
    return Redirect(path=url, status_code=303)


@get("/shops/callback/{marketplace:str}", **PAGE)
async def callback(request: Request[Any, Any, Any], me: Me, marketplace: FromPath[str]) -> Redirect:
    params = request.query_params
    code = params.get("code") or params.get("auth_code") or ""
    market = request.app.state.market
    try:
        producer_id = verify_state(market.settings.resolved_secret_key(), params.get("state", ""), marketplace)
        await acting_producer(me, producer_id)
        await oauth_state.claim(request, params.get("state", ""))
        shop = await complete_authorization(market.env, market.cipher, market.settings.resolved_secret_key(),
                                            marketplace, code=code, state=params.get("state", ""),
                                            shop_id=params.get("shop_id") or None)
    except ShopConnectError as exc:
        return see_other(f"/shops?err={exc.code}")
    await record(me, "shop.connected", "shop", shop.id, producer_id=producer_id,
                 changes={"marketplace": marketplace, "external_shop_id": shop.external_shop_id}, ip=client_ip(request))
    return see_other(f"/shops?producer={producer_id}&msg=connected")


# Messages a publish request leaves for the next page (``?err=`` / ``?msg=``), as (vi, en).
PUBLISH_MESSAGES = {
    "no_shop": ("Chưa chọn gian hàng nào: đánh dấu ít nhất một gian hàng rồi bấm Đăng bán.",
                "No shop was ticked: tick at least one shop, then press Publish."),
    "shop_disconnected": ("Gian hàng cần kết nối lại trước khi đăng bán.", "Reconnect the shop before publishing."),
    "wrong_shop": ("Gian hàng thuộc về chủ thể khác.", "The shop belongs to another producer."),
    "not_found": ("Không tìm thấy sản phẩm hoặc gian hàng.", "Product or shop not found."),
    "busy": ("Tin đăng vừa thay đổi, vui lòng thử lại.", "The listing changed meanwhile; try again."),
    "requested": ("Đã gửi yêu cầu đăng bán. Trạng thái bên dưới tự cập nhật.",
                  "Publishing was requested. The status below updates by itself."),
    "unchanged": ("Sàn đã có đúng nội dung này, không cần gửi lại.",
                  "The marketplace already has exactly this; nothing to send."),
    "unlisted": ("Đã gửi yêu cầu gỡ khỏi sàn.", "Unlisting was requested."),
}
WAITING = ("pending", "publishing", "in_review")


async def _listing_context(product: dict[str, Any]) -> dict[str, Any]:
    product_id = product["id"]
    shops = await Shop.select().where(Shop.producer == product["producer"]).order_by(Shop.marketplace)
    rows = await Listing.select().where(Listing.product == product_id)
    for row in rows:  # times are shown in Vietnam's time
        row["explained"] = explain(row["last_error"]) if row["state"] in ("failed", "rejected") else None
        pushed_at = row["stock_pushed_at"]
        row["stock_pushed_vn"] = pushed_at.astimezone(VN_TZ).strftime("%H:%M:%S %d/%m/%Y") if pushed_at else ""
    by_shop = {r["shop"]: r for r in rows}
    events = await (ListingEvent.select().where(ListingEvent.listing.is_in([r["id"] for r in rows] or [0]))
                    .order_by(ListingEvent.id, ascending=False).limit(30))
    ids = user_ids_of([e["cause"] for e in events])
    users = {u["id"]: u["display_name"] or u["username"]
             for u in await User.select(User.id, User.username, User.display_name).where(User.id.is_in(ids or [0]))}
    market_of = {r["id"]: NAMES.get(s["marketplace"], s["marketplace"])
                 for r in rows for s in shops if s["id"] == r["shop"]}
    for e in events:
        e["by_vi"], e["by_en"] = cause_words(e["cause"], users)
        e["marketplace"] = market_of.get(e["listing"], "")
        e["explained"] = explain(e["reason"]) if e["to_state"] in ("failed", "rejected") else None
        e["reason_vi"], e["reason_en"] = halves(e["reason"])
    return {"product": product, "shops": shops, "listings": by_shop, "events": events,
            "waiting": any(r["state"] in WAITING for r in rows), "names": NAMES,
            "labels_vi": STATE_LABELS, "labels_en": STATE_LABELS_EN}


@get("/products/{product_id:int}/marketplaces", **PAGE)
async def product_listings(request: Request[Any, Any, Any], me: Me, product_id: FromPath[int]) -> Template:
    product = await get_product(me, product_id)
    context = await _listing_context(product)
    params = request.query_params
    message = PUBLISH_MESSAGES.get(params.get("err", "")) or PUBLISH_MESSAGES.get(params.get("msg", ""))
    variants = (await stock.variant_availability([product_id])).get(product_id, {})
    labels = {}
    if variants:
        for row in await Variant.select(Variant.sku, Variant.option1, Variant.option2).where(
                Variant.product == product_id):
            labels[row["sku"]] = variant_label(row["option1"], row["option2"])
    for row in context["listings"].values():  # per-SKU numbers as kept, read times in Vietnam's time
        row["skus_shown"] = db.json_value(row["skus_shown"], {}) or {}
        row["skus_read"] = db.json_value(row["skus_read"], {}) or {}
        read_at = row["skus_read_at"]
        row["skus_read_vn"] = read_at.astimezone(VN_TZ).strftime("%H:%M:%S %d/%m/%Y") if read_at else ""
    return render("marketplace/product.html", message=message, is_error=bool(params.get("err")), **context,
                  stock=(await stock.availability([product_id])).get(product_id),
                  variants=variants, labels=labels,
                  sales=await product_sales(product_id) if variants else None,
                  pushed=params.get("stock") == "pushed", read=params.get("stock") == "read",
                  read_failed=params.get("stock") == "read_failed")


@get("/products/{product_id:int}/marketplaces/status", **PAGE)
async def product_listings_status(request: Request[Any, Any, Any], me: Me, product_id: FromPath[int]) -> Template:
    """The listings' state alone, polled by the page (HTMX) while a marketplace still has work to do,
    so the producer sees the result arrive without reloading."""
    product = await get_product(me, product_id)
    await _check_review(request, product_id)
    return render("marketplace/_status.html", **await _listing_context(product))


REVIEW_CHECK_EVERY_S = 10


async def _check_review(request: Request[Any, Any, Any], product_id: int) -> None:
    """While the page waits for a marketplace's review, ask the marketplace about this product's
    listings in review, at most every 10 s per product (across processes, through Redis), instead
    of leaving the producer to wait for the next scheduled sync."""
    ids = [r["id"] for r in await Listing.select(Listing.id).where(
        (Listing.product == product_id) & (Listing.state == "in_review"))]
    if not ids:
        return
    try:
        if not await request.app.state.queue.redis.set(f"ocop:review-check:{product_id}", 1, nx=True,
                                                        ex=REVIEW_CHECK_EVERY_S):
            return
        await sync_statuses(request.app.state.market, listing_ids=ids)
    except Exception as exc:  # noqa: BLE001 - the scheduled sync will still pick it up
        log.info("review_check_failed", product=product_id, error=str(exc))


@post("/products/{product_id:int}/publish", **PAGE)
async def publish(request: Request[Any, Any, Any], me: Me, product_id: FromPath[int]) -> Redirect:
    product = await get_product(me, product_id)
    form = await request.form()
    shop_ids = [int(v) for v in form.getall("shop", []) if str(v).isdigit()]
    if not shop_ids:
        return see_other(f"/products/{product_id}/marketplaces?err=no_shop")
    cause = f"user:{me.user_id}"
    problems = []
    changed = 0
    for shop_id in shop_ids:
        try:
            done = await request_publish(product_id, shop_id, cause=cause)
        except PublishError as exc:
            problems.append(exc.code)
            continue
        if done.changed:
            changed += 1
            await record(me, "listing.publish", "listing", done.listing_id, producer_id=product["producer"],
                         changes={"version": done.version}, ip=client_ip(request))
    await kick(request.app.state.queue.redis)
    if problems:
        suffix = f"?err={problems[0]}"
    else:
        suffix = "?msg=requested" if changed else "?msg=unchanged"
    return see_other(f"/products/{product_id}/marketplaces{suffix}")


@post("/listings/{listing_id:int}/unlist", **PAGE)
async def unlist(request: Request[Any, Any, Any], me: Me, listing_id: FromPath[int]) -> Redirect:
    row = await Listing.select(Listing.product).where(Listing.id == listing_id).first()
    if row is None:
        raise NotFoundException("Not found.")
    product = await get_product(me, row["product"])
    if await request_unlist(listing_id, cause=f"user:{me.user_id}", reason="yêu cầu gỡ / unlist requested"):
        await record(me, "listing.unlist", "listing", listing_id, producer_id=product["producer"], ip=client_ip(request))
    await kick(request)
    return see_other(f"/products/{row['product']}/marketplaces?msg=unlisted")


@post("/products/{product_id:int}/stock/push", **PAGE)
async def push_stock_again(request: Request[Any, Any, Any], me: Me, product_id: FromPath[int]) -> Redirect:
    """Send ocop's price and stock to every marketplace of the product again (partial push)."""
    product = await get_product(me, product_id)
    count = await stock.push_again(product_id)
    await record(me, "listing.stock_push", "product", product_id, producer_id=product["producer"],
                 changes={"listings": count}, ip=client_ip(request))
    await kick(request.app.state.queue.redis)
    return see_other(f"/products/{product_id}/marketplaces?stock=pushed#stock")


@post("/products/{product_id:int}/stock/read", **PAGE)
async def read_stock_back(request: Request[Any, Any, Any], me: Me, product_id: FromPath[int]) -> Redirect:
    """Read what each marketplace shows now for every SKU of the product (a difference from
    ocop's numbers then goes out with the next push)."""
    await get_product(me, product_id)
    rows = await Listing.select(Listing.id).where((Listing.product == product_id) & (Listing.external_item_id != ""))
    failed = 0
    for row in rows:
        try:
            await stock.read_back(request.app.state.market, row["id"])
        except ConnectorError as exc:  # one marketplace down must not hide the others' numbers
            log.info("stock_read_failed", listing=row["id"], error=exc.message)
            failed += 1
    await kick(request.app.state.queue.redis)
    return see_other(f"/products/{product_id}/marketplaces?stock={'read_failed' if failed else 'read'}#stock")


@get("/sync", include_in_schema=False, guards=[requires_staff])
async def sync_page(me: Me) -> Template:
    """The sync runs and failing listings of the shops in your area (admins: all, and the runs of
    no shop)."""
    runs_query = SyncRun.select(*SyncRun.all_columns()).order_by(SyncRun.id, ascending=False).limit(50)
    run_scope = owned_by(me, SyncRun.shop.producer)  # runs of no shop (the whole service): admins only
    runs = await (runs_query.where(run_scope) if run_scope is not None else runs_query)
    scope = producer_scope(me)
    producers = Producer.select(Producer.id)
    if scope is not None:
        producers = producers.where(scope)
    ids = [r["id"] for r in await producers] or [0]
    failing = await (Listing.select(Listing.id, Listing.state, Listing.last_error, Listing.product.name,
                                    Listing.shop.marketplace, Listing.product)
                     .where(Listing.state.is_in(["failed", "rejected"]) & Listing.shop.producer.is_in(ids))
                     .order_by(Listing.updated_at, ascending=False).limit(100))
    shop_names = {r["id"]: f"{NAMES.get(r['marketplace'], r['marketplace'])} · {r['external_shop_id']}"
                  for r in await Shop.select(Shop.id, Shop.marketplace, Shop.external_shop_id)
                  .where(Shop.id.is_in([r["shop"] for r in runs if r["shop"]] or [0]))}
    for run in runs:
        run["counts"] = db.json_value(run["counts"], {})
        run["shop_name"] = shop_names.get(run["shop"], "")
    for row in failing:
        row["explained"] = explain(row["last_error"])
    return render("marketplace/sync.html", runs=runs, failing=failing, names=NAMES,
                  kinds=SYNC_KINDS, count_words=SYNC_COUNTS)


ROUTES = [shops_page, connect, callback, product_listings, product_listings_status, publish, unlist,
          push_stock_again, read_stock_back, sync_page]
