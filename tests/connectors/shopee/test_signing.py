"""Shopee v2 signing: the guide's published base strings, and agreement with pyshopee's own signer."""

from __future__ import annotations

import hashlib
import hmac
import sys
import types

import pytest

from connectors.shopee import signing


def test_base_strings_match_the_developer_guide_examples() -> None:
    # Shopee developer guide, "API calls" → "Signature calculation" (shop and public API examples).
    assert signing.base_string(2001887, "/api/v2/shop/get_shop_info", 1655714431,
                               "59777174636562737266615546704c6d", 14701711) == (
        "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711"
    )
    assert signing.base_string(2001887, "/api/v2/public/get_shops_by_partner", 1655714431) == (
        "2001887/api/v2/public/get_shops_by_partner1655714431"
    )


def test_sign_is_lowercase_hex_hmac_sha256_over_the_base_string() -> None:
    key = "partner-key-0123"
    got = signing.sign(key, 2001887, "/api/v2/shop/get_shop_info", 1655714431, "tok", 14701711)
    want = hmac.new(key.encode(), b"2001887/api/v2/shop/get_shop_info1655714431tok14701711", hashlib.sha256).hexdigest()
    assert got == want and got == got.lower() and len(got) == 64


def test_agrees_with_pyshopee(monkeypatch: pytest.MonkeyPatch) -> None:
    stub = types.ModuleType("selenium")
    stub.webdriver = types.ModuleType("selenium.webdriver")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "selenium", stub)
    monkeypatch.setitem(sys.modules, "selenium.webdriver", stub.webdriver)  # type: ignore[attr-defined]
    from pyshopee2 import Client

    c = Client(14701711, 2001887, "k3y", "http://cb", access_token="abc")
    assert c._api_sign("/api/v2/product/add_item", 1700000000) == signing.sign(
        "k3y", 2001887, "/api/v2/product/add_item", 1700000000, "abc", 14701711)
    assert c._api_short_sign("/api/v2/auth/token/get", 1700000000) == signing.sign(
        "k3y", 2001887, "/api/v2/auth/token/get", 1700000000)


def test_verify_rejects_any_change() -> None:
    good = signing.sign("k", 1, "/api/v2/x", 10, "t", 2)
    assert signing.verify("k", 1, "/api/v2/x", 10, good, "t", 2)
    assert not signing.verify("k", 1, "/shopee/api/v2/x", 10, good, "t", 2)  # a proxy prefix is not signed
    assert not signing.verify("k", 1, "/api/v2/x", 11, good, "t", 2)
    assert not signing.verify("k", 1, "/api/v2/x", 10, good, "t", 3)
