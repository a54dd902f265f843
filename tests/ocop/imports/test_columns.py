import unicodedata

from ocop.imports.columns import COLUMNS, header_key, match_headers


def test_template_has_the_23_headers_of_the_issue_in_order() -> None:
    assert [c.header for c in COLUMNS] == [
        "Mã số thuế chủ thể", "Tên chủ thể", "Loại hình chủ thể", "Số điện thoại", "Tỉnh/Thành phố", "Xã/Phường",
        "Mã sản phẩm", "Tên sản phẩm", "Nhóm sản phẩm", "Số sao OCOP", "Số quyết định công nhận", "Ngày công nhận",
        "Đơn vị tính", "Quy cách", "Giá bán (VNĐ)", "Tồn kho", "Khối lượng (g)", "Dài (cm)", "Rộng (cm)", "Cao (cm)",
        "Hạn sử dụng (ngày)", "Mô tả", "Ảnh",
    ]


def test_headers_match_regardless_of_case_accents_spacing_and_form() -> None:
    variants = [
        [unicodedata.normalize("NFD", c.header).upper() for c in COLUMNS],
        ["  " + header_key(c.header) + " " for c in COLUMNS],
        [c.header.replace(" ", "   ") for c in COLUMNS],
    ]
    for headers in variants:
        result = match_headers(headers)
        assert result.positions == {c.key: i for i, c in enumerate(COLUMNS)}
        assert result.unknown == [] and result.missing_required == []


def test_english_aliases() -> None:
    result = match_headers(["Tax code", "SKU", "Product name", "Price (VND)", "Producer", "Province", "Commune"])
    assert result.positions == {"tax_code": 0, "sku": 1, "name": 2, "price": 3, "producer_name": 4, "province": 5, "commune": 6}


def test_unknown_and_duplicate_columns_are_reported_not_fatal() -> None:
    result = match_headers(["Mã sản phẩm", "Ghi chú", None, "", "SKU"])
    assert result.positions == {"sku": 0}
    assert result.unknown == ["Ghi chú"]
    assert result.duplicates == ["SKU"]
    assert "Tên sản phẩm" in result.missing_required
