"""A deadline on request handling: a request still running ``timeout_s`` after its body arrived is
cut off with 503 and the one error shape, instead of holding a connection and a database
connection for ever behind a stuck query or a hung marketplace call.

The clock starts when the body has been received, not when the request arrives: a producer
uploading a 20 MB photo over a slow mobile link is paced by :mod:`ocop.cli.http_limits` (a minimum
byte rate), and must not be refused for being slow on the wire. Requests that carry no body start
the clock at once. Cancelling the handler unwinds it normally: open transactions roll back.
If the response has already started, nothing can be said any more; the connection is closed.
"""

from __future__ import annotations

import asyncio

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ocop.web.errors import ErrorBody, ErrorResponse
from ocop.web.logs import ensure_request_id, log, loggable_path


def _has_body(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    if b"transfer-encoding" in headers:
        return True
    return headers.get(b"content-length", b"0").strip() not in (b"", b"0")


def deadline_middleware(timeout_s: float) -> type:
    """A Litestar middleware class (it takes ``app``) enforcing ``timeout_s``; 0 turns it off."""

    class HandlerDeadlineMiddleware:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or timeout_s <= 0:
                await self.app(scope, receive, send)
                return
            loop = asyncio.get_running_loop()
            started = False

            async def send_tracked(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                await send(message)

            try:
                async with asyncio.timeout(None) as deadline:
                    if not _has_body(scope):
                        deadline.reschedule(loop.time() + timeout_s)

                    async def receive_tracked() -> Message:
                        message = await receive()
                        if message["type"] != "http.request" or not message.get("more_body", False):
                            deadline.reschedule(loop.time() + timeout_s)
                        return message

                    await self.app(scope, receive_tracked, send_tracked)
            except TimeoutError:
                log.warning("request_timeout", path=loggable_path(scope), seconds=timeout_s, started=started)
                if started:
                    return  # mid-response: closing is all that is left
                body = ErrorResponse(error=ErrorBody(
                    status=503, code="timeout",
                    message=f"The request took longer than {timeout_s:g} s and was stopped; please try again.",
                    message_vi=f"Yêu cầu chạy quá {timeout_s:g} giây nên đã dừng; vui lòng thử lại.",
                    request_id=ensure_request_id(scope)))
                await send({"type": "http.response.start", "status": 503,
                            "headers": [(b"content-type", b"application/json"), (b"retry-after", b"5")]})
                await send({"type": "http.response.body", "body": msgspec.json.encode(body)})

    return HandlerDeadlineMiddleware
