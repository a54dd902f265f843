"""Tiki Open API OAuth 2.0: authorize URL, token-endpoint requests, token answers (pure).

Tiki signs nothing per request: every call carries ``Authorization: Bearer <access_token>``
(open.tiki.vn "Client credentials" and "Authorization code flow" pages; the API reference
pages list "Authentication: Bearer valid token of seller"). What each rule rests on:

Verified in Tiki's public docs (open.tiki.vn/docs/docs/current/oauth-2-0/...):
- token endpoint ``POST https://api.tiki.vn/sc/oauth2/token``, form-encoded
  (``Content-Type: application/x-www-form-urlencoded``);
- the client authenticates with HTTP Basic ``base64(client_id:client_secret)`` ("basic header
  method" in every example) — the docs also allow the secret in the body, we use the header;
- grants: ``client_credentials`` (in-house app, **no refresh token**: re-run the grant),
  ``authorization_code`` (apps serving many sellers) and ``refresh_token`` (the answer carries a
  new refresh token "with a new expiration date" — we treat the old one as spent);
- authorization request parameters ``response_type=code``, ``client_id``, ``redirect_uri``
  (must match one registered), ``scope`` (space separated, e.g. ``offline product order
  inventory``; ``offline`` is what yields a refresh token) and ``state`` (at least 8 characters).

Unverified (the scraped pages cut the URL off; the token endpoint is an ORY-Hydra style
``/sc/oauth2/token``, so the authorize endpoint is taken as its sibling ``/sc/oauth2/auth``):
- :data:`AUTHORIZE_PATH`;
- the token answer's field names beyond the OAuth 2 standard (RFC 6749 §5.1:
  ``access_token``, ``token_type``, ``expires_in``, ``refresh_token``, ``scope``) and the
  access-token lifetime (we always read ``expires_in``, never assume one).
"""

from __future__ import annotations

import base64
import time
from urllib.parse import urlencode

import msgspec

TOKEN_PATH = "/sc/oauth2/token"
AUTHORIZE_PATH = "/sc/oauth2/auth"
#: Scopes asked for by default: ``offline`` gives a refresh token; the rest are what publishing
#: and order sync touch (scope names from the authorization-code-flow page example).
DEFAULT_SCOPES: tuple[str, ...] = ("offline", "product", "order", "inventory")
MIN_STATE_LEN = 8


class TikiTokenAnswer(msgspec.Struct, frozen=True):
    """RFC 6749 §5.1 token answer as Tiki's token endpoint returns it."""

    access_token: str
    expires_in: int
    token_type: str = "bearer"
    refresh_token: str | None = None
    scope: str | None = None


class TikiOAuthError(msgspec.Struct, frozen=True):
    """RFC 6749 §5.2 error answer (``invalid_grant``, ``invalid_client``, …)."""

    error: str
    error_description: str | None = None


def authorize_url(
    auth_base: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
) -> str:
    """Where to send the seller to consent (authorization code flow)."""
    if len(state) < MIN_STATE_LEN:
        raise ValueError(f"Tiki requires a state of at least {MIN_STATE_LEN} characters")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
        }
    )
    return f"{auth_base.rstrip('/')}{AUTHORIZE_PATH}?{query}"


def basic_auth_header(client_id: str, client_secret: str) -> str:
    """``Authorization`` header value of the client-authentication "basic header method"."""
    raw = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def parse_basic_auth(header: str) -> tuple[str, str] | None:
    """Inverse of :func:`basic_auth_header` (used by the sandbox); None when malformed."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def code_grant_form(code: str, redirect_uri: str, client_id: str) -> dict[str, str]:
    """Form body exchanging an authorization code."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
    }


def refresh_grant_form(refresh_token: str, client_id: str) -> dict[str, str]:
    """Form body of the refresh grant (exactly the fields of Tiki's refresh example)."""
    return {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}


def client_credentials_form() -> dict[str, str]:
    """Form body of the client-credentials grant (in-house apps)."""
    return {"grant_type": "client_credentials"}


def expiry_epoch(answer: TikiTokenAnswer, now: float | None = None) -> int:
    """Absolute expiry (Unix seconds) of an answer's access token."""
    return int((time.time() if now is None else now) + answer.expires_in)
