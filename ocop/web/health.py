"""Liveness and readiness probes for the container orchestrator and the load balancer."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Request, Response, get

from ocop.db import ping


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


@get("/healthz", include_in_schema=True, tags=["ops"], summary="Process is up", sync_to_thread=False)
def healthz() -> Health:
    return Health(status="ok")


async def _check(coro: Any) -> str:
    try:
        async with asyncio.timeout(2):
            await coro
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its kind
        return f"error: {type(exc).__name__}"
    return "ok"


@get("/readyz", tags=["ops"], summary="Database and Redis reachable")
async def readyz(request: Request[Any, Any, Any]) -> Response[Health]:
    state = request.app.state
    checks = {
        "database": await _check(ping(state.engine)),
        "redis": await _check(state.queue.ping()),
    }
    ok = all(v == "ok" for v in checks.values())
    return Response(Health(status="ok" if ok else "unavailable", checks=checks), status_code=200 if ok else 503)
