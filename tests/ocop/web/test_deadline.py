"""The request deadline (ocop.web.deadline, run by ocop.web.edge): a stuck handler gets 503 in the error shape; a slow
upload is not cut off, because the clock starts once the body has arrived."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from litestar import Litestar, Request, get, post

from ocop.web.edge import RequestMetrics, edge_middleware

TIMEOUT_S = 0.5


@get("/stuck")
async def stuck() -> dict[str, str]:
    await asyncio.sleep(30)
    return {"never": "answered"}


@get("/quick")
async def quick() -> dict[str, str]:
    return {"ok": "yes"}


@post("/upload", status_code=200)
async def upload(request: Request[Any, Any, Any]) -> dict[str, int]:
    return {"bytes": len(await request.body())}


APP = Litestar([stuck, quick, upload],
              middleware=[edge_middleware(TIMEOUT_S, RequestMetrics(prefix="test_deadline", app_name="test"))])


async def call(method: str, path: str, chunks: list[bytes] = (), gap_s: float = 0.0) -> tuple[int, dict[str, Any], float]:
    """Drive the ASGI app directly, sending the body in ``chunks`` with ``gap_s`` between them."""
    sent: list[dict[str, Any]] = []
    queue = list(chunks) or [b""]
    headers = [(b"content-length", str(sum(map(len, chunks))).encode())] if chunks else []

    async def receive() -> dict[str, Any]:
        if queue:
            if gap_s and len(queue) < len(chunks):
                await asyncio.sleep(gap_s)
            body = queue.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(queue)}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
    began = time.monotonic()
    await asyncio.wait_for(APP(scope, receive, send), timeout=10)
    elapsed = time.monotonic() - began
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body), elapsed


async def test_a_stuck_handler_is_cut_off_with_503_in_the_error_shape() -> None:
    status, body, elapsed = await call("GET", "/stuck")
    assert status == 503 and TIMEOUT_S <= elapsed < TIMEOUT_S + 2
    assert body["error"]["code"] == "timeout" and body["error"]["message_vi"] and body["error"]["request_id"]


async def test_quick_requests_are_untouched() -> None:
    assert (await call("GET", "/quick"))[:2] == (200, {"ok": "yes"})


async def test_a_slow_upload_is_not_cut_off_the_clock_starts_when_the_body_is_in() -> None:
    chunks = [b"x" * 1000] * 5
    status, body, elapsed = await call("POST", "/upload", chunks, gap_s=0.3)  # 1.2 s on the wire > 0.5 s
    assert status == 200 and body == {"bytes": 5000} and elapsed > TIMEOUT_S * 2


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_the_service_applies_its_deadline(db: Any, app_client: Any, redis_url: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Wired into the real app from ``OCOP_REQUEST_TIMEOUT_S``: a product list stuck behind a
    hung query answers 503 in the API's error shape."""
    from ocop.accounts.tokens import create_token
    from ocop.catalog import api as catalog_api
    from tests.ocop.web.support import make_producer, make_user

    async def hung(*_: Any, **__: Any) -> None:
        await asyncio.sleep(30)

    monkeypatch.setattr(catalog_api, "search_products", hung)
    async with app_client(database_url=db.url, redis_url=redis_url, request_timeout_s=0.5) as (_, client):
        user = await make_user("cho", "producer", producer_id=await make_producer("HTX Chợ", "0100109106"))
        _, token = await create_token(int(user), "t")
        began = time.monotonic()
        answer = await client.get("/api/v1/products", headers={"authorization": f"Bearer {token}"})
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "timeout"
        assert time.monotonic() - began < 5 and answer.headers["x-request-id"]


async def test_only_the_deadline_s_own_cancel_becomes_a_timeout() -> None:
    """``call_within`` replaces ``asyncio.timeout``: a cancel from elsewhere (client gone, server
    shutting down) must still propagate, and after a cut-off the task is not left cancelling."""
    from ocop.web.deadline import call_within

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(30)

    async def quick_app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(0)

    scope = {"type": "http", "headers": []}

    async def run(timeout_s: float, target: Any = app) -> tuple[bool, int]:
        cut = await call_within(timeout_s, target, scope, None, None)
        return cut, asyncio.current_task().cancelling()  # type: ignore[union-attr]

    assert await run(0.05) == (True, 0)
    assert await run(5, quick_app) == (False, 0)
    outside = asyncio.ensure_future(run(5))
    await asyncio.sleep(0.05)
    outside.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outside
    async def converting_app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            raise RuntimeError("cleanup failed") from None

    with pytest.raises(RuntimeError):
        await run(0.05, converting_app)
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
    # the timer of a finished request is cancelled: it would otherwise cancel this task while it sleeps
    assert await run(0.2, quick_app) == (False, 0)
    await asyncio.sleep(0.3)
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_the_clock_waits_for_the_body_only_when_one_is_announced() -> None:
    from ocop.web.deadline import _has_body

    assert not _has_body({"headers": [(b"content-length", b"0")]})
    assert not _has_body({"headers": [(b"host", b"x")]})
    assert _has_body({"headers": [(b"host", b"x"), (b"content-length", b"12")]})
    assert _has_body({"headers": [(b"transfer-encoding", b"chunked")]})
