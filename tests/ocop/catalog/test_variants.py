"""The variant rules (``ocop.catalog.variants``), pure: one message per field in Vietnamese and
English, normalisation, combinations, renaming and the price/stock roll-up."""

from __future__ import annotations

import unicodedata

from ocop.catalog.variants import (
    MAX_VARIANTS,
    Attribute,
    VariantInput,
    check_variation,
    combinations,
    read_variation,
    rename_options,
    rollup,
)

SIZES = [{"name": "Dung tích", "options": ["250 ml", "500 ml"]}]


def _errors(attributes, variants, **kw):
    result = read_variation(attributes, variants, **kw)
    return {e.field: (e.code, e.message_vi, e.message_en) for e in result.errors}


def test_a_clean_variation_reads_normalised_and_spelt_as_its_attributes() -> None:
    decomposed = unicodedata.normalize("NFD", "  Quy   cách ")
    result = read_variation(
        [SIZES[0], {"name": decomposed, "options": [unicodedata.normalize("NFD", "hộp quà"), " hũ "]}],
        [{"sku": "MO-1", "option1": "250 ML", "option2": "hũ", "price_vnd": "150k", "stock": "1.000"}],
    )
    assert result.ok, result.errors
    assert result.attributes[1] == Attribute("Quy cách", ["hộp quà", "hũ"])
    assert unicodedata.is_normalized("NFC", result.attributes[1].options[0])
    variant = result.variants[0]
    assert (variant.option1, variant.option2, variant.price_vnd, variant.stock) == ("250 ml", "hũ", 150_000, 1000)


def test_attribute_rules_each_name_their_field() -> None:
    errors = _errors(
        [{"name": "", "options": []}, {"name": "Màu sắc của nắp hũ", "options": ["x" * 21]},
         {"name": "Thêm", "options": ["a"]}],
        [],
    )
    assert errors == {
        "variation": ("too_many_attributes", "Tối đa 2 thuộc tính phân loại", "At most 2 variation attributes"),
        "variation[0].name": ("required", "Nhập tên thuộc tính (ví dụ: Dung tích)", "Enter the attribute name (e.g. Size)"),
        "variation[0].options": ("required", "Thêm ít nhất một lựa chọn", "Add at least one option"),
        "variation[1].name": ("attribute_name_too_long", "Tên thuộc tính tối đa 14 ký tự",
                              "Attribute name: at most 14 characters"),
        "variation[1].options[0]": ("option_too_long", "Lựa chọn tối đa 20 ký tự", "Option: at most 20 characters"),
        "variants": ("required", "Thêm ít nhất một phân loại hàng", "Add at least one variant"),
    }
    same = _errors([{"name": "Size", "options": ["S", " s "]}, {"name": "size", "options": ["M"]}],
                   [{"sku": "A", "option1": "S", "option2": "M", "price_vnd": 1}])
    assert same == {
        "variation[0].options[1]": ("duplicate_option", "Lựa chọn bị trùng trong thuộc tính này",
                                    "This option is already in this attribute"),
        "variation[1].name": ("duplicate_attribute", "Hai thuộc tính trùng tên", "Two attributes have the same name"),
    }


def test_variant_rules_each_name_their_field() -> None:
    errors = _errors(
        SIZES,
        [
            {"sku": "MO-1", "option1": "250 ml", "price_vnd": "150.000"},
            {"sku": "mo-1", "option1": "250 ml", "price_vnd": "0", "stock": "-3"},
            {"sku": "", "option1": "1 lít", "option2": "hũ", "price_vnd": "abc"},
            {"sku": "MO", "option1": "", "stock": "2,5"},
        ],
        taken_skus={"MO": "Mật ong"},
    )
    assert errors == {
        "variants[1].option1": ("duplicate_variant", "Phân loại «250 ml» đã có", "Variant “250 ml” is already there"),
        "variants[1].sku": ("duplicate_sku", "Mã SKU bị trùng với phân loại khác",
                            "This SKU is already used by another variant"),
        "variants[1].price_vnd": ("price_not_positive", "Giá bán phải lớn hơn 0", "Price must be more than 0"),
        "variants[1].stock": ("stock_negative", "Tồn kho không được âm", "Stock cannot be negative"),
        "variants[2].option1": ("unknown_option", "«1 lít» không có trong Dung tích",
                                "“1 lít” is not an option of Dung tích"),
        "variants[2].option2": ("unknown_option", "Sản phẩm không có thuộc tính phân loại thứ hai",
                                "The product has no second variation attribute"),
        "variants[2].sku": ("required", "Nhập mã SKU của phân loại", "Enter the variant's SKU"),
        "variants[2].price_vnd": ("invalid_money", "Số tiền không hợp lệ: abc (ví dụ: 150000, 150.000đ, 150k)",
                                  "Invalid amount: abc (e.g. 150000, 150.000đ, 150k)"),
        "variants[3].option1": ("required", "Chọn Dung tích", "Choose a Dung tích"),
        "variants[3].sku": ("sku_taken", "Mã SKU đã dùng cho sản phẩm khác (Mật ong)",
                            "This SKU is already used by another product (Mật ong)"),
        "variants[3].price_vnd": ("required", "Nhập giá bán", "Enter the price"),
        "variants[3].stock": ("invalid_stock", "Tồn kho không hợp lệ: 2,5", "Invalid stock: 2,5"),
    }


def test_no_attributes_means_no_variants_and_at_most_fifty() -> None:
    assert _errors([], [{"sku": "A", "price_vnd": 1}]) == {
        "variants": ("variants_without_attributes", "Thêm thuộc tính phân loại trước khi thêm phân loại hàng",
                     "Add a variation attribute before adding variants"),
    }
    assert read_variation([], []).ok
    many = [{"name": "A", "options": [str(i) for i in range(10)]}, {"name": "B", "options": [str(i) for i in range(6)]}]
    variants = [VariantInput(option1=a, option2=b, sku=f"S{a}{b}", price_vnd=1000) for a, b in combinations(
        [Attribute(**m) for m in many])]
    assert len(variants) == 60
    errors = check_variation([Attribute(**m) for m in many], variants)
    assert [(e.field, e.code) for e in errors] == [("variants", "too_many_variants")]
    assert not check_variation([Attribute(**m) for m in many], variants[:MAX_VARIANTS])


def test_combinations_rename_and_rollup() -> None:
    attributes = [Attribute("Dung tích", ["250 ml", "500 ml"]), Attribute("Quy cách", ["hũ", "hộp quà"])]
    assert combinations(attributes) == [("250 ml", "hũ"), ("250 ml", "hộp quà"), ("500 ml", "hũ"), ("500 ml", "hộp quà")]
    assert combinations(attributes[:1]) == [("250 ml", ""), ("500 ml", "")]
    variants = [VariantInput(option1="250 ml", option2="hũ", sku="A", price_vnd=120_000, stock=3),
                VariantInput(option1="500 ml", option2="hũ", sku="B", price_vnd=90_000, stock=4)]
    renamed = rename_options(variants, 1, {"hũ": "hũ thủy tinh"})
    assert [(v.option2, v.sku, v.price_vnd) for v in renamed] == [("hũ thủy tinh", "A", 120_000),
                                                                  ("hũ thủy tinh", "B", 90_000)]
    assert rollup(variants).price_vnd == 90_000 and rollup(variants).stock == 7
    assert rollup([]).price_vnd is None
