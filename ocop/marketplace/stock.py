"""One stock per product, owned by ocop and kept on every marketplace (the rules are in
:mod:`ocop.marketplace.stock_rules`; this module is the ledger, the outbox and the push job).

**Ledger.** ``Product.stock`` stays what the producer says they have. Every order line the order
ingest sees (``ocop.marketplace.sync.ingest_orders``, the one writer of orders) is a
:class:`~ocop.marketplace.tables.StockHold` row keyed by (shop, marketplace order id, seller SKU),
rewritten in the ingest's own transaction: re-reading a window or ingesting twice changes nothing,
a cancellation (or a return before shipping) sets its units to 0. Available =
``stock − Σ(units − settled)``; a stock edit settles the holds so far (the producer's new count
already has them). Concurrent ingests of two shops selling the same product are serialised on the
product row (PostgreSQL ``FOR UPDATE``; SQLite writers are serial already), so each sees the
other's units and nothing is counted twice or lost.

**Outbox.** When what a listing should show (``offer`` = available − the product's safety buffer,
and the price) differs from what its marketplace shows as far as we know (``stock_shown``,
``price_shown``), the listing's ``stock_version`` is bumped and it becomes due
(``stock_next_at``), in the same transaction as the change. The marketplace where an order was
placed lowered its own stock: its ``stock_shown`` follows the order, so it usually needs no call.
:func:`dispatch_due` hands due listings to arq with the job id
``push_stock:{listing}:{version}:{attempts}``; the job claims the listing with a lease, reads the
*latest* numbers, sends them through the client's partial ``update_price_stock`` (never a whole
re-push) and acknowledges the version it read. Jobs of older versions find nothing to do, so ten
orders in a second give one call per marketplace carrying the last number.

**Variants.** A product with variants keeps one stock per variant: a variant's available stock is
its own ``Variant.stock`` less what the holds of its seller SKU took (the holds are keyed by the
line's seller SKU already), the safety buffer applies to each variant, and a listing's
``skus_shown`` keeps what its marketplace shows per SKU. A push then carries every SKU of the
listing in one ``update_skus`` (the marketplace's partial endpoints), and an order moves only the
SKU it bought on its own marketplace.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from arq import Retry
from piccolo.engine.postgres import PostgresEngine

from connectors.base import (
    AuthExpiredError,
    ConnectorError,
    MarketOrder,
    RateLimitedError,
    RetryableError,
    SkuNumbers,
)
from ocop import db
from ocop.catalog.tables import Product, Variant
from ocop.jobs.queue import QUEUE_NAME
from ocop.jobs.registry import cron, job
from ocop.marketplace import stock_rules as rules
from ocop.marketplace.runtime import MarketRuntime
from ocop.marketplace.tables import Listing, Shop, StockHold

log = structlog.get_logger("ocop.stock")

JOB = "push_stock"
JOB_TIMEOUT_S = 30
COALESCE_S = 0.3
"""A push waits this long after being asked for, so a burst of orders ingested one by one still
ends in one call per marketplace carrying the latest number."""
MAX_ROUNDS = 4
MAX_ATTEMPTS = 10
PUSHABLE_EXCLUDED = ("draft", "unlisted")

_IN_CHUNK = 500
_HOLD_COLUMNS = ("shop", "marketplace_order_id", "seller_sku", "product", "listing", "quantity", "units", "settled",
                 "shipped", "status", "raw_status", "created_at", "updated_at")
_UPSERT_HOLD = (
    "INSERT INTO stock_hold ({}) VALUES ({}) ON CONFLICT (shop, marketplace_order_id, seller_sku) DO UPDATE SET "
    "product = excluded.product, listing = excluded.listing, quantity = excluded.quantity, units = excluded.units, "
    "shipped = excluded.shipped, status = excluded.status, raw_status = excluded.raw_status, "
    "updated_at = excluded.updated_at"
).format(", ".join(_HOLD_COLUMNS), ", ".join("?" for _ in _HOLD_COLUMNS))
_UPSERT_HOLD_PG = (  # the same, one statement for a whole page: arrays unnested server-side
    "INSERT INTO stock_hold ({}) SELECT $1, o, k, p, l, q, u, s, sh, st, r, $12, $12 FROM unnest($2::varchar[], "
    "$3::varchar[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::bool[], $10::varchar[], "
    "$11::varchar[]) AS x(o, k, p, l, q, u, s, sh, st, r) ON CONFLICT (shop, marketplace_order_id, seller_sku) "
    "DO UPDATE SET product = excluded.product, listing = excluded.listing, quantity = excluded.quantity, "
    "units = excluded.units, shipped = excluded.shipped, status = excluded.status, raw_status = excluded.raw_status, "
    "updated_at = excluded.updated_at"
).format(", ".join(_HOLD_COLUMNS))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Numbers:
    stock: int
    held: int
    """Units taken by orders since the producer's last stock edit (net of what came back)."""
    buffer: int
    price_vnd: int

    @property
    def available(self) -> int:
        return self.stock - self.held

    @property
    def offer(self) -> int:
        return rules.offer(self.available, self.buffer)


@dataclass(frozen=True, slots=True, kw_only=True)
class Availability(_Numbers):
    """ocop's numbers for a product (for one with variants: all of them together)."""

    product: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SkuAvailability(_Numbers):
    """ocop's numbers for one variant (one seller SKU) of a product with variants."""

    sku: str

    def shown(self) -> list[int]:
        """What the marketplace should show, as ``Listing.skus_shown`` keeps it."""
        return [self.price_vnd, self.offer]


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def availability(product_ids: Iterable[int]) -> dict[int, Availability]:
    """ocop's available stock of each product, computed from the ledger (re-computable at any time)."""
    ids = sorted({int(p) for p in product_ids})
    out: dict[int, Availability] = {}
    for chunk in _chunks(ids):
        products = await Product.select(Product.id, Product.stock, Product.stock_buffer, Product.price_vnd).where(
            Product.id.is_in(list(chunk)))
        marks = ", ".join("{}" for _ in chunk)
        held = {int(r["product"]): int(r["held"] or 0) for r in await StockHold.raw(
            f"SELECT product, SUM(units - settled) AS held FROM stock_hold WHERE product IN ({marks}) "
            "AND units <> settled GROUP BY product", *chunk)}
        for p in products:
            out[p["id"]] = Availability(product=p["id"], stock=int(p["stock"] or 0), held=held.get(p["id"], 0),
                                        buffer=int(p["stock_buffer"] or 0), price_vnd=int(p["price_vnd"] or 0))
    return out


async def variant_availability(product_ids: Iterable[int]) -> dict[int, dict[str, SkuAvailability]]:
    """Per product with variants, each variant's numbers by seller SKU (in the variants' order);
    products without variants are absent."""
    ids = sorted({int(p) for p in product_ids})
    out: dict[int, dict[str, SkuAvailability]] = {}
    for chunk in _chunks(ids):
        variants = await (Variant.select(Variant.product, Variant.sku, Variant.stock, Variant.price_vnd,
                                         Variant.product.stock_buffer.as_alias("buffer"))
                          .where(Variant.product.is_in(list(chunk))).order_by(Variant.position).order_by(Variant.id))
        if not variants:
            continue
        marks = ", ".join("{}" for _ in chunk)
        held = {(int(r["product"]), str(r["seller_sku"])): int(r["held"] or 0) for r in await StockHold.raw(
            f"SELECT product, seller_sku, SUM(units - settled) AS held FROM stock_hold WHERE product IN ({marks}) "
            "AND units <> settled GROUP BY product, seller_sku", *chunk)}
        for v in variants:
            product = int(v["product"])
            out.setdefault(product, {})[v["sku"]] = SkuAvailability(
                sku=v["sku"], stock=int(v["stock"] or 0), held=held.get((product, v["sku"]), 0),
                buffer=int(v["buffer"] or 0), price_vnd=int(v["price_vnd"] or 0))
    return out


def _differs(listing: dict[str, Any], numbers: dict[int, Availability],
             per_sku: dict[int, dict[str, SkuAvailability]]) -> bool:
    """Does this listing's marketplace (as far as we know) show other numbers than ocop's?"""
    product = listing["product"]
    if product in per_sku:
        kept = db.json_value(listing["skus_shown"], {}) or {}
        return any(kept.get(sku) != n.shown() for sku, n in per_sku[product].items())
    return product in numbers and (listing["stock_shown"] != numbers[product].offer
                                   or listing["price_shown"] != numbers[product].price_vnd)


def _pushable() -> Any:
    return ((Listing.external_item_id != "") & (Listing.desired == "live")
            & Listing.state.not_in(list(PUSHABLE_EXCLUDED)))


async def _lock_products(product_ids: Sequence[int]) -> None:
    """Serialise stock changes of these products until the transaction ends (PostgreSQL; SQLite
    runs one writer at a time). Locked in id order, so two ingests never wait on each other in a
    cycle."""
    engine = Product._meta.db
    if isinstance(engine, PostgresEngine) and product_ids:
        await Product.raw("SELECT id FROM product WHERE id = ANY({}) ORDER BY id FOR UPDATE", list(product_ids))


async def bump(product_ids: Iterable[int], *, force: bool = False) -> int:
    """Make every listing of these products due for a push where its marketplace does not show
    ocop's numbers (``force``: all of them, e.g. "push again"). Call inside the transaction that
    changed the numbers. Returns the number of listings made due."""
    ids = sorted({int(p) for p in product_ids})
    if not ids:
        return 0
    await _lock_products(ids)
    numbers = await availability(ids)
    per_sku = await variant_availability(ids)
    rows = await Listing.select(Listing.id, Listing.product, Listing.stock_shown, Listing.price_shown,
                                Listing.skus_shown).where(Listing.product.is_in(ids) & _pushable())
    now = datetime.now(UTC)
    due = [r["id"] for r in rows if force or _differs(r, numbers, per_sku)]
    for listing_id in due:
        await Listing.update({Listing.stock_version: Listing.stock_version + 1, Listing.stock_next_at: now,
                              Listing.stock_attempts: 0}).where(Listing.id == listing_id)
    return len(due)


# ----------------------------------------------------------------------------- the order ingest


async def record_orders(conn: Any, shop_id: int, marketplace: str, orders: Iterable[MarketOrder],
                        sku_to_listing: dict[str, int], listing_product: dict[int, int],
                        variant_skus: Collection[str] = ()) -> set[int]:
    """Inside the order ingest's transaction: rewrite the holds of these orders' lines of our
    listings, follow the order's own marketplace (it lowered or restored its stock itself) and
    make the other listings of the products due. Returns the products whose stock moved.
    ``variant_skus``: the SKUs of ``sku_to_listing`` that are variants of their listing's product
    (their marketplace keeps a stock per SKU)."""
    wanted: dict[tuple[str, str], tuple[MarketOrder, int]] = {}
    for order in orders:
        merged = rules.merge_lines((l.seller_sku, l.quantity) for l in order.lines if l.seller_sku in sku_to_listing)
        for sku, quantity in merged.items():
            wanted[(order.order_id, sku)] = (order, quantity)
    if not wanted:
        return set()
    before: dict[tuple[str, str], tuple[int, bool, int]] = {}
    order_ids = sorted({order_id for order_id, _ in wanted})
    postgres = isinstance(Product._meta.db, PostgresEngine)
    if postgres:  # one statement for the whole page, like the order upsert
        found = [tuple(r) for r in await conn.fetch(
            "SELECT marketplace_order_id, seller_sku, units, shipped, quantity FROM stock_hold "
            "WHERE shop = $1 AND marketplace_order_id = ANY($2::varchar[])", shop_id, order_ids)]
    else:
        found = []
        for chunk in _chunks(order_ids):
            marks = ",".join("?" * len(chunk))
            found += await db.fetch(
                conn, f"SELECT marketplace_order_id, seller_sku, units, shipped, quantity FROM stock_hold "
                      f"WHERE shop = ? AND marketplace_order_id IN ({marks})", [shop_id, *chunk])
    for order_id, sku, units, shipped, quantity in found:
        before[(str(order_id), str(sku))] = (int(units), bool(shipped), int(quantity))  # type: ignore[call-overload]
    now = datetime.now(UTC)
    rows: list[tuple[object, ...]] = []
    moved: dict[int, int] = {}  # listing -> units its marketplace took (+) or gave back (-)
    moved_skus: dict[int, dict[str, int]] = {}  # listing -> variant SKU -> the same, per variant
    first_event: dict[int, datetime] = {}  # listing -> earliest marketplace time of those changes
    for (order_id, sku), (order, quantity) in wanted.items():
        old = before.get((order_id, sku))
        hold = rules.line_hold(marketplace, order.status, order.raw_status, quantity,
                               held_before=old[0] if old else None, shipped_before=old[1] if old else False)
        if old is not None and (old[0], old[1], old[2]) == (hold.units, hold.shipped, quantity):
            continue
        listing = sku_to_listing[sku]
        rows.append((shop_id, order_id, sku, listing_product[listing], listing, quantity, hold.units, 0,
                     hold.shipped, order.status, order.raw_status[:40], now, now))
        if hold.delta:
            moved[listing] = moved.get(listing, 0) + hold.delta
            if sku in variant_skus:
                per = moved_skus.setdefault(listing, {})
                per[sku] = per.get(sku, 0) + hold.delta
            event = order.created_at if hold.delta > 0 else order.updated_at
            first_event[listing] = min(first_event.get(listing, event), event)
    if not rows:
        return set()
    products = sorted({int(r[3]) for r in rows})  # type: ignore[call-overload]
    await _lock_products(products)
    if postgres:
        await conn.execute(_UPSERT_HOLD_PG, shop_id, *(list(column) for column in list(zip(*rows))[1:11]), now)
    else:
        await db.executemany(conn, _UPSERT_HOLD, rows)
    if moved_skus and postgres:  # the per-SKU numbers are rewritten below: no push may write them meanwhile
        await conn.execute("SELECT id FROM listing WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE",
                           sorted(moved_skus))
    pushes = {r["id"]: r for r in await Listing.select(
        Listing.id, Listing.stock_pushed_at, Listing.stock_lease_until,
        *([Listing.skus_shown] if moved_skus else [])).where(Listing.id.is_in(list(moved) or [0]))}
    for listing, units in moved.items():
        row = pushes.get(listing)
        follows = row is not None and rules.origin_follows(first_event[listing], row["stock_pushed_at"],
                                                           row["stock_lease_until"], now)
        if follows:
            await Listing.update({Listing.stock_shown: Listing.stock_shown - units}).where(
                (Listing.id == listing) & Listing.stock_shown.is_not_null())
        else:  # a push of ours may have landed after the marketplace's own change: we no longer know
            await Listing.update({Listing.stock_shown: None}).where(Listing.id == listing)
        if listing in moved_skus and row is not None:
            shown = dict(db.json_value(row["skus_shown"], {}) or {})
            for sku, delta in moved_skus[listing].items():
                price, stock = (shown.get(sku) or [None, None])[:2]
                shown[sku] = [price, stock - delta if follows and stock is not None else None]
            await Listing.update({Listing.skus_shown: shown}).where(Listing.id == listing)
    changed = {listing_product[listing] for listing in moved}
    await bump(changed)
    return changed


# ----------------------------------------------------------------------------- edits


async def stock_edited(product_ids: Iterable[int], skus: Iterable[str] | None = None) -> None:
    """The producer (or staff, or an import) set a new count: the holds so far are in it. Call
    inside the transaction that wrote ``Product.stock``. ``skus``: only these variants' counts were
    set (the other variants' holds still stand apart from their counts)."""
    ids = sorted({int(p) for p in product_ids})
    await _lock_products(ids)
    only = sorted(set(skus)) if skus is not None else None
    if only == []:
        return
    for chunk in _chunks(ids):
        where = StockHold.product.is_in(list(chunk)) & (StockHold.units != StockHold.settled)
        if only is not None:
            where = where & StockHold.seller_sku.is_in(only)
        await StockHold.update({StockHold.settled: StockHold.units}).where(where)


async def sent_with_publish(listing_id: int, price_vnd: int, stock: int, skus: Sequence[SkuNumbers] = ()) -> None:
    """A whole push (publishing) carried these numbers (``skus``: per variant): the marketplace
    shows them now. If ocop's numbers moved meanwhile, the listing becomes due for a partial push."""
    await Listing.update({Listing.stock_shown: stock, Listing.price_shown: price_vnd,
                          Listing.skus_shown: {s.seller_sku: [s.price_vnd, s.stock] for s in skus},
                          Listing.stock_pushed_at: datetime.now(UTC)}).where(Listing.id == listing_id)
    row = await Listing.select(Listing.product).where(Listing.id == listing_id).first()
    if row is not None:
        await bump([row["product"]])
        await _settle_if_shown(listing_id, row["product"])


async def _settle_if_shown(listing_id: int, product_id: int) -> None:
    """A whole push just set the listing's numbers: if they are ocop's, a partial push asked for
    meanwhile (e.g. by another listing's publish, before this one's numbers were known) has nothing
    left to send, unless one is already on its way."""
    row = await Listing.select(Listing.product, Listing.stock_shown, Listing.price_shown, Listing.skus_shown).where(
        Listing.id == listing_id).first()
    if row is None or _differs(row, await availability([product_id]), await variant_availability([product_id])):
        return
    now = datetime.now(UTC)
    await Listing.update({Listing.stock_pushed_version: Listing.stock_version, Listing.stock_next_at: None}).where(
        (Listing.id == listing_id) & (Listing.stock_lease_until.is_null() | (Listing.stock_lease_until < now)))


async def offered_stock(product_id: int) -> int:
    """What a whole push (publishing) offers the marketplace: the same number a partial push would."""
    numbers = (await availability([product_id])).get(product_id)
    return numbers.offer if numbers else 0


async def push_again(product_id: int) -> int:
    """Staff or the producer asked to send ocop's numbers to every marketplace again."""
    async with db.write_transaction(Product._meta.db):
        return await bump([product_id], force=True)


async def read_back(rt: MarketRuntime, listing_id: int) -> dict[str, list[int]] | None:
    """Ask the listing's marketplace what it shows for each SKU now and keep it (``skus_read``).
    What it shows is then what we know it shows: where that is not ocop's number (drift: an edit
    in the seller centre, a push lost), the listing becomes due and the next push repairs it.
    None when the listing is not on the marketplace or its shop is not connected."""
    listing = await Listing.objects().where(Listing.id == listing_id).first()
    shop = await Shop.objects().where(Shop.id == listing.shop).first() if listing else None
    if listing is None or shop is None or shop.status != "connected" or not listing.external_item_id:
        return None
    client = rt.env.client(shop.marketplace)
    found = await rt.with_fresh_token(shop, lambda creds: client.item_skus(creds, listing.external_item_id))
    read = {s.seller_sku: [s.price_vnd, s.stock] for s in found}
    async with db.write_transaction(Product._meta.db):
        await _lock_products([listing.product])
        values: dict[Any, Any] = {Listing.skus_read: read, Listing.skus_read_at: datetime.now(UTC)}
        current = await Listing.select(Listing.stock_lease_until, Listing.skus_shown).where(
            Listing.id == listing_id).first()
        if current is not None and not (current["stock_lease_until"] and current["stock_lease_until"] > datetime.now(UTC)):
            if db.json_value(current["skus_shown"], {}) or len(read) > 1:
                values[Listing.skus_shown] = read
            values[Listing.stock_shown] = sum(stock for _, stock in read.values())
            values[Listing.price_shown] = min((price for price, _ in read.values()), default=None)
        await Listing.update(values).where(Listing.id == listing_id)
        await bump([listing.product])
    return read


# ----------------------------------------------------------------------------- dispatch


def job_id(listing_id: int, version: int, attempts: int) -> str:
    return f"{JOB}:{listing_id}:{version}:{attempts}"


async def dispatch_due(redis: Any, *, limit: int = 500) -> int:
    """Hand every listing due for a stock push to arq (safe to call any time, from anywhere)."""
    now = datetime.now(UTC)
    rows = await (Listing.select(Listing.id, Listing.stock_version, Listing.stock_attempts)
                  .where(Listing.stock_next_at.is_not_null() & (Listing.stock_next_at <= now)
                         & (Listing.stock_lease_until.is_null() | (Listing.stock_lease_until < now)))
                  .order_by(Listing.stock_next_at).limit(limit))
    sent = 0
    for row in rows:
        queued = await redis.enqueue_job(JOB, row["id"], row["stock_version"],
                                         _job_id=job_id(row["id"], row["stock_version"], row["stock_attempts"]),
                                         _queue_name=QUEUE_NAME, _defer_by=timedelta(seconds=COALESCE_S))
        sent += queued is not None
    return sent


async def kick(redis: Any) -> None:
    """Hand due stock pushes to the queue now (after an ingest or an edit); failure is fine, the
    outbox keeps them and the dispatcher sends them."""
    if redis is None:
        return
    try:
        await dispatch_due(redis, limit=200)
    except Exception:  # noqa: BLE001 - Redis down: the outbox keeps the request
        return


@cron(second={5, 25, 45}, minute=None, timeout_s=60)
async def dispatch_stock_outbox(ctx: dict[str, Any]) -> int:
    return await dispatch_due(ctx["redis"])


# ----------------------------------------------------------------------------- the push job


def lease_for(settings: Any) -> timedelta:
    """The job's whole life plus a margin for a write sent just before it was cut off (as for
    publishing: thrice one request's timeout, between 5 and 30 s)."""
    margin = min(30.0, max(5.0, 3 * float(settings.marketplace_timeout_s)))
    return timedelta(seconds=JOB_TIMEOUT_S + margin)


def backoff_s(attempt: int, base: float = 1.0) -> float:
    return min(120.0, base * 2 ** min(attempt, 7)) * random.uniform(0.5, 1.0)


async def _claim(listing_id: int, lease: timedelta) -> int | None:
    """Take the listing if a push is pending and nobody holds it; returns the version taken."""
    now = datetime.now(UTC)
    claimed = await (Listing.update({Listing.stock_lease_until: now + lease,
                                     Listing.stock_attempts: Listing.stock_attempts + 1})
                     .where((Listing.id == listing_id) & (Listing.stock_pushed_version < Listing.stock_version)
                            & (Listing.stock_lease_until.is_null() | (Listing.stock_lease_until < now)))
                     .returning(Listing.stock_version))
    return int(claimed[0]["stock_version"]) if claimed else None


async def _release(listing_id: int, values: dict[Any, Any]) -> None:
    await Listing.update({Listing.stock_lease_until: None, **values}).where(Listing.id == listing_id)


@job(name=JOB, timeout_s=JOB_TIMEOUT_S, max_tries=6, keep_result_s=30)
async def push_stock(ctx: dict[str, Any], listing_id: int, version: int) -> str:
    """Send ocop's latest price and offer of one listing through the partial endpoint."""
    rt: MarketRuntime = ctx["market"]
    lease = lease_for(rt.settings)
    outcome = "skipped"
    for _ in range(MAX_ROUNDS):
        taken = await _claim(listing_id, lease)
        if taken is None:
            return outcome
        listing = await Listing.objects().where(Listing.id == listing_id).first()
        shop = await Shop.objects().where(Shop.id == listing.shop).first() if listing else None
        if listing is None or shop is None or shop.status != "connected" or not listing.external_item_id:
            await _release(listing_id, {Listing.stock_pushed_version: taken, Listing.stock_next_at: None,
                                        Listing.stock_error: "Gian hàng cần kết nối lại / the shop needs reconnecting"})
            return "shop_disconnected"
        if listing.desired != "live" or listing.state in PUSHABLE_EXCLUDED:  # taken off sale meanwhile
            await _release(listing_id, {Listing.stock_pushed_version: taken, Listing.stock_next_at: None})
            return "not_listed"
        numbers = (await availability([listing.product])).get(listing.product)
        if numbers is None:
            await _release(listing_id, {Listing.stock_pushed_version: taken, Listing.stock_next_at: None})
            return "no_product"
        per_sku = (await variant_availability([listing.product])).get(listing.product, {})
        client = rt.env.client(shop.marketplace)
        sent = [SkuNumbers(sku, n.price_vnd, n.offer) for sku, n in per_sku.items()]
        try:
            if sent:  # every variant of the item in one partial call
                await rt.with_fresh_token(shop, lambda creds: client.update_skus(creds, listing.external_item_id, sent))
            else:
                await rt.with_fresh_token(shop, lambda creds: client.update_price_stock(
                    creds, listing.external_item_id, listing.seller_sku, numbers.price_vnd, numbers.offer))
        except RetryableError as exc:
            return await _retry_later(ctx, listing, exc)
        except (AuthExpiredError, ConnectorError) as exc:
            await _release(listing_id, {Listing.stock_pushed_version: taken, Listing.stock_next_at: None,
                                        Listing.stock_error: f"Sàn báo lỗi / marketplace said: {exc.message}"[:2000]})
            return "failed"
        now = datetime.now(UTC)
        shown = {Listing.skus_shown: {s.seller_sku: [s.price_vnd, s.stock] for s in sent},
                 Listing.stock_shown: sum(s.stock for s in sent), Listing.price_shown: min(s.price_vnd for s in sent)
                 } if sent else {Listing.stock_shown: numbers.offer, Listing.price_shown: numbers.price_vnd}
        done = {**shown,
                Listing.stock_pushed_version: taken, Listing.stock_lease_until: None, Listing.stock_attempts: 0,
                Listing.stock_error: "", Listing.stock_pushed_at: now}
        finished = await Listing.update({**done, Listing.stock_next_at: None}).where(
            (Listing.id == listing_id) & (Listing.stock_version == taken)).returning(Listing.id)
        outcome = "pushed"
        if finished:
            return outcome
        # ocop's numbers moved while we were sending: record what was sent and go again.
        await Listing.update(done).where(Listing.id == listing_id)
    return outcome  # still pending after MAX_ROUNDS: the outbox keeps it due for the dispatcher


async def _retry_later(ctx: dict[str, Any], listing: Listing, exc: RetryableError) -> str:
    attempts = int(listing.stock_attempts)
    delay = exc.retry_after if isinstance(exc, RateLimitedError) else backoff_s(attempts)
    give_up = attempts >= MAX_ATTEMPTS
    reason = f"{'Dừng thử lại' if give_up else 'Sẽ thử lại'} / {'gave up' if give_up else 'retrying'}: {exc.message}"
    await _release(listing.id, {Listing.stock_error: reason[:2000], Listing.stock_next_at:
                                None if give_up else datetime.now(UTC) + timedelta(seconds=delay)})
    if give_up:
        return "gave_up"
    if ctx.get("job_try", 1) < 6:
        raise Retry(defer=delay)
    return "deferred"
