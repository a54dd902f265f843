"""Security headers on every response (added by the edge's app-level ``before_send`` hook,
:mod:`ocop.web.edge`, so router 404s get them too). The CSP allows no inline script: pages load
only our own static files, so an injected <script> cannot run."""

from __future__ import annotations

from collections.abc import Iterable

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
