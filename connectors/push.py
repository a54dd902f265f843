"""What a marketplace push (webhook) says, in one neutral shape, read from each marketplace's body.

A push only says that something changed: the receiver re-reads the object through the API before
believing it. These parsers are pure (bytes in, notices out) and never check signatures; each
marketplace's signature rule sits next to its request signing (``connectors/<name>/signing.py``).

Sources (public copies of the marketplaces' guides, repository ``lazykern/ecommerce-api-docs``):

- Shopee "Push Mechanism notifications": codes 1 shop authorised, 2 authorisation cancelled,
  3 order status, 4 tracking number, 6 banned item, 12 authorisation expiry (sent 7 days ahead),
  15 shipping document status. The body carries ``code``, ``shop_id``, ``timestamp`` and ``data``;
  the field names inside ``data`` (``ordersn``, ``status``, ``update_time``, ``tracking_no``,
  ``item_id``, ``shop_id_list``, ``expire_before``) follow Shopee's push pages as quoted by
  third-party clients and are **unverified** against a live push.
- Lazada "Lazada Push Mechanism" and "webhook-apis": ``message_type`` 0 trade order
  (``trade_order_id``, ``trade_order_line_id``, ``order_status``, ``status_update_time`` in seconds),
  1 product quality control (``itemId``, ``status`` PENDING | APPROVED | REJECTED | LIVE_REJECTED |
  LOCK, ``reason``, ``date`` in milliseconds), 8 authorisation token expiration alert
  (``seller_id``, ``auth_expiry_time``, 48 hours ahead). Lazada documents no deauthorisation push.
- TikTok Shop webhooks: ``type``, ``tts_notification_id``, ``shop_id``, ``timestamp``, ``data``;
  type 1 order status change (``order_id``, ``order_status``, ``update_time``), 5 product status
  change (``product_id``, ``status``, ``update_time``), 6 seller deauthorisation, 7 upcoming
  authorisation expiration (``expiration_time``). Type numbers other than 1 are **unverified**.
- Tiki: its Open API offers an event queue to pull from, not a signed push; nothing here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec

PushKind = Literal["order", "tracking", "item", "deauthorized", "auth_expiry", "other"]

#: Shopee warns this long before an authorisation lapses (push code 12).
SHOPEE_EXPIRY_NOTICE = timedelta(days=7)


class PushError(ValueError):
    """The body is not a push of this marketplace (not JSON, or not the documented shape)."""


class PushNotice(msgspec.Struct, frozen=True):
    """One thing a push says changed. ``status``, ``detail`` and ``expires_at`` are what the push
    claims; the receiver re-reads the object before acting on them (except the expiry warning,
    which no API tells)."""

    kind: PushKind
    code: str
    shop_id: str
    dedupe_key: str
    object_id: str = ""
    event_at: datetime | None = None
    status: str = ""
    detail: str = ""
    expires_at: datetime | None = None


def _load(raw_body: bytes) -> dict[str, Any]:
    try:
        body = msgspec.json.decode(raw_body)
    except msgspec.DecodeError as exc:
        raise PushError(f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise PushError("not a JSON object")
    return body


def _when(value: Any, *, millis: bool = False) -> datetime | None:
    """Unix seconds (or milliseconds) as an aware UTC time; 13-digit values are milliseconds."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not number > 0:  # also NaN
        return None
    if millis or number > 10_000_000_000:
        number /= 1000.0
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _digest(marketplace: str, raw_body: bytes) -> str:
    return f"{marketplace}:body:{hashlib.sha256(raw_body).hexdigest()}"


def _key(marketplace: str, *parts: Any) -> str:
    key = ":".join([marketplace, *(_text(p) for p in parts)])
    return key if len(key) <= 200 else f"{marketplace}:h:{hashlib.sha256(key.encode()).hexdigest()}"


def _stamp(at: datetime | None) -> str:
    return f"{at.timestamp():.3f}" if at else ""


def parse_shopee(raw_body: bytes) -> list[PushNotice]:
    body = _load(raw_body)
    code = _text(body.get("code"))
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    shop = _text(body.get("shop_id") or data.get("shop_id"))
    sent_at = _when(body.get("timestamp"))
    if code == "3":
        order, status = _text(data.get("ordersn")), _text(data.get("status"))
        at = _when(data.get("update_time")) or sent_at
        return [PushNotice("order", code, shop, _key("shopee", code, shop, order, status, _stamp(at)), order, at,
                           status)]
    if code == "4":
        order, tracking = _text(data.get("ordersn")), _text(data.get("tracking_no"))
        return [PushNotice("tracking", code, shop, _key("shopee", code, shop, order, tracking), order, sent_at,
                           detail=tracking)]
    if code == "6":
        item = _text(data.get("item_id"))
        return [PushNotice("item", code, shop, _key("shopee", code, shop, item, _stamp(sent_at)), item, sent_at,
                           "banned", _text(data.get("ban_reason") or data.get("reason")))]
    if code in ("2", "12"):
        listed = data.get("shop_id_list")
        shops = [_text(s) for s in (listed if isinstance(listed, list) and listed else [shop]) if _text(s)]
        kind: PushKind = "deauthorized" if code == "2" else "auth_expiry"
        expires = _when(data.get("expire_before")) or ((sent_at + SHOPEE_EXPIRY_NOTICE) if sent_at else None)
        return [PushNotice(kind, code, s, _key("shopee", code, s, _stamp(sent_at)), event_at=sent_at,
                           expires_at=expires if code == "12" else None) for s in shops]
    return [PushNotice("other", code, shop, _digest("shopee", raw_body), event_at=sent_at)]


#: Lazada QC statuses in the words of ``connectors.base.ItemState``.
LAZADA_QC = {"PENDING": "in_review", "APPROVED": "live", "REJECTED": "rejected", "LIVE_REJECTED": "rejected",
             "LOCK": "banned"}


def parse_lazada(raw_body: bytes) -> list[PushNotice]:
    body = _load(raw_body)
    code = _text(body.get("message_type"))
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    seller = _text(data.get("seller_id") or body.get("seller_id"))
    if seller == "null":
        seller = ""
    if code == "0":
        order, status = _text(data.get("trade_order_id")), _text(data.get("order_status"))
        at = _when(data.get("status_update_time"))
        return [PushNotice("order", code, seller, _key("lazada", code, seller, order, data.get("trade_order_line_id"),
                                                        data.get("reverse_order_line_id"), status, _stamp(at)),
                           order, at, status)]
    if code == "1":
        item, status = _text(data.get("itemId")), _text(data.get("status")).upper()
        at = _when(data.get("date"), millis=True)
        return [PushNotice("item", code, seller, _key("lazada", code, seller, item, status, _stamp(at)), item, at,
                           LAZADA_QC.get(status, status.lower()), _text(data.get("reason")))]
    if code == "8":
        expires = _when(data.get("auth_expiry_time"))
        return [PushNotice("auth_expiry", code, seller, _key("lazada", code, seller, _stamp(expires)),
                           event_at=_when(body.get("timestamp")), expires_at=expires)]
    return [PushNotice("other", code, seller, _digest("lazada", raw_body))]


TIKTOK_TYPES: dict[str, PushKind] = {"1": "order", "5": "item", "6": "deauthorized", "7": "auth_expiry"}


def parse_tiktok(raw_body: bytes) -> list[PushNotice]:
    body = _load(raw_body)
    code = _text(body.get("type"))
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    shop = _text(body.get("shop_id"))
    sent_at = _when(body.get("timestamp"))
    kind = TIKTOK_TYPES.get(code, "other")
    object_id = _text(data.get("order_id") if kind == "order" else data.get("product_id") if kind == "item" else "")
    status = _text(data.get("order_status") if kind == "order" else data.get("status") if kind == "item" else "")
    at = _when(data.get("update_time")) or sent_at
    notice_id = _text(body.get("tts_notification_id"))
    key = (_key("tiktok", "n", notice_id) if notice_id
           else _key("tiktok", code, shop, object_id, status, _stamp(at)) if kind != "other"
           else _digest("tiktok", raw_body))
    return [PushNotice(kind, code, shop, key, object_id, at, status,
                       expires_at=_when(data.get("expiration_time")) if kind == "auth_expiry" else None)]


def _strict(parse: Callable[[bytes], list[PushNotice]]) -> Callable[[bytes], list[PushNotice]]:
    """A body of the right marketplace but an unexpected shape is a :class:`PushError`, never a crash."""

    def guarded(raw_body: bytes) -> list[PushNotice]:
        try:
            return parse(raw_body)
        except PushError:
            raise
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise PushError(f"unexpected shape: {exc}") from None

    return guarded


PARSERS: dict[str, Callable[[bytes], list[PushNotice]]] = {
    "shopee": _strict(parse_shopee), "lazada": _strict(parse_lazada), "tiktok": _strict(parse_tiktok),
}
"""The marketplaces that push, and how to read each one's body."""
