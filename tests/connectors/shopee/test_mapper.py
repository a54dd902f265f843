"""Shopee mapper: pure functions on fixtures."""

from __future__ import annotations

import unicodedata

import pytest

from connectors.shopee import mapper
from tests.connectors.helpers import product


def test_add_item_payload_fields() -> None:
    p = product("SKU-1", image_ids=tuple(f"img{i}" for i in range(12)), weight_g=1250)
    doc = mapper.add_item_payload(p)
    assert doc["item_sku"] == "SKU-1"
    assert doc["original_price"] == 45_000 and isinstance(doc["original_price"], int)
    assert doc["seller_stock"] == [{"stock": 120}]
    assert doc["weight"] == 1.25  # kg
    assert doc["dimension"] == {"package_length": 30, "package_width": 20, "package_height": 5}
    assert doc["brand"] == {"brand_id": 0, "original_brand_name": "No brand"}
    assert len(doc["image"]["image_id_list"]) == 9
    assert doc["category_id"] == 100780  # OCOP group 1 (food) default
    assert "OCOP 4 sao" in doc["description"] and "1234/QĐ-UBND" in doc["description"]


def test_default_category_per_ocop_group_comes_from_data_and_can_be_overridden() -> None:
    by_group = mapper.category_defaults()["by_group"]
    assert set(by_group) == {"1", "2", "3", "4", "5", "6"}
    for group, cat in by_group.items():
        assert mapper.category_id(product("S", ocop_group=int(group))) == cat
    assert mapper.category_id(product("S", category_id="100783")) == 100783
    with pytest.raises(mapper.MappingError):
        mapper.category_id(product("S", ocop_group=9))


def test_title_rules() -> None:
    long = "Rượu Bàu Đá " * 20 + "🍶 <b>ngon</b> | #1"
    name = mapper.item_name(product("S", name=long))
    assert len(name) <= mapper.NAME_MAX
    assert not any(ch in name for ch in "🍶<>|#")
    short = mapper.item_name(product("S", name="Tré"))
    assert len(short) >= mapper.NAME_MIN and "OCOP 4 sao" in short
    # NFD input becomes NFC
    nfd = "Nem cho\u031b\u0323 Huye\u0323\u0302n"
    assert mapper.item_name(product("S", name=nfd)) == "Nem chợ Huyện" == unicodedata.normalize("NFC", nfd)


def test_description_limit_keeps_the_ocop_block() -> None:
    d = mapper.description(product("S", description="Ngon. " * 2000))
    assert len(d) <= mapper.DESCRIPTION_MAX
    assert d.endswith("Quy cách: gói 10 bánh") and "Giấy chứng nhận OCOP số 1234/QĐ-UBND" in d


def test_invalid_products_are_refused() -> None:
    for bad in (dict(price_vnd=0), dict(image_ids=()), dict(weight_g=0)):
        with pytest.raises(mapper.MappingError):
            mapper.add_item_payload(product("S", **({"image_ids": ("a",)} | bad)))


def test_item_state_mapping() -> None:
    assert mapper.item_state("NORMAL", []) == ("live", None)
    assert mapper.item_state("REVIEWING", []) == ("in_review", None)
    assert mapper.item_state("UNLIST", []) == ("unlisted", None)
    assert mapper.item_state("BANNED", [{"violation_type": "LISTING_REJECTED", "violation_reason": "x"}]) == ("rejected", "x")
    assert mapper.item_state("BANNED", [{"violation_type": "PROHIBITED_LISTING", "violation_reason": "y"}]) == ("banned", "y")


def test_order_mapping() -> None:
    raw = {"order_sn": "2411250001", "order_status": "TO_RETURN", "create_time": 1732500000, "update_time": 1732600000,
           "total_amount": 205000.0,
           "item_list": [{"item_id": 7, "item_name": "Bánh", "item_sku": "A", "model_sku": "",
                          "model_quantity_purchased": 2, "model_original_price": 50000, "model_discounted_price": 45000}]}
    o = mapper.order_from_detail(raw)
    assert o.status == "returned" and o.total_vnd == 205_000
    assert o.lines[0].seller_sku == "A" and o.lines[0].quantity == 2 and o.lines[0].total_vnd == 90_000
    assert o.created_at.timestamp() == 1732500000
