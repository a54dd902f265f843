"""Lazada Open Platform request signing.

Source: Lazada Open Platform "Signature algorithm" (open.lazada.com/doc/doc.htm,
"API calling process"), cross-checked against Lazada's official Python SDK
``lazop-sdk`` (``lazop_sdk.base.sign``) and the npm ``lazada-open-api-package``:

1. take every request parameter — common (``app_key``, ``timestamp`` in
   milliseconds, ``sign_method=sha256``, ``access_token``, the SDK's
   ``partner_id``…) and business ones — except ``sign`` and file parts;
2. sort them by name (byte order);
3. concatenate name and value of each, no separators, after the API path
   (``/product/create``: the path after ``/rest``, never a proxy prefix);
4. HMAC-SHA256 with the app secret, uppercase hex.

Values are signed as sent (strings); the server checks the decoded query/form
values it received.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGN_METHOD = "sha256"


def base_string(api_path: str, params: Mapping[str, str]) -> str:
    return api_path + "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")


def sign(app_secret: str, api_path: str, params: Mapping[str, str]) -> str:
    message = base_string(api_path, params).encode("utf-8")
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()


def verify(app_secret: str, api_path: str, params: Mapping[str, str], given: str) -> bool:
    return hmac.compare_digest(sign(app_secret, api_path, params), given.upper())


def push_signature(app_key: str, app_secret: str, raw_body: bytes) -> str:
    """Push (Lazada Push Mechanism) ``Authorization`` header: lowercase hex HMAC-SHA256 keyed with
    the app secret over ``app_key + message body as received`` (Lazada "Lazada Push Mechanism"
    guide, "Authorization", and its Java sample: ``base = AppKey + messageBody``, hex lower-cased).
    Unlike API calls (uppercase hex), the push signature is lowercase."""
    return hmac.new(app_secret.encode(), app_key.encode() + raw_body, hashlib.sha256).hexdigest()


def verify_push(app_key: str, app_secret: str, raw_body: bytes, authorization: str) -> bool:
    """Constant-time check of a push's ``Authorization`` header over the raw bytes received."""
    return hmac.compare_digest(push_signature(app_key, app_secret, raw_body), authorization.strip().lower())
