"""Push endpoints and the push job, against the real sandbox marketplace, a real Redis and real arq
workers, on SQLite and PostgreSQL: signatures over the raw body, one stored event per repeat, 401s
counted, every event kind handled by re-reading the object through the API, nothing moved backwards."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from connectors.lazada import signing as lazada_signing
from connectors.push import parse_shopee
from connectors.shopee import signing as shopee_signing
from connectors.tiktok import signing as tiktok_signing
from ocop.events.outbox import NEW_ORDER
from ocop.events.tables import AlertEvent
from ocop.marketplace.apps import push_url, sandbox_apps
from ocop.marketplace.jobs import dispatch_due
from ocop.marketplace.publishing import request_publish
from ocop.marketplace.pushes import JOB, store_events
from ocop.marketplace.sync import sync_statuses
from ocop.marketplace.tables import Listing, Order, PushEvent, Shop
from ocop.jobs.queue import QUEUE_NAME
from tests.ocop.marketplace.conftest import TEST_SECRET, connect_shop, make_producer, make_product, run_worker_burst


def _signed(settings, marketplace: str, body: bytes) -> str:
    app = sandbox_apps(settings)[marketplace]
    if marketplace == "shopee":
        return shopee_signing.push_signature(app.app_secret, push_url(settings, marketplace), body)
    if marketplace == "lazada":
        return lazada_signing.push_signature(app.app_key, app.app_secret, body)
    return tiktok_signing.sign_webhook(app.app_secret, app.app_key, body)


BODIES = {
    "shopee": b'{"shop_id": 14701711, "code": 3, "timestamp": 1764700000, "data": {"ordersn": "251203X1", '
              b'"status": "READY_TO_SHIP", "update_time": 1764699990}}',
    "lazada": b'{"seller_id": "200170001", "message_type": 0, "data": {"order_status": "pending", '
              b'"trade_order_id": "9001", "trade_order_line_id": "90011", "status_update_time": 1764699990}, '
              b'"timestamp": 1764700000000, "site": "lazada_vn"}',
    "tiktok": b'{"type": 1, "tts_notification_id": "7330001", "shop_id": "7494001", "timestamp": 1764700000, '
              b'"data": {"order_id": "576001", "order_status": "AWAITING_SHIPMENT", "update_time": 1764699990}}',
}


def _rejected(marketplace: str) -> float:
    return REGISTRY.get_sample_value("ocop_push_rejected_total", {"marketplace": marketplace}) or 0.0


async def test_signed_pushes_are_stored_once_and_bad_ones_refused_and_counted(db, app_client, sandbox,
                                                                             redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (app, client):
        settings = app.state.settings
        for marketplace, body in BODIES.items():
            sign = _signed(settings, marketplace, body)
            answer = await client.post(f"/push/{marketplace}", content=body,
                                       headers={"Authorization": sign, "Content-Type": "application/json"})
            assert answer.status_code == 200 and answer.content == b""  # Shopee: 2xx with an empty body
            again = await client.post(f"/push/{marketplace}", content=body, headers={"Authorization": sign})
            assert again.status_code == 200
            assert await PushEvent.count().where(PushEvent.marketplace == marketplace) == 1  # the repeat is not stored

            before = _rejected(marketplace)
            wrong = await client.post(f"/push/{marketplace}", content=body, headers={"Authorization": "0" * 64})
            assert wrong.status_code == 401
            assert wrong.json()["error"]["message_vi"] == "Chữ ký của thông báo đẩy không khớp."
            # the same JSON re-serialised is not what was signed
            reserialised = json.dumps(json.loads(body), separators=(",", ":")).encode()
            moved = await client.post(f"/push/{marketplace}", content=reserialised, headers={"Authorization": sign})
            assert moved.status_code == 401
            unsigned = await client.post(f"/push/{marketplace}", content=body)
            assert unsigned.status_code == 401
            assert _rejected(marketplace) == before + 3
        metrics = await client.get("/metrics")
        assert 'ocop_push_rejected_total{marketplace="shopee"}' in metrics.text

        stored = await PushEvent.objects().where(PushEvent.marketplace == "shopee").first()
        assert (stored.kind, stored.object_id, stored.status, stored.payload) == (
            "order", "251203X1", "queued", BODIES["shopee"].decode())
        # a signed body that is not a push, an unknown marketplace, a body far too large
        junk = b"not json"
        bad = await client.post("/push/shopee", content=junk, headers={"Authorization": _signed(settings, "shopee", junk)})
        assert bad.status_code == 400 and bad.json()["error"]["message_vi"]
        assert (await client.post("/push/tiki", content=b"{}")).status_code == 404
        big = b"{" + b" " * (70 * 1024) + b"}"
        assert (await client.post("/push/shopee", content=big,
                                  headers={"Authorization": _signed(settings, "shopee", big)})).status_code == 413


async def _live_listing(rt, sandbox, settings, redis_url, arq_redis, marketplace: str):
    producer = await make_producer()
    shop = await connect_shop(rt, producer, marketplace)
    product = await make_product(settings, producer, f"PUSH-{marketplace}-{time.time_ns()}", name="Nước mắm Gò Bồi")
    await request_publish(product, shop.id, cause="test")
    await dispatch_due(arq_redis)
    await run_worker_burst(settings, redis_url, rt)
    await sync_statuses(rt)
    listing = await Listing.objects().where(Listing.product == product).first()
    assert listing.state == "live"
    return shop, listing


async def _handle(settings, redis_url, rt, arq_redis, marketplace: str, body: bytes) -> list[PushEvent]:
    """Store a push as the endpoint does (after the signature check) and run the job with a real worker."""
    from connectors.push import PARSERS

    ids = await store_events(marketplace, "app", PARSERS[marketplace](body), body)
    for event_id in ids:
        await arq_redis.enqueue_job(JOB, event_id, _job_id=f"{JOB}:{event_id}:0", _queue_name=QUEUE_NAME)
    await run_worker_burst(settings, redis_url, rt)
    return [await PushEvent.objects().where(PushEvent.id == i).first() for i in ids]


def _shopee(code: int, shop: Shop, data: dict, ts: float | None = None) -> bytes:
    return json.dumps({"shop_id": int(shop.external_shop_id), "code": code, "timestamp": int(ts or time.time()),
                       "data": data}).encode()


async def test_an_order_push_is_believed_only_through_the_api_and_never_moves_it_back(
        db, rt, sandbox, settings, redis_url, arq_redis) -> None:
    rt.redis = arq_redis  # as a worker's runtime has: its wake-ups reach the queue
    shop, listing = await _live_listing(rt, sandbox, settings, redis_url, arq_redis, "shopee")
    order = sandbox.state.place_order("shopee", shop.external_shop_id, listing.seller_sku, 2)
    now = time.time()
    # the push claims COMPLETED: the order is read through the API, which says UNPAID
    [event] = await _handle(settings, redis_url, rt, arq_redis, "shopee", _shopee(3, shop, {
        "ordersn": order.order_id, "status": "COMPLETED", "update_time": int(now)}))
    assert event.status == "done"
    ours = await Order.objects().where(Order.marketplace_order_id == order.order_id).first()
    assert ours.status == "unpaid" and ours.total_vnd == order.total_vnd
    # the producer hears of it at once: the push woke the alerts' outbox (the burst runs no cron, so
    # without that wake-up the event would wait for the 10 s tick, as it once did on this path)
    news = await AlertEvent.objects().where((AlertEvent.kind == NEW_ORDER) & (AlertEvent.order == ours.id)).first()
    assert news is not None and news.processed_at is not None

    # the order moves on; its push is handled; then an older push arrives late: skipped, nothing moves back
    sandbox.state.cancel_order("shopee", shop.external_shop_id, order.order_id)
    [newer] = await _handle(settings, redis_url, rt, arq_redis, "shopee", _shopee(3, shop, {
        "ordersn": order.order_id, "status": "CANCELLED", "update_time": int(now) + 5}))
    assert newer.status == "done"
    [late] = await _handle(settings, redis_url, rt, arq_redis, "shopee", _shopee(3, shop, {
        "ordersn": order.order_id, "status": "READY_TO_SHIP", "update_time": int(now) + 2}))
    assert late.status == "stale"
    assert (await Order.objects().where(Order.marketplace_order_id == order.order_id).first()).status == "cancelled"
    assert await Order.count().where(Order.shop == shop.id) == 1

    # a tracking number is kept with the order (after the order was read again)
    [tracking] = await _handle(settings, redis_url, rt, arq_redis, "shopee", _shopee(4, shop, {
        "ordersn": order.order_id, "tracking_no": "SPXVN0123456789", "package_number": "OFG1"}))
    assert tracking.status == "done"
    assert (await Order.objects().where(Order.marketplace_order_id == order.order_id).first()).tracking_number \
        == "SPXVN0123456789"

    # an order the marketplace does not know is not invented from a push
    [ghost] = await _handle(settings, redis_url, rt, arq_redis, "shopee", _shopee(3, shop, {
        "ordersn": "251203NOSUCH", "status": "UNPAID", "update_time": int(now)}))
    assert ghost.status == "ignored" and await Order.count().where(Order.shop == shop.id) == 1


async def test_item_push_moves_the_listing_through_the_status_path(db, rt, sandbox, settings, redis_url,
                                                                    arq_redis) -> None:
    shop, listing = await _live_listing(rt, sandbox, settings, redis_url, arq_redis, "lazada")
    def qc(at_ms: int) -> bytes:
        return json.dumps({"seller_id": shop.external_shop_id, "message_type": 1, "timestamp": int(time.time()),
                           "site": "lazada_vn", "data": {"date": at_ms, "itemId": int(listing.external_item_id),
                                                         "reason": "x", "status": "LOCK"}}).encode()

    at = int(time.time() * 1000)
    body = qc(at)
    # the push says locked, but the marketplace still shows the item live: nothing changes
    [first] = await _handle(settings, redis_url, rt, arq_redis, "lazada", body)
    assert first.status == "done"
    assert (await Listing.objects().where(Listing.id == listing.id).first()).state == "live"
    # the marketplace bans it for real: the next push moves the listing, with the reason
    sandbox.admin("POST", "/item_status", {"marketplace": "lazada", "shop_id": shop.external_shop_id,
                                           "item_id": int(listing.external_item_id), "status": "banned",
                                           "reason": "Hàng giả / counterfeit"})
    assert await _handle(settings, redis_url, rt, arq_redis, "lazada", body) == []  # the repeat: nothing new
    [second] = await _handle(settings, redis_url, rt, arq_redis, "lazada", qc(at + 1000))
    assert second.status == "done"
    moved = await Listing.objects().where(Listing.id == listing.id).first()
    assert moved.state == "rejected" and "counterfeit" in moved.last_error
    # an appeal succeeds: the item is live again, and a push about a rejected listing is heard too
    sandbox.admin("POST", "/item_status", {"marketplace": "lazada", "shop_id": shop.external_shop_id,
                                           "item_id": int(listing.external_item_id), "status": "live"})
    [third] = await _handle(settings, redis_url, rt, arq_redis, "lazada", qc(at + 2000).replace(b"LOCK", b"APPROVED"))
    assert third.status == "done"
    assert (await Listing.objects().where(Listing.id == listing.id).first()).state == "live"


async def test_deauthorisation_and_expiry_pushes(db, rt, sandbox, settings, redis_url, arq_redis, app_client) -> None:
    producer = await make_producer()
    shop = await connect_shop(rt, producer, "shopee")
    expiry = _shopee(12, shop, {"shop_id_list": [int(shop.external_shop_id)]}, ts=time.time())
    [warned] = await _handle(settings, redis_url, rt, arq_redis, "shopee", expiry)
    assert warned.status == "done"
    stored = (await Shop.objects().where(Shop.id == shop.id).first()).authorization_expires_at
    assert abs(stored - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)
    # the alerts' daily check warns the producer (the refresh token itself still has 30 days)
    from ocop.alerts.checks import authorizations_expiring
    from ocop.events import outbox
    from ocop.events.tables import AlertEvent

    assert await authorizations_expiring() == 1
    assert await AlertEvent.count().where((AlertEvent.kind == outbox.AUTH_EXPIRING) & (AlertEvent.shop == shop.id)) == 1
    # the producer sees it on the shops page, in Vietnam time
    from tests.ocop.web.support import login, make_user

    await make_user("chuse", "producer", producer_id=producer)
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (_, client):
        await login(client, "chuse")
        page = (await client.get("/shops", headers={"accept": "text/html"})).text
        assert "Sàn báo ủy quyền hết hạn lúc" in page
        assert (stored + timedelta(hours=7)).strftime("%d/%m/%Y %H:%M") in page
    # connecting again (a new consent) clears the warning
    again = await connect_shop(rt, producer, "shopee")
    assert again.id == shop.id
    assert (await Shop.objects().where(Shop.id == shop.id).first()).authorization_expires_at is None
    [warned] = await _handle(settings, redis_url, rt, arq_redis, "shopee",
                             _shopee(12, shop, {"shop_id_list": [int(shop.external_shop_id)]}, ts=time.time() + 1))

    # a deauthorisation push while the marketplace still honours our tokens changes nothing
    [wrong] = await _handle(settings, redis_url, rt, arq_redis, "shopee",
                            _shopee(2, shop, {"shop_id_list": [int(shop.external_shop_id)]}, ts=time.time() - 5))
    assert wrong.status == "ignored"
    assert (await Shop.objects().where(Shop.id == shop.id).first()).status == "connected"
    # the seller really cancels: the refresh is refused and the shop needs reconnecting
    assert sandbox.state.deauthorize("shopee", shop.external_shop_id)
    [gone] = await _handle(settings, redis_url, rt, arq_redis, "shopee",
                           _shopee(2, shop, {"shop_id_list": [int(shop.external_shop_id)]}))
    assert gone.status == "done"
    assert (await Shop.objects().where(Shop.id == shop.id).first()).status == "needs_reauth"
    # an event for a shop we do not have is kept but ignored
    [other] = await _handle(settings, redis_url, rt, arq_redis, "shopee", _shopee(3, Shop(external_shop_id="999"), {
        "ordersn": "X", "status": "UNPAID", "update_time": 1}))
    assert other.status == "ignored"
    assert parse_shopee(expiry)[0].kind == "auth_expiry"


async def test_an_event_stored_but_never_queued_is_handed_out_again(db, rt, settings, redis_url, arq_redis) -> None:
    """The enqueue after storing failed (Redis away) or the worker holding the job died: the
    requeue cron hands events still queued after half a minute to a worker."""
    from ocop.marketplace.pushes import requeue_pushes

    body = b'{"shop_id": 1, "code": 3, "timestamp": 1, "data": {"ordersn": "R1", "status": "UNPAID"}}'
    [event_id] = await store_events("shopee", "app", parse_shopee(body), body)
    assert await requeue_pushes({"redis": arq_redis}) == 0  # just received: its own job is on the way
    await PushEvent.update({PushEvent.received_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
        PushEvent.id == event_id)
    assert await requeue_pushes({"redis": arq_redis}) == 1
    await run_worker_burst(settings, redis_url, rt)
    handled = await PushEvent.objects().where(PushEvent.id == event_id).first()
    assert handled.status == "ignored" and handled.attempts == 1  # no such shop here
    assert await requeue_pushes({"redis": arq_redis}) == 0


async def test_an_address_sending_wrong_signatures_is_slowed_down(db, app_client, sandbox, redis_url,
                                                                    monkeypatch) -> None:
    from ocop.marketplace import pushes

    monkeypatch.setattr(pushes, "BAD_SIGNATURES_PER_MIN", 3)
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (app, client):
        await app.state.queue.redis.flushdb()
        answers = [(await client.post("/push/lazada", content=BODIES["lazada"],
                                      headers={"Authorization": "f" * 64})).status_code for _ in range(5)]
        assert answers == [401, 401, 401, 429, 429]
        # the marketplace's own, correctly signed pushes still go through
        body = BODIES["lazada"]
        ok = await client.post("/push/lazada", content=body,
                               headers={"Authorization": _signed(app.state.settings, "lazada", body)})
        assert ok.status_code == 200
