"""The id of each request: taken from a well-formed ``X-Request-ID`` (a proxy's) or made here, and
bound to every log line written while the request runs (``ocop.logs``)."""

from __future__ import annotations

import os
import re
import time
from typing import Any

import structlog
from litestar.types import Scope

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _incoming_request_id(headers: Any) -> str:
    """The last ``X-Request-ID`` header (what ``dict(headers)`` would keep), without building a
    dict of every header per request: ASGI header names arrive lower-cased (ASGI spec, HTTP
    connection scope), so a plain comparison finds it."""
    found = b""
    for name, value in headers:
        if name == b"x-request-id":
            found = value
    return found.decode("latin-1")


def ensure_request_id(scope: Scope) -> str:
    """The request's id: a well-formed ``X-Request-ID`` from the proxy, or a new one. Stored in
    the scope so the error handler, the access line and the response header agree."""
    state = scope.setdefault("state", {})
    request_id = state.get("request_id")
    if request_id is None:
        incoming = _incoming_request_id(scope.get("headers") or ())
        # a new id: uuid4's 128 random bits as hex, without building a UUID object
        request_id = state["request_id"] = incoming if _REQUEST_ID.match(incoming) else os.urandom(16).hex()
        state["request_started"] = time.perf_counter()
        structlog.contextvars.bind_contextvars(request_id=request_id)
    return str(request_id)
