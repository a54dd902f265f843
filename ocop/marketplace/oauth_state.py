"""The OAuth ``state`` of a shop connection is good once, and only in the browser session that
started the connection.

A signed state alone (``ocop.marketplace.shops.sign_state``) could be replayed for its whole
30 minutes, and by anyone holding it: someone could start a connection for their own shop and
trick a signed-in producer or staff member into opening the callback with it (OAuth 2.0 Security
BCP, RFC 9700 §4.7, "CSRF" on the redirect). So each connection gets a random nonce, signed into
the state and remembered in the starting session; the callback is accepted only when the nonce is
one its own session is waiting for, and it is claimed in Redis (``SET NX``) so a second callback
with the same state fails even when two arrive at once.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from litestar import Request

from ocop.marketplace.shops import STATE_TTL_S, ShopConnectError, state_nonce

SESSION_KEY = "oauth_nonces"
KEPT = 5
"""Connections a session may have in flight (several tabs, a retry); older nonces are dropped."""


def start(request: Request[Any, Any, Any]) -> str:
    """A fresh nonce for a connection started from this session (remembered in the session)."""
    nonce = secrets.token_urlsafe(16)
    session = request.scope.get("session")
    if isinstance(session, dict):
        session[SESSION_KEY] = [*session.get(SESSION_KEY, [])[-(KEPT - 1):], nonce]
    return nonce


async def claim(request: Request[Any, Any, Any], state: str) -> None:
    """Accept a verified ``state`` once, in the session that started it; ShopConnectError otherwise."""
    bad = ShopConnectError("bad_state", "The authorization link is invalid, used or expired; start again.",
                           "Liên kết ủy quyền không hợp lệ, đã dùng hoặc đã hết hạn, vui lòng thực hiện lại.")
    nonce = state_nonce(state)
    session = request.scope.get("session")
    waiting = session.get(SESSION_KEY, []) if isinstance(session, dict) else []
    if not nonce or nonce not in waiting:
        raise bad
    session[SESSION_KEY] = [n for n in waiting if n != nonce]  # type: ignore[index]
    key = "ocop:oauth-state:" + hashlib.sha256(nonce.encode()).hexdigest()[:32]
    if not await request.app.state.queue.redis.set(key, b"1", nx=True, ex=STATE_TTL_S):
        raise bad
