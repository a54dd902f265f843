"""Publishing and sync jobs (arq). At-least-once delivery is assumed everywhere:

* ``publish_listing`` claims the listing with a lease and a version check, so a duplicate or stale
  job does nothing; before creating an item it looks the seller SKU up on the marketplace and
  adopts an existing item, so a retry after an unknown outcome (timeout after the write, dropped
  connection, killed worker) never creates a second one.
* Retryable failures back off (``arq.Retry``) and stay in the outbox (``next_attempt_at``), which
  the dispatcher re-enqueues; permanent ones stop with the marketplace's reason.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from arq import Retry

from connectors.base import (
    AuthExpiredError,
    ConnectorError,
    PermanentError,
    RateLimitedError,
    RetryableError,
    ShopCredentials,
)
from ocop import db
from ocop.jobs.queue import QUEUE_NAME
from ocop.jobs.registry import cron, job
from ocop.marketplace import listings, shops, stock
from ocop.marketplace.media import public_url, read_rendition
from ocop.marketplace.payload import build_draft
from ocop.marketplace.publishing import unlist_expired
from ocop.marketplace.runtime import MarketRuntime, build_runtime
from ocop.marketplace.sync import backfill_all, reconcile, refresh_due_tokens, sync_all_orders, sync_statuses
from ocop.marketplace.tables import Listing, Shop, SyncRun

log = structlog.get_logger("ocop.publish")

LEASE_MARGIN_MAX = timedelta(seconds=30)
LEASE_MARGIN_MIN = timedelta(seconds=5)
JOB = "publish_listing"


async def start_market(ctx: dict[str, Any]) -> None:
    """Worker start-up hook: the marketplace clients (shared with the app inside ``ocop serve``)."""
    if "market" not in ctx:
        settings = ctx["settings"]
        ctx["market"] = build_runtime(settings, redis=ctx.get("redis"), timeout_s=settings.marketplace_timeout_s)
        ctx["owns_market"] = True


async def stop_market(ctx: dict[str, Any]) -> None:
    if ctx.get("owns_market"):
        await ctx["market"].aclose()


def job_id(listing_id: int, version: int, attempts: int) -> str:
    return f"{JOB}:{listing_id}:{version}:{attempts}"


def backoff_s(attempt: int, base: float = 2.0) -> float:
    return min(300.0, base * 2 ** min(attempt, 8)) * random.uniform(0.5, 1.0)


def lease_for(settings: Any) -> timedelta:
    """How long a claim keeps other jobs off the listing: the job's whole life (arq cancels it at
    ``publish_job_timeout_s``) plus a margin for a write the job sent just before it was cut off,
    which the marketplace may still be carrying out. That margin is bounded by how long we let one
    request run (``marketplace_timeout_s``, thrice for good measure), between 5 and 30 s: 30 s with
    the default 10 s timeout, and seconds, not minutes, after a crash when requests are quick."""
    margin = timedelta(seconds=3 * float(settings.marketplace_timeout_s))
    return timedelta(seconds=settings.publish_job_timeout_s) + max(LEASE_MARGIN_MIN, min(LEASE_MARGIN_MAX, margin))


async def enqueue_publish(redis: Any, listing_id: int, version: int, attempts: int) -> bool:
    queued = await redis.enqueue_job(JOB, listing_id, version, _job_id=job_id(listing_id, version, attempts),
                                     _queue_name=QUEUE_NAME)
    return queued is not None


async def dispatch_due(redis: Any, *, limit: int = 500) -> int:
    """Hand every due listing of the outbox to arq (safe to call any time, from anywhere)."""
    now = datetime.now(UTC)
    rows = await (Listing.select(Listing.id, Listing.payload_version, Listing.attempts)
                  .where(Listing.next_attempt_at.is_not_null() & (Listing.next_attempt_at <= now)
                         & (Listing.lease_until.is_null() | (Listing.lease_until < now)))
                  .order_by(Listing.next_attempt_at).limit(limit))
    sent = 0
    for row in rows:
        sent += await enqueue_publish(redis, row["id"], row["payload_version"], row["attempts"])
    return sent


async def kick(redis: Any) -> None:
    """Hand due work to the queue now, right after a publish or unlist request (or an edit),
    rather than at the dispatcher's next tick: whole pushes and partial price/stock pushes.
    Failure is fine: the request is already in the database (the outbox) and the dispatcher will
    send it."""
    try:
        await dispatch_due(redis, limit=200)
    except Exception:  # noqa: BLE001 - Redis down: the outbox keeps the request
        pass
    await stock.kick(redis)


@cron(second={0, 20, 40}, minute=None, timeout_s=60)
async def dispatch_outbox(ctx: dict[str, Any]) -> int:
    return await dispatch_due(ctx["redis"])


async def _claim(listing_id: int, version: int, lease: timedelta) -> Listing | None:
    now = datetime.now(UTC)
    # Each claim counts as an attempt, so the job id of any later dispatch differs from this one
    # (arq keeps a failed job's id taken for a while) and the attempt cap also bounds crashes.
    claimed = await (Listing.update({Listing.lease_until: now + lease, Listing.updated_at: now,
                                     Listing.attempts: Listing.attempts + 1})
                     .where((Listing.id == listing_id) & (Listing.payload_version == version)
                            & Listing.next_attempt_at.is_not_null()
                            & (Listing.lease_until.is_null() | (Listing.lease_until < now)))
                     .returning(Listing.id))
    if not claimed:
        return None
    return await Listing.objects().where(Listing.id == listing_id).first()


async def _finish(listing: Listing, version: int, to_state: str, *, cause: str, reason: str = "",
                  values: dict[Any, Any] | None = None) -> None:
    current = await Listing.select(Listing.state, Listing.payload_version).where(Listing.id == listing.id).first()
    if current is None or current["payload_version"] != version:
        return  # a newer request superseded this one; it has its own outbox entry
    extra = {Listing.last_error: reason[:2000]} if to_state == "failed" else {}
    await listings.move(listing.id, current["state"], to_state, cause=cause, reason=reason,
                        values={Listing.lease_until: None, **extra, **(values or {})})


async def _upload_images(rt: MarketRuntime, listing: Listing, marketplace: str, shop_creds: ShopCredentials,
                         keys: tuple[str, ...]) -> tuple[str, ...]:
    # piccolo hands JSON columns back as text from objects(): without reading it, every attempt
    # uploaded every image again.
    image_map = dict(db.json_value(listing.image_map, {}))
    client = rt.env.client(marketplace)
    ids = []
    for key in keys:
        if key not in image_map:
            uploaded = await client.upload_image(shop_creds, await read_rendition(rt.settings, key),
                                                 f"{key[:16]}.jpg", public_url=public_url(rt.settings, key))
            image_map[key] = uploaded.image_id
            await Listing.update({Listing.image_map: image_map}).where(Listing.id == listing.id)
        ids.append(image_map[key])
    listing.image_map = image_map
    return tuple(ids)


async def _push(rt: MarketRuntime, listing: Listing, marketplace: str,
                creds: ShopCredentials) -> tuple[str, str | None]:
    """Create or update the item; returns (external id, state the marketplace reported)."""
    client = rt.env.client(marketplace)
    draft = await build_draft(listing.product, marketplace, listing.seller_sku)
    if listing.desired == "unlisted":
        if listing.external_item_id:
            await client.unlist(creds, listing.external_item_id, listing.seller_sku)
        return listing.external_item_id, "unlisted"
    image_ids = await _upload_images(rt, listing, marketplace, creds, draft.image_keys)
    product = draft.with_images(image_ids)
    skus = product.sku_numbers() if product.variants else ()
    external_id = listing.external_item_id
    if not external_id:
        # With variants the item is found again by its first variant's SKU (``key_sku``).
        found = await client.find_by_seller_sku(creds, product.key_sku)
        if found is not None:
            log.info("adopted_existing_item", listing=listing.id, marketplace=marketplace)
            external_id = found.external_id
            await Listing.update({Listing.external_item_id: external_id}).where(Listing.id == listing.id)
            await client.update_item(creds, external_id, product)
            await stock.sent_with_publish(listing.id, product.price_vnd, product.stock, skus)
            return external_id, None
        ref = await client.create_item(creds, product)
        await Listing.update({Listing.external_item_id: ref.external_id}).where(Listing.id == listing.id)
        await stock.sent_with_publish(listing.id, product.price_vnd, product.stock, skus)
        return ref.external_id, ref.state
    await client.update_item(creds, external_id, product)
    await stock.sent_with_publish(listing.id, product.price_vnd, product.stock, skus)
    return external_id, None


@job(name=JOB, timeout_setting="publish_job_timeout_s", max_tries=6, keep_result_s=30)
async def publish_listing(ctx: dict[str, Any], listing_id: int, version: int) -> str:
    rt: MarketRuntime = ctx["market"]
    lease = lease_for(rt.settings)
    listing = await _claim(listing_id, version, lease)
    if listing is None:
        return "skipped"
    cause = f"job:{JOB}"
    if listing.state != "publishing":
        await listings.move(listing.id, listing.state, "publishing", cause=cause)
    shop = await Shop.objects().where(Shop.id == listing.shop).first()
    if shop is None or shop.status != "connected":
        await _finish(listing, version, "failed", cause=cause,
                      reason=listings.SHOP_NEEDS_RECONNECTING,
                      values={Listing.next_attempt_at: None})
        return "shop_disconnected"
    try:
        # Our own deadline, shorter than arq's: a slow marketplace ends in an orderly retry that
        # releases the lease, instead of arq cancelling the job with the listing still leased.
        async with asyncio.timeout(max(1.0, rt.settings.publish_job_timeout_s - 3)):
            if shops.due_for_refresh(shop):
                await rt.refresh_shop(shop)
            external_id, remote_state = await rt.with_fresh_token(
                shop, lambda creds: _push(rt, listing, shop.marketplace, creds))
    except TimeoutError:
        return await _retry_later(ctx, listing, version, RetryableError("publishing took too long",
                                                                        outcome_unknown=True))
    except RetryableError as exc:
        return await _retry_later(ctx, listing, version, exc)
    except (PermanentError, AuthExpiredError, ConnectorError) as exc:
        await _finish(listing, version, "failed", cause=cause, reason=f"Sàn báo lỗi / marketplace said: {exc.message}",
                      values={Listing.next_attempt_at: None})
        return "failed"
    except ValueError as exc:  # a mapper refused our data (e.g. no image, title too long)
        await _finish(listing, version, "failed", cause=cause,
                      reason=f"Dữ liệu sản phẩm chưa đạt yêu cầu của sàn / not acceptable to the marketplace: {exc}",
                      values={Listing.next_attempt_at: None})
        return "failed"
    except Exception:
        # A bug must not leave the listing leased forever nor retry in a loop: stop and say so.
        log.exception("publish_crashed", listing=listing.id)
        await _finish(listing, version, "failed", cause=cause,
                      reason="Lỗi hệ thống khi đăng bán, đã ghi nhận / internal error while publishing",
                      values={Listing.next_attempt_at: None})
        return "crashed"
    if listing.desired == "unlisted":
        await _finish(listing, version, "unlisted", cause=cause, values={Listing.next_attempt_at: None})
        return "unlisted"
    to_state = "live" if remote_state == "live" else "in_review"
    await _finish(listing, version, to_state, cause=cause, values={
        Listing.external_item_id: external_id, Listing.pushed_hash: listing.payload_hash,
        Listing.next_attempt_at: None, Listing.last_error: "", Listing.published_at: datetime.now(UTC)})
    return to_state


async def _retry_later(ctx: dict[str, Any], listing: Listing, version: int, exc: RetryableError) -> str:
    rt: MarketRuntime = ctx["market"]
    attempts = listing.attempts
    delay = exc.retry_after if isinstance(exc, RateLimitedError) else backoff_s(attempts, rt.settings.publish_backoff_s)
    give_up = attempts >= rt.settings.publish_max_attempts
    reason = f"{'Dừng thử lại' if give_up else 'Sẽ thử lại'} / {'gave up' if give_up else 'retrying'}: {exc.message}"
    await _finish(listing, version, "failed", cause=f"job:{JOB}", reason=reason, values={
        Listing.attempts: attempts, Listing.last_error: reason[:2000],
        Listing.next_attempt_at: None if give_up else datetime.now(UTC) + timedelta(seconds=delay)})
    if give_up:
        return "gave_up"
    if ctx.get("job_try", 1) < 6:
        raise Retry(defer=delay)
    return "deferred"  # the dispatcher takes it from here


# ----------------------------------------------------------------------------- scheduled sync


async def _record(kind: str, shop_id: int | None, started: datetime, counts: dict[str, int], error: str = "") -> None:
    await SyncRun.insert(SyncRun(kind=kind, shop=shop_id, started_at=started, finished_at=datetime.now(UTC),
                                 ok=not error, counts=counts, error=error[:2000]))


@cron(interval_setting="sync_interval_minutes", second=30, timeout_s=600)
async def sync_listing_status(ctx: dict[str, Any]) -> dict[str, int]:
    return await sync_statuses(ctx["market"], record=_record)


@cron(interval_setting="sync_interval_minutes", second=45, timeout_s=1200)
async def sync_orders(ctx: dict[str, Any]) -> dict[str, int]:
    return await sync_all_orders(ctx["market"], record=_record)


@cron(interval_setting="reconcile_interval_minutes", second=50, timeout_s=1800)
async def reconcile_marketplaces(ctx: dict[str, Any]) -> dict[str, int]:
    """The slow full pass: what the frequent passes never look at again (``ocop.marketplace.sync.reconcile``)."""
    settings = ctx["settings"]
    counts = await reconcile(ctx["market"], record=_record,
                             lookback=timedelta(hours=settings.reconcile_lookback_hours))
    if counts.get("requeued"):
        await dispatch_due(ctx["redis"])
    return counts


HISTORY_BUDGET_S = 50.0
"""A history run stops after this and the next minute's run goes on, so two runs never overlap."""


@cron(minute=None, second=15, timeout_s=120)
async def backfill_order_history(ctx: dict[str, Any]) -> dict[str, int]:
    """Newly connected shops' order history, a window at a time (resumable: progress is on the shop)."""
    return await backfill_all(ctx["market"], months=ctx["settings"].order_history_months, record=_record,
                              budget_s=HISTORY_BUDGET_S)


@cron(minute=set(range(0, 60, 5)), second=10, timeout_s=300)
async def refresh_tokens(ctx: dict[str, Any]) -> dict[str, int]:
    return await refresh_due_tokens(ctx["market"], record=_record)


@cron(minute={7}, second=0, timeout_s=600)
async def unlist_expired_certificates(ctx: dict[str, Any]) -> int:
    """An OCOP star rating is only valid while its certificate is: take such products off sale
    (OCOP_UNLIST_ON_CERTIFICATE_EXPIRY=false turns this off)."""
    if not ctx["settings"].unlist_on_certificate_expiry:
        return 0
    count = await unlist_expired()
    if count:
        await dispatch_due(ctx["redis"])
    return count
