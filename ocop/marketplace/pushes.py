"""Marketplaces tell us as it happens: the push (webhook) endpoints and the job that handles a push.

``POST /push/{marketplace}`` is the URL to register with each marketplace (``push_url``). An answer
must come fast (Lazada asks for 200 within 500 ms, Shopee disables a subscription that fails too
often), so the endpoint only verifies the signature over the raw bytes, stores the event
(``PushEvent``, unique by its dedupe key: a repeat is stored once), enqueues ``handle_push`` and
answers 200 with an empty body (what Shopee requires; Lazada and TikTok Shop accept it).

The job never trusts a push alone: it re-reads the object through the API and hands what it read
to the same writers polling uses — orders to ``sync.ingest_orders``, listing states to
``sync.sync_statuses`` (which moves listings through ``listings.move``), a lost authorisation to
the token refresh (``MarketRuntime.refresh_shop``), which marks the shop "needs reconnecting" when
the marketplace refuses it, as for an expired refresh token. Pushes about one object are handled
one at a time (a lock), and a push older than one already handled for the same object is skipped
(:mod:`ocop.marketplace.push_rules`), so nothing moves backwards. A push that is lost is repaired
by the next polling pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from arq import Retry
from litestar import MediaType, Request, Response, post
from litestar.params import FromPath
from prometheus_client import Counter

from connectors.base import AppCredentials, ConnectorError, PermanentError, RetryableError
from connectors.lazada import signing as lazada_signing
from connectors.push import PARSERS, PushError, PushNotice
from connectors.shopee import signing as shopee_signing
from connectors.tiktok import signing as tiktok_signing
from ocop.jobs.queue import QUEUE_NAME
from ocop.jobs.registry import cron, job
from ocop.marketplace import sync
from ocop.marketplace.apps import push_url
from ocop.marketplace.push_rules import event_is_stale, order_is_newer
from ocop.marketplace.runtime import MarketRuntime
from ocop.marketplace.tables import Listing, Order, PushEvent, Shop
from ocop.settings import Settings
from ocop.web.errors import ApiError

log = structlog.get_logger("ocop.push")

JOB = "handle_push"
MAX_PUSH_BYTES = 64 * 1024
"""Marketplace pushes are small JSON documents (a few hundred bytes); anything far larger is not one."""
MAX_ATTEMPTS = 8
BAD_SIGNATURES_PER_MIN = 120
"""Requests with a wrong signature accepted per client address and minute before answering 429
without computing anything: a marketplace signs correctly, so only a misconfiguration or someone
probing gets there."""
REQUEUE_AFTER = timedelta(seconds=30)
LOCK_S = 30
"""How long one object's lock lives: longer than handling takes (one or two API reads), short enough
that a worker killed while holding it delays that object's next push by seconds, not minutes."""

PUSH_RECEIVED = Counter("ocop_push_received_total", "Marketplace pushes accepted (signature valid), by kind",
                        ["marketplace", "kind"])
PUSH_REJECTED = Counter("ocop_push_rejected_total", "Marketplace pushes refused for a bad signature",
                        ["marketplace"])
PUSH_DUPLICATES = Counter("ocop_push_duplicate_total", "Marketplace pushes already received (deduplicated)",
                          ["marketplace"])


def signature_ok(settings: Settings, marketplace: str, app: AppCredentials, raw_body: bytes,
                 authorization: str) -> bool:
    """Each marketplace's documented push signature, over the raw bytes as received."""
    if not authorization:
        return False
    if marketplace == "shopee":
        return shopee_signing.verify_push(app.app_secret, push_url(settings, marketplace), raw_body, authorization)
    if marketplace == "lazada":
        return lazada_signing.verify_push(app.app_key, app.app_secret, raw_body, authorization)
    if marketplace == "tiktok":
        return tiktok_signing.verify_webhook(app.app_secret, app.app_key, raw_body, authorization)
    return False


async def _too_many_bad(redis: Any, client: str) -> bool:
    """True once this address sent more than :data:`BAD_SIGNATURES_PER_MIN` bad signatures this minute."""
    if redis is None:
        return False
    key = f"ocop:push-bad:{client}:{int(datetime.now(UTC).timestamp() // 60)}"
    try:
        count = await redis.incr(key)
        if count == 1:
            await redis.expire(key, 120)
    except Exception:  # noqa: BLE001 - Redis down: no limit rather than no pushes
        return False
    return int(count) > BAD_SIGNATURES_PER_MIN


async def store_events(marketplace: str, app_key: str, notices: list[PushNotice], raw_body: bytes) -> list[int]:
    """Insert the events of one push; a dedupe key already stored is skipped. Returns the new ids."""
    payload = raw_body.decode("utf-8", "replace")
    now = datetime.now(UTC)
    ids: list[int] = []
    for notice in notices:
        rows = await (PushEvent.insert(PushEvent(
            marketplace=marketplace, app_key=app_key[:64], shop_external_id=notice.shop_id[:64], kind=notice.kind,
            code=notice.code[:32], object_id=notice.object_id[:64], event_at=notice.event_at,
            dedupe_key=notice.dedupe_key[:200], received_at=now, payload=payload, status="queued",
            detail=_detail(notice)))
            .on_conflict(target=PushEvent.dedupe_key, action="DO NOTHING").returning(PushEvent.id))
        if rows:
            ids.append(int(rows[0]["id"]))
            PUSH_RECEIVED.labels(marketplace, notice.kind).inc()
        else:
            PUSH_DUPLICATES.labels(marketplace).inc()
    return ids


def _detail(notice: PushNotice) -> str:
    """What the push claims beyond the object id, kept with the event (tracking number, expiry)."""
    if notice.kind == "auth_expiry":
        return notice.expires_at.isoformat() if notice.expires_at else ""
    return notice.detail[:200] if notice.kind == "tracking" else ""


async def enqueue(redis: Any, event_id: int, round_: str = "0") -> None:
    """Queue the handling of one stored event; ``round_`` tells a re-queue's job id apart (arq keeps
    a finished job's id taken for a while)."""
    await redis.enqueue_job(JOB, event_id, _job_id=f"{JOB}:{event_id}:{round_}", _queue_name=QUEUE_NAME)


@post("/push/{marketplace:str}", request_max_body_size=MAX_PUSH_BYTES, include_in_schema=False, status_code=200)
async def receive_push(request: Request[Any, Any, Any], marketplace: FromPath[str]) -> Response[bytes]:
    """A marketplace's push: verify, store, enqueue, answer 200 with an empty body."""
    state = request.app.state
    rt: MarketRuntime = state.market
    parse = PARSERS.get(marketplace)
    app = rt.env.apps.get(marketplace)
    if parse is None or app is None:
        raise ApiError(404, "unknown_marketplace", "No push endpoint for this marketplace.",
                       "Không có địa chỉ nhận thông báo cho sàn này.")
    raw = await request.body()
    redis = state.queue.redis
    client = request.client.host if request.client else "-"
    if not signature_ok(state.settings, marketplace, app, raw, request.headers.get("authorization", "")):
        PUSH_REJECTED.labels(marketplace).inc()
        if await _too_many_bad(redis, client):
            raise ApiError(429, "rate_limited", "Too many pushes with a wrong signature.",
                           "Quá nhiều thông báo có chữ ký sai.")
        log.warning("push_bad_signature", marketplace=marketplace, client=client)
        raise ApiError(401, "bad_signature", "The push signature does not match.",
                       "Chữ ký của thông báo đẩy không khớp.")
    try:
        notices = parse(raw)
    except PushError as exc:
        raise ApiError(400, "bad_push", f"Not a push of this marketplace: {exc}",
                       "Nội dung thông báo đẩy không đúng định dạng của sàn.") from None
    for event_id in await store_events(marketplace, app.app_key, notices, raw):
        try:
            await enqueue(redis, event_id)
        except Exception:  # noqa: BLE001 - stored: the requeue cron hands it to a worker
            log.warning("push_enqueue_failed", event=event_id)
    return Response(b"", status_code=200, media_type=MediaType.TEXT)


# ----------------------------------------------------------------------------- handling


_local_locks: dict[str, asyncio.Lock] = {}


@contextlib.asynccontextmanager
async def _object_lock(rt: MarketRuntime, key: str) -> AsyncIterator[None]:
    """Pushes about one object are handled one at a time, by every worker."""
    if rt.redis is None:
        async with _local_locks.setdefault(key, asyncio.Lock()):
            yield
        return
    async with rt.redis.lock(f"ocop:push-object:{key}", timeout=LOCK_S, blocking_timeout=LOCK_S):
        yield


async def _newest_handled(event: PushEvent) -> datetime | None:
    row = await (PushEvent.select(PushEvent.event_at)
                 .where((PushEvent.marketplace == event.marketplace)
                        & (PushEvent.shop_external_id == event.shop_external_id)
                        & (PushEvent.kind == event.kind) & (PushEvent.object_id == event.object_id)
                        & (PushEvent.status == "done") & PushEvent.event_at.is_not_null()
                        & (PushEvent.id != event.id))
                 .order_by(PushEvent.event_at, ascending=False).first())
    return row["event_at"] if row else None


async def _reread_orders(rt: MarketRuntime, shop: Shop, order_id: str) -> str:
    """Read the order through the API and store it unless ours is newer."""
    client = rt.env.client(shop.marketplace)
    found = await rt.with_fresh_token(shop, lambda creds: client.order_detail(creds, [order_id]))
    if not found:
        return "ignored"  # the marketplace does not know this order: nothing to believe
    stored = {r["marketplace_order_id"]: r for r in await Order.select(
        Order.marketplace_order_id, Order.status, Order.updated_at).where(
        (Order.shop == shop.id) & Order.marketplace_order_id.is_in([o.order_id for o in found]))}
    fresh = [o for o in found if order_is_newer(
        stored.get(o.order_id, {}).get("status"), stored.get(o.order_id, {}).get("updated_at"), o.status,
        o.updated_at)]
    if fresh:
        await sync.ingest_orders(shop.id, fresh)
        await sync.orders_stored(rt.redis)
    return "done"


async def _order(rt: MarketRuntime, shop: Shop, event: PushEvent) -> str:
    return await _reread_orders(rt, shop, event.object_id)


async def _tracking(rt: MarketRuntime, shop: Shop, event: PushEvent) -> str:
    """The order is re-read first (it must exist on the marketplace, in this shop); the tracking
    number is then kept with it."""
    outcome = await _reread_orders(rt, shop, event.object_id)
    if outcome == "done" and event.detail:
        await Order.update({Order.tracking_number: event.detail[:64]}).where(
            (Order.shop == shop.id) & (Order.marketplace_order_id == event.object_id))
    return outcome


async def _item(rt: MarketRuntime, shop: Shop, event: PushEvent) -> str:
    row = await Listing.select(Listing.id).where(
        (Listing.shop == shop.id) & (Listing.external_item_id == event.object_id)).first()
    if row is None:
        return "ignored"
    # A rejected item may come back (an appeal, a review redone): the push asks about it too.
    counts = await sync.sync_statuses(rt, listing_ids=[row["id"]], states=(*sync.STATUS_STATES, "rejected"))
    if counts.get("errors"):
        raise RetryableError("item status could not be read")
    return "done"


async def _deauthorized(rt: MarketRuntime, shop: Shop, event: PushEvent) -> str:
    """Ask the marketplace: a refused refresh marks the shop "needs reconnecting" (the one place
    that does, ``shops.refresh``); a refresh that works means the push was wrong about us."""
    try:
        still = await rt.refresh_shop(shop)
    except PermanentError:
        still = False
    return "ignored" if still else "done"


async def _auth_expiry(rt: MarketRuntime, shop: Shop, event: PushEvent) -> str:
    """No API tells when an authorisation lapses; the warning itself is what we store."""
    if not event.detail:
        return "ignored"
    await Shop.update({Shop.authorization_expires_at: datetime.fromisoformat(event.detail)}).where(Shop.id == shop.id)
    return "done"


async def _other(rt: MarketRuntime, shop: Shop, event: PushEvent) -> str:
    return "ignored"


HANDLERS: dict[str, Callable[[MarketRuntime, Shop, PushEvent], Awaitable[str]]] = {
    "order": _order, "tracking": _tracking, "item": _item, "deauthorized": _deauthorized,
    "auth_expiry": _auth_expiry, "other": _other,
}
NEEDS_CONNECTED = {"order", "tracking", "item"}
ORDERED = {"order", "item"}
"""Kinds whose pushes about one object carry a time worth comparing (out-of-order handling)."""


async def _finish(event_id: int, status: str, error: str = "") -> None:
    values: dict[Any, Any] = {PushEvent.status: status, PushEvent.handled_at: datetime.now(UTC),
                              PushEvent.error: error[:2000]}
    await PushEvent.update(values).where(PushEvent.id == event_id)


@job(name=JOB, timeout_s=120, max_tries=MAX_ATTEMPTS, keep_result_s=30)
async def handle_push(ctx: dict[str, Any], event_id: int) -> str:
    rt: MarketRuntime = ctx["market"]
    event = await PushEvent.objects().where(PushEvent.id == event_id).first()
    if event is None or event.status != "queued":
        return "skipped"
    await PushEvent.update({PushEvent.attempts: PushEvent.attempts + 1}).where(PushEvent.id == event_id)
    shop = await Shop.objects().where((Shop.marketplace == event.marketplace)
                                      & (Shop.external_shop_id == event.shop_external_id)).first()
    if shop is None or (event.kind in NEEDS_CONNECTED and shop.status != "connected"):
        await _finish(event_id, "ignored")
        return "ignored"
    try:
        async with _object_lock(rt, f"{shop.id}:{event.kind}:{event.object_id}"):
            if event.kind in ORDERED and event_is_stale(event.event_at, await _newest_handled(event)):
                await _finish(event_id, "stale")
                return "stale"
            outcome = await HANDLERS.get(event.kind, _other)(rt, shop, event)
    except (RetryableError, ConnectorError) as exc:
        retryable = isinstance(exc, RetryableError)
        if retryable and event.attempts + 1 < MAX_ATTEMPTS:
            log.info("push_retry", event=event_id, error=exc.message)
            raise Retry(defer=min(60.0, 2.0 ** event.attempts) * random.uniform(0.5, 1.0)) from exc
        # Given up (or refused for good): the next polling pass reads the same object anyway.
        await _finish(event_id, "failed", f"{exc.message}")
        return "failed"
    await _finish(event_id, outcome)
    return outcome


@cron(second={15, 45}, minute=None, timeout_s=60)
async def requeue_pushes(ctx: dict[str, Any]) -> int:
    """Events stored but not handled (the enqueue failed, or the worker died and the job was
    dropped) go back to the queue; a handled one is skipped by the job itself."""
    cutoff = datetime.now(UTC) - REQUEUE_AFTER
    rows = await (PushEvent.select(PushEvent.id)
                  .where((PushEvent.status == "queued") & (PushEvent.received_at < cutoff))
                  .order_by(PushEvent.received_at).limit(500))
    minute = int(datetime.now(UTC).timestamp()) // 60
    for row in rows:
        await enqueue(ctx["redis"], row["id"], f"r{minute}")
    return len(rows)


ROUTES = [receive_push]
