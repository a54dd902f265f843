"""Lazada signing: the documented algorithm, and agreement with the official SDK's signer."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import sys

import pytest

from connectors.lazada import signing


def test_base_string_is_path_then_sorted_name_value_pairs() -> None:
    params = {"timestamp": "1517820392000", "app_key": "123456", "sign_method": "sha256",
              "access_token": "tok", "order_id": "36835322434", "sign": "ignored"}
    assert signing.base_string("/order/items/get", params) == (
        "/order/items/getaccess_tokentokapp_key123456order_id36835322434sign_methodsha256timestamp1517820392000"
    )


def test_sign_is_uppercase_hex_hmac_sha256() -> None:
    params = {"app_key": "123456", "timestamp": "1517820392000", "sign_method": "sha256"}
    want = hmac.new(b"s3cret", b"/category/tree/getapp_key123456sign_methodsha256timestamp1517820392000",
                    hashlib.sha256).hexdigest().upper()
    assert signing.sign("s3cret", "/category/tree/get", params) == want


def test_agrees_with_lazop_sdk(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    base = sys.modules.get("lazop_sdk.base") or importlib.import_module("lazop_sdk.base")
    params = {"app_key": "120001", "timestamp": "1700000000000", "sign_method": "sha256",
              "partner_id": "lazop-sdk-python-20181207", "payload": "<Request><Product/></Request>",
              "access_token": "abc", "name": "Nước mắm Gò Bồi"}
    assert signing.sign("sec", "/product/create", params) == base.sign("sec", "/product/create", params)


def test_verify_is_case_insensitive_on_hex_but_strict_on_content() -> None:
    params = {"a": "1", "b": "2"}
    good = signing.sign("k", "/x", params)
    assert signing.verify("k", "/x", params, good.lower())
    assert not signing.verify("k", "/rest/x", params, good)
    assert not signing.verify("k", "/x", {"a": "1", "b": "3"}, good)
