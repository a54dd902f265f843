"""Scheduled sync: review status of listings, orders per shop (with their sales facts), token refresh.

Orders are read in overlapping windows from a stored cursor: re-reading a window is harmless
because orders upsert by (shop, marketplace order id) and their lines are replaced, so a
cancellation or return seen later simply updates the order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from piccolo.engine.postgres import PostgresEngine

from connectors.base import AuthExpiredError, ConnectorError, MarketOrder, OrderRef, RetryableError, ShopCredentials
from ocop import db
from ocop.events import outbox as alert_outbox
from ocop.marketplace import listings, sales_facts as facts, shops, stock
from ocop.marketplace.runtime import MarketRuntime
from ocop.marketplace.tables import Listing, Order, Shop

log = structlog.get_logger("ocop.sync")
OVERLAP = timedelta(hours=1)
FIRST_SYNC_LOOKBACK = timedelta(days=30)
DETAIL_BATCH = 20  # ids per detail call and per stored page (some APIs read orders one by one)
CHUNK = 400
NOT_SOLD = ("cancelled", "returned")

Recorder = Callable[[str, int | None, datetime, dict[str, int], str], Awaitable[None]]


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ----------------------------------------------------------------------------- listing status

REMOTE_TO_LOCAL = {"live": "live", "rejected": "rejected", "banned": "rejected", "unlisted": "unlisted",
                   "deleted": "unlisted", "in_review": "in_review"}


async def sync_statuses(rt: MarketRuntime, *, record: Recorder | None = None,
                        listing_ids: list[int] | None = None) -> dict[str, int]:
    """Ask the marketplaces for the state of published listings (all, or only ``listing_ids``:
    a page waiting for a review's outcome asks for its own listings now and then)."""
    started = datetime.now(UTC)
    counts = {"checked": 0, "changed": 0, "errors": 0}
    clause = Listing.state.is_in(["in_review", "live"]) & (Listing.external_item_id != "")
    if listing_ids is not None:
        clause = clause & Listing.id.is_in(listing_ids or [0])
    rows = await (Listing.select(Listing.id, Listing.state, Listing.external_item_id, Listing.shop).where(clause))
    shop_rows = {s.id: s for s in await Shop.objects().where(Shop.id.is_in(list({r["shop"] for r in rows}) or [0]))}
    for row in rows:
        shop = shop_rows.get(row["shop"])
        if shop is None or shop.status != "connected":
            continue
        counts["checked"] += 1
        client = rt.env.client(shop.marketplace)
        try:
            status = await rt.with_fresh_token(shop, lambda creds: client.item_status(creds, row["external_item_id"]))
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


_UPSERT_ORDER = (
    "INSERT INTO market_order (shop, marketplace_order_id, status, total_vnd, created_at, updated_at, buyer_province) "
    "VALUES (?, ?, ?, ?, ?, ?, '') ON CONFLICT (shop, marketplace_order_id) DO UPDATE SET "
    "status = excluded.status, total_vnd = excluded.total_vnd, updated_at = excluded.updated_at"
)
_INSERT_LINE = (
    'INSERT INTO market_order_line ("order", listing, seller_sku, external_item_id, name, quantity, '
    "unit_price_vnd, total_vnd) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_IN_CHUNK = 500
_LINE_COLUMNS = ["order", "listing", "seller_sku", "external_item_id", "name", "quantity", "unit_price_vnd",
                 "total_vnd"]


async def _upsert_sqlite(conn: Any, shop_id: int, orders: list[MarketOrder]) -> dict[str, int]:
    await db.executemany(conn, _UPSERT_ORDER, [(shop_id, o.order_id, o.status, o.total_vnd, o.created_at,
                                                o.updated_at) for o in orders])
    ids: dict[str, int] = {}
    for chunk in _chunks([o.order_id for o in orders], _IN_CHUNK):
        marks = ",".join("?" * len(chunk))
        for row_id, order_id in await db.fetch(
                conn, f"SELECT id, marketplace_order_id FROM market_order WHERE shop = ? "
                      f"AND marketplace_order_id IN ({marks})", [shop_id, *chunk]):
            ids[str(order_id)] = int(row_id)  # type: ignore[call-overload]
    return ids


async def _upsert_postgres(conn: Any, shop_id: int, orders: list[MarketOrder]) -> dict[str, int]:
    """One statement for the whole batch: arrays unnested server-side, ids returned."""
    rows = await conn.fetch(
        "INSERT INTO market_order (shop, marketplace_order_id, status, total_vnd, created_at, updated_at, "
        "buyer_province) SELECT $1, o, s, t, c, u, '' FROM unnest($2::varchar[], $3::varchar[], $4::bigint[], "
        "$5::timestamptz[], $6::timestamptz[]) AS x(o, s, t, c, u) ON CONFLICT (shop, marketplace_order_id) "
        "DO UPDATE SET status = excluded.status, total_vnd = excluded.total_vnd, updated_at = excluded.updated_at "
        "RETURNING id, marketplace_order_id",
        shop_id, [o.order_id for o in orders], [o.status for o in orders], [o.total_vnd for o in orders],
        [o.created_at for o in orders], [o.updated_at for o in orders])
    return {r["marketplace_order_id"]: r["id"] for r in rows}


async def ingest_orders(shop_id: int, orders: Sequence[MarketOrder]) -> int:
    """Upsert orders and replace their lines in one transaction with a handful of statements
    (SQLite: driver executemany; PostgreSQL: one unnest upsert returning ids, then COPY for the
    lines), so a sync page of thousands of orders never costs a query per order. The orders'
    dashboard facts (:mod:`ocop.marketplace.sales_facts`) are replaced in the same transaction, so they can
    never disagree with the lines; so are the stock holds of the lines (:mod:`ocop.marketplace.stock`),
    so an order lowers ocop's stock exactly once and the listings to tell are due when it commits."""
    if not orders:
        return 0
    shop = await Shop.select(Shop.marketplace, Shop.producer).where(Shop.id == shop_id).first()
    listing_rows = await Listing.select(Listing.id, Listing.seller_sku, Listing.product).where(Listing.shop == shop_id)
    sku_to_listing = {r["seller_sku"]: r["id"] for r in listing_rows}
    listing_product = {r["id"]: r["product"] for r in listing_rows}
    by_id = {o.order_id: o for o in orders}  # the last copy of an order in a batch wins
    engine = Order._meta.db
    lines = [(line, o.order_id) for o in by_id.values() for line in o.lines]
    async with db.write_transaction(engine) as tx:
        conn = tx.connection
        known = await alert_outbox.existing_orders(conn, shop_id, [o.order_id for o in by_id.values()
                                                                   if alert_outbox.is_recent(o.created_at)])
        if isinstance(engine, PostgresEngine):
            ids = await _upsert_postgres(conn, shop_id, list(by_id.values()))
        else:
            ids = await _upsert_sqlite(conn, shop_id, list(by_id.values()))
        line_rows = [(ids[order_id], sku_to_listing.get(line.seller_sku), line.seller_sku, line.external_item_id,
                      line.name[:255], line.quantity, line.unit_price_vnd, line.total_vnd) for line, order_id in lines]
        fact_rows = [row for o in by_id.values() for row in facts.fact_rows(
            ids[o.order_id], shop_id, o.created_at, o.status, facts.sold_lines(o, sku_to_listing, listing_product))]
        if isinstance(engine, PostgresEngine):
            for table in ("market_order_line", "sales_fact"):
                await conn.execute(f'DELETE FROM {table} WHERE "order" = ANY($1::int[])', list(ids.values()))
            await conn.copy_records_to_table("market_order_line", records=line_rows, columns=_LINE_COLUMNS)
            await conn.copy_records_to_table("sales_fact", records=fact_rows, columns=list(facts.COLUMNS))
        else:
            for chunk in _chunks(list(ids.values()), _IN_CHUNK):
                marks = ",".join("?" * len(chunk))
                for table in ("market_order_line", "sales_fact"):
                    await db.execute(conn, f'DELETE FROM {table} WHERE "order" IN ({marks})', list(chunk))
            await db.executemany(conn, _INSERT_LINE, line_rows)
            await db.executemany(conn, facts.INSERT, fact_rows)
        await stock.record_orders(conn, shop_id, shop["marketplace"] if shop else "", by_id.values(), sku_to_listing,
                                  listing_product)
        if shop:
            await alert_outbox.record_rows(conn, _new_order_events(shop, shop_id, ids, known, by_id.values(),
                                                                   sku_to_listing, listing_product))
    return len(by_id)


def _new_order_events(shop: dict[str, Any], shop_id: int, ids: dict[str, int], known: set[str],
                      orders: Iterable[MarketOrder], sku_to_listing: dict[str, int],
                      listing_product: dict[int, int]) -> list[tuple[object, ...]]:
    """A "new order" alert for each order seen for the first time and placed recently (a first
    sync or a backfill reads months of old orders: not news), naming its first product of ours."""
    rows = []
    for o in orders:
        if o.order_id in known or not alert_outbox.is_recent(o.created_at) or o.status in NOT_SOLD:
            continue
        ours = next((l for l in o.lines if l.seller_sku in sku_to_listing), None)
        listing = sku_to_listing[ours.seller_sku] if ours else None
        rows.append(alert_outbox.row(
            alert_outbox.NEW_ORDER, shop["producer"], shop=shop_id, order=ids[o.order_id], listing=listing,
            product=listing_product.get(listing) if listing else None,
            payload={"order_id": o.order_id, "marketplace": shop["marketplace"], "total_vnd": o.total_vnd,
                     "product_name": (ours or o.lines[0]).name if o.lines else "",
                     "items": [f"{l.name} × {l.quantity}" for l in o.lines][:5]},
            dedupe_key=f"order:{shop_id}:{o.order_id}"))
    return rows


def _same_second(stored: datetime | None, listed: datetime | None) -> bool:
    """List endpoints often give update times to the second while details carry more precision."""
    return stored is not None and listed is not None and abs((stored - listed).total_seconds()) < 1


async def _stored_column(shop_id: int, order_ids: list[str], column: Any) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for chunk in _chunks(order_ids, _IN_CHUNK):
        for row in await Order.select(Order.marketplace_order_id, column.as_alias("value")).where(
                (Order.shop == shop_id) & Order.marketplace_order_id.is_in(list(chunk))):
            found[row["marketplace_order_id"]] = row["value"]
    return found


async def _stored_versions(shop_id: int, order_ids: list[str]) -> dict[str, datetime]:
    return await _stored_column(shop_id, order_ids, Order.updated_at)


async def sync_shop_orders(rt: MarketRuntime, shop: Shop, *, now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(UTC)
    since = (shop.orders_synced_until - OVERLAP) if shop.orders_synced_until else now - FIRST_SYNC_LOOKBACK
    client = rt.env.client(shop.marketplace)

    async def list_refs(creds: ShopCredentials) -> list[OrderRef]:
        return [ref async for ref in client.orders_in_window(creds, since, now)]

    refs = {ref.order_id: ref for ref in await rt.with_fresh_token(shop, list_refs)}
    known = await _stored_versions(shop.id, list(refs))
    # Only new orders, or orders whose update time moved, need their detail read again.
    wanted = [oid for oid, ref in refs.items() if not _same_second(known.get(oid), ref.updated_at)]
    stored = 0
    failure: ConnectorError | None = None
    for batch in _chunks(wanted, DETAIL_BATCH):
        # Each page has its own refresh-and-retry and is stored as soon as it arrives. A page that
        # fails transiently does not stop the others; the run then ends in that error without
        # moving the cursor, and the next run (same window) reads only what is still missing.
        try:
            found = await rt.with_fresh_token(shop, lambda creds, ids=list(batch): client.order_detail(creds, ids))
        except (RetryableError, AuthExpiredError) as exc:
            failure = failure or exc
            continue
        stored += await ingest_orders(shop.id, found)
        await stock.kick(rt.redis)  # the other marketplaces hear of it now, not at the dispatcher's tick
        await alert_outbox.kick(rt.redis)  # and the producer of the new orders
    if failure is not None:
        raise failure
    await Shop.update({Shop.orders_synced_until: now}).where(Shop.id == shop.id)
    return {"orders": stored, "listed": len(refs)}


async def sync_all_orders(rt: MarketRuntime, *, record: Recorder | None = None) -> dict[str, int]:
    total = {"shops": 0, "orders": 0, "errors": 0}
    for shop in await Shop.objects().where(Shop.status == "connected"):
        started = datetime.now(UTC)
        try:
            if shops.due_for_refresh(shop):
                await rt.refresh_shop(shop)
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


# ----------------------------------------------------------------------------- tokens


async def refresh_due_tokens(rt: MarketRuntime, *, record: Recorder | None = None) -> dict[str, int]:
    started = datetime.now(UTC)
    counts = {"refreshed": 0, "failed": 0, "needs_reauth": 0}
    for shop in await Shop.objects().where(Shop.status == "connected"):
        if not shops.due_for_refresh(shop):
            continue
        try:
            if await rt.refresh_shop(shop):
                counts["refreshed"] += 1
            else:
                counts["needs_reauth"] += 1
        except ConnectorError:
            counts["failed"] += 1
    if record:
        await record("tokens", None, started, counts, "")
    return counts
