"""The arq worker: the same registered jobs whether it runs inside ``ocop serve`` (embedded mode)
or as ``ocop worker`` processes on many machines."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Any

from arq import cron as arq_cron
from arq.constants import in_progress_key_prefix
from arq.worker import Worker, func
from piccolo.engine.base import Engine

from ocop import db
from ocop.jobs.queue import QUEUE_NAME, redis_settings
from ocop.jobs.registry import WorkerPlan
from ocop.settings import Settings
from ocop.logs import log

IN_PROGRESS_LEASE_S = 10.0
"""How long a started job stays marked "in progress" without its worker renewing the mark."""


class LeasedWorker(Worker):
    """An arq worker whose "job in progress" marks are short leases, renewed while the job runs.

    arq marks a started job with ``arq:in-progress:<id>`` for the longest job timeout of the worker
    plus 10 s (``Worker.in_progress_timeout_s`` in arq/worker.py, 0.28) and leaves the job in the
    queue until it finishes. After a worker is SIGKILLed, its jobs are still queued, but no worker
    takes them again before that mark expires: 30 minutes, because the import job may run 30
    minutes. Here the mark lasts ``lease_s`` and the worker renews it every quarter of that for
    each job it is still running, so a job of a dead worker is picked up again within ``lease_s``
    while a live worker's job, however long, is never started twice. Renewal uses ``SET ... XX``:
    a mark that arq deleted on finishing is never brought back. The price: a worker whose event
    loop is blocked for ¾ of the lease loses its marks, so job bodies keep CPU work in threads
    (import parsing, image normalisation already do), and jobs stay idempotent as arq requires.
    """

    def __init__(self, *args: Any, lease_s: float = IN_PROGRESS_LEASE_S, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_progress_timeout_s = lease_s

    async def main(self) -> None:
        renewer = asyncio.create_task(self._renew_leases(), name="ocop-job-leases")
        try:
            await super().main()
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _renew_leases(self) -> None:
        lease_ms = int(self.in_progress_timeout_s * 1000)
        while True:
            await asyncio.sleep(self.in_progress_timeout_s / 4)
            running = [job_id for job_id, task in self.tasks.items() if not task.done()]
            if not running or self._pool is None:
                continue
            try:
                async with self.pool.pipeline(transaction=False) as pipe:
                    for job_id in running:
                        pipe.set(in_progress_key_prefix + job_id, b"1", px=lease_ms, xx=True)
                    await pipe.execute()
            except Exception as exc:  # noqa: BLE001 - Redis blip: retry at the next beat, keep the worker
                log.warning("job_lease_renewal_failed", error=type(exc).__name__)


def build_worker(settings: Settings, redis_url: str, *, plan: WorkerPlan, ctx: dict[str, Any] | None = None,
                 burst: bool = False, handle_signals: bool = True,
                 bind_db: Callable[[Engine], Engine] | None = None) -> Worker:
    """Run ``plan`` (the service's is ``ocop.assembly.WORKER``). ``bind_db``: a standalone worker
    process opens (and closes) its own database engine, bound to the tables with this function;
    inside ``ocop serve`` the app's engine is shared through ``ctx``."""
    functions = [func(spec.func, name=spec.name, timeout=spec.timeout(settings), max_tries=spec.max_tries,
                      keep_result=spec.keep_result_s) for spec in plan.jobs]
    crons = [arq_cron(spec.func, name=spec.name, minute=spec.minutes(settings), second=spec.second,
                      run_at_startup=spec.run_at_startup, timeout=spec.timeout_s, unique=True)
             for spec in plan.cron]
    base_ctx = {"settings": settings, "worker_name": f"{socket.gethostname()}"}
    base_ctx.update(ctx or {})
    async def on_startup(worker_ctx: dict[str, Any]) -> None:
        if bind_db is not None:
            engine = bind_db(db.engine_from_url(settings.effective_database_url))
            await db.prepare(engine)
            worker_ctx["engine"] = engine
            worker_ctx["owns_engine"] = True
        for hook in plan.startup:
            await hook(worker_ctx)

    async def on_shutdown(worker_ctx: dict[str, Any]) -> None:
        for hook in plan.shutdown:
            await hook(worker_ctx)
        if worker_ctx.get("owns_engine"):
            await db.close(worker_ctx["engine"])

    return LeasedWorker(
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        functions=functions,  # type: ignore[arg-type]
        cron_jobs=crons or None,
        redis_settings=redis_settings(redis_url),
        queue_name=QUEUE_NAME,
        max_jobs=settings.worker_concurrency,
        keep_result=60,
        health_check_interval=60,
        handle_signals=handle_signals,
        burst=burst,
        poll_delay=0.2,
        ctx=base_ctx,
    )


class InProcessWorker:
    """Runs the worker as a task of the serve process's event loop (embedded mode)."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.worker.async_run(), name="ocop-embedded-worker")

    async def stop(self) -> None:
        if self.task is None:
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task
        # close() gathers the jobs still running, which the cancel above cancelled: their
        # CancelledError is theirs, not ours, and must not abort the rest of the app's shutdown
        # (the embedded Redis and the database would be left open).
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.worker.close()
