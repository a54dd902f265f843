"""Jobs that belong to the runtime itself rather than to a feature."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocop.jobs.registry import job


@job(timeout_s=10, max_tries=1)
async def heartbeat(ctx: dict[str, Any], token: str) -> dict[str, str]:
    """Round trip through the queue and the worker; ``/readyz`` and the tests use it to prove a
    worker is really consuming jobs, not just that Redis answers."""
    return {"token": token, "worker": str(ctx.get("worker_name", "")), "at": datetime.now(UTC).isoformat()}
