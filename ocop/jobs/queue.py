"""Enqueueing. Callers pass a ``job_id`` derived from the work and its version (e.g.
``publish:{listing}:{payload_version}``) so duplicate requests collapse into one job; the database
stays the source of truth for what is done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.jobs import Job, JobStatus

QUEUE_NAME = "ocop:jobs"


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    settings.conn_retries = 3
    return settings


@dataclass
class JobQueue:
    redis: ArqRedis

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None,
                      defer: timedelta | None = None, **kwargs: Any) -> str | None:
        """Queue ``name``; returns the job id, or None when a job with that id already exists."""
        queued = await self.redis.enqueue_job(name, *args, _job_id=job_id, _queue_name=QUEUE_NAME,
                                              _defer_by=defer, **kwargs)
        return queued.job_id if queued else None

    async def result(self, job_id: str, timeout_s: float) -> Any:
        return await Job(job_id, self.redis, _queue_name=QUEUE_NAME).result(timeout=timeout_s, poll_delay=0.05)

    async def status(self, job_id: str) -> JobStatus:
        return await Job(job_id, self.redis, _queue_name=QUEUE_NAME).status()

    async def depth(self) -> int:
        return int(await self.redis.zcard(QUEUE_NAME))

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()


async def open_queue(url: str) -> JobQueue:
    return JobQueue(await create_pool(redis_settings(url), default_queue_name=QUEUE_NAME))
