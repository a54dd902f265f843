"""TikTok Shop signature: the official guide's worked examples are the vectors."""

from __future__ import annotations

import json

from connectors.tiktok.signing import (
    is_multipart,
    sign_request,
    sign_webhook,
    string_to_sign,
    verify_request,
    verify_webhook,
)

# "Sign your API request", partner.tiktokshop.com/docv2/page/sign-your-api-request
DOC_SECRET = "e59af819cc"
DOC_PATH = "/authorization/202309/shops"
DOC_QUERY = {"app_key": "29a39d", "timestamp": "1623812664"}
DOC_SIGN = "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"


def test_official_get_authorized_shops_vector() -> None:
    assert sign_request(DOC_SECRET, DOC_PATH, DOC_QUERY) == DOC_SIGN


def test_official_wrapped_string() -> None:
    expected = b"e59af819cc/authorization/202309/shopsapp_key29a39dtimestamp1623812664e59af819cc"
    assert string_to_sign(DOC_SECRET, DOC_PATH, DOC_QUERY) == expected


def test_official_body_example_base_string() -> None:
    """The guide's Update Shop Webhook example: body appended verbatim, spaces included."""
    body = b'{    "address":"https://partner.tiktokshop.com",    "event_type": "PACKAGE_UPDATE"}'
    query = {
        "timestamp": "1696909648",
        "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK",
        "app_key": "68xu9ks5p4i8",
    }
    documented = (
        b"/event/202309/webhooksapp_key68xu9ks5p4i8shop_cipherROW_xkMbgAAAeVAQra0eZWebFQq5aIK"
        b"timestamp1696909648" + body
    )
    got = string_to_sign(DOC_SECRET, "/event/202309/webhooks", query, body, content_type="application/json")
    assert got == DOC_SECRET.encode() + documented + DOC_SECRET.encode()


def test_sign_and_access_token_are_excluded() -> None:
    noisy = {**DOC_QUERY, "sign": "whatever", "access_token": "TTP_x"}
    assert sign_request(DOC_SECRET, DOC_PATH, noisy) == DOC_SIGN


def test_parameter_order_does_not_matter() -> None:
    reordered = {"timestamp": "1623812664", "app_key": "29a39d"}
    assert sign_request(DOC_SECRET, DOC_PATH, reordered) == DOC_SIGN


def test_raw_body_bytes_matter() -> None:
    compact = json.dumps({"a": 1, "b": 2}, separators=(",", ":")).encode()
    spaced = b'{ "b": 2,  "a": 1 }'
    assert json.loads(compact) == json.loads(spaced)
    q = {"app_key": "k", "timestamp": "1"}
    assert sign_request("s", "/p", q, compact) != sign_request("s", "/p", q, spaced)
    assert verify_request(
        "s", "/p", q, spaced, content_type="application/json", signature=sign_request("s", "/p", q, spaced)
    )
    assert not verify_request(
        "s", "/p", q, compact, content_type="application/json", signature=sign_request("s", "/p", q, spaced)
    )


def test_multipart_body_is_not_signed() -> None:
    q = {"app_key": "k", "timestamp": "1"}
    ct = "multipart/form-data; boundary=abc"
    assert is_multipart(ct)
    assert not is_multipart("application/json")
    assert sign_request("s", "/p", q, b"one", content_type=ct) == sign_request(
        "s", "/p", q, b"two", content_type=ct
    )
    assert sign_request("s", "/p", q, b"one", content_type=ct) == sign_request("s", "/p", q)


def test_path_is_signed() -> None:
    assert sign_request(DOC_SECRET, "/tiktok" + DOC_PATH, DOC_QUERY) != DOC_SIGN


def test_vietnamese_values_are_utf8() -> None:
    q = {"app_key": "k", "timestamp": "1", "keyword": "Mật ong"}
    assert "Mật ong".encode() in string_to_sign("s", "/p", q)


def test_webhook_signature_covers_key_and_body() -> None:
    body = b'{"type":1,"data":{"order_id":"5"}}'
    sig = sign_webhook("secret", "appkey", body)
    assert len(sig) == 64 and sig == sig.lower()
    assert verify_webhook("secret", "appkey", body, sig)
    assert not verify_webhook("secret", "appkey", body + b" ", sig)
    assert not verify_webhook("secret", "other", body, sig)
