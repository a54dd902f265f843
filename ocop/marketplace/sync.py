"""Scheduled sync: review status of listings, orders per shop (with their sales facts), token
refresh, the slow reconciliation pass and each shop's order history.

Orders are read in overlapping windows from a stored cursor: re-reading a window is harmless
because orders upsert by (shop, marketplace order id) and their lines are replaced, so a
cancellation or return seen later simply updates the order. The frequent pass looks only at orders
updated since the cursor; a newly connected shop's history (``order_history_months``) is read once,
window by window, by :func:`backfill_shop`; :func:`reconcile` re-checks what the frequent passes
never look at again (listings that failed or gave up, rejected ones, the last days of orders).
"""

from __future__ import annotations

import asyncio
import calendar
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from piccolo.engine.postgres import PostgresEngine

from connectors.base import AuthExpiredError, ConnectorError, MarketOrder, OrderRef, RetryableError, ShopCredentials
from ocop import db
from ocop.catalog.tables import Variant
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


STATUS_STATES = ("in_review", "live")
"""What the frequent status sync re-checks; reconciliation (:func:`reconcile`) adds ``rejected``
and the listings that failed or gave up."""


async def sync_statuses(rt: MarketRuntime, *, record: Recorder | None = None,
                        listing_ids: list[int] | None = None,
                        states: Sequence[str] = STATUS_STATES) -> dict[str, int]:
    """Ask the marketplaces for the state of published listings (all, or only ``listing_ids``:
    a page waiting for a review's outcome asks for its own listings now and then)."""
    started = datetime.now(UTC)
    counts = {"checked": 0, "changed": 0, "errors": 0}
    clause = Listing.state.is_in(list(states)) & (Listing.external_item_id != "")
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


async def orders_stored(redis: Any) -> None:
    """Once :func:`ingest_orders` has committed, wake who acts on new orders now rather than at their
    tick: the stock pushes (the other marketplaces hear of the sale) and the alerts outbox (the
    producer hears of the order). Every path that stores orders — polling, the history backfill,
    pushes — calls this one; the push path once waited for the alerts' 10 s tick."""
    await stock.kick(redis)
    await alert_outbox.kick(redis)


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
    variant_skus = await _variant_skus(listing_rows, sku_to_listing)
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
                                  listing_product, variant_skus)
        if shop:
            await alert_outbox.record_rows(conn, _new_order_events(shop, shop_id, ids, known, by_id.values(),
                                                                   sku_to_listing, listing_product))
    return len(by_id)


async def _variant_skus(listing_rows: list[dict[str, Any]], sku_to_listing: dict[str, int]) -> set[str]:
    """A product with variants is one item whose orders name the variant's SKU: map each variant
    SKU to its product's listing in this shop (in place), and return those SKUs."""
    listing_of = {r["product"]: r["id"] for r in listing_rows}
    if not listing_of:
        return set()
    found: set[str] = set()
    for chunk in _chunks(sorted(listing_of), _IN_CHUNK):
        for row in await Variant.select(Variant.sku, Variant.product).where(Variant.product.is_in(list(chunk))):
            sku_to_listing.setdefault(row["sku"], listing_of[row["product"]])
            found.add(row["sku"])
    return found


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


async def read_window(rt: MarketRuntime, shop: Shop, since: datetime, until: datetime) -> dict[str, int]:
    """Read and store the orders of ``shop`` updated in ``[since, until]`` (the client cuts it into
    the marketplace's allowed windows). Only new orders, or orders whose update time moved, have
    their detail read. Raises the first transient failure after storing every page it could, so a
    caller keeps its cursor and the next run (same window) reads only what is still missing."""
    client = rt.env.client(shop.marketplace)

    async def list_refs(creds: ShopCredentials) -> list[OrderRef]:
        return [ref async for ref in client.orders_in_window(creds, since, until)]

    refs = {ref.order_id: ref for ref in await rt.with_fresh_token(shop, list_refs)}
    known = await _stored_versions(shop.id, list(refs))
    wanted = [oid for oid, ref in refs.items() if not _same_second(known.get(oid), ref.updated_at)]
    stored = 0
    failure: ConnectorError | None = None
    for batch in _chunks(wanted, DETAIL_BATCH):
        # Each page has its own refresh-and-retry and is stored as soon as it arrives; a page that
        # fails transiently does not stop the others.
        try:
            found = await rt.with_fresh_token(shop, lambda creds, ids=list(batch): client.order_detail(creds, ids))
        except (RetryableError, AuthExpiredError) as exc:
            failure = failure or exc
            continue
        stored += await ingest_orders(shop.id, found)
        await orders_stored(rt.redis)
    if failure is not None:
        raise failure
    return {"orders": stored, "listed": len(refs)}


async def sync_shop_orders(rt: MarketRuntime, shop: Shop, *, now: datetime | None = None) -> dict[str, int]:
    """The frequent pass: orders updated since the shop's cursor (less an overlap), then the cursor
    moves to ``now``. A new shop's first pass looks back :data:`FIRST_SYNC_LOOKBACK`; older history
    is the backfill's (:func:`backfill_shop`)."""
    now = now or datetime.now(UTC)
    since = (shop.orders_synced_until - OVERLAP) if shop.orders_synced_until else now - FIRST_SYNC_LOOKBACK
    counts = await read_window(rt, shop, since, now)
    await Shop.update({Shop.orders_synced_until: now}).where(Shop.id == shop.id)
    return counts


async def each_shop(rt: MarketRuntime, kind: str, run: Callable[[Shop], Awaitable[dict[str, int]]], *,
                    shop_rows: Iterable[Shop] | None = None, record: Recorder | None = None) -> dict[str, int]:
    """``run`` each connected shop (or ``shop_rows``), its tokens refreshed first when due; one
    shop's marketplace failing is recorded as that shop's run of ``kind`` and stops no other."""
    total = {"shops": 0, "orders": 0, "errors": 0}
    for shop in shop_rows if shop_rows is not None else await Shop.objects().where(Shop.status == "connected"):
        started = datetime.now(UTC)
        try:
            if shops.due_for_refresh(shop):
                await rt.refresh_shop(shop)
            counts, error = await run(shop), ""
        except ConnectorError as exc:
            counts, error = {"orders": 0}, exc.message
            total["errors"] += 1
        total["shops"] += 1
        total["orders"] += counts.get("orders", 0)
        if record:
            await record(kind, shop.id, started, counts, error)
    return total


async def sync_all_orders(rt: MarketRuntime, *, record: Recorder | None = None) -> dict[str, int]:
    return await each_shop(rt, "orders", lambda shop: sync_shop_orders(rt, shop), record=record)


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


# ----------------------------------------------------------------------------- reconciliation


async def _adopt(rt: MarketRuntime, shop: Shop, row: dict[str, Any]) -> str:
    """One failed (or given-up) listing against its marketplace: an item under its seller SKU (or
    its external id) is adopted and the listing takes the item's state; without one it stays
    failed with its reason. Returns "adopted", "missing" or "unchanged"."""
    client = rt.env.client(shop.marketplace)
    external_id = row["external_item_id"]
    if not external_id:
        found = await rt.with_fresh_token(shop, lambda creds: client.find_by_seller_sku(creds, row["seller_sku"]))
        if found is None:
            return "missing"
        external_id = found.external_id
    status = await rt.with_fresh_token(shop, lambda creds: client.item_status(creds, external_id))
    local = REMOTE_TO_LOCAL.get(status.state)
    if local not in ("live", "in_review", "rejected"):
        return "missing"  # deleted or unlisted on the marketplace: publishing again is the producer's call
    reason = status.reason or ("Bị khoá trên sàn / banned" if status.state == "banned" else "")
    values: dict[Any, Any] = {Listing.external_item_id: external_id, Listing.last_error: reason,
                              Listing.next_attempt_at: None, Listing.lease_until: None}
    if not row["external_item_id"]:
        # Created by an attempt whose answer was lost: which payload it carries is unknown, so the
        # next request re-pushes it (pushed_hash empty), and its stock is due for a push now.
        values.update({Listing.pushed_hash: "", Listing.stock_shown: None,
                       Listing.published_at: datetime.now(UTC)})
    adopted = f"Đã tìm thấy sản phẩm trên sàn và nhận lại / found on the marketplace and adopted ({external_id})"
    if not await listings.move(row["id"], "failed", local, cause="sync:reconcile", reason=reason or adopted,
                               values=values):
        return "unchanged"
    async with db.write_transaction(Listing._meta.db):
        await stock.bump([row["product"]])
    return "adopted"


async def reconcile_listings(rt: MarketRuntime) -> dict[str, int]:
    """The slow full pass over listings, for everything the frequent passes do not look at:

    * listings that failed or gave up (``failed`` with no retry due) are looked up on the
      marketplace by seller SKU: an attempt whose answer was lost may have created the item, which
      is then adopted (:func:`_adopt`);
    * listings that failed because their shop needed reconnecting are published again once the
      shop is connected;
    * rejected listings have their status read again (a marketplace may lift a ban);
    * a listing left in ``pending``/``publishing`` with nothing due and no live lease (no job will
      ever take it) is put back in the outbox;
    * stock pushes that stopped (gave up, or the shop needed reconnecting) are due again where the
      marketplace shows other numbers than ocop's (:func:`ocop.marketplace.stock.bump`).
    """
    from ocop.marketplace.publishing import PublishError, request_publish

    counts = {"checked": 0, "adopted": 0, "missing": 0, "requeued": 0, "errors": 0}
    now = datetime.now(UTC)
    stalled = await Listing.select(Listing.id, Listing.state).where(
        Listing.state.is_in(["pending", "publishing"]) & Listing.next_attempt_at.is_null()
        & (Listing.lease_until.is_null() | (Listing.lease_until < now)))
    for row in stalled:
        if await listings.move(row["id"], row["state"], "pending", cause="sync:reconcile",
                               values={Listing.next_attempt_at: now, Listing.lease_until: None}):
            counts["requeued"] += 1
    failed = await Listing.select(Listing.id, Listing.product, Listing.shop, Listing.seller_sku,
                                  Listing.external_item_id, Listing.last_error).where(
        (Listing.state == "failed") & Listing.next_attempt_at.is_null() & (Listing.desired == "live"))
    shop_rows = {s.id: s for s in await Shop.objects().where(
        Shop.id.is_in(list({r["shop"] for r in failed}) or [0]) & (Shop.status == "connected"))}
    for row in failed:
        shop = shop_rows.get(row["shop"])
        if shop is None:
            continue  # still needs reconnecting: nothing to ask the marketplace
        counts["checked"] += 1
        if row["last_error"] == listings.SHOP_NEEDS_RECONNECTING:
            try:
                counts["requeued"] += (await request_publish(row["product"], shop.id, cause="sync:reconcile")).changed
            except PublishError:
                counts["errors"] += 1
            continue
        try:
            outcome = await _adopt(rt, shop, row)
        except ConnectorError as exc:
            counts["errors"] += 1
            log.info("reconcile_error", listing=row["id"], error=exc.message)
            continue
        if outcome in counts:
            counts[outcome] += 1
    # stock pushes that stopped (gave up, or their shop needed reconnecting) are due again where
    # the marketplace still shows other numbers than ocop's
    connected = [s["id"] for s in await Shop.select(Shop.id).where(Shop.status == "connected")]
    stopped = await Listing.select(Listing.product).where(
        Listing.shop.is_in(connected or [0]) & Listing.stock_next_at.is_null() & (Listing.stock_error != "")
        & (Listing.external_item_id != "") & (Listing.desired == "live"))
    if stopped:
        async with db.write_transaction(Listing._meta.db):
            counts["stock_due"] = await stock.bump([r["product"] for r in stopped])
    rejected = await sync_statuses(rt, states=("rejected",))
    counts["checked"] += rejected["checked"]
    counts["errors"] += rejected["errors"]
    counts["changed"] = rejected["changed"]
    return counts


async def reconcile(rt: MarketRuntime, *, record: Recorder | None = None,
                    lookback: timedelta = timedelta(hours=48)) -> dict[str, int]:
    """The slow full pass (``reconcile_interval_minutes``): listings (:func:`reconcile_listings`),
    then each connected shop's orders updated within ``lookback`` read again whatever its cursor
    says, so an update a push announced and we lost, or one a marketplace dated late, is repaired."""
    started = datetime.now(UTC)
    counts = await reconcile_listings(rt)
    if record:
        await record("reconcile", None, started, counts, "")

    async def recent(shop: Shop) -> dict[str, int]:
        now = datetime.now(UTC)
        return await read_window(rt, shop, now - lookback, now)

    await each_shop(rt, "reconcile_orders", recent, record=record)
    return counts


# ----------------------------------------------------------------------------- order history


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the month's last day when it has
    no such day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def history_progress(shop: Any) -> float | None:
    """How much of the shop's order history is read, 0..1 (``None``: not started)."""
    started, until, oldest = (_get(shop, "history_started_at"), _get(shop, "history_until"),
                              _get(shop, "history_from"))
    if started is None or until is None or oldest is None:
        return None
    span = (started - oldest).total_seconds()
    return 1.0 if span <= 0 or until <= oldest else max(0.0, min(1.0, (started - until).total_seconds() / span))


def _get(shop: Any, name: str) -> Any:
    return shop[name] if isinstance(shop, dict) else getattr(shop, name)


async def backfill_shop(rt: MarketRuntime, shop: Shop, *, months: int, budget_s: float = 50.0,
                        now: datetime | None = None) -> dict[str, int]:
    """Read a shop's order history, newest first, one window of the marketplace's allowed length
    (``client.max_order_window``: Shopee 15 days, …) at a time, back to ``months`` before the
    backfill began, through :func:`ingest_orders` like every order. After each window the progress
    (``history_until``) is stored on the shop, so a crash or a failed window costs at most that
    window, and a run stops after ``budget_s`` to let the next one go on."""
    now = now or datetime.now(UTC)
    if shop.history_started_at is None or shop.history_until is None or shop.history_from is None:
        shop.history_started_at, shop.history_until = now, now
        shop.history_from = months_before(now, months)
        await Shop.update({Shop.history_started_at: now, Shop.history_until: now,
                           Shop.history_from: shop.history_from}).where(Shop.id == shop.id)
    step = rt.env.client(shop.marketplace).max_order_window
    counts = {"orders": 0, "windows": 0}
    clock = asyncio.get_running_loop().time
    deadline = clock() + budget_s
    while shop.history_until > shop.history_from and clock() < deadline:
        start = max(shop.history_from, shop.history_until - step)
        read = await read_window(rt, shop, start, shop.history_until)
        counts["orders"] += read["orders"]
        counts["windows"] += 1
        shop.history_until = start
        await Shop.update({Shop.history_until: start}).where(Shop.id == shop.id)
    return counts


async def backfill_all(rt: MarketRuntime, *, months: int, record: Recorder | None = None,
                       budget_s: float = 50.0) -> dict[str, int]:
    """Go on with the history of every connected shop whose backfill is not done, all of them
    within ``budget_s`` (a shop left for later keeps its place: the oldest shops go first)."""
    clock = asyncio.get_running_loop().time
    deadline = clock() + budget_s
    pending = [shop for shop in await Shop.objects().where(Shop.status == "connected").order_by(Shop.id)
               if history_progress(shop) != 1.0]

    async def go_on(shop: Shop) -> dict[str, int]:
        return await backfill_shop(rt, shop, months=months, budget_s=max(0.0, deadline - clock()))

    return await each_shop(rt, "history", go_on, shop_rows=(shop for shop in pending if clock() < deadline),
                           record=record)
