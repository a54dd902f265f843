"""The province's digital-economy figures, each from aggregate SQL.

Every figure is computed by the database (GROUP BY / COUNT / SUM) over rows in the caller's
:class:`~ocop.reports.scope.Scope`; nothing loads order rows into Python, so the dashboard stays
fast with 100,000 orders (``tests/bench/dashboard_bench.py``). The SQL is plain enough for both
SQLite and PostgreSQL: calendar months are UTC ranges computed in :mod:`ocop.reports.period`, and a
month bucket is a ``CASE`` over those ranges, never a date function. The sales figures come from
one statement (:mod:`ocop.reports.sales`); the listing, product and certificate figures are small
queries over small tables.

Definitions (what a province reports as "sản phẩm OCOP lên sàn"):

- **Sales** are order lines of orders that were not cancelled or returned ("net"): ``orders`` =
  distinct orders, ``units`` = sum of quantities, ``revenue_vnd`` = sum of line totals (the value of
  the goods, in đồng). An order belongs to the Vietnamese calendar month it was placed in.
- A product's **stars** are those of its current certificate (``ocop.catalog.certificates``).
- A product is **online** at a moment when one of its listings was on sale then, read from the
  listing's transition trail (``listing_event``): from its last move to ``live`` until a move to
  ``unlisted`` or ``rejected``. A re-push of a live item (live → pending → publishing → …) keeps it
  online, as it stays on the marketplace meanwhile. A listing with no trail at all (written by
  hand, not by our jobs) counts when it is live now and was published before that moment.
- **Registered** OCOP products are the non-archived products in reach created before the period end.
- **Producers with a shop** have at least one connected shop; **producers online** at least one
  live listing.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from ocop.catalog.certificates import CURRENT_CTE
from ocop.marketplace.tables import Order
from ocop.reports import labels
from ocop.domain.dates import today_vn
from ocop.reports.period import Period
from ocop.reports.sales import DIMENSIONS, SalesRow, SalesTotals, TopRow, sales_report
from ocop.reports.scope import Filters, Scope, Where, filter_where, scope_where

EXPIRY_WINDOW_DAYS = 90


class Figure(msgspec.Struct):
    """A headline number in the period and in the previous period."""

    current: int
    previous: int


class Share(msgspec.Struct):
    """A percentage (0–100, one decimal) now and in the previous period."""

    current: float
    previous: float


class ListingCount(msgspec.Struct):
    marketplace: str
    marketplace_label: str
    state: str
    state_label: str
    listings: int


class Reason(msgspec.Struct):
    reason: str
    listings: int


class ExpiringCertificate(msgspec.Struct):
    product_id: int
    product: str
    producer: str
    stars: int
    expires_on: date
    days_left: int


class OnlineFigures(msgspec.Struct):
    products_online: Figure
    products_registered: Figure
    online_share_pct: Share
    producers_with_shop: Figure
    producers_online: Figure


class PeriodInfo(msgspec.Struct):
    key: str
    label: str
    start: date
    end: date


class Dashboard(msgspec.Struct):
    period: PeriodInfo
    previous_period: PeriodInfo
    scope: str
    filters: dict[str, Any]
    online: OnlineFigures
    sales: SalesTotals
    sales_previous: SalesTotals
    by_month: list[SalesRow]
    by_marketplace: list[SalesRow]
    by_commune: list[SalesRow]
    by_group: list[SalesRow]
    by_stars: list[SalesRow]
    top_products: list[TopRow]
    top_producers: list[TopRow]
    listings: list[ListingCount]
    rejections: list[Reason]
    expiring_count: int
    expiring: list[ExpiringCertificate]


def period_info(period: Period) -> PeriodInfo:
    return PeriodInfo(key=period.key, label=period.label, start=period.start, end=period.end)


async def _query(sql: str, args: list[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await Order.raw(sql, *args)
    return rows


def _int(value: Any) -> int:
    """COUNT/SUM come back as int, Decimal (PostgreSQL SUM of bigint) or None (no rows)."""
    return 0 if value is None else int(value)


def _with(ps: bool) -> str:
    return f"WITH {CURRENT_CTE}\n" if ps else ""


async def sales_totals(period: Period, scope: Scope, filters: Filters = Filters()) -> SalesTotals:
    """Net orders, units and revenue in ``period``, with the cancelled and returned orders counted apart."""
    return (await sales_report(period, scope, filters)).totals


async def sales_by(dimension: str, period: Period, scope: Scope, filters: Filters = Filters()) -> list[SalesRow]:
    """Net sales by ``month`` (every month of the period, zeros included), ``marketplace``,
    ``commune``, ``group`` or ``stars`` (largest revenue first for the last four)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension: {dimension}")
    report = await sales_report(period, scope, filters)
    return list(getattr(report, f"by_{dimension}"))


async def top_products(period: Period, scope: Scope, filters: Filters = Filters(), limit: int = 10) -> list[TopRow]:
    """Best-selling products by net revenue (lines whose listing is unknown are left out)."""
    return (await sales_report(period, scope, filters, top=limit)).top_products


async def top_producers(period: Period, scope: Scope, filters: Filters = Filters(), limit: int = 10) -> list[TopRow]:
    """Producers by net revenue."""
    return (await sales_report(period, scope, filters, top=limit)).top_producers


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


# Whether listing ``li`` was on sale at a moment (both placeholders: that moment). The trail's last
# word before then among live / unlisted / rejected decides; without any trail, today's state does.
_ONLINE_AT = """COALESCE(
    (SELECT e.to_state FROM listing_event e WHERE e.listing = li.id AND e.at < {}
       AND e.to_state IN ('live', 'unlisted', 'rejected') ORDER BY e.at DESC, e.id DESC LIMIT 1),
    CASE WHEN li.state = 'live' AND COALESCE(li.published_at, li.updated_at) < {}
          AND NOT EXISTS (SELECT 1 FROM listing_event n WHERE n.listing = li.id) THEN 'live' END
  ) = 'live'"""


async def online_figures(period: Period, scope: Scope, filters: Filters = Filters()) -> OnlineFigures:
    """Products and producers online at the end of ``period`` and of the period before it."""
    end, prev_end = period.end_utc, period.previous().end_utc
    ps = filters.stars is not None
    live = filter_where(filters, scope_where(scope, Where().add(
        "(li.state = 'live' OR EXISTS (SELECT 1 FROM listing_event e WHERE e.listing = li.id AND e.to_state = 'live'))")))
    live_sql = f"""{_with(ps)}SELECT
  COUNT(DISTINCT CASE WHEN {_ONLINE_AT} THEN li.product END) AS products_now,
  COUNT(DISTINCT CASE WHEN {_ONLINE_AT} THEN li.product END) AS products_before,
  COUNT(DISTINCT CASE WHEN {_ONLINE_AT} THEN pr.id END) AS producers_now,
  COUNT(DISTINCT CASE WHEN {_ONLINE_AT} THEN pr.id END) AS producers_before
FROM listing li JOIN shop s ON s.id = li.shop JOIN product p ON p.id = li.product
JOIN producer pr ON pr.id = p.producer{' LEFT JOIN ps ON ps.product_id = p.id' if ps else ''}
WHERE {live.sql()}"""
    registered = filter_where(filters, scope_where(scope, Where().add("p.status <> 'archived'")), shop=None)
    registered_sql = f"""{_with(ps)}SELECT
  COUNT(CASE WHEN p.created_at < {{}} THEN 1 END) AS now, COUNT(CASE WHEN p.created_at < {{}} THEN 1 END) AS before
FROM product p JOIN producer pr ON pr.id = p.producer{' LEFT JOIN ps ON ps.product_id = p.id' if ps else ''}
WHERE {registered.sql()}"""
    shops = filter_where(filters, scope_where(scope, Where().add("s.status = 'connected'")), product=False)
    shops_sql = f"""SELECT COUNT(DISTINCT CASE WHEN s.created_at < {{}} THEN pr.id END) AS now,
  COUNT(DISTINCT CASE WHEN s.created_at < {{}} THEN pr.id END) AS before
FROM shop s JOIN producer pr ON pr.id = s.producer WHERE {shops.sql()}"""
    live_rows, reg_rows, shop_rows = await asyncio.gather(
        _query(live_sql, [end, end, prev_end, prev_end, end, end, prev_end, prev_end, *live.args]),
        _query(registered_sql, [end, prev_end, *registered.args]),
        _query(shops_sql, [end, prev_end, *shops.args]),
    )
    lv, rg, sh = live_rows[0], reg_rows[0], shop_rows[0]
    online = Figure(_int(lv["products_now"]), _int(lv["products_before"]))
    registered_fig = Figure(_int(rg["now"]), _int(rg["before"]))
    return OnlineFigures(
        products_online=online,
        products_registered=registered_fig,
        online_share_pct=Share(_pct(online.current, registered_fig.current),
                               _pct(online.previous, registered_fig.previous)),
        producers_with_shop=Figure(_int(sh["now"]), _int(sh["before"])),
        producers_online=Figure(_int(lv["producers_now"]), _int(lv["producers_before"])),
    )


def _listing_where(scope: Scope, filters: Filters, first: str) -> Where:
    return filter_where(filters, scope_where(scope, Where().add(first) if first else Where()))


_LISTING_FROM = """FROM listing li JOIN shop s ON s.id = li.shop JOIN product p ON p.id = li.product
JOIN producer pr ON pr.id = p.producer"""


async def listings_by_state(scope: Scope, filters: Filters = Filters()) -> list[ListingCount]:
    """Listings now, by marketplace and state."""
    ps = filters.stars is not None
    where = _listing_where(scope, filters, "")
    sql = (f"{_with(ps)}SELECT s.marketplace AS marketplace, li.state AS state, COUNT(*) AS n\n{_LISTING_FROM}"
           f"{' LEFT JOIN ps ON ps.product_id = p.id' if ps else ''}\nWHERE {where.sql()}\n"
           "GROUP BY s.marketplace, li.state ORDER BY s.marketplace, li.state")
    return [ListingCount(marketplace=r["marketplace"], marketplace_label=labels.marketplace_label(r["marketplace"]),
                         state=r["state"], state_label=labels.state_label(r["state"]), listings=_int(r["n"]))
            for r in await _query(sql, where.args)]


async def rejection_reasons(scope: Scope, filters: Filters = Filters(), limit: int = 5) -> list[Reason]:
    """The most frequent reasons marketplaces gave for rejecting listings that are rejected now."""
    ps = filters.stars is not None
    where = _listing_where(scope, filters, "li.state = 'rejected'")
    sql = (f"{_with(ps)}SELECT li.last_error AS reason, COUNT(*) AS n\n{_LISTING_FROM}"
           f"{' LEFT JOIN ps ON ps.product_id = p.id' if ps else ''}\nWHERE {where.sql()}\n"
           f"GROUP BY li.last_error ORDER BY n DESC, li.last_error LIMIT {int(limit)}")
    return [Reason(reason=(r["reason"] or "").strip() or "(không ghi lý do)", listings=_int(r["n"]))
            for r in await _query(sql, where.args)]


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


async def expiring_certificates(scope: Scope, filters: Filters = Filters(), *, today: date | None = None,
                                days: int = EXPIRY_WINDOW_DAYS, limit: int = 50) -> tuple[int, list[ExpiringCertificate]]:
    """Products whose current certificate expires within ``days`` from ``today`` (Vietnam): how many,
    and the first ``limit`` of them, soonest first (producers re-apply before expiry)."""
    today = today or today_vn()
    where = filter_where(filters, scope_where(scope, Where().add("p.status <> 'archived'")
                                              .add("ps.expires_on >= {}", today)
                                              .add("ps.expires_on <= {}", today + timedelta(days=days))), shop=None)
    base = f"""WITH {CURRENT_CTE}
SELECT {{select}} FROM ps JOIN product p ON p.id = ps.product_id JOIN producer pr ON pr.id = p.producer
WHERE {where.sql()}"""
    count_rows, rows = await asyncio.gather(
        _query(base.replace("{select}", "COUNT(*) AS n"), where.args),
        _query(base.replace("{select}", "p.id AS id, p.name AS name, pr.legal_name AS producer, "
                            "ps.stars AS stars, ps.expires_on AS expires_on")
               + f"\nORDER BY ps.expires_on, p.id LIMIT {int(limit)}", where.args),
    )
    items = []
    for r in rows:
        expires = _as_date(r["expires_on"])
        items.append(ExpiringCertificate(product_id=int(r["id"]), product=r["name"], producer=r["producer"],
                                         stars=int(r["stars"]), expires_on=expires, days_left=(expires - today).days))
    return _int(count_rows[0]["n"]), items


async def dashboard(period: Period, scope: Scope, filters: Filters = Filters(), *,
                    today: date | None = None) -> Dashboard:
    """Every figure of the dashboard for one period (and the previous one), computed concurrently."""
    previous = period.previous()
    online, sales, listings, reasons, (expiring_count, expiring) = await asyncio.gather(
        online_figures(period, scope, filters),
        sales_report(period, scope, filters),
        listings_by_state(scope, filters),
        rejection_reasons(scope, filters),
        expiring_certificates(scope, filters, today=today),
    )
    return Dashboard(
        period=period_info(period), previous_period=period_info(previous), scope=scope.label,
        filters=filters.as_dict(), online=online, sales=sales.totals, sales_previous=sales.previous,
        by_month=sales.by_month, by_marketplace=sales.by_marketplace, by_commune=sales.by_commune,
        by_group=sales.by_group, by_stars=sales.by_stars, top_products=sales.top_products,
        top_producers=sales.top_producers, listings=listings, rejections=reasons,
        expiring_count=expiring_count, expiring=expiring,
    )


async def communes_in_scope(scope: Scope) -> list[int]:
    """The 2025 commune codes of the producers in reach (the dashboard's commune filter choices)."""
    where = scope_where(scope, Where().add("pr.commune_code IS NOT NULL"))
    rows = await _query(f"SELECT DISTINCT pr.commune_code AS c FROM producer pr WHERE {where.sql()}", where.args)
    return sorted(int(r["c"]) for r in rows)
