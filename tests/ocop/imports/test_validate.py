from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ocop.domain.legacy_fonts import Encoding
from ocop.imports.columns import match_headers
from ocop.imports.readers import read_file
from ocop.imports.validate import MissingColumns, ValidationResult, validate_sheet
from tests.ocop.imports.conftest import TAX_A, TAX_B, csv_text, product_row, write_xlsx


def validate(rows: list[dict[str, Any]], **kwargs: Any) -> ValidationResult:
    sheet = read_file("c.csv", csv_text(rows).encode())
    return validate_sheet(sheet, match_headers(sheet.header), **kwargs)


def test_valid_rows_become_typed_records(rows: list[dict[str, Any]]) -> None:
    result = validate(rows)
    assert result.faults == [] and result.rows == 3
    first = result.records[0]
    assert first.row == 2
    assert first.producer.tax_code == TAX_A and first.producer.kind == "htx"
    assert first.producer.phone == "+84905123456"
    assert first.product.price_vnd == 45_000 and first.product.unit == "gói"
    assert (first.product.length_mm, first.product.width_mm, first.product.height_mm, first.product.weight_g) == (250, 180, 50, 550)
    assert first.certificate.stars == 4 and first.certificate.decision_number == "1234/QĐ-UBND"
    assert first.certificate.issued_on == date(2025, 3, 15) and first.certificate.expires_on == date(2028, 3, 15)
    assert [r.product.price_vnd for r in result.records] == [45_000, 150_000, 150_000]


@pytest.mark.parametrize(
    ("column_key", "value", "header", "code"),
    [
        ("tax_code", "0100233480", "Mã số thuế chủ thể", "tax_code_checksum"),
        ("tax_code", "", "Mã số thuế chủ thể", "required"),
        ("producer_kind", "Bộ", "Loại hình chủ thể", "invalid_producer_kind"),
        ("phone", "12345", "Số điện thoại", "invalid_phone"),
        ("province", "Atlantis", "Tỉnh/Thành phố", "unknown_province"),
        ("commune", "Phường Hoàn Kiếm", "Xã/Phường", "unknown_ward"),
        ("commune", "Huyện Tuy Phước", "Xã/Phường", "ambiguous_legacy_unit"),
        ("name", "", "Tên sản phẩm", "required"),
        ("group", "Điện tử", "Nhóm sản phẩm", "invalid_ocop_group"),
        ("stars", "6", "Số sao OCOP", "invalid_stars"),
        ("decision_number", "QĐ 12", "Số quyết định công nhận", "invalid_decision_number"),
        ("decided_on", "31/02/2025", "Ngày công nhận", "invalid_date"),
        ("unit", "xô", "Đơn vị tính", "invalid_unit"),
        ("price", "150.00", "Giá bán (VNĐ)", "invalid_money"),
        ("stock", "-3", "Tồn kho", "invalid_stock"),
        ("weight_g", "nặng", "Khối lượng (g)", "invalid_weight"),
        ("length_cm", "x", "Dài (cm)", "invalid_dimension"),
        ("shelf_life_days", "1,5", "Hạn sử dụng (ngày)", "invalid_shelf_life"),
        ("images", "ftp://example.com/a.jpg", "Ảnh", "image_scheme"),
        ("images", "anh.jpg", "Ảnh", "image_needs_zip"),
        ("sku", "X" * 65, "Mã sản phẩm", "too_long"),
    ],
)
def test_each_kind_of_fault(column_key: str, value: str, header: str, code: str) -> None:
    result = validate([product_row(), product_row(**{"sku": "OTHER", column_key: value})])
    assert [r.row for r in result.records] == [2]
    assert len(result.faults) == 1
    fault = result.faults[0]
    assert (fault.row, fault.column, fault.code) == (3, header, code)
    assert fault.value == (value if code != "too_long" else value[:50] + "…")
    assert fault.message_vi and fault.message_en and fault.message_vi != fault.message_en


def test_all_faults_of_a_row_are_reported() -> None:
    result = validate([product_row(price="abc", unit="xô", stars="2")])
    assert {f.column for f in result.faults} == {"Giá bán (VNĐ)", "Đơn vị tính", "Số sao OCOP"}
    assert result.records == []


def test_duplicate_key_is_a_fault_of_the_later_row() -> None:
    result = validate([product_row(), product_row(name="khác"), product_row(tax_code=TAX_B), product_row()])
    assert [r.row for r in result.records] == [2, 4]
    assert [(f.row, f.code) for f in result.faults] == [(3, "duplicate_key"), (5, "duplicate_key")]
    assert "dòng 2" in result.faults[0].message_vi


def test_duplicate_detected_across_tax_code_spellings() -> None:
    result = validate([product_row(tax_code="0314409058-002"), product_row(tax_code="0314409058002")])
    assert [f.code for f in result.faults] == ["duplicate_key"]


def test_formula_like_cells_are_data() -> None:
    result = validate([product_row(sku="-001", name="=HYPERLINK(\"http://evil\",\"x\")", description="@SUM(A1)",
                                   phone="+84 905 123 456")])
    assert result.faults == []
    record = result.records[0]
    assert record.product.sku == "-001"
    assert record.product.name == '=HYPERLINK("http://evil","x")'
    assert record.product.description == "@SUM(A1)"


def test_unknown_columns_reported() -> None:
    sheet = read_file("c.csv", "Mã số thuế chủ thể,Ghi chú\n0100233488,x\n".encode())
    with pytest.raises(MissingColumns) as info:
        validate_sheet(sheet, match_headers(sheet.header))
    assert "Tên sản phẩm" in info.value.message_vi


def test_values_typed_as_numbers_in_excel(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "n.xlsx", [product_row(tax_code=100233488, phone=905123456, stars=5, price=150000,
                                                          decided_on=45731, sku=1001, stock=12, weight_g=550.0)])
    sheet = read_file(path)
    result = validate_sheet(sheet, match_headers(sheet.header))
    assert result.faults == []
    record = result.records[0]
    assert record.producer.tax_code == TAX_A and record.producer.phone == "+84905123456"
    assert record.product.sku == "1001" and record.product.price_vnd == 150_000
    assert record.certificate.issued_on == date(2025, 3, 15)


def test_legacy_font_file_is_converted() -> None:
    tcvn3 = [product_row(name="B¸nh tr¸ng n\u00adíc dõa", producer_name="HTX N«ng nghiÖp Tam Quan", unit="Hép"),
             product_row(sku="B", name="MËt ong rõng", unit="chai")]
    result = validate(tcvn3)
    assert result.encoding is Encoding.TCVN3
    assert result.faults == []
    assert result.records[0].product.name == "Bánh tráng nước dừa"
    assert result.records[0].producer.legal_name == "HTX Nông nghiệp Tam Quan"
    assert result.records[0].product.unit == "hộp"
    vni = [product_row(name="Baùnh traùng nöôùc döøa", unit="Hoäp"), product_row(sku="B", name="Röôïu Baøu Ñaù")]
    result = validate(vni)
    assert result.encoding is Encoding.VNI
    assert [r.product.name for r in result.records] == ["Bánh tráng nước dừa", "Rượu Bàu Đá"]
    assert result.records[0].product.unit == "hộp"


def test_pre_2025_commune_is_mapped_with_a_note() -> None:
    result = validate([product_row(province="Bình Định", commune="Thị trấn Tuy Phước")])
    record = result.records[0]
    assert record.producer.province_code == 52
    assert record.notes == ("Thị trấn Tuy Phước → Xã Tuy Phước",)


def test_images_urls_and_zip_names() -> None:
    zip_names = {"anh-1.jpg": "photos/Anh-1.JPG".replace("Anh-1.JPG", "anh-1.jpg"), "anh-2.png": "anh-2.png"}
    result = validate([product_row(images="https://example.com/a.jpg; photos/ANH-1.jpg\nanh-2.png")], zip_names=zip_names)
    assert result.faults == []
    assert [(i.kind, i.value) for i in result.records[0].images] == [
        ("url", "https://example.com/a.jpg"), ("zip", "photos/anh-1.jpg"), ("zip", "anh-2.png")]
    result = validate([product_row(images="missing.jpg")], zip_names=zip_names)
    assert [f.code for f in result.faults] == ["image_not_in_zip"]


def test_content_hash_changes_with_any_written_field() -> None:
    base = validate([product_row()]).records[0].content_hash
    assert validate([product_row()]).records[0].content_hash == base
    for change in ({"price": "46000"}, {"stars": 5}, {"description": "khác"}, {"images": "https://example.com/x.jpg"}):
        assert validate([product_row(**change)]).records[0].content_hash != base
