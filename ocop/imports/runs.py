"""The state of one web import run, kept in Redis under an unguessable token.

Why not the ``ImportBatch`` row: the batch row is written in the same transaction as the products
(so a crash never leaves a half batch visible) and a dry run writes none at all, yet the page must
show progress from the moment of upload and the result of a dry run. Redis already carries the job
queue; the state expires after a day, while real batches stay in the database.
"""

from __future__ import annotations

import secrets
from typing import Any

import msgspec
from redis.asyncio import Redis

from ocop.imports.validate import RowFault

TTL_S = 24 * 3600
_PREFIX = "ocop:import-run:"


class RunState(msgspec.Struct):
    token: str
    user_id: int
    file_name: str
    source_key: str
    images_key: str = ""
    dry_run: bool = False
    status: str = "queued"  # queued | running | done | failed
    done: int = 0
    total: int = 0
    batch_id: int | None = None
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    faults: list[RowFault] = msgspec.field(default_factory=list)
    unknown_columns: list[str] = msgspec.field(default_factory=list)
    error_vi: str = ""
    error_en: str = ""

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(100 * self.done / self.total) if self.total else 0


def new_token() -> str:
    return secrets.token_urlsafe(18)


def _key(token: str) -> str:
    return _PREFIX + token


async def save(redis: Redis, state: RunState) -> None:  # type: ignore[type-arg]
    await redis.set(_key(state.token), msgspec.json.encode(state), ex=TTL_S)


async def load(redis: Redis, token: str) -> RunState | None:  # type: ignore[type-arg]
    if not token.replace("-", "").replace("_", "").isalnum() or len(token) > 64:
        return None
    raw = await redis.get(_key(token))
    return msgspec.json.decode(raw, type=RunState) if raw else None


async def set_progress(redis: Redis, token: str, done: int, total: int) -> None:  # type: ignore[type-arg]
    """Update only the counters (the job holds the rest of the state)."""
    state = await load(redis, token)
    if state is not None and not state.finished:
        state.status, state.done, state.total = "running", done, total
        await save(redis, state)


def faults_from_report(report: list[dict[str, Any]]) -> list[RowFault]:
    """The ``ImportBatch.report`` JSON back as faults."""
    return [msgspec.convert(item, RowFault) for item in report]
