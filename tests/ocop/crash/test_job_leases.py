"""The other side of short in-progress leases (ocop/jobs/worker.py ``LeasedWorker``): a job that
runs much longer than the lease is renewed by its live worker, so a second worker polling the same
queue never starts it again, and the mark is gone once the job finished. (That a dead worker's job
is taken again within the lease is shown end to end by test_import_crash.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq import create_pool
from arq.constants import in_progress_key_prefix
from arq.worker import func

from ocop.jobs.queue import redis_settings
from ocop.jobs.worker import LeasedWorker
from tests.support.servers import own_redis_db

QUEUE = "ocop:test-leases"
LEASE_S = 0.8
JOB_S = 3.0


async def slow(ctx: dict[str, Any], key: str) -> str:
    await ctx["redis"].incr(key)
    await asyncio.sleep(JOB_S)
    return "done"


@pytest.fixture
async def lease_redis(redis_url: str) -> AsyncIterator[str]:
    async with own_redis_db(redis_url, 14) as url:
        yield url


def worker(url: str) -> LeasedWorker:
    return LeasedWorker(functions=[func(slow, name="slow", timeout=30, max_tries=5)],  # type: ignore[list-item]
                        redis_settings=redis_settings(url), queue_name=QUEUE, poll_delay=0.05,
                        handle_signals=False, keep_result=60, lease_s=LEASE_S)


async def test_a_job_longer_than_the_lease_runs_once_while_its_worker_lives(lease_redis: str) -> None:
    pool = await create_pool(redis_settings(lease_redis), default_queue_name=QUEUE)
    workers = [worker(lease_redis), worker(lease_redis)]
    tasks = [asyncio.create_task(w.main()) for w in workers]
    try:
        job = await pool.enqueue_job("slow", "runs", _job_id="long-job", _queue_name=QUEUE)
        assert job is not None
        assert await job.result(timeout=JOB_S * 4, poll_delay=0.05) == "done"
        assert int(await pool.get("runs")) == 1, "a second worker started the job while it was running"
        assert workers[0].in_progress_timeout_s == LEASE_S == workers[1].in_progress_timeout_s
        await asyncio.sleep(LEASE_S)  # a renewal racing the finish must not bring the mark back
        assert await pool.exists(in_progress_key_prefix + "long-job") == 0
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for w in workers:
            await w.close()
        await pool.aclose()
