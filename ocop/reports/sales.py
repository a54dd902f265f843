"""Orders, units and revenue for a period and the one before it — every breakdown from ONE statement.

Why one statement: on SQLite (the embedded default) the expensive part of a sales figure is the
pass over the order lines and its GROUP BY sort (~2 µs a row); the dashboard needs a dozen
breakdowns and must answer in under a second with 100,000 orders. So the lines of both periods are
read once and folded into small *cells* — (month bucket, status class, shop, listing) — and every
breakdown is a GROUP BY over those cells (a few thousand rows), joined to shops, listings and
products only then. The statement is plain SQL for SQLite ≥ 3.35 and PostgreSQL ≥ 12 (a CTE used
more than once is materialised by both).

Order counts must not double-count an order with several lines, yet they are summed over cells. So
each line carries flags that say whether it is the *first* line of its order (``first_o``), the
first of its order with its product's OCOP group (``first_g``), with its stars (``first_s``), of its
listing (``first_l``) — "first" among the lines the filters keep. Summing a flag over any set of
cells counts each order once per group, star rank or listing, exactly. Within one order (one shop)
a product has at most one listing, so ``first_l`` also counts orders per product. SQLite gets the
flags from correlated index seeks (cheap there, and skipped for an order's first line); PostgreSQL
from window functions (it runs correlated subqueries slowly but sorts fast). The tests run both.

Measured with ``tests/bench/dashboard_bench.py`` (100,000 orders, 2 busy cores): a month, a
commune's year or a filtered year answers in 0.05–0.3 s on both engines; a whole year over all
100,000 orders takes ~1.5–1.8 s (SQLite: ~1.3 s of CPU) — over the 1 s target.

Definitions: sales are lines of orders not cancelled and not returned; ``revenue_vnd`` is the sum of
line totals (the value of the goods, in đồng); an order belongs to the Vietnamese calendar month it
was placed in; a product's stars are those of its latest certificate.
"""

from __future__ import annotations

from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from ocop.marketplace.tables import Order
from ocop.reports import labels
from ocop.reports.period import Period
from ocop.reports.scope import Filters, Scope, Where, filter_where, scope_where

DIMENSIONS = ("month", "marketplace", "commune", "group", "stars")
NET, CANCELLED, RETURNED = 0, 1, 2
SORT_MEMORY = "64MB"

# The latest certificate of each product (window functions: SQLite >= 3.25 and PostgreSQL).
LATEST_CERT = """ps AS (
  SELECT product AS product_id, id AS cert_id, stars, expires_on FROM (
    SELECT product, id, stars, expires_on, ROW_NUMBER() OVER (
      PARTITION BY product
      ORDER BY CASE WHEN expires_on IS NULL THEN 1 ELSE 0 END, expires_on DESC, id DESC) AS rn
    FROM certificate) ranked
  WHERE rn = 1)"""


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


def _bucket(period: Period) -> tuple[str, list[Any]]:
    """``-1`` for the previous period, then 0.. for each Vietnamese month of ``period``."""
    months = period.months()
    branches = ["WHEN o.created_at < {} THEN -1"]
    args: list[Any] = [period.start_utc]
    for i, month in enumerate(months[:-1]):
        branches.append(f"WHEN o.created_at < {{}} THEN {i}")
        args.append(month.end_utc)
    return f"CASE {' '.join(branches)} ELSE {len(months) - 1} END", args


def _statement(period: Period, scope: Scope, filters: Filters, top: int, *,
               windows: bool = False) -> tuple[str, list[Any]]:
    """``windows``: compute the first-line flags with window functions (PostgreSQL sorts and
    hashes fast but runs a correlated subquery per row slowly) instead of correlated index seeks
    (what SQLite does best; its window sorts cost more than the seeks). Both give the same flags."""
    previous = period.previous()
    if previous.end_utc != period.start_utc:  # both periods are read in one range
        raise ValueError("the previous period must end where the period starts")
    # lp: listing -> product, group, stars (small; filtered by the product filters). With a product
    # filter a line must match it, so lines join lp; otherwise lines without a listing count too.
    product_filter = Where()
    if filters.ocop_group is not None:
        product_filter.add("p.ocop_group = {}", filters.ocop_group)
    if filters.stars is not None:
        product_filter.add("ps.stars = {}", filters.stars)
    join = "JOIN" if product_filter.parts else "LEFT JOIN"
    args: list[Any] = list(product_filter.args)
    group2 = ("COALESCE((SELECT p2.ocop_group FROM listing li2 JOIN product p2 ON p2.id = li2.product "
              "WHERE li2.id = l2.listing), 0)")
    stars2 = ("COALESCE((SELECT c2.stars FROM listing li2 JOIN certificate c2 ON c2.product = li2.product "
              "WHERE li2.id = l2.listing ORDER BY CASE WHEN c2.expires_on IS NULL THEN 1 ELSE 0 END, "
              "c2.expires_on DESC, c2.id DESC LIMIT 1), 0)")
    # The product filters again, for the earlier lines (inlined: they repeat in several subqueries).
    product_filter2 = ([f"{group2} = {int(filters.ocop_group)}"] if filters.ocop_group is not None else []) + \
        ([f"{stars2} = {int(filters.stars)}"] if filters.stars is not None else [])
    bucket, bucket_args = _bucket(period)
    args += bucket_args

    def earlier(extra: str = "", order: str = "x.oid", line: str = "x.lid") -> str:
        """An earlier line of the same order (that passes the product filters) with ``extra``. The
        earlier line's group and stars are looked up through primary keys (a CTE has no index
        inside a correlated subquery)."""
        conds = [f'l2."order" = {order}', f"l2.id < {line}", *product_filter2, *([extra] if extra else [])]
        return f"EXISTS (SELECT 1 FROM market_order_line l2 WHERE {' AND '.join(conds)})"

    where = Where().add("o.created_at >= {}", previous.start_utc).add("o.created_at < {}", period.end_utc)
    filter_where(filters, scope_where(scope, where), product=False)
    args += where.args
    net = f"c.b >= 0 AND c.st = {NET}"

    def rollup(dim: str, key: str, orders: str, joins: str = "") -> str:
        # CROSS JOIN keeps SQLite scanning the (small) cells first; PostgreSQL plans it as a join.
        return (f"SELECT '{dim}' AS dim, CAST({key} AS TEXT) AS k, SUM({orders}) AS orders, SUM(c.units) AS units, "
                f"SUM(c.revenue) AS revenue, 0 AS cancelled, 0 AS returned FROM cells c {joins or 'WHERE'} {net} "
                f"GROUP BY {key}")

    shop_producer = "CROSS JOIN shop s CROSS JOIN producer pr WHERE s.id = c.shop AND pr.id = s.producer AND"
    if windows:
        def first_in(*partition: str) -> str:
            return (f"CASE WHEN ROW_NUMBER() OVER (PARTITION BY {', '.join(partition)} ORDER BY l.id) = 1 "
                    "THEN 1 ELSE 0 END")

        order = 'l."order"'
        line_flags = (f"{first_in(order)} AS first, {first_in(order, 'l.listing')} AS first_l, "
                      f"{first_in(order, 'COALESCE(lp.grp, 0)')} AS first_g, "
                      f"{first_in(order, 'COALESCE(lp.stars, 0)')} AS first_s")
        cell_flags = ("SUM(x.first) AS n_o, SUM(x.first_l) AS n_l, SUM(x.first_g) AS n_g, "
                      "SUM(x.first_s) AS n_s")
    else:
        # Most lines are the first of their order (``x.first``): their flags need no further look-up.
        line_flags = f"""CASE WHEN {earlier(order='l."order"', line="l.id")} THEN 0 ELSE 1 END AS first"""
        cell_flags = f"""SUM(x.first) AS n_o,
    SUM(CASE WHEN x.first = 1 THEN 1 WHEN {earlier("l2.listing = x.listing")} THEN 0 ELSE 1 END) AS n_l,
    SUM(CASE WHEN x.first = 1 THEN 1
             WHEN {earlier(f"{group2} = COALESCE(x.grp, 0)")} THEN 0 ELSE 1 END) AS n_g,
    SUM(CASE WHEN x.first = 1 THEN 1
             WHEN {earlier(f"{stars2} = COALESCE(x.stars, 0)")} THEN 0 ELSE 1 END) AS n_s"""
    sql = f"""WITH {LATEST_CERT},
lp AS MATERIALIZED (
  SELECT li.id AS listing, li.product AS product, p.ocop_group AS grp, ps.stars AS stars
  FROM listing li JOIN product p ON p.id = li.product LEFT JOIN ps ON ps.product_id = p.id
  WHERE {product_filter.sql()}),
lines AS MATERIALIZED (
  SELECT {bucket} AS b,
    CASE WHEN o.status = 'cancelled' THEN {CANCELLED} WHEN o.status = 'returned' THEN {RETURNED} ELSE {NET} END AS st,
    o.shop AS shop, l.listing AS listing, lp.product AS product, lp.grp AS grp, lp.stars AS stars,
    l.quantity AS units, l.total_vnd AS revenue, l."order" AS oid, l.id AS lid,
    {line_flags}
  FROM market_order_line l
  JOIN market_order o ON o.id = l."order"
  JOIN shop s ON s.id = o.shop
  JOIN producer pr ON pr.id = s.producer
  {join} lp ON lp.listing = l.listing
  WHERE {where.sql()}),
cells AS MATERIALIZED (
  SELECT x.b, x.st, x.shop, x.listing, x.product, x.grp, x.stars, SUM(x.units) AS units, SUM(x.revenue) AS revenue,
    {cell_flags}
  FROM lines x GROUP BY x.b, x.st, x.shop, x.listing, x.product, x.grp, x.stars)
SELECT 'bucket' AS dim, CAST(c.b AS TEXT) AS k,
  SUM(CASE WHEN c.st = {NET} THEN c.n_o ELSE 0 END) AS orders,
  SUM(CASE WHEN c.st = {NET} THEN c.units ELSE 0 END) AS units,
  SUM(CASE WHEN c.st = {NET} THEN c.revenue ELSE 0 END) AS revenue,
  SUM(CASE WHEN c.st = {CANCELLED} THEN c.n_o ELSE 0 END) AS cancelled,
  SUM(CASE WHEN c.st = {RETURNED} THEN c.n_o ELSE 0 END) AS returned
FROM cells c GROUP BY c.b
UNION ALL {rollup("marketplace", "s.marketplace", "c.n_o", shop_producer)}
UNION ALL {rollup("commune", "pr.commune_code", "c.n_o", shop_producer)}
UNION ALL {rollup("group", "c.grp", "c.n_g")}
UNION ALL {rollup("stars", "c.stars", "c.n_s")}
UNION ALL SELECT * FROM (
  SELECT 'product' AS dim, CAST(c.product AS TEXT) AS k, SUM(c.n_l) AS orders, SUM(c.units) AS units,
    SUM(c.revenue) AS revenue, 0 AS cancelled, 0 AS returned
  FROM cells c WHERE {net} AND c.product IS NOT NULL
  GROUP BY c.product ORDER BY revenue DESC, c.product LIMIT {int(top)}) top_products
UNION ALL SELECT * FROM (
  SELECT 'producer' AS dim, CAST(s.producer AS TEXT) AS k, SUM(c.n_o) AS orders, SUM(c.units) AS units,
    SUM(c.revenue) AS revenue, 0 AS cancelled, 0 AS returned
  FROM cells c CROSS JOIN shop s WHERE s.id = c.shop AND {net}
  GROUP BY s.producer ORDER BY revenue DESC, s.producer LIMIT {int(top)}) top_producers"""
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
    sql, args = _statement(period, scope, filters, top, windows=postgres)
    rows: list[dict[str, Any]]
    if postgres:
        # The window sorts of a year of lines need more than PostgreSQL's default 4 MB of sort
        # memory; SET LOCAL raises it for this read-only transaction only.
        async with engine.transaction():
            await engine.run_ddl(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
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
        by_month=[_row(m.key, m.label, buckets.get(i)) for i, m in enumerate(period.months())],
        by_marketplace=breakdown("marketplace", labels.marketplace_label, as_int=False),
        by_commune=breakdown("commune", labels.commune_label),
        by_group=breakdown("group", labels.group_label),
        by_stars=breakdown("stars", labels.stars_label),
        top_products=await tops("product"),
        top_producers=await tops("producer"),
    )
