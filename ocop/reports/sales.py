"""Orders, units and revenue for a period and the one before it — every breakdown from ONE statement
over the sales fact (:mod:`ocop.marketplace.sales_facts`), which the order ingest keeps in step with the lines.

How the statement stays fast (under a second with 100,000 orders, ``tests/bench/dashboard_bench.py``):

1. ``cells``: the fact rows of each period are folded into cells keyed (month, shop, product, status
   class, rank, first product). That key is the leading part of the covering index
   ``sales_fact_cells``, so SQLite reads only the period's months, index-only, and aggregates in
   index order without sorting (profiling showed the GROUP BY sort of ~150,000 joined lines was the
   largest cost of the earlier statement); PostgreSQL sorts them in memory (``work_mem`` raised for
   this statement, JIT off: see :func:`sales_report`). Scope, marketplace and commune filters are a
   semi-join on a small set of shops; group and star filters one on a small set of products.
2. ``scored``: each cell joins its product's current group and stars (and its order's first
   product's) and gets its distinct-order counts. An order must be counted once per breakdown key
   however many listings it has: a rank-1 row is its order's first; a rank-2 row is the first of
   its group (stars) unless the order's first product has the same group (stars) — and, with a
   group or star filter, the first of the order's *kept* rows unless the first product is kept.
   Rows of rank 3 and more (orders with three or more listings, rare) are decided one by one in
   ``cells`` by looking at the order's earlier fact rows through the ``"order"`` index.
3. The breakdowns are GROUP BYs over shop-level and product-level sums of the scored cells.

The statement is plain SQL for SQLite ≥ 3.35 and PostgreSQL ≥ 12 (``MATERIALIZED`` CTEs). Measured
with ``tests/bench/dashboard_bench.py`` (100,000 orders, whole dashboard, best of 3, on 2 cores shared
with other test runs, load ≈ 6): a whole year 0.51 s on SQLite (0.32 s of CPU) and 0.53 s on
PostgreSQL, was 2.1 s and 1.5 s; a month, a commune's year or a filtered year 0.1–0.3 s on both.

Definitions: sales are lines of orders not cancelled and not returned; ``revenue_vnd`` is the sum of
line totals (the value of the goods, in đồng); an order belongs to the Vietnamese calendar month it
was placed in; a product's stars are those of its current certificate (``ocop.catalog.certificates``); a line whose SKU matched none
of our listings counts in the totals, by month, marketplace and commune (group/stars key empty) but
not under a group or star filter.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from ocop.catalog.certificates import CURRENT_CTE, current_column
from ocop.marketplace.tables import Order
from ocop.reports import labels
from ocop.marketplace.sales_facts import CANCELLED, RETURNED, SOLD
from ocop.reports.period import Period
from ocop.reports.scope import Filters, Scope, Where, filter_where, scope_where

DIMENSIONS = ("month", "marketplace", "commune", "group", "stars")
SORT_MEMORY = "64MB"

class SalesTotals(msgspec.Struct):
    orders: int
    units: int
    revenue_vnd: int
    cancelled_orders: int = 0
    returned_orders: int = 0


class SalesRow(msgspec.Struct):
    key: str
    label: str
    orders: int
    units: int
    revenue_vnd: int


class TopRow(msgspec.Struct):
    id: int
    name: str
    producer: str
    orders: int
    units: int
    revenue_vnd: int


class SalesReport(msgspec.Struct):
    totals: SalesTotals
    previous: SalesTotals
    by_month: list[SalesRow]
    by_marketplace: list[SalesRow]
    by_commune: list[SalesRow]
    by_group: list[SalesRow]
    by_stars: list[SalesRow]
    top_products: list[TopRow]
    top_producers: list[TopRow]


def _int(value: Any) -> int:
    """COUNT/SUM come back as int, Decimal (PostgreSQL SUM of bigint) or None (no rows)."""
    return 0 if value is None else int(value)


def _statement(period: Period, scope: Scope, filters: Filters, top: int) -> tuple[str, list[Any]]:
    """The one statement (see the module docstring) and its arguments, in placeholder order."""
    previous = period.previous()
    args: list[Any] = []
    product_filter = Where()
    if filters.ocop_group is not None:
        product_filter.add("p.ocop_group = {}", filters.ocop_group)
    if filters.stars is not None:
        product_filter.add("ps.stars = {}", filters.stars)
    by_product = bool(product_filter.parts)
    args += product_filter.args
    shops = filter_where(filters, scope_where(scope, Where()), product=False)
    args += shops.args
    by_shop = bool(shops.parts)

    # For rows of rank >= 3 only: the current group/stars of a fact row's product (0 for none), and
    # "no earlier row of the same order passes the product filters (and ``extra``)".
    def grp(alias: str) -> str:
        return f"COALESCE((SELECT p2.ocop_group FROM product p2 WHERE p2.id = {alias}.product), 0)"

    def stars(alias: str) -> str:
        return f"COALESCE({current_column('stars', f'{alias}.product')}, 0)"

    def none_earlier(extra: str = "") -> str:
        conds = ['e."order" = f."order"', "e.rank < f.rank"]
        if by_product:
            conds.append("e.product IN (SELECT product FROM kept)")
        if extra:
            conds.append(extra)
        return f"CASE WHEN EXISTS (SELECT 1 FROM sales_fact e WHERE {' AND '.join(conds)}) THEN 0 ELSE 1 END"

    # With a product filter an order's first row counts as "earlier" only if it is kept itself.
    first_kept = "y.kept = 1" if by_product else "1 = 1"
    same_grp, same_stars = "COALESCE(y.grp, 0) = COALESCE(x.grp, 0)", "COALESCE(y.stars, 0) = COALESCE(x.stars, 0)"

    def first_of(rank: str, n: str, rank3: str, same: str = "") -> str:
        """Distinct-order count of ``n`` rows of one ``rank``: see the module docstring, step 2."""
        return (f"CASE WHEN {rank} = 1 THEN {n} WHEN {rank} = 2 THEN CASE WHEN {first_kept}"
                f"{' AND ' + same if same else ''} THEN 0 ELSE {n} END ELSE {rank3} END")

    def arm(prev: int, first: date, last: date) -> tuple[str, list[Any]]:
        """The fact rows of one period (``prev``: 1 for the previous one) folded into cells."""
        where = ["f.month >= {}", "f.month <= {}", "f.day >= {}", "f.day <= {}"]
        if by_shop:
            where.append("f.shop IN (SELECT shop FROM sp)")
        if by_product:
            where.append("f.product IN (SELECT product FROM kept)")
        rank3 = {"o": none_earlier(), "g": none_earlier(f"{grp('e')} = {grp('f')}"),
                 "s": none_earlier(f"{stars('e')} = {stars('f')}")}
        bounds = [first.year * 100 + first.month, last.year * 100 + last.month, first, last]
        return (f"""SELECT {prev} AS prev, f.shop AS shop, f.product AS product, f.month AS month,
    f.status_class AS st, f.rank AS rk, f.first_product AS first_product,
    COUNT(*) AS n, SUM(f.units) AS units, SUM(f.revenue_vnd) AS revenue,
    SUM(CASE WHEN f.rank >= 3 THEN {rank3["o"]} ELSE 0 END) AS n3_o,
    SUM(CASE WHEN f.rank >= 3 THEN {rank3["g"]} ELSE 0 END) AS n3_g,
    SUM(CASE WHEN f.rank >= 3 THEN {rank3["s"]} ELSE 0 END) AS n3_s
  FROM sales_fact f WHERE {' AND '.join(where)}
  GROUP BY f.month, f.shop, f.product, f.status_class, f.rank, f.first_product""", bounds)

    now_sql, now_args = arm(0, period.start, period.end)
    prev_sql, prev_args = arm(1, previous.start, previous.end)
    args += now_args + prev_args
    scored = f"""cells AS MATERIALIZED (
  {now_sql}
  UNION ALL
  {prev_sql}),
scored AS MATERIALIZED (
  SELECT CASE WHEN c.prev = 1 THEN -1 ELSE c.month END AS b, c.st AS st, c.shop AS shop, c.product AS product,
    x.grp AS grp, x.stars AS stars, c.n AS n_l, c.units AS units, c.revenue AS revenue,
    {first_of("c.rk", "c.n", "c.n3_o")} AS n_o,
    {first_of("c.rk", "c.n", "c.n3_g", same_grp)} AS n_g,
    {first_of("c.rk", "c.n", "c.n3_s", same_stars)} AS n_s
  FROM cells c LEFT JOIN lp x ON x.product = c.product LEFT JOIN lp y ON y.product = c.first_product)"""
    net = f"b >= 0 AND st = {SOLD}"

    def rollup(dim: str, key: str, orders: str, source: str, joins: str = "", where: str = net) -> str:
        return (f"SELECT '{dim}' AS dim, CAST({key} AS TEXT) AS k, SUM({orders}) AS orders, SUM(units) AS units, "
                f"SUM(revenue) AS revenue, 0 AS cancelled, 0 AS returned FROM {source} {joins} WHERE {where} "
                f"GROUP BY {key}")

    sql = f"""WITH {CURRENT_CTE},
lp AS MATERIALIZED (
  SELECT p.id AS product, p.ocop_group AS grp, ps.stars AS stars,
    CASE WHEN {product_filter.sql()} THEN 1 ELSE 0 END AS kept
  FROM product p LEFT JOIN ps ON ps.product_id = p.id),
kept AS MATERIALIZED (SELECT product FROM lp WHERE kept = 1),
sp AS MATERIALIZED (
  SELECT s.id AS shop, s.marketplace AS marketplace, s.producer AS producer, pr.commune_code AS commune
  FROM shop s JOIN producer pr ON pr.id = s.producer WHERE {shops.sql()}),
{scored},
shop_sums AS MATERIALIZED (
  SELECT b, st, shop, SUM(n_o) AS n_o, SUM(units) AS units, SUM(revenue) AS revenue
  FROM scored GROUP BY b, st, shop),
product_sums AS MATERIALIZED (
  SELECT product, grp, stars, SUM(n_l) AS n_l, SUM(n_g) AS n_g, SUM(n_s) AS n_s, SUM(units) AS units,
    SUM(revenue) AS revenue
  FROM scored WHERE {net} GROUP BY product, grp, stars)
SELECT 'bucket' AS dim, CAST(b AS TEXT) AS k,
  SUM(CASE WHEN st = {SOLD} THEN n_o ELSE 0 END) AS orders,
  SUM(CASE WHEN st = {SOLD} THEN units ELSE 0 END) AS units,
  SUM(CASE WHEN st = {SOLD} THEN revenue ELSE 0 END) AS revenue,
  SUM(CASE WHEN st = {CANCELLED} THEN n_o ELSE 0 END) AS cancelled,
  SUM(CASE WHEN st = {RETURNED} THEN n_o ELSE 0 END) AS returned
FROM shop_sums GROUP BY b
UNION ALL {rollup("marketplace", "sp.marketplace", "n_o", "shop_sums t", "JOIN sp ON sp.shop = t.shop")}
UNION ALL {rollup("commune", "sp.commune", "n_o", "shop_sums t", "JOIN sp ON sp.shop = t.shop")}
UNION ALL {rollup("group", "grp", "n_g", "product_sums", where="1 = 1")}
UNION ALL {rollup("stars", "stars", "n_s", "product_sums", where="1 = 1")}
UNION ALL SELECT * FROM (
  SELECT 'product' AS dim, CAST(product AS TEXT) AS k, n_l AS orders, units, revenue, 0 AS cancelled, 0 AS returned
  FROM product_sums WHERE product IS NOT NULL ORDER BY revenue DESC, product LIMIT {int(top)}) top_products
UNION ALL SELECT * FROM (
  SELECT 'producer' AS dim, CAST(sp.producer AS TEXT) AS k, SUM(n_o) AS orders, SUM(units) AS units,
    SUM(revenue) AS revenue, 0 AS cancelled, 0 AS returned
  FROM shop_sums t JOIN sp ON sp.shop = t.shop WHERE {net}
  GROUP BY sp.producer ORDER BY revenue DESC, sp.producer LIMIT {int(top)}) top_producers"""
    return sql, args


def _row(key: str | None, label: str, row: dict[str, Any] | None) -> SalesRow:
    if row is None:
        return SalesRow(key=key or "", label=label, orders=0, units=0, revenue_vnd=0)
    return SalesRow(key=key or "", label=label, orders=_int(row["orders"]), units=_int(row["units"]),
                    revenue_vnd=_int(row["revenue"]))


def _ranked(rows: list[SalesRow]) -> list[SalesRow]:
    return sorted(rows, key=lambda r: (-r.revenue_vnd, -r.orders, r.key))


async def _names(kind: str, ids: list[int]) -> dict[int, tuple[str, str]]:
    """Names of the few top products (with their producer) or producers."""
    if not ids:
        return {}
    marks = ", ".join("{}" for _ in ids)
    if kind == "product":
        sql = (f"SELECT p.id AS id, p.name AS name, pr.legal_name AS producer FROM product p "
               f"JOIN producer pr ON pr.id = p.producer WHERE p.id IN ({marks})")
    else:
        sql = f"SELECT pr.id AS id, pr.legal_name AS name, pr.legal_name AS producer FROM producer pr WHERE pr.id IN ({marks})"
    rows: list[dict[str, Any]] = await Order.raw(sql, *ids)
    return {int(r["id"]): (r["name"], r["producer"]) for r in rows}


async def sales_report(period: Period, scope: Scope, filters: Filters = Filters(), *, top: int = 10) -> SalesReport:
    """Net sales of ``period`` in every breakdown, and the previous period's totals."""
    engine = Order._meta.db
    postgres = isinstance(engine, PostgresEngine)
    sql, args = _statement(period, scope, filters, top)
    rows: list[dict[str, Any]]
    if postgres:
        # SET LOCAL, for this read-only transaction only: the sort of a year's fact rows needs
        # more than the default 4 MB of sort memory (it spilled to disk), and the statement's
        # estimated cost (inflated by the rarely-run rank >= 3 look-ups) crosses ``jit_above_cost``:
        # EXPLAIN ANALYZE showed ~7 s of JIT compilation for ~0.6 s of execution
        # (PostgreSQL docs, "JIT Compilation — When to JIT?": JIT pays off for long CPU-bound queries).
        async with engine.transaction():
            await engine.run_ddl(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
            await engine.run_ddl("SET LOCAL jit = off")
            rows = await Order.raw(sql, *args)
    else:
        rows = await Order.raw(sql, *args)
    by_dim: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_dim.setdefault(row["dim"], []).append(row)
    buckets = {int(r["k"]): r for r in by_dim.get("bucket", [])}

    def totals(rows_: list[dict[str, Any]]) -> SalesTotals:
        return SalesTotals(orders=sum(_int(r["orders"]) for r in rows_), units=sum(_int(r["units"]) for r in rows_),
                           revenue_vnd=sum(_int(r["revenue"]) for r in rows_),
                           cancelled_orders=sum(_int(r["cancelled"]) for r in rows_),
                           returned_orders=sum(_int(r["returned"]) for r in rows_))

    def breakdown(dim: str, label: Any, as_int: bool = True) -> list[SalesRow]:
        out = []
        for r in by_dim.get(dim, []):
            key = r["k"]
            out.append(_row(key, label(int(key) if as_int and key is not None else key), r))
        return _ranked(out)

    async def tops(dim: str) -> list[TopRow]:
        found = by_dim.get(dim, [])
        names = await _names(dim, [int(r["k"]) for r in found])
        ranked = sorted(found, key=lambda r: (-_int(r["revenue"]), int(r["k"])))
        return [TopRow(id=int(r["k"]), name=names.get(int(r["k"]), ("", ""))[0],
                       producer=names.get(int(r["k"]), ("", ""))[1], orders=_int(r["orders"]),
                       units=_int(r["units"]), revenue_vnd=_int(r["revenue"])) for r in ranked]

    return SalesReport(
        totals=totals([r for b, r in buckets.items() if b >= 0]),
        previous=totals([buckets[-1]] if -1 in buckets else []),
        by_month=[_row(m.key, m.label, buckets.get(m.first_day.year * 100 + m.first_day.month))
                  for m in period.months()],
        by_marketplace=breakdown("marketplace", labels.marketplace_label, as_int=False),
        by_commune=breakdown("commune", labels.commune_label),
        by_group=breakdown("group", labels.group_label),
        by_stars=breakdown("stars", labels.stars_label),
        top_products=await tops("product"),
        top_producers=await tops("producer"),
    )
