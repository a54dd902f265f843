"""The dashboard page: filters, headline figures with the previous period, SVG charts each beside
a table of the same figures (the accessible and copyable view), and links to the exports."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import get
from litestar.di import Provide
from litestar.response import Template

from ocop.accounts.auth import Me, requires_user
from ocop.domain.money import format_vnd
from ocop.domain.ocop import GROUPS, STARS
from ocop.reports import charts, kpis
from ocop.reports.breakdowns import DATE, INT, PCT, SCOPE_LABELS, VND, ReportTable, report_tables
from ocop.reports.charts import Point
from ocop.marketplaces import NAMES
from ocop.reports.labels import commune_label
from ocop.reports.params import Q, in_scope, read_query
from ocop.domain.dates import today_vn
from ocop.reports.period import parse_period
from ocop.reports.scope import Scope, scope_for
from ocop.web.render import render

#: Bars beyond this many communes would not fit a phone screen; the table beside lists them all.
MAX_COMMUNE_BARS = 15


def cell(value: Any, kind: str) -> str:
    """A table cell as people read it: 1.234 · 150.000 ₫ · 60,0 % · 17/03/2026."""
    if value is None:
        return ""
    if kind == VND and isinstance(value, int):
        return format_vnd(value)
    if kind == PCT and isinstance(value, (int, float)):
        return f"{value:.1f}".replace(".", ",") + " %"
    if kind == DATE and isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if kind == INT and isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return str(value)


def period_choices(today: date) -> list[tuple[str, str]]:
    """Suggestions for the period box: the last 12 months, the last 4 quarters, this and last year."""
    month = parse_period(None, today=today)
    months = [month]
    for _ in range(11):
        months.append(months[-1].previous())
    quarter = parse_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}")
    quarters = [quarter]
    for _ in range(3):
        quarters.append(quarters[-1].previous())
    years = [parse_period(str(today.year)), parse_period(str(today.year - 1))]
    return [(p.key, p.label) for p in (*months, *quarters, *years)]


def build_charts(board: kpis.Dashboard) -> dict[str, str]:
    """SVG markup of every chart (XML-escaped by :mod:`ocop.reports.charts`, safe to inline)."""
    online = board.online
    communes = board.by_commune[:MAX_COMMUNE_BARS]
    return {
        "share": charts.gauge(online.online_share_pct.current, chart_id="chart-share",
                              title="Tỷ lệ sản phẩm OCOP đang bán trên sàn",
                              caption=f"{online.products_online.current}/{online.products_registered.current} sản phẩm"),
        "revenue": charts.column_chart([Point(r.label, r.revenue_vnd) for r in board.by_month], fmt=format_vnd,
                                       chart_id="chart-revenue", title="Doanh thu theo tháng (₫)"),
        "orders": charts.line_chart([Point(r.label, r.orders) for r in board.by_month], chart_id="chart-orders",
                                    title="Số đơn hàng theo tháng"),
        "marketplace": charts.bar_chart([Point(r.label, r.revenue_vnd) for r in board.by_marketplace],
                                        fmt=format_vnd, chart_id="chart-marketplace", title="Doanh thu theo sàn"),
        "commune": charts.bar_chart([Point(r.label, r.revenue_vnd) for r in communes], fmt=format_vnd,
                                    chart_id="chart-commune", title="Doanh thu theo xã/phường"),
        "group": charts.bar_chart([Point(r.label, r.revenue_vnd) for r in board.by_group], fmt=format_vnd,
                                  chart_id="chart-group", title="Doanh thu theo nhóm OCOP"),
        "stars": charts.bar_chart([Point(r.label, r.revenue_vnd) for r in board.by_stars], fmt=format_vnd,
                                  chart_id="chart-stars", title="Doanh thu theo hạng sao"),
    }


async def commune_choices(scope: Scope) -> list[tuple[int, str]]:
    codes = await kpis.communes_in_scope(scope)
    return sorted(((c, commune_label(c)) for c in codes), key=lambda item: item[1])


@get("/reports", guards=[requires_user], include_in_schema=False,
     dependencies={"q": Provide(read_query, sync_to_thread=False)})
async def dashboard_page(me: Me, q: Q) -> Template:
    scope = scope_for(me)
    in_scope(q, scope)
    board = await kpis.dashboard(q.period, scope, q.filters)
    tables: dict[str, ReportTable] = {t.key: t for t in report_tables(board)}
    return render("reports/dashboard.html", board=board, q=q, qs=q.urlencode(), tables=tables,
                  charts=build_charts(board), cell=cell, scope_label=SCOPE_LABELS.get(scope.label, scope.label),
                  periods=period_choices(today_vn()), communes=await commune_choices(scope),
                  chosen_communes=[commune_label(c) for c in q.filters.commune_codes],
                  marketplaces=list(NAMES.items()), groups=GROUPS, stars=STARS)


ROUTES = [dashboard_page]
