"""Lazada mapper: pure functions on fixtures."""

from __future__ import annotations

import pytest

from connectors.lazada import mapper
from tests.connectors.helpers import product


def test_product_document() -> None:
    doc = mapper.product_document(product("SKU-9", image_ids=tuple(f"http://i/{n}.jpg" for n in range(10))))
    p = doc["Request"]["Product"]
    assert p["PrimaryCategory"] == "10001"
    assert len(p["Images"]["Image"]) == 8
    assert p["Attributes"]["brand"] == "No Brand"
    assert "OCOP 4 sao" in p["Attributes"]["description"]
    sku = p["Skus"]["Sku"][0]
    assert sku == {"SellerSku": "SKU-9", "quantity": 120, "price": 45_000, "package_weight": 0.25,
                   "package_length": 30, "package_width": 20, "package_height": 5}
    assert mapper.product_document(product("S", image_ids=("u",)), item_id="77")["Request"]["Product"]["ItemId"] == "77"


def test_categories_from_data_and_refusals() -> None:
    assert set(mapper.category_defaults()["by_group"]) == {"1", "2", "3", "4", "5", "6"}
    assert mapper.category_id(product("S", ocop_group=2)) == "10003"
    with pytest.raises(mapper.MappingError):
        mapper.product_document(product("S"))  # no image


def test_title_limit_and_forbidden_characters() -> None:
    name = mapper.item_name(product("S", name="Hạt điều rang muối " * 30 + "<script>"))
    assert len(name) <= mapper.NAME_MAX and "<" not in name


def test_item_state() -> None:
    assert mapper.item_state("Active") == ("live", None)
    assert mapper.item_state("Pending QC", "pending") == ("in_review", None)
    assert mapper.item_state("Rejected", "rejected", "Wrong category") == ("rejected", "Wrong category")
    assert mapper.item_state("Suspended", "rejected", "Fake") == ("banned", "Fake")
    assert mapper.item_state("InActive") == ("unlisted", None)


def test_order_groups_units_into_lines() -> None:
    order = {"order_id": 5, "created_at": "2026-11-25 10:00:00 +0700", "updated_at": "2026-11-25 11:00:00 +0700",
             "price": "135000.00", "shipping_fee": "15000.00", "statuses": ["canceled"]}
    units = [{"sku": "A", "product_id": 1, "name": "Bánh", "paid_price": "45000.00"}] * 3
    o = mapper.order_from_documents(order, units)
    assert o.status == "cancelled" and o.total_vnd == 150_000
    assert len(o.lines) == 1 and o.lines[0].quantity == 3 and o.lines[0].total_vnd == 135_000
    assert o.created_at.utcoffset().total_seconds() == 7 * 3600
