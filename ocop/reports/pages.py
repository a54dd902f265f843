"""The dashboard page: filters, headline figures with the previous period, SVG charts each beside
a table of the same figures (the accessible and copyable view), and links to the exports."""

from __future__ import annotations

import re
from datetime import date
from collections.abc import Callable
from typing import Any

from litestar import Request, get
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
from ocop.web.i18n import locale_of
from ocop.web.render import render

#: Bars beyond this many communes would not fit a phone screen; the table beside lists them all.
MAX_COMMUNE_BARS = 15


#: The report's own Vietnamese labels (built for the XLSX, which is Vietnamese) said in English on
#: the English dashboard; labels with numbers in them are matched by pattern below.
REPORT_WORDS_EN = {
    "Tổng quan": "Overview", "Chỉ tiêu": "Indicator", "Kỳ này": "This period", "Kỳ trước": "Previous period",
    "Chênh lệch": "Change", "Sàn": "Marketplace", "Sàn TMĐT": "Marketplace", "Trạng thái": "State",
    "Số sản phẩm đăng": "Listings", "Lý do sàn từ chối": "Marketplace's reason", "Sản phẩm": "Product",
    "Chủ thể OCOP": "OCOP producer", "Hạng sao": "Stars", "Ngày hết hạn": "Expires on",
    "Còn lại (ngày)": "Days left", "STT": "#", "Tháng": "Month", "Xã/phường (2025)": "Commune/ward (2025)",
    "Nhóm sản phẩm OCOP": "OCOP product group", "Số đơn hàng": "Orders", "Số lượng bán": "Units sold",
    "Doanh thu (₫)": "Revenue (₫)", "Tổng cộng": "Total",
    "Sản phẩm OCOP đang bán trên sàn TMĐT": "OCOP products live on marketplaces",
    "Sản phẩm OCOP đã đăng ký": "OCOP products registered",
    "Tỷ lệ sản phẩm OCOP lên sàn (%)": "Share of OCOP products online (%)",
    "Chủ thể có gian hàng đã kết nối": "Producers with a connected shop",
    "Chủ thể có sản phẩm đang bán": "Producers with products live",
    "Đơn hàng (trừ đơn hủy, đơn trả)": "Orders (net of cancellations and returns)",
    "Số lượng sản phẩm bán ra": "Units sold", "Đơn hàng bị hủy": "Cancelled orders",
    "Đơn hàng bị trả lại": "Returned orders", "Chưa rõ": "Unknown", "Chưa rõ xã/phường": "Commune unknown",
    "Chưa phân nhóm": "No group", "Chưa xếp hạng": "Not rated", "Toàn bộ dữ liệu": "All data",
    "Toàn tỉnh (địa bàn phụ trách)": "Whole province (your area)", "Các xã/phường phụ trách": "Your communes",
    "Sản phẩm và gian hàng của chủ thể": "The producer's products and shops", "Không có": "None",
    "Nháp": "Draft", "Chờ đăng": "Waiting", "Đang đăng": "Publishing", "Sàn đang duyệt": "In review",
    "Đang bán": "Live", "Bị từ chối": "Rejected", "Lỗi đăng": "Error", "Đã gỡ": "Unlisted",
    "Tỷ lệ sản phẩm OCOP đang bán trên sàn": "Share of OCOP products live on marketplaces",
    "sản phẩm": "products", "Doanh thu theo tháng (₫)": "Revenue by month (₫)",
    "Số đơn hàng theo tháng": "Orders by month", "Doanh thu theo sàn": "Revenue by marketplace",
    "Doanh thu theo xã/phường": "Revenue by commune/ward", "Doanh thu theo nhóm OCOP": "Revenue by OCOP group",
    "Doanh thu theo hạng sao": "Revenue by stars",
}
_GROUP_LABEL = re.compile(r"^(\d+)\. (.+)$")
_PATTERNS_EN = ((re.compile(r"^Tháng (\d{2})/(\d{4})$"), r"\1/\2"), (re.compile(r"^Quý (\d)/(\d{4})$"), r"Q\1 \2"),
                (re.compile(r"^Năm (\d{4})$"), r"\1"), (re.compile(r"^(\d) sao$"), r"\1 stars"))


def report_words(text: Any, locale: str) -> Any:
    """A report label in the page's language (the labels are Vietnamese; product, producer and
    commune names are data and stay as they are)."""
    if locale != "en" or not isinstance(text, str):
        return text
    if text in REPORT_WORDS_EN:
        return REPORT_WORDS_EN[text]
    for pattern, english in _PATTERNS_EN:
        if pattern.match(text):
            return pattern.sub(english, text)
    if (match := _GROUP_LABEL.match(text)) and 1 <= int(match[1]) <= len(GROUPS):
        group = GROUPS[int(match[1]) - 1]
        if group.name_vi == match[2]:
            return f"{match[1]}. {group.name_en}"
    return text


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


def build_charts(board: kpis.Dashboard, words: Callable[[str], str] = lambda text: text) -> dict[str, str]:
    """SVG markup of every chart (XML-escaped by :mod:`ocop.reports.charts`, safe to inline);
    ``words`` puts titles and labels in the page's language (:func:`report_words`)."""
    online = board.online
    communes = board.by_commune[:MAX_COMMUNE_BARS]

    def points(rows: Any, value: str) -> list[Point]:
        return [Point(words(r.label), getattr(r, value)) for r in rows]

    return {
        "share": charts.gauge(online.online_share_pct.current, chart_id="chart-share",
                              title=words("Tỷ lệ sản phẩm OCOP đang bán trên sàn"),
                              caption=f"{online.products_online.current}/{online.products_registered.current} "
                                      + words("sản phẩm")),
        "revenue": charts.column_chart(points(board.by_month, "revenue_vnd"), fmt=format_vnd,
                                       chart_id="chart-revenue", title=words("Doanh thu theo tháng (₫)")),
        "orders": charts.line_chart(points(board.by_month, "orders"), chart_id="chart-orders",
                                    title=words("Số đơn hàng theo tháng")),
        "marketplace": charts.bar_chart(points(board.by_marketplace, "revenue_vnd"), fmt=format_vnd,
                                        chart_id="chart-marketplace", title=words("Doanh thu theo sàn")),
        "commune": charts.bar_chart(points(communes, "revenue_vnd"), fmt=format_vnd,
                                    chart_id="chart-commune", title=words("Doanh thu theo xã/phường")),
        "group": charts.bar_chart(points(board.by_group, "revenue_vnd"), fmt=format_vnd,
                                  chart_id="chart-group", title=words("Doanh thu theo nhóm OCOP")),
        "stars": charts.bar_chart(points(board.by_stars, "revenue_vnd"), fmt=format_vnd,
                                  chart_id="chart-stars", title=words("Doanh thu theo hạng sao")),
    }


async def commune_choices(scope: Scope) -> list[tuple[int, str]]:
    codes = await kpis.communes_in_scope(scope)
    return sorted(((c, commune_label(c)) for c in codes), key=lambda item: item[1])


@get("/reports", guards=[requires_user], include_in_schema=False,
     dependencies={"q": Provide(read_query, sync_to_thread=False)})
async def dashboard_page(request: Request[Any, Any, Any], me: Me, q: Q) -> Template:
    scope = scope_for(me)
    in_scope(q, scope)
    board = await kpis.dashboard(q.period, scope, q.filters)
    tables: dict[str, ReportTable] = {t.key: t for t in report_tables(board)}
    return render("reports/dashboard.html", board=board, q=q, qs=q.urlencode(), tables=tables,
                  charts=build_charts(board, lambda text: report_words(text, locale_of(request))), cell=cell, scope_label=SCOPE_LABELS.get(scope.label, scope.label),
                  periods=period_choices(today_vn()), communes=await commune_choices(scope),
                  chosen_communes=[commune_label(c) for c in q.filters.commune_codes],
                  marketplaces=list(NAMES.items()), groups=GROUPS, stars=STARS,
                  rw=lambda text: report_words(text, locale_of(request)))


ROUTES = [dashboard_page]
