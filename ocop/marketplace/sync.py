"""Scheduled sync: review status of listings, orders per shop, token refresh, daily roll-up.

Orders are read in overlapping windows from a stored cursor: re-reading a window is harmless
because orders upsert by (shop, marketplace order id) and their lines are replaced, so a
cancellation or return seen later simply updates the order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from connectors.base import ConnectorError, MarketOrder
from ocop.marketplace import listings, shops
from ocop.marketplace.runtime import MarketRuntime
from ocop.marketplace.tables import Listing, Order, OrderLine, SalesDaily, Shop

log = structlog.get_logger("ocop.sync")
VN = ZoneInfo("Asia/Ho_Chi_Minh")
OVERLAP = timedelta(hours=1)
FIRST_SYNC_LOOKBACK = timedelta(days=30)
DETAIL_BATCH = 50
CHUNK = 400
NOT_SOLD = ("cancelled", "returned")

Recorder = Callable[[str, int | None, datetime, dict[str, int], str], Awaitable[None]]


def _transaction(engine: Any) -> Any:
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ----------------------------------------------------------------------------- listing status

REMOTE_TO_LOCAL = {"live": "live", "rejected": "rejected", "banned": "rejected", "unlisted": "unlisted",
                   "deleted": "unlisted", "in_review": "in_review"}


async def sync_statuses(rt: MarketRuntime, *, record: Recorder | None = None) -> dict[str, int]:
    started = datetime.now(UTC)
    counts = {"checked": 0, "changed": 0, "errors": 0}
    rows = await (Listing.select(Listing.id, Listing.state, Listing.external_item_id, Listing.shop)
                  .where(Listing.state.is_in(["in_review", "live"]) & (Listing.external_item_id != "")))
    shop_rows = {s.id: s for s in await Shop.objects().where(Shop.id.is_in(list({r["shop"] for r in rows}) or [0]))}
    for row in rows:
        shop = shop_rows.get(row["shop"])
        if shop is None or shop.status != "connected":
            continue
        counts["checked"] += 1
        try:
            status = await rt.env.client(shop.marketplace).item_status(shops.credentials(shop, rt.cipher),
                                                                       row["external_item_id"])
        except ConnectorError as exc:
            counts["errors"] += 1
            log.info("status_sync_error", listing=row["id"], error=exc.message)
            continue
        local = REMOTE_TO_LOCAL.get(status.state, row["state"])
        if local != row["state"]:
            reason = status.reason or ("Bị khoá trên sàn / banned" if status.state == "banned" else "")
            if await listings.move(row["id"], row["state"], local, cause="sync:status", reason=reason,
                                   values={Listing.last_error: reason}):
                counts["changed"] += 1
    if record:
        await record("status", None, started, counts, "")
    return counts


# ----------------------------------------------------------------------------- orders


async def ingest_orders(shop_id: int, orders: Sequence[MarketOrder]) -> int:
    """Upsert orders and replace their lines, in one transaction with chunked multi-row statements."""
    if not orders:
        return 0
    sku_to_listing = {r["seller_sku"]: r["id"] for r in
                      await Listing.select(Listing.id, Listing.seller_sku).where(Listing.shop == shop_id)}
    by_id = {o.order_id: o for o in orders}  # the last copy of an order in a batch wins
    engine = Order._meta.db
    async with _transaction(engine):
        for chunk in _chunks(list(by_id.values()), CHUNK):
            await (Order.insert(*[Order(shop=shop_id, marketplace_order_id=o.order_id, status=o.status,
                                        total_vnd=o.total_vnd, created_at=o.created_at, updated_at=o.updated_at)
                                  for o in chunk])
                   .on_conflict(target=(Order.shop, Order.marketplace_order_id), action="DO UPDATE",
                                values=[Order.status, Order.total_vnd, Order.updated_at]))
            ids = {r["marketplace_order_id"]: r["id"] for r in
                   await Order.select(Order.id, Order.marketplace_order_id)
                   .where((Order.shop == shop_id) & Order.marketplace_order_id.is_in([o.order_id for o in chunk]))}
            await OrderLine.delete().where(OrderLine.order.is_in(list(ids.values())))
            lines = [OrderLine(order=ids[o.order_id], listing=sku_to_listing.get(line.seller_sku),
                               seller_sku=line.seller_sku, external_item_id=line.external_item_id,
                               name=line.name[:255], quantity=line.quantity, unit_price_vnd=line.unit_price_vnd,
                               total_vnd=line.total_vnd)
                     for o in chunk for line in o.lines]
            for line_chunk in _chunks(lines, CHUNK):
                await OrderLine.insert(*line_chunk)
    return len(by_id)


async def sync_shop_orders(rt: MarketRuntime, shop: Shop, *, now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(UTC)
    since = (shop.orders_synced_until - OVERLAP) if shop.orders_synced_until else now - FIRST_SYNC_LOOKBACK
    client = rt.env.client(shop.marketplace)
    creds = shops.credentials(shop, rt.cipher)
    ids: list[str] = []
    async for ref in client.orders_in_window(creds, since, now):
        ids.append(ref.order_id)
    ids = list(dict.fromkeys(ids))
    orders: list[MarketOrder] = []
    for batch in _chunks(ids, DETAIL_BATCH):
        orders += await client.order_detail(creds, list(batch))
    stored = await ingest_orders(shop.id, orders)
    days = {o.created_at.astimezone(VN).date() for o in orders}
    await rollup_days(days)
    await Shop.update({Shop.orders_synced_until: now}).where(Shop.id == shop.id)
    return {"orders": stored, "days": len(days)}


async def sync_all_orders(rt: MarketRuntime, *, record: Recorder | None = None) -> dict[str, int]:
    total = {"shops": 0, "orders": 0, "errors": 0}
    for shop in await Shop.objects().where(Shop.status == "connected"):
        started = datetime.now(UTC)
        if isinstance(shop.extra, str):
            import json

            shop.extra = json.loads(shop.extra or "{}")
        try:
            if shops.due_for_refresh(shop):
                await shops.refresh(rt.env, rt.cipher, shop)
            counts = await sync_shop_orders(rt, shop)
            error = ""
        except ConnectorError as exc:
            counts, error = {"orders": 0}, exc.message
            total["errors"] += 1
        total["shops"] += 1
        total["orders"] += counts.get("orders", 0)
        if record:
            await record("orders", shop.id, started, counts, error)
    return total


# ----------------------------------------------------------------------------- daily roll-up


def vn_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=VN).astimezone(UTC)
    return start, start + timedelta(days=1)


async def rollup_days(days: Iterable[date]) -> None:
    """Recompute SalesDaily for whole Vietnamese calendar days (net of cancellations/returns) with
    one aggregate query per day; recomputing is idempotent."""
    for day in sorted(set(days)):
        start, end = vn_day_bounds(day)
        rows = await OrderLine.raw(
            "SELECT l.listing AS listing, COUNT(DISTINCT l.\"order\") AS orders, SUM(l.quantity) AS units, "
            "SUM(l.total_vnd) AS revenue FROM market_order_line l JOIN market_order o ON o.id = l.\"order\" "
            "WHERE o.created_at >= {} AND o.created_at < {} AND o.status NOT IN ('cancelled', 'returned') "
            "AND l.listing IS NOT NULL GROUP BY l.listing", start, end)
        async with _transaction(SalesDaily._meta.db):
            await SalesDaily.delete().where(SalesDaily.day == day)
            if rows:
                await SalesDaily.insert(*[SalesDaily(listing=r["listing"], day=day, orders=int(r["orders"]),
                                                     units=int(r["units"] or 0), revenue_vnd=int(r["revenue"] or 0))
                                          for r in rows])


# ----------------------------------------------------------------------------- tokens


async def refresh_due_tokens(rt: MarketRuntime, *, record: Recorder | None = None) -> dict[str, int]:
    started = datetime.now(UTC)
    counts = {"refreshed": 0, "failed": 0, "needs_reauth": 0}
    for shop in await Shop.objects().where(Shop.status == "connected"):
        if not shops.due_for_refresh(shop):
            continue
        try:
            if await shops.refresh(rt.env, rt.cipher, shop):
                counts["refreshed"] += 1
            else:
                counts["needs_reauth"] += 1
        except ConnectorError:
            counts["failed"] += 1
    if record:
        await record("tokens", None, started, counts, "")
    return counts
