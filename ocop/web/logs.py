"""Structured logs (structlog) with a request id on every line of a request.

Query strings are never logged: OAuth callbacks and signed marketplace calls carry codes and
tokens there. ``redact`` masks anything that looks like a secret before a line is written.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_SECRET_KEYS = re.compile(r"(pass(word)?|secret|token|authorization|cookie|sign|code|key)", re.I)
_PHONE = re.compile(r"(?<!\d)(\+?84|0)(\d{2})\d{4,5}(\d{2})(?!\d)")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def mask_phone(text: str) -> str:
    """0905123456 -> 090…56: enough to recognise, not enough to call."""
    return _PHONE.sub(lambda m: f"{m.group(1)}{m.group(2)}…{m.group(3)}", text)


def redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in list(event):
        if key == "event":
            continue
        if _SECRET_KEYS.search(key) and key not in {"status_code"}:
            event[key] = "***"
        elif isinstance(event[key], str):
            event[key] = mask_phone(event[key])
    if isinstance(event.get("event"), str):
        event["event"] = mask_phone(event["event"])
    return event


def configure_logging(level: str = "info", json: bool = False) -> None:
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
        structlog.processors.format_exc_info if json else structlog.processors.ExceptionPrettyPrinter(),
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False),
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


log = structlog.get_logger("ocop")


def ensure_request_id(scope: Scope) -> str:
    """The request's id: a well-formed ``X-Request-ID`` from the proxy, or a new one. Stored in
    the scope so the error handler, the access line and the response header agree."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        state["request_id"] = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state["request_started"] = time.perf_counter()
        structlog.contextvars.bind_contextvars(request_id=state["request_id"])
    return str(state["request_id"])


class RequestIdMiddleware:
    """Binds the request id to every log line written while a route handler runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            ensure_request_id(scope)
        await self.app(scope, receive, send)


def access_log_hook(message: Message, scope: Scope) -> None:
    """``before_send`` hook (app level, so it also sees 404s raised by the router): echo the
    request id and write one access line. The path is logged, never the query string."""
    if message["type"] != "http.response.start" or scope["type"] != "http":
        return
    request_id = ensure_request_id(scope)
    headers = list(message.get("headers") or [])
    headers.append((b"x-request-id", request_id.encode()))
    message["headers"] = headers  # type: ignore[typeddict-item]
    started = scope["state"].get("request_started", time.perf_counter())
    log.info("request", method=scope.get("method"), path=scope.get("path"), status=message["status"],
             ms=round((time.perf_counter() - started) * 1000, 1))
    structlog.contextvars.unbind_contextvars("request_id")
