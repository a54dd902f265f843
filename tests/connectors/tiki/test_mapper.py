"""Tiki mapper: our product → product request; their order → ours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.base import PermanentError, ProductInput
from connectors.tiki import mapper


def product(**kw: object) -> ProductInput:
    base: dict[str, object] = dict(
        seller_sku="OCOP-GL-0042",
        name="Cà phê Robusta Gia Lai",
        description="Rang mộc.",
        price_vnd=120000,
        stock=30,
        weight_g=500,
        length_cm=10,
        width_cm=6,
        height_cm=18,
        ocop_stars=3,
        certificate_number="88/QĐ-UBND",
        ocop_group=2,
        image_ids=("https://media.example/a.jpg", "https://media.example/b.jpg"),
    )
    base.update(kw)
    return ProductInput(**base)  # type: ignore[arg-type]


def test_request_body_carries_sku_price_stock_images() -> None:
    body = mapper.request_body(product(), warehouse_id=7)
    (variant,) = body["variants"]
    assert variant["sku"] == "OCOP-GL-0042" and variant["price"] == 120000
    assert variant["warehouse_stocks"] == [{"warehouseId": 7, "qtyAvailable": 30}]
    assert body["image"] == "https://media.example/a.jpg" and body["images"] == [
        "https://media.example/b.jpg"
    ]
    assert body["attributes"]["brand"] == "No Brand"
    assert body["attributes"]["product_weight_kg"] == 0.5
    assert body["category_id"] == mapper.DEFAULT_CATEGORY_BY_GROUP[2]
    assert "OCOP 3 sao" in body["description"] and "88/QĐ-UBND" in body["description"]


def test_request_body_refuses_bad_products() -> None:
    with pytest.raises(PermanentError):
        mapper.request_body(product(image_ids=()), warehouse_id=1)
    with pytest.raises(PermanentError):
        mapper.request_body(product(price_vnd=-1), warehouse_id=1)


def test_update_sku_body() -> None:
    assert mapper.update_sku_body("S", price_vnd=1000, stock=4, warehouse_id=7) == {
        "original_sku": "S",
        "price": 1000,
        "seller_warehouse": "7",
        "warehouse_quantities": [{"warehouse_id": 7, "qty_available": 4}],
    }
    assert mapper.update_sku_body("S", active=False) == {"original_sku": "S", "active": 0}


def test_request_states() -> None:
    rej = mapper.request_status({"state": "rejected", "reasons": ["Thiếu ảnh giấy chứng nhận OCOP"]}, "t1")
    assert rej.state == "rejected" and rej.reason == "Thiếu ảnh giấy chứng nhận OCOP"
    assert mapper.request_status({"state": "bot_waiting_approve"}, "t1").state == "in_review"
    assert mapper.request_status({"state": "approved"}, "t1").state == "unlisted"
    with pytest.raises(PermanentError):
        mapper.request_status({"state": "??"}, "t1")


def test_times_are_vietnam_local() -> None:
    assert mapper.parse_time("2026-11-25 07:00:00") == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    assert mapper.fmt_time(datetime(2026, 11, 25, 0, 0, tzinfo=UTC)) == "2026-11-25 07:00:00"


def test_order_from_tiki() -> None:
    order = {
        "code": "950030154",
        "status": "canceled",
        "created_at": "2026-11-20 10:00:00",
        "updated_at": "2026-11-21 10:00:00",
        "invoice": {"grand_total": 255000.0},
        "items": [
            {
                "product": {
                    "id": 2091401,
                    "sku": "2886025648971",
                    "seller_product_code": "OCOP-GL-0042",
                    "name": "Cà phê",
                },
                "invoice": {"price": 120000.00, "quantity": 2, "subtotal": 240000.00},
            },
        ],
    }
    got = mapper.order_from_tiki(order)
    assert got.status == "cancelled" and got.total_vnd == 255000
    (line,) = got.lines
    assert (line.seller_sku, line.quantity, line.unit_price_vnd, line.total_vnd) == (
        "OCOP-GL-0042",
        2,
        120000,
        240000,
    )
    assert got.updated_at == datetime(2026, 11, 21, 3, tzinfo=UTC)
    assert mapper.order_from_tiki({**order, "status": "returned"}).status == "returned"
