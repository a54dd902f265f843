"""The worker inside ``ocop serve`` stops cleanly while jobs are still running."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ocop.jobs.queue import open_queue
from ocop.jobs.registry import WorkerPlan, job
from ocop.jobs.worker import InProcessWorker, build_worker
from ocop.settings import Settings

STARTED: dict[str, asyncio.Event] = {}
"""The running test's event (an Event belongs to the loop it was made on)."""


@job(name="test_slow_job", timeout_s=30, max_tries=2)
async def slow_job(ctx: dict[str, Any]) -> str:
    STARTED["event"].set()
    await asyncio.sleep(30)
    return "done"


async def test_stopping_with_jobs_running_raises_nothing(tmp_path: Path, redis_url: str) -> None:
    """A shutdown that cancels running jobs must not let their CancelledError escape: the app's
    lifespan would stop there and leave the embedded Redis and the database open."""
    STARTED["event"] = asyncio.Event()
    settings = Settings(var_dir=tmp_path, secret_key="k" * 32, run_sandbox=False)
    queue = await open_queue(redis_url)
    try:
        await queue.enqueue("test_slow_job", job_id=f"slow:{tmp_path.name}")
        worker = InProcessWorker(build_worker(settings, redis_url, plan=WorkerPlan.of(jobs=[slow_job]),
                                              handle_signals=False))
        worker.start()
        await asyncio.wait_for(STARTED["event"].wait(), 10)
        await worker.stop()  # raised CancelledError before the fix
        assert worker.task is not None and worker.task.done()
        await asyncio.sleep(0)  # this task itself was not cancelled: it goes on
    finally:
        await queue.redis.flushdb()
        await queue.close()


@job(name="test_quick_job", timeout_s=30, max_tries=2)
async def quick_job(ctx: dict[str, Any], n: int) -> int:
    STARTED["event"].set()
    await asyncio.sleep(0.01)
    return n


async def test_stopping_while_jobs_are_being_picked_up_raises_nothing(tmp_path: Path, redis_url: str) -> None:
    """The cancel can land while arq is still starting a job (its Redis pipeline, before the job's
    own error handling): seen when ``ocop demo`` stopped in the middle of a burst of stock pushes."""
    settings = Settings(var_dir=tmp_path, secret_key="k" * 32, run_sandbox=False, worker_concurrency=50)
    queue = await open_queue(redis_url)
    try:
        for attempt in range(5):
            STARTED["event"] = asyncio.Event()
            for n in range(300):
                await queue.enqueue("test_quick_job", n, job_id=f"quick:{tmp_path.name}:{attempt}:{n}")
            worker = InProcessWorker(build_worker(settings, redis_url, plan=WorkerPlan.of(jobs=[quick_job]),
                                                  handle_signals=False))
            worker.start()
            await asyncio.wait_for(STARTED["event"].wait(), 10)
            await asyncio.sleep(0.05 * attempt)
            await worker.stop()
    finally:
        await queue.redis.flushdb()
        await queue.close()
