"""Personal API tokens for staff scripts (``Authorization: Bearer ocop_…``).

The token is shown once when created; only its SHA-256 is stored, so a database leak does not leak
usable tokens. A random 32-byte token needs no slow hash (nothing to brute-force, unlike passwords).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from litestar.types import Scope

from ocop.accounts.tables import ApiToken

PREFIX = "ocop_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(scope: Scope) -> str | None:
    """The personal API token a request carries (``Authorization: Bearer …``), or None. The first
    Authorization header decides, as everywhere that asks: authentication
    (``ocop.accounts.auth``), the session bypass (``ocop.accounts.sessions``) and the API rate
    limit's identity (``ocop.web.ratelimit``) must agree on who is calling."""
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            return value[7:].strip().decode("latin-1") if value[:7].lower() == b"bearer " else None
    return None


def rate_identity(scope: Scope) -> str:
    """Whom an API request counts against in the API rate limit (``ocop.web.ratelimit``): its token
    (``token:…``, hashed), else the signed-in user (``user:…``), else the client address (``ip:…``)."""
    token = bearer_token(scope)
    if token is not None:
        return "token:" + hash_token(token)[:32]
    session = scope.get("session")
    if isinstance(session, dict) and session.get("uid") is not None:
        return f"user:{session['uid']}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


async def create_token(user_id: int, name: str) -> tuple[dict[str, Any], str]:
    """Create a token; returns (row, the clear token to show once)."""
    clear = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user_id, name=name.strip()[:120] or "token", token_hash=hash_token(clear))
    await row.save()
    return row.to_dict(), clear


async def list_tokens(user_id: int) -> list[dict[str, Any]]:
    return (
        await ApiToken.select(
            ApiToken.id, ApiToken.name, ApiToken.created_at, ApiToken.last_used_at, ApiToken.revoked_at
        )
        .where(ApiToken.user == user_id)
        .order_by(ApiToken.id)
    )


async def revoke_token(user_id: int, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False when it is not theirs (or does not exist)."""
    row = (
        await ApiToken.select(ApiToken.id)
        .where((ApiToken.id == token_id) & (ApiToken.user == user_id))
        .first()
    )
    if row is None:
        return False
    await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)}).where(
        (ApiToken.id == token_id) & ApiToken.revoked_at.is_null()
    )
    return True
