"""XLSX and CSV exports of the dashboard, laid out for a provincial report.

XLSX (XlsxWriter): one sheet per breakdown, the report title and the filters written at the top,
Vietnamese headers, VND amounts as whole numbers with the format ``#,##0 "₫"``, dates dd/mm/yyyy,
totals as values (no live formulas anywhere).

Formula injection (OWASP, "CSV Injection"): a cell whose text starts with ``=``, ``+``, ``-``, ``@``,
tab or carriage return can be run as a formula by a spreadsheet. In the XLSX every text is written
with ``write_string`` and the workbook's ``strings_to_formulas``/``strings_to_urls`` conversions are
off, so a product named ``=HYPERLINK(...)`` is stored as a plain string cell, unchanged. A CSV has
no cell types, so there such text is prefixed with a single quote, as OWASP recommends.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import xlsxwriter

from ocop.domain.dates import VN_TZ
from ocop.reports.breakdowns import DATE, PCT, TEXT, VND, ReportTable, describe_filters, report_tables
from ocop.reports.kpis import Dashboard

TITLE = "BÁO CÁO KINH TẾ SỐ – SẢN PHẨM OCOP TRÊN SÀN THƯƠNG MẠI ĐIỆN TỬ"
VND_FORMAT = '#,##0 "₫"'
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text safe to put in a CSV cell that a spreadsheet will open."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _generated_line(now: datetime | None) -> str:
    at = (now or datetime.now(UTC)).astimezone(VN_TZ)
    return f"Lập lúc {at:%H:%M %d/%m/%Y} (giờ Việt Nam)"


def to_xlsx(board: Dashboard, *, now: datetime | None = None) -> bytes:
    """The whole report as an XLSX workbook."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "strings_to_numbers": False})
    fmt = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "label": book.add_format({"bold": True}),
        "head": book.add_format({"bold": True, "bg_color": "#E7F1EA", "border": 1, "text_wrap": True,
                                 "valign": "vcenter"}),
        TEXT: book.add_format({"border": 1}),
        "int": book.add_format({"border": 1, "num_format": "#,##0"}),
        VND: book.add_format({"border": 1, "num_format": VND_FORMAT}),
        PCT: book.add_format({"border": 1, "num_format": "0.0"}),
        DATE: book.add_format({"border": 1, "num_format": "dd/mm/yyyy"}),
    }
    total_fmt = {k: book.add_format({**props, "bold": True}) for k, props in (
        (TEXT, {"border": 1}), ("int", {"border": 1, "num_format": "#,##0"}),
        (VND, {"border": 1, "num_format": VND_FORMAT}))}
    header_lines = describe_filters(board)
    for table in report_tables(board):
        sheet = book.add_worksheet(table.title[:31])
        sheet.write_string(0, 0, TITLE, fmt["title"])
        sheet.write_string(1, 0, table.title, fmt["label"])
        row = 2
        for name, value in header_lines:
            sheet.write_string(row, 0, name, fmt["label"])
            sheet.write_string(row, 1, value)
            row += 1
        sheet.write_string(row, 0, _generated_line(now))
        row += 2
        for col, column in enumerate(table.columns):
            sheet.write_string(row, col, column.header, fmt["head"])
            sheet.set_column(col, col, 16 if column.kind != TEXT else 36)
        first_data = row + 1
        for r, values in enumerate(table.rows):
            for c, value in enumerate(values):
                _write(sheet, first_data + r, c, value, table.kind(r, c), fmt)
        if table.total is not None:
            last = first_data + len(table.rows)
            for c, value in enumerate(table.total):
                kind = table.columns[c].kind
                _write(sheet, last, c, value, kind, total_fmt if kind in total_fmt else fmt)
        sheet.freeze_panes(first_data, 0)
    book.close()
    return out.getvalue()


def _write(sheet: Any, row: int, col: int, value: Any, kind: str, fmt: dict[str, Any]) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt[TEXT])
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt[DATE])
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        sheet.write_number(row, col, value, fmt.get(kind, fmt["int"]))
    else:
        sheet.write_string(row, col, str(value), fmt[TEXT])


def table_by_key(board: Dashboard, key: str) -> ReportTable:
    for table in report_tables(board):
        if table.key == key:
            return table
    raise KeyError(key)


TABLE_KEYS = ("summary", "month", "marketplace", "commune", "group", "stars", "top_products", "top_producers",
              "listings", "rejections", "expiring")


def to_csv(table: ReportTable) -> str:
    """One table as CSV: a header row, the rows, then the total row if any. Amounts are plain
    integers of đồng, dates ISO 8601, so the file is easy to re-read by programs. Callers send it
    UTF-8 with a BOM so Excel shows Vietnamese correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(c.header) for c in table.columns])
    for values in [*table.rows, *([table.total] if table.total else [])]:
        writer.writerow([_csv_cell(v) for v in values])
    return out.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return neutralise(str(value))
