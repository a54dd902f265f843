"""JSON for every figure under ``/api/v1/reports/...``, and the XLSX/CSV exports.

All endpoints take the dashboard's query string (see :mod:`ocop.reports.params`) and answer only
with figures in the caller's scope (:func:`ocop.reports.scope.scope_for`): session or personal API
token, any role.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get
from litestar.di import Provide
from litestar.params import FromPath, FromQuery

from ocop.accounts.auth import Me, Principal, requires_user
from ocop.reports import kpis
from ocop.reports.exports import TABLE_KEYS, table_by_key, to_csv, to_xlsx
from ocop.reports.params import Q, Query, in_scope, read_query
from ocop.reports.scope import Scope, scope_for
from ocop.web.errors import ApiError

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SalesComparison(msgspec.Struct):
    period: kpis.PeriodInfo
    previous_period: kpis.PeriodInfo
    current: kpis.SalesTotals
    previous: kpis.SalesTotals


class ExpiringOut(msgspec.Struct):
    count: int
    within_days: int
    items: list[kpis.ExpiringCertificate]


def viewer_scope(me: Principal, q: Query) -> Scope:
    """The caller's scope, once the query's communes are checked to lie within it."""
    scope = scope_for(me)
    in_scope(q, scope)
    return scope


def export_name(q: Query, extension: str, table: str = "") -> str:
    suffix = f"-{table}" if table else ""
    return f"bao-cao-ocop-{q.period.key.replace('..', '_')}{suffix}.{extension}"


def attachment(content: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(content=content, media_type=media_type,
                    headers={"content-disposition": f'attachment; filename="{filename}"',
                             "cache-control": "no-store"})


class ReportsController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]
    guards = [requires_user]
    dependencies = {"q": Provide(read_query, sync_to_thread=False)}

    @get("/dashboard")
    async def dashboard(self, me: Me, q: Q) -> kpis.Dashboard:
        """Every figure of the dashboard at once."""
        return await kpis.dashboard(q.period, viewer_scope(me, q), q.filters)

    @get("/online")
    async def online(self, me: Me, q: Q) -> kpis.OnlineFigures:
        """OCOP products and producers online, the online share, now and at the previous period's end."""
        return await kpis.online_figures(q.period, viewer_scope(me, q), q.filters)

    @get("/sales")
    async def sales(self, me: Me, q: Q) -> SalesComparison:
        """Net orders, units and revenue (VND), this period and the previous one."""
        report = await kpis.sales_report(q.period, viewer_scope(me, q), q.filters)
        return SalesComparison(period=kpis.period_info(q.period), previous_period=kpis.period_info(q.period.previous()),
                               current=report.totals, previous=report.previous)

    @get("/sales/{dimension:str}")
    async def sales_by(self, me: Me, q: Q, dimension: FromPath[str]) -> list[kpis.SalesRow]:
        """Net sales by ``month``, ``marketplace``, ``commune``, ``group`` or ``stars``."""
        if dimension not in kpis.DIMENSIONS:
            raise ApiError(404, "unknown_dimension", f"No breakdown {dimension!r}; use one of {', '.join(kpis.DIMENSIONS)}.",
                           f"Không có phân tích theo {dimension!r}.")
        return await kpis.sales_by(dimension, q.period, viewer_scope(me, q), q.filters)

    @get("/top-products")
    async def top_products(self, me: Me, q: Q, limit: FromQuery[int] = 10) -> list[kpis.TopRow]:
        return await kpis.top_products(q.period, viewer_scope(me, q), q.filters, limit=max(1, min(limit, 100)))

    @get("/top-producers")
    async def top_producers(self, me: Me, q: Q, limit: FromQuery[int] = 10) -> list[kpis.TopRow]:
        return await kpis.top_producers(q.period, viewer_scope(me, q), q.filters, limit=max(1, min(limit, 100)))

    @get("/listings")
    async def listings(self, me: Me, q: Q) -> list[kpis.ListingCount]:
        """Listings now, by marketplace and state."""
        return await kpis.listings_by_state(viewer_scope(me, q), q.filters)

    @get("/rejections")
    async def rejections(self, me: Me, q: Q, limit: FromQuery[int] = 5) -> list[kpis.Reason]:
        """The marketplaces' most frequent reasons for rejecting listings."""
        return await kpis.rejection_reasons(viewer_scope(me, q), q.filters, limit=max(1, min(limit, 50)))

    @get("/certificates-expiring")
    async def certificates_expiring(self, me: Me, q: Q, limit: FromQuery[int] = 50) -> ExpiringOut:
        """Products whose current OCOP certificate expires within 90 days from today (Vietnam)."""
        count, items = await kpis.expiring_certificates(viewer_scope(me, q), q.filters, limit=max(1, min(limit, 500)))
        return ExpiringOut(count=count, within_days=kpis.EXPIRY_WINDOW_DAYS, items=items)

    @get("/export.xlsx", media_type=XLSX_TYPE)
    async def export_xlsx(self, me: Me, q: Q) -> Response[bytes]:
        """The report as XLSX: one sheet per breakdown, filters at the top of each sheet."""
        board = await kpis.dashboard(q.period, viewer_scope(me, q), q.filters)
        return attachment(to_xlsx(board), XLSX_TYPE, export_name(q, "xlsx"))

    @get("/export.csv", media_type="text/csv")
    async def export_csv(self, me: Me, q: Q, table: FromQuery[str] = "summary") -> Response[bytes]:
        """One table as CSV (UTF-8 with BOM): ``table`` is one of summary, month, marketplace,
        commune, group, stars, top_products, top_producers, listings, rejections, expiring."""
        if table not in TABLE_KEYS:
            raise ApiError(400, "unknown_table", f"Unknown table {table!r}; use one of {', '.join(TABLE_KEYS)}.",
                           f"Không có bảng {table!r}.")
        board = await kpis.dashboard(q.period, viewer_scope(me, q), q.filters)
        content = "\ufeff" + to_csv(table_by_key(board, table))
        return attachment(content.encode("utf-8"), "text/csv; charset=utf-8", export_name(q, "csv", table))


ROUTES = [ReportsController]
