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
