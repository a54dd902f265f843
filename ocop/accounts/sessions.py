"""Server-side sessions whose id changes on login (no session fixation).

Litestar's ``ServerSideSessionBackend`` keeps whatever id the browser sent, so an id planted
before login would survive it. A handler that changes privilege calls :func:`rotate_session`
(signing in: :func:`sign_in`); the backend below then deletes the old record and issues a fresh
random id in the response.
Cookies: HttpOnly, SameSite=Lax, Secure when the site is served over https (Settings.secure_cookies).
The store is Redis (registered in the app's lifespan), so sessions work across processes.

A signed-in session holds more than the user id, and is honoured only while all of it still holds
(:func:`session_holds`):

- ``gen``: the user's ``session_generation`` when they signed in. A password change or reset, a
  deactivation, a change of role or area moves it on (``ocop.accounts.services.end_sessions``), so
  every other session of that user is over at its next request, on every web process at once;
- ``db``: the id of the database it was made for (``DatabaseInstance``). The Redis store outlives
  the database (``ocop demo --fresh``, a restore, a rebuilt test database), where user ids are
  handed out again to other people;
- ``csrf``: the CSRF token issued with this sign-in (a new ``csrftoken`` cookie in the same
  response). Unsafe requests of a signed-in session must carry that very token, so a token planted
  or read from another session (another tab's sign-in, a cookie tossed from a sibling sub-domain)
  is refused even though it is a validly signed token.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.csrf import generate_csrf_token
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import ASGIApp, Empty, Message, Receive, Scope, ScopeSession, Send
from litestar.utils.dataclass import extract_dataclass_items

from ocop.accounts.tables import DatabaseInstance
from ocop.accounts.tokens import bearer_token

SESSION_COOKIE = "ocop_session"
_ROTATE = "_rotate"
SESSION_STORE = "sessions"
DB_INSTANCE = "database_instance"
"""``app.state`` key of this database's instance id (set in the app's lifespan)."""


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
            headers = MutableScopeHeaders.from_message(message)
            session_cookie = Cookie(value=new_id, key=self.config.key, **params)
            headers.add("Set-Cookie", session_cookie.to_header(header=""))
            csrf = connection.scope["app"].csrf_config
            if csrf is not None and scope_session.get("csrf"):
                headers.add("Set-Cookie", Cookie(
                    key=csrf.cookie_name, value=scope_session["csrf"], path=csrf.cookie_path,
                    secure=csrf.cookie_secure, httponly=csrf.cookie_httponly, samesite=csrf.cookie_samesite,
                    domain=csrf.cookie_domain).to_header(header=""))
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


def sign_in(connection: ASGIConnection[Any, Any, Any, Any], user: Mapping[str, Any],
            *, acting_for: int | None = None) -> None:
    """Start a fresh session for ``user`` (a row with ``id`` and ``session_generation``) in this
    response: a new session id, bound to the user's session generation and to this database, and
    a new CSRF token for it (see the module docstring). ``acting_for``: the producer staff keep
    acting for when they are signed in again (after changing their password)."""
    app = connection.scope["app"]
    csrf = app.csrf_config
    data: dict[str, Any] = {
        "uid": int(user["id"]),
        "gen": int(user.get("session_generation") or 0),
        "db": app.state[DB_INSTANCE],
        "csrf": generate_csrf_token(csrf.secret) if csrf is not None else "",
    }
    if acting_for is not None:
        data["acting_for"] = acting_for
    rotate_session(connection, data)


def session_holds(connection: ASGIConnection[Any, Any, Any, Any], session: Mapping[str, Any],
                  user: Mapping[str, Any]) -> bool:
    """Is this signed-in session still good for ``user`` (its row, freshly read)? See the module
    docstring: same database, same session generation."""
    return (session.get("db") == connection.scope["app"].state.get(DB_INSTANCE)
            and session.get("gen") == int(user.get("session_generation") or 0))


def csrf_bound(connection: ASGIConnection[Any, Any, Any, Any], session: Mapping[str, Any]) -> bool:
    """Does the request's CSRF cookie hold the token issued with this session's sign-in? (The CSRF
    middleware, or the API's header check, has already matched the form field or header to it.)"""
    issued = session.get("csrf") or ""
    return bool(issued) and hmac.compare_digest(issued, connection.cookies.get("csrftoken", ""))


async def database_instance_id() -> str:
    """This database's id, made at its first start (one row, id 1: of two processes starting at
    once, one inserts and the other finds its row)."""
    query = DatabaseInstance.select(DatabaseInstance.instance_id).order_by(DatabaseInstance.id)
    row = await query.first()
    if row is None:
        try:
            await DatabaseInstance.insert(DatabaseInstance(id=1, instance_id=secrets.token_hex(16)))
        except Exception:  # noqa: BLE001 - the other process's row won: read it below
            pass
        row = await query.first()
    if row is None:
        raise RuntimeError("could not record the database instance id")
    return str(row["instance_id"])


def end_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    connection.scope["session"] = Empty  # type: ignore[typeddict-item]
