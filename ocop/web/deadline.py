"""A deadline on request handling: a request still running ``timeout_s`` after its body arrived is
cut off with 503 and the one error shape, instead of holding a connection and a database
connection for ever behind a stuck query or a hung marketplace call.

The clock starts when the body has been received, not when the request arrives: a producer
uploading a 20 MB photo over a slow mobile link is paced by :mod:`ocop.cli.http_limits` (a minimum
byte rate), and must not be refused for being slow on the wire. Requests that carry no body start
the clock at once. Cancelling the handler unwinds it normally: open transactions roll back.
If the response has already started, nothing can be said any more; the connection is closed.

The service runs this inside its edge middleware (:mod:`ocop.web.edge`), which shares one wrapped
``send`` between the deadline, the request id and the metrics.
"""

from __future__ import annotations

import asyncio

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ocop.web.errors import ErrorBody, ErrorResponse
from ocop.logs import log, loggable_path
from ocop.web.request_id import ensure_request_id


def _has_body(scope: Scope) -> bool:
    """A body is coming if the request says so (``Transfer-Encoding`` or a non-zero
    ``Content-Length``; ASGI header names are lower-case). Scanned, not copied into a dict."""
    for name, value in scope.get("headers") or ():
        if name == b"transfer-encoding":
            return True
        if name == b"content-length" and value.strip() not in (b"", b"0"):
            return True
    return False


async def call_within(timeout_s: float, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> bool:
    """Run ``app`` and return True if the deadline cut it off (the handler was cancelled).

    This is ``asyncio.timeout`` without its context-manager object: one ``loop.call_at`` that
    cancels the current task, and the same bookkeeping ``asyncio.timeout.__aexit__`` does
    (CPython 3.11 Lib/asyncio/timeouts.py) so that only *our* cancellation becomes a timeout: the
    task's ``cancelling()`` count is read on entry, and after an expiry ``uncancel()`` must bring
    it back to that count, otherwise someone else (a client disconnect, server shutdown) also
    cancelled the task and the ``CancelledError`` goes on up. No-body requests are not given a
    tracking ``receive``: their clock started at once and nothing they read moves it."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None, "ASGI apps run inside a task"
    cancelling = task.cancelling()
    expired = False
    handle: asyncio.TimerHandle | None = None

    def expire() -> None:
        nonlocal expired, handle
        expired, handle = True, None
        task.cancel()

    def start_clock() -> None:
        nonlocal handle
        if handle is not None:
            handle.cancel()
        handle = loop.call_at(loop.time() + timeout_s, expire)

    inner_receive = receive
    if _has_body(scope):
        async def receive_tracked() -> Message:
            message = await receive()
            if not expired and (message["type"] != "http.request" or not message.get("more_body", False)):
                start_clock()
            return message

        inner_receive = receive_tracked
    else:
        start_clock()
    try:
        await app(scope, inner_receive, send)
    except BaseException as exc:
        # as asyncio.timeout: after an expiry, uncancel whatever ended the handler
        if expired and task.uncancel() <= cancelling and isinstance(exc, asyncio.CancelledError):
            return True
        raise
    else:
        if expired:
            task.uncancel()  # fired as the handler was finishing: nothing was cut off
        return False
    finally:
        if handle is not None:
            handle.cancel()


async def answer_timeout(timeout_s: float, scope: Scope, send: Send, *, started: bool) -> None:
    """After a cut-off: log it, and answer 503 + ``Retry-After`` in the error shape unless the
    response had already started (then closing the connection is all that is left)."""
    log.warning("request_timeout", path=loggable_path(scope), seconds=timeout_s, started=started)
    if started:
        return
    body = ErrorResponse(error=ErrorBody(
        status=503, code="timeout",
        message=f"The request took longer than {timeout_s:g} s and was stopped; please try again.",
        message_vi=f"Yêu cầu chạy quá {timeout_s:g} giây nên đã dừng; vui lòng thử lại.",
        request_id=ensure_request_id(scope)))
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", b"5")]})
    await send({"type": "http.response.body", "body": msgspec.json.encode(body)})

