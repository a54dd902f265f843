"""Shopee Open Platform v2 request signing.

Source: Shopee Open Platform developer guide, "API calls" → "Signature
calculation" (copy: thiiz/shopee-js .docs/API-calls.md, updated 2025-11-21):

- base string = partner_id + api path + timestamp                       (Public API)
- base string = partner_id + api path + timestamp + access_token + shop_id  (Shop API)
- base string = partner_id + api path + timestamp + access_token + merchant_id (Merchant API)
- sign = lowercase hex HMAC-SHA256(key = partner key, message = base string)
- ``timestamp`` is Unix seconds and "each API request needs to be requested
  within 5 minutes of a timestamp".

The api path is Shopee's own (``/api/v2/product/add_item``), never a proxy prefix.
The request body is not signed.
"""

from __future__ import annotations

import hashlib
import hmac

API_PREFIX = "/api/v2/"
TIMESTAMP_TOLERANCE_S = 300


def base_string(partner_id: int | str, path: str, timestamp: int, access_token: str = "", shop_id: int | str = "") -> str:
    return f"{partner_id}{path}{timestamp}{access_token}{shop_id}"


def sign(
    partner_key: str, partner_id: int | str, path: str, timestamp: int,
    access_token: str = "", shop_id: int | str = "",
) -> str:
    message = base_string(partner_id, path, timestamp, access_token, shop_id).encode()
    return hmac.new(partner_key.encode(), message, hashlib.sha256).hexdigest()


def verify(
    partner_key: str, partner_id: int | str, path: str, timestamp: int, given: str,
    access_token: str = "", shop_id: int | str = "",
) -> bool:
    expected = sign(partner_key, partner_id, path, timestamp, access_token, shop_id)
    return hmac.compare_digest(expected, given)


def push_signature(partner_key: str, url: str, raw_body: bytes) -> str:
    """Push (webhook) ``Authorization`` header: lowercase hex HMAC-SHA256(partner key, callback url +
    "|" + raw body) (Shopee "Push Mechanism notifications" guide, "Push Authorization": the base
    string is the URL registered for the push, "|", and the body as received; the guide warns
    against ``json.loads`` first, since a re-serialised body no longer matches)."""
    return hmac.new(partner_key.encode(), url.encode() + b"|" + raw_body, hashlib.sha256).hexdigest()


def verify_push(partner_key: str, url: str, raw_body: bytes, authorization: str) -> bool:
    """Constant-time check of a push's ``Authorization`` header over the raw bytes received."""
    return hmac.compare_digest(push_signature(partner_key, url, raw_body), authorization.strip().lower())
