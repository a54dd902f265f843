"""Readiness per marketplace, purely from data."""

from __future__ import annotations

from datetime import date

from ocop.catalog.readiness import readiness

TODAY = date(2026, 11, 25)
COMPLETE = {
    "name": "Bánh tráng",
    "description": "Ngon",
    "price_vnd": 150_000,
    "weight_g": 500,
    "stock": 10,
    "length_mm": 200,
    "width_mm": 150,
    "height_mm": 50,
}
CERT = {"stars": 4, "expires_on": date(2028, 1, 1)}
SQUARE = {"status": "ready", "renditions": {"shopee": {}, "lazada": {}, "tiktok": {}, "tiki": {}}}


def by_market(product, cert, images):
    return {r.marketplace: r for r in readiness(product, cert, images, TODAY)}


def test_complete_product_is_ready_everywhere() -> None:
    result = by_market(COMPLETE, CERT, [SQUARE])
    assert all(r.ready for r in result.values())
    assert (
        result["shopee"].message_vi == "Shopee: sẵn sàng"
        and result["tiktok"].message_en == "TikTok Shop: ready"
    )


def test_missing_weight_and_square_photo_message() -> None:
    small = {
        "status": "ready",
        "renditions": {"tiktok": {}, "lazada": {}},
    }  # too small for Shopee/Tiki's 500 px
    result = by_market({**COMPLETE, "weight_g": None}, CERT, [small])
    assert result["shopee"].message_vi == (
        "Shopee: thiếu khối lượng, cần ít nhất 1 ảnh sản phẩm (ảnh chụp điện thoại là được, "
        "hệ thống tự chỉnh cho sàn)")
    assert result["shopee"].missing == ("weight_g", "photo")
    assert result["tiktok"].missing == ("weight_g",)
    assert result["shopee"].ready_count == 5 and result["shopee"].total == 7


def test_dimensions_certificate_and_pending_photos() -> None:
    pending = {**SQUARE, "status": "pending"}
    result = by_market(
        {**COMPLETE, "height_mm": None}, {"stars": 3, "expires_on": date(2026, 1, 1)}, [pending]
    )
    assert "dimensions" not in result["shopee"].missing  # Shopee does not insist on dimensions
    assert result["lazada"].missing == ("dimensions", "certificate", "photo")
    assert "chứng nhận OCOP còn hiệu lực" in result["tiki"].message_vi
    assert by_market(COMPLETE, None, [SQUARE])["shopee"].missing == ("certificate",)


HONEY = {**COMPLETE, "weight_g": None, "length_mm": None, "width_mm": None, "height_mm": None,
         "variation": '[{"name": "Dung tích", "options": ["250 ml", "500 ml"]}, '
                      '{"name": "Quy cách", "options": ["hũ", "hộp quà"]}]'}


def _variant(option1: str, option2: str, sku: str, **more) -> dict:
    return {"option1": option1, "option2": option2, "sku": sku, "price_vnd": 100_000, "stock": 3,
            "weight_g": 400, "length_mm": 80, "width_mm": 80, "height_mm": 120, "image": None, **more}


def test_variants_meeting_every_marketplace_are_ready_and_counted() -> None:
    variants = [_variant("250 ml", "hũ", "MO-250-HU"), _variant("500 ml", "hộp quà", "MO-500-QUA")]
    result = {r.marketplace: r for r in readiness(HONEY, CERT, [SQUARE], TODAY, variants)}
    assert all(r.ready for r in result.values()), [r.message_en for r in result.values()]
    assert result["lazada"].total == 9  # seven fields, a photo, the variants


def test_each_marketplace_names_the_variant_rule_it_refuses() -> None:
    long_sku = "MO-" + "X" * 60  # 63 characters: ocop's 64 allow it, TikTok Shop's 50 do not
    variants = [
        _variant("250 ml", "hũ", long_sku, image=1),
        _variant("250 ml", "hộp quà", "MO-250-QUA", image=2),  # another photo on the same first option
        _variant("500 ml", "hũ", "MO-500-HU", weight_g=None, height_mm=None),
    ]
    result = {r.marketplace: r for r in readiness(HONEY, CERT, [SQUARE], TODAY, variants)}
    assert result["tiktok"].missing == ("variants",)
    assert result["tiktok"].message_vi == (
        "TikTok Shop: mã SKU phân loại tối đa 50 ký tự (" + long_sku + "), ảnh phân loại theo Dung tích: "
        "các phân loại cùng Dung tích phải cùng ảnh (250 ml), thiếu khối lượng của phân loại 500 ml / hũ, "
        "thiếu kích thước đóng gói của phân loại 500 ml / hũ")
    # Shopee: photos follow the first tier and a weight is needed; no package size required
    assert result["shopee"].message_en == (
        "Shopee: variant photos follow Dung tích: variants of the same Dung tích need the same photo (250 ml), "
        "missing the weight of variant 500 ml / hũ")
    # Lazada puts no photo rule on variants here, but needs each SKU's weight and size
    assert result["lazada"].message_en == (
        "Lazada: missing the weight of variant 500 ml / hũ, missing the package size of variant 500 ml / hũ")
    # the product's own weight and size stand in for a variant's
    filled = {**HONEY, "weight_g": 500, "length_mm": 100, "width_mm": 100, "height_mm": 100}
    assert {r.marketplace: r for r in readiness(filled, CERT, [SQUARE], TODAY, variants)}["lazada"].ready
