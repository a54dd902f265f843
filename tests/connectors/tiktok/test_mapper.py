"""TikTok mapper: our product → 202309 product body; their order → ours."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from connectors.base import PermanentError, ProductInput
from connectors.tiktok import mapper


def product(**kw: object) -> ProductInput:
    base: dict[str, object] = dict(
        seller_sku="OCOP-BD-0001",
        name="Mật ong rừng Vĩnh Thạnh",
        description="Mật ong nguyên chất.\nThu hoạch mùa xuân.",
        price_vnd=185000,
        stock=12,
        weight_g=750,
        length_cm=8,
        width_cm=8,
        height_cm=20,
        ocop_stars=4,
        certificate_number="1234/QĐ-UBND",
        certificate_issuer="UBND tỉnh Gia Lai",
        ocop_group=1,
        image_ids=("tos-img-1", "tos-img-2"),
        unit="chai 500 ml",
    )
    base.update(kw)
    return ProductInput(**base)  # type: ignore[arg-type]


def test_payload_carries_seller_sku_price_stock_and_package() -> None:
    body = mapper.product_payload(product(), warehouse_id="WH1")
    (sku,) = body["skus"]
    assert sku["seller_sku"] == "OCOP-BD-0001"
    assert sku["price"] == {"amount": "185000", "currency": "VND"}
    assert sku["inventory"] == [{"warehouse_id": "WH1", "quantity": 12}]
    assert body["package_weight"] == {"value": "0.75", "unit": "KILOGRAM"}
    assert body["package_dimensions"] == {"length": "8", "width": "8", "height": "20", "unit": "CENTIMETER"}
    assert body["main_images"] == [{"uri": "tos-img-1"}, {"uri": "tos-img-2"}]
    assert body["category_id"] == mapper.DEFAULT_CATEGORY_BY_GROUP[1]
    assert "brand_id" not in body  # "No brand": TikTok wants the field left out


def test_title_is_nfc_and_padded_to_minimum() -> None:
    decomposed = unicodedata.normalize("NFD", "Nón lá")
    t = mapper.title(product(name=decomposed + "  \t Phú Gia"))
    assert unicodedata.is_normalized("NFC", t)
    assert t.startswith("Nón lá Phú Gia")
    assert len(t) >= mapper.TITLE_MIN
    assert "OCOP 4 sao" in t
    assert len(mapper.title(product(name="x" * 400))) == mapper.TITLE_MAX


def test_description_has_stars_certificate_and_escapes_html() -> None:
    d = mapper.description_html(product(description="Ngon <script>alert(1)</script>"))
    assert d.startswith("<p><strong>Sản phẩm OCOP 4 sao</strong>")
    assert "1234/QĐ-UBND" in d and "UBND tỉnh Gia Lai" in d
    assert "<script>" not in d and "&lt;script&gt;" in d
    assert len(mapper.description_html(product(description="a" * 30000))) <= mapper.DESCRIPTION_MAX


def test_category_override_brand_and_attributes() -> None:
    body = mapper.product_payload(
        product(category_id="999", brand="Bàu Đá", attributes={"100107": "Việt Nam"}), warehouse_id="W"
    )
    assert body["category_id"] == "999"
    assert body["brand_id"] == "Bàu Đá"
    assert body["product_attributes"] == [{"id": "100107", "values": [{"name": "Việt Nam"}]}]


def test_invalid_products_are_permanent_errors() -> None:
    with pytest.raises(PermanentError):
        mapper.product_payload(product(image_ids=()), warehouse_id="W")
    with pytest.raises(PermanentError):
        mapper.product_payload(product(price_vnd=0), warehouse_id="W")
    with pytest.raises(PermanentError):
        mapper.product_payload(product(ocop_group=9), warehouse_id="W")


def test_item_status_rejected_with_reason() -> None:
    status = mapper.item_status(
        {
            "id": "172",
            "status": "FAILED",
            "audit_failed_reasons": [
                {
                    "position": "Product image",
                    "reasons": ["Missing certificate image"],
                    "suggestions": ["Add it"],
                }
            ],
        }
    )
    assert status.state == "rejected"
    assert status.reason == "Product image: Missing certificate image"
    live = mapper.item_status({"id": "1", "status": "ACTIVATE"})
    assert live.state == "live" and live.reason is None
    assert mapper.item_status({"id": "1", "status": "PLATFORM_DEACTIVATED"}).state == "banned"
    with pytest.raises(PermanentError):
        mapper.item_status({"id": "1", "status": "WHATEVER"})


def test_order_lines_are_grouped_per_sku() -> None:
    order = {
        "id": "5761",
        "status": "AWAITING_SHIPMENT",
        "create_time": 1764028800,
        "update_time": 1764032400,
        "payment": {"currency": "VND", "total_amount": "400000", "sub_total": "370000"},
        "line_items": [
            {"seller_sku": "A", "product_id": "11", "product_name": "Mật ong", "sale_price": "185000"},
            {"seller_sku": "A", "product_id": "11", "product_name": "Mật ong", "sale_price": "185000"},
            {"seller_sku": "B", "product_id": "12", "product_name": "Nem", "sale_price": "30000"},
        ],
    }
    got = mapper.order_from_tiktok(order)
    assert got.status == "ready_to_ship" and got.total_vnd == 400000
    assert got.created_at == datetime(2025, 11, 25, tzinfo=UTC)
    a, b = got.lines
    assert (a.seller_sku, a.quantity, a.unit_price_vnd, a.total_vnd) == ("A", 2, 185000, 370000)
    assert (b.seller_sku, b.quantity, b.total_vnd) == ("B", 1, 30000)
    assert mapper.order_from_tiktok({**order, "status": "CANCELLED"}).status == "cancelled"


def test_categories_and_attributes() -> None:
    cats = mapper.categories(
        {
            "categories": [
                {"id": "7001", "parent_id": "0", "local_name": "Thực phẩm", "is_leaf": False},
                {"id": "700101", "parent_id": "7001", "local_name": "Đặc sản", "is_leaf": True},
            ]
        }
    )
    assert cats[0].parent_id is None and cats[1].parent_id == "7001" and cats[1].leaf
    attrs = mapper.attributes(
        {"attributes": [{"id": "1", "name": "Xuất xứ", "is_requried": True, "values": [{"name": "VN"}]}]}
    )
    assert attrs[0].required and attrs[0].options == ("VN",)
