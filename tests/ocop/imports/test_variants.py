"""A catalogue with variants: one row per variant, grouped by ``Mã sản phẩm``; faults at their row
in the result and in the error file; a re-import of the same file changes nothing, a changed
variant updates that product (on SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl

from ocop.catalog.tables import Product, Variant
from ocop.domain.text import fold
from ocop.imports.columns import ALL_COLUMNS
from ocop.imports.report import ERROR_HEADER, write_error_file
from ocop.imports.service import ImportSource, run_import
from ocop.imports.template import write_template
from ocop.producers.tables import Producer
from tests.ocop.imports.conftest import TAX_A, product_row


def honey(variant_sku: str, size: str, pack: str, price: str, stock: str, **more: Any) -> dict[str, Any]:
    return product_row(sku="MO-01", name="Mật ong hoa cà phê", unit="hũ", variant_sku=variant_sku,
                       attr1_name="Dung tích", attr1_value=size, attr2_name="Quy cách", attr2_value=pack,
                       price=price, stock=stock, **more)


def catalogue(rows: list[dict[str, Any]]) -> ImportSource:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([c.header for c in ALL_COLUMNS])
    writer.writerows([[row.get(c.key, "") for c in ALL_COLUMNS] for row in rows])
    return ImportSource("catalogue.csv", buf.getvalue().encode("utf-8"), None)


ROWS = [
    product_row(sku="BT-001"),  # a product without variants, imported as ever
    honey("MO-250-HU", "250 ml", "hũ", "120.000", "10", weight_g="400"),
    honey("MO-500-HU", "500 ml", "hũ", "210.000", "5"),
    honey("MO-500-QUA", "500 ML", "hộp quà", "260.000", "2"),
]


async def _variants() -> list[tuple[Any, ...]]:
    rows = await Variant.select().order_by(Variant.position)
    return [(r["sku"], r["option1"], r["option2"], r["price_vnd"], r["stock"], r["weight_g"]) for r in rows]


async def test_rows_of_a_product_become_its_variants_and_reimport_is_idempotent(db: Any) -> None:
    result = await run_import(catalogue(ROWS), actor_user_id=None, dry_run=False)
    assert (result.rows, result.created, result.failed) == (4, 2, 0), result.errors
    honey_row = await Product.objects().get(Product.sku == "MO-01")
    assert (honey_row.price_vnd, honey_row.stock) == (120_000, 17)
    assert honey_row.variation in ([{"name": "Dung tích", "options": ["250 ml", "500 ml"]},
                                    {"name": "Quy cách", "options": ["hũ", "hộp quà"]}],
                                   '[{"name": "Dung tích", "options": ["250 ml", "500 ml"]}, '
                                   '{"name": "Quy cách", "options": ["hũ", "hộp quà"]}]')
    assert await _variants() == [
        ("MO-250-HU", "250 ml", "hũ", 120_000, 10, 400),
        ("MO-500-HU", "500 ml", "hũ", 210_000, 5, 550),  # the example row's weight
        ("MO-500-QUA", "500 ml", "hộp quà", 260_000, 2, 550),  # spelt as the attribute spells it
    ]
    plain = await Product.objects().get(Product.sku == "BT-001")
    assert plain.variation in ([], "[]") and plain.price_vnd == 45_000

    before = await Product.select(Product.id, Product.updated_at, Product.content_hash).order_by(Product.id)
    ids = [r["id"] for r in await Variant.select(Variant.id).order_by(Variant.position)]
    again = await run_import(catalogue(ROWS), actor_user_id=None, dry_run=False)
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 2, 0)
    assert await Product.select(Product.id, Product.updated_at, Product.content_hash).order_by(Product.id) == before

    # one variant's stock changes: only that product is updated, its variants keep their ids
    changed = [*ROWS[:2], honey("MO-500-HU", "500 ml", "hũ", "210.000", "7"), ROWS[3]]
    third = await run_import(catalogue(changed), actor_user_id=None, dry_run=False)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    assert [r["id"] for r in await Variant.select(Variant.id).order_by(Variant.position)] == ids
    assert (await Variant.objects().get(Variant.sku == "MO-500-HU")).stock == 7
    assert (await Product.objects().get(Product.sku == "MO-01")).stock == 19


async def test_variant_faults_are_reported_at_their_row_and_in_the_error_file(db: Any, tmp_path: Path) -> None:
    rows = [
        product_row(sku="BT-001"),
        honey("MO-250-HU", "250 ml", "hũ", "120.000", "10"),
        honey("MO-250-HU", "500 ml", "hũ", "210.000", "5"),  # row 4: the same variant SKU again
        honey("MO-500-QUA", "500 ml", "hộp quà đặc biệt dịp tết", "260.000", "2"),  # row 5: option too long
        product_row(sku="CF-01", name="Cà phê", variant_sku="BT-001", attr1_name="Khối lượng",
                    attr1_value="250 g"),  # row 6: a variant SKU that is another product's code
    ]
    result = await run_import(catalogue(rows), actor_user_id=None, dry_run=False)
    assert (result.created, result.failed) == (1, 4)
    found = sorted((f.row, f.column, f.code) for f in result.errors)
    assert found == [
        (3, "Mã sản phẩm", "variant_product_not_imported"),
        (4, "Mã phân loại (SKU)", "duplicate_sku"),
        (5, "Lựa chọn 2", "option_too_long"),
        (6, "Mã phân loại (SKU)", "sku_taken"),
    ]
    by_row = {f.row: f for f in result.errors}
    assert by_row[5].message_vi == "Lựa chọn tối đa 20 ký tự" and by_row[5].value == "hộp quà đặc biệt dịp tết"
    assert by_row[3].message_vi == "Sản phẩm MO-01 chưa được nhập: sửa lỗi ở dòng 4"
    assert await Product.count() == 1 and await Variant.count() == 0  # only BT-001

    # the error file: every row back, the faulty ones with their messages
    source = catalogue(rows)
    out = tmp_path / "loi.xlsx"
    write_error_file(source.file_name, source.data, result.errors, out)
    table = list(openpyxl.load_workbook(out, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert table[0][-1] == ERROR_HEADER and len(table) == 6
    assert table[1][-1] is None
    assert "Mã phân loại (SKU): Mã SKU bị trùng với phân loại khác" in table[3][-1]
    assert "Lựa chọn 2: Lựa chọn tối đa 20 ký tự" in table[4][-1]

    # a variant SKU that a stored product of the producer already uses is refused at its row
    stored = await Producer.objects().get(Producer.tax_code == TAX_A)
    await Product(producer=stored.id, sku="MO-250-HU", name="Mật ong cũ", name_folded=fold("Mật ong cũ")).save()
    clash = await run_import(catalogue(ROWS), actor_user_id=None, dry_run=False)
    assert [(f.row, f.column, f.code) for f in clash.errors] == [(3, "Mã phân loại (SKU)", "sku_taken")]
    assert await Variant.count() == 0


def test_the_template_explains_the_variant_columns(tmp_path: Path) -> None:
    path = tmp_path / "mau.xlsx"
    write_template(path)
    book = openpyxl.load_workbook(path)
    headers = [c.value for c in book.worksheets[0][1]]
    assert headers[-5:] == ["Mã phân loại (SKU)", "Phân loại 1", "Lựa chọn 1", "Phân loại 2", "Lựa chọn 2"]
    helps = {row[0]: row[2] for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert "mỗi phân loại một dòng" in helps["Mã phân loại (SKU)"]
