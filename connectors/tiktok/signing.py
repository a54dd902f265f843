"""TikTok Shop Partner API request and webhook signatures (pure functions).

Sources
-------
- Request signature: "Sign your API request", TikTok Shop Partner Center developer guide,
  https://partner.tiktokshop.com/docv2/page/sign-your-api-request (scraped copy read 2026-11).
  Algorithm, exactly as the official Go/Java samples do it:

  1. take every query parameter except ``sign`` and ``access_token``;
  2. sort the names (plain byte order, Go ``sort.Slice(keys[i] < keys[j])``);
  3. concatenate ``name + value`` with no separators;
  4. prepend the request path (``/authorization/202309/shops``; never a proxy prefix);
  5. unless the Content-Type is ``multipart/form-data``, append the request body **as sent**
     (the Go sample reads ``req.Body`` bytes; the server recomputes over the raw bytes, so a
     re-serialised JSON body would not match — we sign and send the very same ``bytes``);
  6. wrap with the app secret on both sides;
  7. HMAC-SHA256 keyed with the app secret, lowercase hex.

  The guide's worked example (app_secret ``e59af819cc``, path ``/authorization/202309/shops``,
  ``app_key=29a39d``, ``timestamp=1623812664``) gives
  ``b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8``; it is our test vector.
  The same page says the timestamp must be a 10-digit Unix time within 5 minutes of the
  platform's clock (:data:`TIMESTAMP_TOLERANCE_S`).
- Webhook signature: header ``Authorization`` = lowercase hex HMAC-SHA256(app secret,
  ``app_key + raw body``) (reference/marketplaces.md; TikTok Shop webhook guide). No
  published vector was found, so it is tested only for tamper-sensitivity.

Unverified: how the platform treats a query parameter repeated with several values (the Go
sample signs the first value, ``queries.Get``); we never send repeated names.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

#: Names never part of the signed string (official guide, step 1).
EXCLUDED_PARAMS: frozenset[str] = frozenset({"sign", "access_token"})

#: A request timestamp older or newer than this is refused (official guide, "Common mistakes").
TIMESTAMP_TOLERANCE_S = 300


def is_multipart(content_type: str | None) -> bool:
    """True when the body must be left out of the signature (media type ``multipart/form-data``)."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def string_to_sign(
    app_secret: str,
    path: str,
    query: Mapping[str, str],
    body: bytes = b"",
    *,
    content_type: str | None = None,
) -> bytes:
    """The exact bytes that are HMAC-ed: ``secret + path + k1v1k2v2… + body + secret``."""
    params = "".join(f"{k}{query[k]}" for k in sorted(query) if k not in EXCLUDED_PARAMS)
    signed_body = b"" if is_multipart(content_type) else body
    secret = app_secret.encode()
    return secret + path.encode() + params.encode() + signed_body + secret


def sign_request(
    app_secret: str,
    path: str,
    query: Mapping[str, str],
    body: bytes = b"",
    *,
    content_type: str | None = None,
) -> str:
    """Lowercase hex HMAC-SHA256 of :func:`string_to_sign`, keyed with the app secret."""
    message = string_to_sign(app_secret, path, query, body, content_type=content_type)
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


def verify_request(
    app_secret: str,
    path: str,
    query: Mapping[str, str],
    body: bytes,
    *,
    content_type: str | None,
    signature: str,
) -> bool:
    """Constant-time check of a received ``sign`` against the raw query and body bytes."""
    expected = sign_request(app_secret, path, query, body, content_type=content_type)
    return hmac.compare_digest(expected, signature.lower())


def sign_webhook(app_secret: str, app_key: str, raw_body: bytes) -> str:
    """Value of the ``Authorization`` header TikTok puts on a webhook push."""
    return hmac.new(app_secret.encode(), app_key.encode() + raw_body, hashlib.sha256).hexdigest()


def verify_webhook(app_secret: str, app_key: str, raw_body: bytes, authorization: str) -> bool:
    """Constant-time check of a webhook ``Authorization`` header over the raw body."""
    return hmac.compare_digest(sign_webhook(app_secret, app_key, raw_body), authorization.strip().lower())
