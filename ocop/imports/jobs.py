"""The web import as an arq job: read the uploaded file back from the media store, run the import
with the media pipeline as photo sink, and publish progress and the result on the run's state.

Safe to deliver twice (arq is at-least-once): a finished run is not run again, and running an
import again is itself harmless (rows come back "unchanged").

Crash safety: the rows and the batch row are written in one transaction, so a worker killed
mid-import leaves nothing visible; the job stays queued and another worker runs it again from the
start (within the worker's in-progress lease, :class:`ocop.jobs.worker.LeasedWorker`), and also
hands over the photos of rows a dead run had committed but not yet photographed. A run whose
worker died ``MAX_RUNS`` times (a file that itself kills workers, e.g. out of memory) is not
tried again: it is marked failed with a message saying the file can be imported again.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from ocop.accounts.auth import principal_of
from ocop.accounts.tables import User
from ocop.storage import media_store
from ocop.imports.area import area_gate
from ocop.imports import runs
from ocop.imports.media_sink import MediaImageSink
from ocop.imports.readers import UnreadableFile
from ocop.imports.service import ImportSource, run_import
from ocop.jobs.queue import JobQueue
from ocop.jobs.registry import job
from ocop.logs import log

PROGRESS_EVERY_S = 0.5
MAX_RUNS = 2
"""Deliveries that may run the import; one more delivery only marks a twice-interrupted run failed
(without it arq would drop the job after ``max_tries`` and leave the run "running" forever)."""


def import_job_id(token: str) -> str:
    return f"import:{token}"


class RunRefused(Exception):
    """The run cannot start (its uploader lost the right to import); explained on the run page."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


class _Counter:
    """Latest (done, total) from ``run_import``'s callback, which may run in a worker thread."""

    def __init__(self) -> None:
        self.done = 0
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total


async def _publish(redis: Any, token: str, counter: _Counter) -> None:
    last = (-1, -1)
    while True:
        now = (counter.done, counter.total)
        if now != last:
            await runs.set_progress(redis, token, *now)
            last = now
        await asyncio.sleep(PROGRESS_EVERY_S)


@job(timeout_s=1800, max_tries=MAX_RUNS + 1)
async def import_catalogue(ctx: dict[str, Any], token: str) -> str:
    """Run the import of web upload ``token``; returns the run's final status."""
    redis = ctx["redis"]
    state = await runs.load(redis, token)
    if state is None:
        return "gone"
    if state.finished:
        return state.status
    if ctx.get("job_try", 1) > MAX_RUNS:
        state.status = "failed"
        state.error_vi = ("Việc nhập bị gián đoạn nhiều lần nên đã dừng. "
                          "Nhập lại cùng tệp là an toàn (không tạo bản trùng).")
        state.error_en = ("The import was interrupted repeatedly and stopped. "
                          "Importing the same file again is safe (no duplicates).")
        await runs.save(redis, state)
        return state.status
    store = media_store(ctx["settings"])
    queue = ctx.get("queue") or JobQueue(redis)
    state.status = "running"
    await runs.save(redis, state)
    counter = _Counter()
    publisher = asyncio.create_task(_publish(redis, token, counter))
    try:
        user = await User.select().where(
            (User.id == state.user_id) & (User.is_active == True)  # noqa: E712
        ).first()
        if user is None or user["role"] not in ("staff", "admin"):
            raise RunRefused("Tài khoản không còn quyền nhập danh mục", "This account may no longer import")
        source = ImportSource(
            state.file_name,
            await store.get(state.source_key),
            await store.get(state.images_key) if state.images_key else None,
        )
        result = await run_import(
            source,
            actor_user_id=state.user_id,
            dry_run=state.dry_run,
            progress=counter,
            image_sink=MediaImageSink(store, queue),
            source_key=state.source_key,
            row_gate=area_gate(principal_of(user)),
            resume_photos=ctx.get("job_try", 1) > 1,
        )
    except (UnreadableFile, RunRefused) as exc:
        state.status, state.error_vi, state.error_en = "failed", exc.message_vi, exc.message_en
        return state.status
    except Exception:
        log.exception("import_failed", token=token[:6])
        state.status = "failed"
        state.error_vi = "Lỗi hệ thống khi nhập tệp. Nhập lại cùng tệp là an toàn (không tạo bản trùng)."
        state.error_en = "A system error stopped the import. Importing the same file again is safe."
        raise
    else:
        state.status = "done"
        state.batch_id = result.batch_id
        state.rows, state.created, state.updated = result.rows, result.created, result.updated
        state.unchanged, state.failed = result.unchanged, result.failed
        state.done = state.total = result.rows
        state.unknown_columns = list(result.unknown_columns)
        state.faults = list(result.errors)
        return state.status
    finally:
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publisher
        await runs.save(redis, state)
