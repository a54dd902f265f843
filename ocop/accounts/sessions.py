"""Server-side sessions whose id changes on login (no session fixation).

Litestar's ``ServerSideSessionBackend`` keeps whatever id the browser sent, so an id planted
before login would survive it. A handler that changes privilege calls :func:`rotate_session`;
the backend below then deletes the old record and issues a fresh random id in the response.
Cookies: HttpOnly, SameSite=Lax, Secure when the site is served over https (Settings.secure_cookies).
The store is Redis (registered in the app's lifespan), so sessions work across processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import ASGIApp, Empty, Message, Receive, Scope, ScopeSession, Send
from litestar.utils.dataclass import extract_dataclass_items

from ocop.accounts.tokens import bearer_token

SESSION_COOKIE = "ocop_session"
_ROTATE = "_rotate"
SESSION_STORE = "sessions"


class RotatingSessionBackend(ServerSideSessionBackend):
    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        if isinstance(scope_session, dict) and scope_session.pop(_ROTATE, False):
            old = connection.cookies.get(self.config.key)
            store = self.config.get_store_from_app(connection.scope["app"])
            if old:
                await self.delete(old, store=store)
            new_id = self.generate_session_id()
            await self.set(
                session_id=new_id, data=self.serialize_data(scope_session, connection.scope), store=store
            )
            params = dict(
                extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
            )
            MutableScopeHeaders.from_message(message).add(
                "Set-Cookie", Cookie(value=new_id, key=self.config.key, **params).to_header(header="")
            )
            return
        if scope_session == {} and not connection.cookies.get(self.config.key):
            return  # anonymous visitors and API-token scripts get no session record
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend  # type: ignore[assignment]


def session_config(*, secure: bool) -> RotatingSessionConfig:
    return RotatingSessionConfig(
        key=SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=14 * 24 * 3600,
        store=SESSION_STORE,
    )


def session_middleware(*, secure: bool) -> type:
    """Litestar's session middleware (:func:`session_config`), passed by for API calls that carry
    a personal API token: such a call is authenticated by its token alone
    (``ocop.accounts.auth.current_user`` never reads the session then), so loading, tracking and
    saving a session did nothing but cost ~6 % of the product list's CPU per request
    (tests/bench/load_bench.py). Its ``scope["session"]`` is an empty dict that nothing saves."""
    define = session_config(secure=secure).middleware

    class SessionUnlessToken:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app
            self.with_session = define(app)

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if (scope["type"] == "http" and scope["path"].startswith("/api/")
                    and bearer_token(scope) is not None):
                scope["session"] = {}
                await self.app(scope, receive, send)
                return
            await self.with_session(scope, receive, send)

    return SessionUnlessToken


def rotate_session(connection: ASGIConnection[Any, Any, Any, Any], data: dict[str, Any]) -> None:
    """Replace the session's content with ``data`` and give it a new id in this response."""
    connection.scope["session"] = {**data, _ROTATE: True}


def end_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    connection.scope["session"] = Empty  # type: ignore[typeddict-item]
