"""Who is asking: the signed-in user of a page (session) or of a script (personal API token).

Every handler that needs a person takes ``me: Principal`` (the ``me`` dependency registered by the
app) or calls :func:`current_user`. Roles are checked with the guards :func:`requires_producer`,
:func:`requires_staff`, :func:`requires_admin` (403 on the wrong role, 401 when nobody is signed in);
objects are checked with :mod:`ocop.accounts.access` (404 when the object is not yours).

API calls authenticated by the session cookie must also send the ``x-csrftoken`` header equal to the
``csrftoken`` cookie on unsafe methods (double-submit; the CSRF middleware itself skips ``/api/``
because token-authenticated scripts have no cookie).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from ocop import db
from ocop.accounts.sessions import csrf_bound, end_session, session_holds
from ocop.accounts.tables import ApiToken, User
from ocop.accounts.tokens import PREFIX, bearer_token, hash_token
from ocop.change_feed import ChangeFeed, FeedCache
from ocop.web.errors import ApiError
from ocop.web.i18n import negotiate

_STATE_KEY = "principal"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(NotAuthorizedException):
    """Nobody is signed in: pages redirect to the login form, the API answers 401."""


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    role: str
    display_name: str = ""
    producer_id: int | None = None
    area_province_code: int | None = None
    area_commune_codes: tuple[int, ...] = ()
    locale: str = "vi"
    via_token: bool = False
    acting_for_producer_id: int | None = None
    """Staff/admin acting on a producer's behalf (chosen on the staff pages, kept in the session)."""

    @property
    def is_producer(self) -> bool:
        return self.role == "producer"

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def in_area(self, province_code: int | None, commune_code: int | None) -> bool:
        """Is an address inside this staff member's area? (admins: everywhere; producers: never)."""
        if self.is_admin:
            return True
        if not self.is_staff or province_code is None or province_code != self.area_province_code:
            return False
        return not self.area_commune_codes or commune_code in self.area_commune_codes


def principal_of(
    user: User | dict[str, Any], *, via_token: bool = False, acting_for: int | None = None
) -> Principal:
    row = user if isinstance(user, dict) else user.to_dict()
    communes = db.json_value(row.get("area_commune_codes"), [])
    return Principal(
        user_id=int(row["id"]),
        username=row["username"],
        role=row["role"],
        display_name=row.get("display_name") or "",
        producer_id=row.get("producer"),
        area_province_code=row.get("area_province_code"),
        area_commune_codes=tuple(int(c) for c in communes),
        locale=row.get("locale") or "vi",
        via_token=via_token,
        acting_for_producer_id=acting_for if row["role"] in ("staff", "admin") else None,
    )


async def _load(user_id: int) -> dict[str, Any] | None:
    return await User.select().where((User.id == user_id) & (User.is_active == True)).first()  # noqa: E712


TOKEN_TOUCH_EVERY = timedelta(minutes=1)
"""``last_used_at`` is shown as a date (accounts/tokens.html); writing it on every request made each
API call a write on one hot row (tests/bench/load_bench.py), so it moves at most once a minute."""

# Every API call authenticates, so this is the hottest query of the service: one round trip for
# token and user (it was three: token, last-used update, user), written once as SQL rather than
# rebuilt by the ORM per request; portable SQL, the same on SQLite and PostgreSQL. Only the
# columns a Principal needs: never the password hash.
_TOKEN_USER_SQL = (
    "SELECT t.id AS token_id, t.last_used_at AS token_last_used_at, u.id, u.username, u.role,"
    " u.display_name, u.producer, u.area_province_code, u.area_commune_codes, u.locale"
    ' FROM api_token t JOIN app_user u ON u.id = t."user"'
    " WHERE t.token_hash = {} AND t.revoked_at IS NULL AND u.is_active = {}"
)


def _stale(last_used: datetime | str | None, now: datetime) -> bool:
    if isinstance(last_used, str):  # SQLite may hand the stored text back from a raw query
        last_used = datetime.fromisoformat(last_used)
    if last_used is None:
        return True
    if last_used.tzinfo is None:
        last_used = last_used.replace(tzinfo=UTC)
    return now - last_used >= TOKEN_TOUCH_EVERY


@dataclass(slots=True)
class _Bearer:
    """A live token's principal, as cached between requests (see :func:`principal_cache`)."""

    principal: Principal
    token_id: int
    last_used_at: datetime | str | None


PRINCIPALS = "principals"
"""``app.state`` key of the process's token -> principal cache (set up by ``ocop.app``)."""


def principal_cache(feed: ChangeFeed, max_entries: int = 10_000) -> FeedCache[_Bearer]:
    """Token -> principal, emptied by any ``auth:`` notice: a revoked token, a deactivated user, a
    changed role, area or producer (``ocop.change_feed``). Only tokens that were found are kept,
    so a guessed token is looked up (and refused) every time."""
    return FeedCache(feed, lambda _group, payload: payload.startswith("auth:"), max_weight=max_entries)


async def _bearer(clear: str, cache: FeedCache[_Bearer]) -> _Bearer | None:
    """The principal of this live personal API token of an active user, or None (see
    ``ocop.accounts.tokens``)."""
    if not clear.startswith(PREFIX):
        return None
    digest = hash_token(clear)
    found = cache.get("tokens", digest)
    if found is None:
        begun = cache.begin()
        rows = await db.fetch_dicts(User, _TOKEN_USER_SQL, digest, True)
        if not rows:
            return None
        row: dict[str, Any] = rows[0]
        found = _Bearer(principal_of(row, via_token=True), int(row["token_id"]), row["token_last_used_at"])
        cache.put("tokens", digest, found, begun)
    now = datetime.now(UTC)
    if _stale(found.last_used_at, now):
        found.last_used_at = now
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == found.token_id)
    return found


def _csrf_header_ok(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    cookie = connection.cookies.get("csrftoken", "")
    header = connection.headers.get("x-csrftoken", "")
    return bool(cookie) and hmac.compare_digest(cookie, header)


async def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The signed-in user, or None. Cached for the request; also fixes the request's locale."""
    state = connection.scope.setdefault("state", {})
    if _STATE_KEY in state:
        return state[_STATE_KEY]  # type: ignore[no-any-return]
    principal: Principal | None = None
    token = bearer_token(connection.scope)
    if token is not None:
        bearer = await _bearer(token, connection.app.state[PRINCIPALS])
        if bearer is None:
            raise NotAuthorizedException("Invalid or revoked API token.")
        principal = bearer.principal
    else:
        session = connection.scope.get("session")
        uid = session.get("uid") if isinstance(session, dict) else None
        if uid is not None:
            row = await _load(int(uid))
            if row is None or not session_holds(connection, session, row):
                end_session(connection)  # ended elsewhere (password, role, deactivation, new database)
            else:
                if connection.scope.get("method", "GET") not in SAFE_METHODS:
                    if connection.scope["path"].startswith("/api/") and not _csrf_header_ok(connection):
                        raise PermissionDeniedException(
                            "Send the x-csrftoken header with session-authenticated API writes."
                        )
                    if not csrf_bound(connection, session):
                        raise PermissionDeniedException("The CSRF token does not belong to this session.")
                principal = principal_of(row, acting_for=session.get("acting_for"))
    state[_STATE_KEY] = principal
    state["locale"] = negotiate(connection, principal.locale if principal else None)
    return principal


async def require_user(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = await current_user(connection)
    if principal is None:
        raise LoginRequired("Please sign in.")
    return principal


def require_session(me: Principal) -> None:
    """403 unless ``me`` signed in with a browser session (not a personal API token). Creating
    tokens needs it: a token able to mint tokens would live on, through them, after its own
    revocation."""
    if me.via_token:
        raise ApiError(403, "session_required",
                       "API tokens can only be created from a signed-in session, not with a token.",
                       "Chỉ tạo được khoá API khi đăng nhập bằng trình duyệt, không tạo bằng một khoá API.")


Me = NamedDependency[Principal]
"""Annotate a handler parameter ``me: Me`` to receive the signed-in user (401 otherwise)."""


def _role_guard(*roles: str) -> Any:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await require_user(connection)
        if principal.role not in roles:
            raise PermissionDeniedException("Your role cannot do this.")

    guard.__name__ = f"requires_{'_or_'.join(roles)}"
    return guard


requires_user = _role_guard("producer", "staff", "admin")
requires_producer = _role_guard("producer")
requires_staff = _role_guard("staff", "admin")
requires_admin = _role_guard("admin")
SIGN_IN_GUARDS = frozenset({requires_user, requires_producer, requires_staff, requires_admin})
"""Guards that answer 401 to nobody: an operation behind one of them needs a session or a token
(the OpenAPI schema declares it, see :class:`ocop.web.api_support.ApiDocs`)."""


async def provide_me(request: Request[Any, Any, Any]) -> Principal:
    """Dependency ``me``: the signed-in user (401 otherwise)."""
    return await require_user(request)


async def provide_maybe_me(request: Request[Any, Any, Any]) -> Principal | None:
    """Dependency ``maybe_me``: the signed-in user or None (public pages)."""
    return await current_user(request)


async def touch_login(user_id: int) -> None:
    await User.update({User.last_login_at: datetime.now(UTC)}).where(User.id == user_id)


def login_required_handler(request: Any, exc: Exception) -> Any:
    """Pages send people to the sign-in form (and back afterwards); the API gets the 401 error shape."""
    from urllib.parse import quote

    from litestar.response import Redirect

    from ocop.web.errors import _wants_html, error_handler

    if _wants_html(request) and request.method == "GET":
        return Redirect(path=f"/login?next={quote(request.url.path)}", status_code=303)
    return error_handler(request, exc)


async def load_principal(request: Any) -> None:
    """App-wide ``before_request``: resolve the user (and the page language) once per request, so
    templates can show who is signed in through :func:`viewer`."""
    await current_user(request)


def viewer(context: dict[str, Any]) -> Principal | None:
    """Template callable: the signed-in user of the page being rendered, or None."""
    return context["request"].scope.get("state", {}).get(_STATE_KEY)  # type: ignore[no-any-return]
