"""The sales fact (``sales_fact``): what the order ingest writes so the dashboard never re-reads lines.

Why a fact table: profiling the year view over 100,000 orders (``tests/bench/dashboard_bench.py``,
SQLite ``EXPLAIN QUERY PLAN`` and per-CTE timing) showed ~0.4 s spent joining every order line to
its order, shop and producer and testing "is there an earlier line of this order?" with a
correlated index seek, and ~0.6 s in the GROUP BY sort of those ~150,000 lines into cells plus the
correlated group/star look-ups. The fact row carries what those joins and seeks computed:

- one row per (order, listing): lines of one listing in one order are folded (units and revenue
  summed), so "orders containing this product" is a plain row count (within one order, i.e. one
  shop, a product has at most one listing);
- the Vietnamese calendar ``day`` and ``month`` (yyyymm) the order was placed in, and its status class
  (sold / cancelled / returned), computed once here instead of per query;
- ``rank``: 1 for the order's first listing (by line order), 2 for the second, …; and
  ``first_product``: the product of the order's rank-1 row. A rank-2 row is "the first of its OCOP
  group in its order" exactly when its group differs from the first product's; only rows of rank
  3 and more (orders with three or more different listings, rare) need a look at the order's other
  rows at query time. The product's group and stars are NOT stored: they can change, and reports
  use the current ones.

The order ingest (``ocop.marketplace.sync.ingest_orders``) writes them with :data:`INSERT` in the
same transaction as the order and its lines (:func:`fact_rows` of :func:`sold_lines`), and
:func:`rebuild` recomputes them all from the stored lines in SQL (used by the migration for
existing data and by the benchmark); a test checks both agree. The dashboard
(``ocop.reports.sales``) only reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from connectors.base import MarketOrder
from ocop import db
from ocop.domain.dates import VN_TZ

SOLD, CANCELLED, RETURNED = 0, 1, 2
COLUMNS = ("order", "shop", "listing", "product", "day", "month", "status_class", "rank", "first_product", "units",
           "revenue_vnd")
INSERT = "INSERT INTO sales_fact ({}) VALUES ({})".format(
    ", ".join(f'"{c}"' for c in COLUMNS), ", ".join("?" for _ in COLUMNS))


def status_class(status: str) -> int:
    """Sales are net of cancellations and returns: an order counts as sold unless it is either."""
    return CANCELLED if status == "cancelled" else RETURNED if status == "returned" else SOLD


def vn_day(created_at: datetime) -> date:
    """The Vietnamese calendar day of an instant (UTC+7, no daylight saving since 1975)."""
    return created_at.astimezone(VN_TZ).date()


@dataclass(frozen=True, slots=True)
class SoldLine:
    """One order line as the fact needs it: its listing (None when the SKU matched none of ours)."""

    listing: int | None
    product: int | None
    quantity: int
    total_vnd: int


def sold_lines(order: MarketOrder, sku_to_listing: dict[str, int],
               listing_product: dict[int, int]) -> list[SoldLine]:
    """The order's lines with the listing (and its product) each SKU stands for in this shop."""
    out = []
    for line in order.lines:
        listing = sku_to_listing.get(line.seller_sku)
        product = listing_product[listing] if listing is not None else None
        out.append(SoldLine(listing, product, line.quantity, line.total_vnd))
    return out


def fact_rows(order_id: int, shop_id: int, created_at: datetime, status: str,
              lines: Sequence[SoldLine]) -> list[tuple[Any, ...]]:
    """The fact rows of one order, in :data:`COLUMNS` order: lines folded per listing, ranked by
    the position of each listing's first line."""
    folded: dict[int | None, list[Any]] = {}
    for line in lines:
        row = folded.setdefault(line.listing, [line.product, 0, 0])
        row[1] += line.quantity
        row[2] += line.total_vnd
    day = vn_day(created_at)
    month = day.year * 100 + day.month
    klass = status_class(status)
    first_product = next(iter(folded.values()))[0] if folded else None
    return [(order_id, shop_id, listing, product, day, month, klass, rank, first_product, units, revenue)
            for rank, (listing, (product, units, revenue)) in enumerate(folded.items(), 1)]


def _rebuild_sql(postgres: bool) -> str:
    """All fact rows from ``market_order``/``market_order_line``, the same as :func:`fact_rows`."""
    if postgres:
        local = "(o.created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')"
        day, month = f"CAST({local} AS date)", f"CAST(to_char({local}, 'YYYYMM') AS integer)"
    else:  # piccolo stores UTC text with an offset; SQLite's date functions read the offset
        day, month = "date(o.created_at, '+7 hours')", "CAST(strftime('%Y%m', o.created_at, '+7 hours') AS INTEGER)"
    return f"""INSERT INTO sales_fact ("order", shop, listing, product, day, month, status_class, rank, first_product,
  units, revenue_vnd)
WITH folded AS (
  SELECT l."order" AS oid, l.listing AS listing, MIN(l.id) AS first_line, SUM(l.quantity) AS units,
    SUM(l.total_vnd) AS revenue
  FROM market_order_line l GROUP BY l."order", l.listing),
ranked AS (
  SELECT f.*, li.product AS product, ROW_NUMBER() OVER (PARTITION BY f.oid ORDER BY f.first_line) AS rk,
    FIRST_VALUE(li.product) OVER (PARTITION BY f.oid ORDER BY f.first_line) AS first_product
  FROM folded f LEFT JOIN listing li ON li.id = f.listing)
SELECT r.oid, o.shop, r.listing, r.product, {day}, {month},
  CASE WHEN o.status = 'cancelled' THEN {CANCELLED} WHEN o.status = 'returned' THEN {RETURNED} ELSE {SOLD} END,
  r.rk, r.first_product, r.units, r.revenue
FROM ranked r JOIN market_order o ON o.id = r.oid"""


async def rebuild(engine: Engine) -> None:
    """Recompute every fact row from the stored orders, in one transaction (the migration's
    backfill of existing data; the benchmark, whose orders are bulk-copied past the ingest)."""
    async with db.write_transaction(engine):
        await engine.run_ddl("DELETE FROM sales_fact")
        await engine.run_ddl(_rebuild_sql(isinstance(engine, PostgresEngine)))
