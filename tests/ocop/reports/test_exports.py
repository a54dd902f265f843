"""XLSX and CSV exports: the right numbers in the right places, and no formula can run."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl

from ocop.reports import kpis
from ocop.reports.exports import TABLE_KEYS, neutralise, table_by_key, to_csv, to_xlsx
from ocop.reports.period import parse_period
from ocop.reports.scope import Filters, Scope
from tests.ocop.reports.conftest import INJECTION, TODAY, Seed

FEB = parse_period("2026-02")


def header_row(sheet: openpyxl.worksheet.worksheet.Worksheet, first: str) -> int:
    for row in sheet.iter_rows(min_col=1, max_col=1):
        if row[0].value == first:
            return row[0].row
    raise AssertionError(f"no header {first!r} in {sheet.title}")


async def test_xlsx_has_one_sheet_per_breakdown_with_the_figures(seeded: Seed) -> None:
    board = await kpis.dashboard(FEB, Scope(label="all"), Filters(marketplace="shopee"), today=TODAY)
    data = to_xlsx(board, now=datetime(2026, 2, 20, 3, tzinfo=UTC))
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Tổng quan", "Theo tháng", "Theo sàn", "Theo xã phường", "Theo nhóm OCOP",
                               "Theo hạng sao", "Sản phẩm bán chạy", "Chủ thể bán chạy", "Sản phẩm đăng theo sàn",
                               "Lý do bị từ chối", "Chứng nhận sắp hết hạn"]
    summary = book["Tổng quan"]
    top_lines = {summary.cell(r, 1).value: summary.cell(r, 2).value for r in range(1, 12)}
    assert top_lines["Kỳ báo cáo"] == "Tháng 02/2026 (01/02/2026 – 28/02/2026)"
    assert top_lines["Sàn TMĐT"] == "Shopee"
    assert any(str(v).startswith("Lập lúc 10:00 20/02/2026") for v in top_lines)
    h = header_row(summary, "Chỉ tiêu")
    figures = {summary.cell(r, 1).value: [summary.cell(r, c).value for c in (2, 3, 4)]
               for r in range(h + 1, summary.max_row + 1)}
    # Shopee in February: O1 2×50k and O6 2×70k (O4 cancelled, O5 returned); January: O2 1×50k
    assert figures["Doanh thu (₫)"] == [240_000, 50_000, 190_000]
    assert figures["Đơn hàng (trừ đơn hủy, đơn trả)"] == [2, 1, 1]
    assert figures["Đơn hàng bị hủy"][0] == 1 and figures["Đơn hàng bị trả lại"][0] == 1
    revenue_row = next(r for r in range(h + 1, summary.max_row + 1) if summary.cell(r, 1).value == "Doanh thu (₫)")
    assert summary.cell(revenue_row, 2).number_format == '#,##0 "₫"'

    communes = book["Theo xã phường"]
    h = header_row(communes, "Xã/phường (2025)")
    rows = [[communes.cell(r, c).value for c in range(1, 5)] for r in range(h + 1, communes.max_row + 1)]
    assert rows == [["Phường Quy Nhơn Đông", 1, 2, 140_000], ["Phường Quy Nhơn", 1, 2, 100_000],
                    ["Tổng cộng", 2, 4, 240_000]]


async def test_xlsx_has_no_live_formula_and_keeps_hostile_names_as_text(seeded: Seed) -> None:
    board = await kpis.dashboard(FEB, Scope(label="all"), today=TODAY)
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(board)))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    hostile = [c for c in cells if c.value == INJECTION]
    assert hostile and all(c.data_type == "s" for c in hostile)  # top products + expiring certificates
    assert {c.parent.title for c in hostile} == {"Sản phẩm bán chạy", "Chứng nhận sắp hết hạn"}


async def test_total_rows_count_each_order_once(seeded: Seed) -> None:
    # Q1: O9 has products of groups 1 and 2, O3 a group-1 line and an unknown one: 5 + 3 + 1 rows, 7 orders
    board = await kpis.dashboard(parse_period("2026-Q1"), Scope(label="all"), today=TODAY)
    groups = table_by_key(board, "group")
    assert [r[1] for r in groups.rows] == [5, 3, 1] and groups.total == ["Tổng cộng", 7, 16, 910_000]
    assert table_by_key(board, "month").total == ["Tổng cộng", 7, 16, 910_000]


async def test_csv_tables(seeded: Seed) -> None:
    board = await kpis.dashboard(FEB, Scope(label="all"), today=TODAY)
    assert {t for t in TABLE_KEYS} == {table_by_key(board, k).key for k in TABLE_KEYS}
    rows = list(csv.reader(io.StringIO(to_csv(table_by_key(board, "marketplace")))))
    assert rows[0] == ["Sàn TMĐT", "Số đơn hàng", "Số lượng bán", "Doanh thu (₫)"]
    assert rows[1:] == [["Shopee", "2", "4", "240000"], ["Lazada", "1", "4", "200000"], ["Tiki", "1", "1", "90000"],
                        ["Tổng cộng", "4", "9", "530000"]]
    products = list(csv.reader(io.StringIO(to_csv(table_by_key(board, "top_products")))))
    assert ["2", "'" + INJECTION, "Công ty Bánh tráng Tam Quan", "1", "2", "140000"] in products
    expiring = list(csv.reader(io.StringIO(to_csv(table_by_key(board, "expiring")))))
    assert expiring[1] == ["Nem chợ Huyện", "HTX Nem chợ Huyện", "4", "2026-03-17", "30"]


def test_neutralise() -> None:
    for hostile in ("=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(hostile) == "'" + hostile
    assert neutralise("Nem chợ Huyện") == "Nem chợ Huyện"
