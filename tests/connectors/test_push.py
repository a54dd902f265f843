"""Push signatures and bodies (pure): each marketplace's documented rule over the raw bytes, and the
neutral notices read from each marketplace's body. Vectors computed independently with
``openssl dgst -sha256 -hmac``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from connectors.lazada import signing as lazada
from connectors.push import PARSERS, PushError, parse_lazada, parse_shopee, parse_tiktok
from connectors.shopee import signing as shopee
from connectors.tiktok import signing as tiktok

SHOPEE_URL = "https://ocop.example.vn/push/shopee"


def test_shopee_push_signature_is_url_bar_raw_body() -> None:
    body = b'{"code":3}'
    expected = "df0c8660e067d1cec97cca2d6f6cbed16b9fd1531f23de058e2d704995edb3f6"
    assert shopee.push_signature("partnerkey", SHOPEE_URL, body) == expected
    assert shopee.verify_push("partnerkey", SHOPEE_URL, body, expected)
    assert shopee.verify_push("partnerkey", SHOPEE_URL, body, expected.upper())  # hex case is not the secret
    assert not shopee.verify_push("partnerkey", SHOPEE_URL + "/", body, expected)  # another URL
    assert not shopee.verify_push("otherkey", SHOPEE_URL, body, expected)
    assert not shopee.verify_push("partnerkey", SHOPEE_URL, body, "")


def test_lazada_push_signature_is_app_key_plus_raw_body_lowercase() -> None:
    body = b'{"seller_id":"1234567","message_type":0}'
    expected = "2348c001252e1ba91cd7398299b9a10fdc634ca52f7d34fb03014a557825ea25"
    assert lazada.push_signature("123456", "3412gyo124goi3124", body) == expected
    assert lazada.verify_push("123456", "3412gyo124goi3124", body, expected)
    assert not lazada.verify_push("123457", "3412gyo124goi3124", body, expected)


def test_tiktok_webhook_signature_is_app_key_plus_raw_body() -> None:
    body = b'{"type":1}'
    expected = "53d6e64078426251f38e6d0db159ad7306f6c6c9fc4730763d89983429879127"
    assert tiktok.sign_webhook("tiktoksecret", "6a1b2c3d4e5f", body) == expected
    assert tiktok.verify_webhook("tiktoksecret", "6a1b2c3d4e5f", body, expected)


@pytest.mark.parametrize("check", [
    lambda raw, sig: shopee.verify_push("k", SHOPEE_URL, raw, sig),
    lambda raw, sig: lazada.verify_push("app", "k", raw, sig),
    lambda raw, sig: tiktok.verify_webhook("k", "app", raw, sig),
])
def test_a_reserialised_body_fails(check) -> None:
    """The same JSON written differently (spacing, key order) is not what was signed."""
    raw = b'{"shop_id": 123, "code": 3, "data": {"ordersn": "A1"}}'
    signed = {0: shopee.push_signature("k", SHOPEE_URL, raw), 1: lazada.push_signature("app", "k", raw),
              2: tiktok.sign_webhook("k", "app", raw)}
    for sig in signed.values():
        if check(raw, sig):
            break
    else:
        pytest.fail("the raw body's own signature must verify")
    reserialised = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    assert reserialised != raw and not check(reserialised, sig)


def test_shopee_bodies_become_notices() -> None:
    order = parse_shopee(b'{"shop_id":14701711,"code":3,"timestamp":1764700000,'
                         b'"data":{"ordersn":"251203ABC","status":"READY_TO_SHIP","update_time":1764699990}}')
    assert [(n.kind, n.shop_id, n.object_id, n.status) for n in order] == [
        ("order", "14701711", "251203ABC", "READY_TO_SHIP")]
    assert order[0].event_at == datetime.fromtimestamp(1764699990, UTC)
    tracking = parse_shopee(b'{"shop_id":1,"code":4,"timestamp":1,"data":{"ordersn":"X","tracking_no":"SPXVN1"}}')
    assert (tracking[0].kind, tracking[0].detail) == ("tracking", "SPXVN1")
    banned = parse_shopee(b'{"shop_id":1,"code":6,"timestamp":5,"data":{"item_id":99,"ban_reason":"fake"}}')
    assert (banned[0].kind, banned[0].object_id, banned[0].status, banned[0].detail) == ("item", "99", "banned", "fake")
    gone = parse_shopee(b'{"code":2,"timestamp":5,"data":{"shop_id_list":[1,2]}}')
    assert [(n.kind, n.shop_id) for n in gone] == [("deauthorized", "1"), ("deauthorized", "2")]
    expiring = parse_shopee(b'{"code":12,"timestamp":1000,"data":{"shop_id_list":[7]}}')
    assert expiring[0].kind == "auth_expiry"
    assert expiring[0].expires_at == datetime.fromtimestamp(1000 + 7 * 86400, UTC)  # warned 7 days ahead
    # the same event twice has one dedupe key; another status of the same order another
    again = parse_shopee(b'{"shop_id":14701711,"code":3,"timestamp":1764700099,'
                         b'"data":{"ordersn":"251203ABC","status":"READY_TO_SHIP","update_time":1764699990}}')
    assert again[0].dedupe_key == order[0].dedupe_key
    shipped = parse_shopee(b'{"shop_id":14701711,"code":3,"timestamp":1764700000,'
                           b'"data":{"ordersn":"251203ABC","status":"SHIPPED","update_time":1764700001}}')
    assert shipped[0].dedupe_key != order[0].dedupe_key


def test_lazada_and_tiktok_bodies_become_notices() -> None:
    qc = parse_lazada(b'{"seller_id":"200170001","message_type":1,"timestamp":1627451616,'
                      b'"data":{"date":1627451616614,"itemId":2202832065,"reason":"x","status":"Lock"}}')
    assert (qc[0].kind, qc[0].object_id, qc[0].status) == ("item", "2202832065", "banned")
    order = parse_lazada(b'{"seller_id":"1234567","message_type":0,"data":{"order_status":"unpaid",'
                         b'"status_update_time":1603698638,"trade_order_id":"260422900198363",'
                         b'"trade_order_line_id":"260422900298363"},"timestamp":1603766859530,"site":"lazada_vn"}')
    assert (order[0].kind, order[0].object_id, order[0].shop_id) == ("order", "260422900198363", "1234567")
    expiry = parse_lazada(b'{"seller_id":"null","message_type":8,"data":{"app_key":"115527",'
                          b'"auth_expiry_time":1627542238,"seller_id":"1000165972"},"timestamp":1627416758}')
    assert (expiry[0].kind, expiry[0].shop_id) == ("auth_expiry", "1000165972")
    tt = parse_tiktok(b'{"type":1,"tts_notification_id":"N1","shop_id":"7494001","timestamp":1,'
                      b'"data":{"order_id":"576","order_status":"AWAITING_SHIPMENT","update_time":2}}')
    assert (tt[0].kind, tt[0].object_id, tt[0].dedupe_key) == ("order", "576", "tiktok:n:N1")
    with pytest.raises(PushError):
        parse_tiktok(b"not json")


@pytest.mark.parametrize("market", sorted(PARSERS))
@pytest.mark.parametrize("body", [
    b"[]", b"null", b'{"code": 12, "data": {"shop_id_list": 5}}', b'{"code": 3, "data": []}',
    b'{"code": 3, "timestamp": 1e300, "data": {"update_time": "x"}}', b'{"message_type": 1, "data": {"date": -1}}',
    b'{"type": 1, "timestamp": 99999999999999999999, "data": {"update_time": NaN}}', b'{"data": {"status": {}}}',
])
def test_odd_bodies_are_push_errors_or_notices_never_crashes(market: str, body: bytes) -> None:
    try:
        notices = PARSERS[market](body)
    except PushError:
        return
    assert all(n.dedupe_key for n in notices)
