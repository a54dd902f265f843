"""Security headers on every response (an app-level ``before_send`` hook, so router 404s get them
too). The CSP allows no inline script: pages load only our own static files, so an injected
<script> cannot run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.types import Message, Scope

CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def security_headers_hook(*, hsts: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    fixed = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", CSP.encode()),
    ]
    if hsts:
        fixed.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def hook(message: Message, scope: Scope) -> None:  # async: a sync hook runs in a thread
        if message["type"] != "http.response.start":
            return
        headers = list(message.get("headers") or [])
        present = {k.lower() for k, _ in headers}
        headers += [(k, v) for k, v in fixed if k not in present]
        message["headers"] = headers  # type: ignore[typeddict-item]

    return hook
