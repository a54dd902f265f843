"""The dashboard's figures laid out as titled tables with Vietnamese headers — one layout shared by
the page's table views, the XLSX sheets and the CSV files, so the three never disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ocop.reports.kpis import Dashboard, SalesRow, TopRow
from ocop.reports.labels import commune_label, group_label, marketplace_label, stars_label
from ocop.reports.scope import Filters

TEXT, INT, VND, PCT, DATE = "text", "int", "vnd", "pct", "date"


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    kind: str = TEXT


@dataclass
class ReportTable:
    key: str  # also the CSV name and the ?table= value
    title: str  # also the XLSX sheet name (≤ 31 characters)
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    total: list[Any] | None = None
    #: Per-row number kind overriding the columns' (the summary mixes counts, đồng and percentages).
    row_kinds: list[str] | None = None

    def kind(self, row: int, col: int) -> str:
        column = self.columns[col].kind
        if self.row_kinds is not None and column != TEXT:
            return self.row_kinds[row]
        return column


SALES_COLUMNS = [Column("Số đơn hàng", INT), Column("Số lượng bán", INT), Column("Doanh thu (₫)", VND)]


def _sales_table(key: str, title: str, first: str, rows: list[SalesRow]) -> ReportTable:
    body = [[r.label, r.orders, r.units, r.revenue_vnd] for r in rows]
    return ReportTable(key, title, [Column(first), *SALES_COLUMNS], body)


def _top_table(key: str, title: str, rows: list[TopRow], *, with_producer: bool) -> ReportTable:
    columns = [Column("STT", INT), Column("Sản phẩm" if with_producer else "Chủ thể OCOP")]
    if with_producer:
        columns.append(Column("Chủ thể OCOP"))
    body = [[i, r.name, *([r.producer] if with_producer else []), r.orders, r.units, r.revenue_vnd]
            for i, r in enumerate(rows, 1)]
    return ReportTable(key, title, [*columns, *SALES_COLUMNS], body)


def summary_table(board: Dashboard) -> ReportTable:
    o, s, p = board.online, board.sales, board.sales_previous

    def row(label: str, kind: str, now: Any, before: Any) -> list[Any]:
        return [label, now, before, round(now - before, 1) if kind == PCT else now - before]

    rows = [
        row("Sản phẩm OCOP đang bán trên sàn TMĐT", INT, o.products_online.current, o.products_online.previous),
        row("Sản phẩm OCOP đã đăng ký", INT, o.products_registered.current, o.products_registered.previous),
        row("Tỷ lệ sản phẩm OCOP lên sàn (%)", PCT, o.online_share_pct.current, o.online_share_pct.previous),
        row("Chủ thể có gian hàng đã kết nối", INT, o.producers_with_shop.current, o.producers_with_shop.previous),
        row("Chủ thể có sản phẩm đang bán", INT, o.producers_online.current, o.producers_online.previous),
        row("Đơn hàng (trừ đơn hủy, đơn trả)", INT, s.orders, p.orders),
        row("Số lượng sản phẩm bán ra", INT, s.units, p.units),
        row("Doanh thu (₫)", VND, s.revenue_vnd, p.revenue_vnd),
        row("Đơn hàng bị hủy", INT, s.cancelled_orders, p.cancelled_orders),
        row("Đơn hàng bị trả lại", INT, s.returned_orders, p.returned_orders),
    ]
    kinds = [INT, INT, PCT, INT, INT, INT, INT, VND, INT, INT]
    return ReportTable("summary", "Tổng quan", [Column("Chỉ tiêu"), Column("Kỳ này", INT), Column("Kỳ trước", INT),
                                                Column("Chênh lệch", INT)], rows, row_kinds=kinds)


def report_tables(board: Dashboard) -> list[ReportTable]:
    """Every table of the report, in the order of the XLSX sheets."""
    listings = ReportTable("listings", "Sản phẩm đăng theo sàn", [Column("Sàn"), Column("Trạng thái"),
                                                                   Column("Số sản phẩm đăng", INT)],
                           [[r.marketplace_label, r.state_label, r.listings] for r in board.listings])
    reasons = ReportTable("rejections", "Lý do bị từ chối", [Column("Lý do sàn từ chối"), Column("Số sản phẩm đăng", INT)],
                          [[r.reason, r.listings] for r in board.rejections])
    expiring = ReportTable("expiring", "Chứng nhận sắp hết hạn",
                           [Column("Sản phẩm"), Column("Chủ thể OCOP"), Column("Hạng sao", INT),
                            Column("Ngày hết hạn", DATE), Column("Còn lại (ngày)", INT)],
                           [[e.product, e.producer, e.stars, e.expires_on, e.days_left] for e in board.expiring])
    tables = [
        summary_table(board),
        _sales_table("month", "Theo tháng", "Tháng", board.by_month),
        _sales_table("marketplace", "Theo sàn", "Sàn TMĐT", board.by_marketplace),
        _sales_table("commune", "Theo xã phường", "Xã/phường (2025)", board.by_commune),
        _sales_table("group", "Theo nhóm OCOP", "Nhóm sản phẩm OCOP", board.by_group),
        _sales_table("stars", "Theo hạng sao", "Hạng sao", board.by_stars),
        _top_table("top_products", "Sản phẩm bán chạy", board.top_products, with_producer=True),
        _top_table("top_producers", "Chủ thể bán chạy", board.top_producers, with_producer=False),
        listings, reasons, expiring,
    ]
    # The period's distinct totals: an order with products of two groups (or star ranks) is in
    # both rows, so summing the order column would count it twice.
    for table in tables[1:6]:
        table.total = ["Tổng cộng", board.sales.orders, board.sales.units, board.sales.revenue_vnd]
    return tables


def describe_filters(board: Dashboard) -> list[tuple[str, str]]:
    """The report's header lines: period, previous period, scope and each filter, in words."""
    f = Filters(**{**board.filters, "commune_codes": tuple(board.filters.get("commune_codes") or ())})
    fmt = "%d/%m/%Y"

    def span(start: date, end: date) -> str:
        return f"{start.strftime(fmt)} – {end.strftime(fmt)}"

    return [
        ("Kỳ báo cáo", f"{board.period.label} ({span(board.period.start, board.period.end)})"),
        ("Kỳ so sánh", f"{board.previous_period.label} ({span(board.previous_period.start, board.previous_period.end)})"),
        ("Phạm vi", SCOPE_LABELS.get(board.scope, board.scope)),
        ("Sàn TMĐT", marketplace_label(f.marketplace) if f.marketplace else "Tất cả"),
        ("Xã/phường", ", ".join(commune_label(c) for c in f.commune_codes) or "Tất cả"),
        ("Nhóm OCOP", group_label(f.ocop_group) if f.ocop_group is not None else "Tất cả"),
        ("Hạng sao", stars_label(f.stars) if f.stars is not None else "Tất cả"),
    ]


SCOPE_LABELS = {"all": "Toàn bộ dữ liệu", "province": "Toàn tỉnh (địa bàn phụ trách)",
                "commune": "Các xã/phường phụ trách", "producer": "Sản phẩm và gian hàng của chủ thể", "—": "Không có"}
