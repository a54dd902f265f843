"""Security headers on every response (added by the edge's app-level ``before_send`` hook,
:mod:`ocop.web.edge`, so router 404s get them too). The CSP allows no inline script: pages load
only our own static files, so an injected <script> cannot run.

``Cache-Control: no-store`` goes on every answer to a request that carries credentials (the session
cookie or an ``Authorization`` header: nobody is signed in without one) and on the password-reset
link pages (the secret is in the URL): pages, API answers, downloads and photos
alike, replacing a handler's own weaker value. Without it a browser keeps private pages (a new API
token, a reset link, a producer's data) in its cache, and Back after signing out shows them again
(RFC 9111 §5.2.2.5; the OWASP Session Management Cheat Sheet asks for it on every page with
sensitive content). Our own static files (``/static/``, the same for everyone) stay cacheable."""

from __future__ import annotations

from collections.abc import Iterable

from litestar.types import Scope

CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

Header = tuple[bytes, bytes]


def security_headers(*, hsts: bool) -> tuple[Header, ...]:
    """The fixed set; HSTS only when the service is served over HTTPS (secure cookies on)."""
    fixed = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", CSP.encode()),
    ]
    if hsts:
        fixed.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return tuple(fixed)


def missing_from(headers: Iterable[Header], fixed: tuple[Header, ...]) -> list[Header]:
    """The fixed headers a response does not set itself (a handler's own value wins)."""
    present = {name.lower() for name, _ in headers}
    return [h for h in fixed if h[0] not in present]


NO_STORE: Header = (b"cache-control", b"no-store")
_NO_STORE_PATHS = ("/reset/",)


def needs_no_store(scope: Scope, session_cookie: bytes) -> bool:
    """Must this answer not be stored by any cache? (See the module docstring.) ``session_cookie``:
    ``b"<name>="`` of the session cookie."""
    path: str = scope["path"]
    if path.startswith("/static/"):
        return False
    if path.startswith(_NO_STORE_PATHS):
        return True
    for name, value in scope.get("headers") or ():
        if name == b"authorization" or (name == b"cookie" and session_cookie in value):
            return True
    return False


def with_no_store(headers: list[Header]) -> list[Header]:
    """``headers`` with any Cache-Control of the handler's replaced by ``no-store``."""
    return [h for h in headers if h[0].lower() != b"cache-control"] + [NO_STORE]
