"""The arq worker: the same registered jobs whether it runs inside ``ocop serve`` (embedded mode)
or as ``ocop worker`` processes on many machines."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from arq import cron as arq_cron
from arq.worker import Worker, func

from ocop import db
from ocop.jobs.queue import QUEUE_NAME, redis_settings
from ocop.jobs.registry import cron_jobs, jobs, shutdown_hooks, startup_hooks
from ocop.settings import Settings


def build_worker(settings: Settings, redis_url: str, *, ctx: dict[str, Any] | None = None,
                 burst: bool = False, handle_signals: bool = True, manage_db: bool = False) -> Worker:
    """``manage_db``: a standalone worker process opens (and closes) its own database engine;
    inside ``ocop serve`` the app's engine is shared through ``ctx``."""
    functions = [func(spec.func, name=spec.name, timeout=spec.timeout(settings), max_tries=spec.max_tries,
                      keep_result=spec.keep_result_s) for spec in jobs()]
    crons = [arq_cron(spec.func, name=spec.name, minute=spec.minutes(settings), second=spec.second,
                      run_at_startup=spec.run_at_startup, timeout=spec.timeout_s, unique=True)
             for spec in cron_jobs()]
    base_ctx = {"settings": settings, "worker_name": f"{socket.gethostname()}"}
    base_ctx.update(ctx or {})
    async def on_startup(worker_ctx: dict[str, Any]) -> None:
        if manage_db:
            engine = db.use_database(db.engine_from_url(settings.effective_database_url))
            await db.prepare(engine)
            worker_ctx["engine"] = engine
            worker_ctx["owns_engine"] = True
        for hook in startup_hooks():
            await hook(worker_ctx)

    async def on_shutdown(worker_ctx: dict[str, Any]) -> None:
        for hook in shutdown_hooks():
            await hook(worker_ctx)
        if worker_ctx.get("owns_engine"):
            await db.close(worker_ctx["engine"])

    return Worker(
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
        with contextlib.suppress(Exception):
            await self.worker.close()
