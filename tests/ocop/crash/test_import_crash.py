"""Crash safety of the web import (issue 8): staff upload a 3,000-row catalogue through the real
upload form; while the worker is inside the import's write transaction the server and the worker
are SIGKILLed. Nothing of the batch is visible; after a restart the queued job runs again by itself
and the import completes: exactly 3,000 products, one batch, no duplicates.

What the design guarantees (ocop/imports/persist.py, ocop/imports/jobs.py): one transaction per
import, so a kill leaves nothing; the job stays queued in Redis and a restarted worker takes it
again within its in-progress lease (ocop/jobs/worker.py), so the import completes without anyone
re-uploading. That holds with ``ocop worker`` processes on a Redis server and in the embedded
default (``ocop serve`` alone), whose own redis-server dies with it and keeps the queue
(ocop/jobs/embedded.py). A run whose worker died twice is marked failed, never left "running";
photos a dead run had not yet handed over are handed over by the next delivery."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from arq import create_pool
from arq.constants import retry_key_prefix

from ocop.catalog.tables import Certificate, Product
from ocop.catalog.tables import Image as ImageRow
from ocop.imports import runs
from ocop.imports.images import ImageRef
from ocop.imports.jobs import MAX_RUNS, import_job_id
from ocop.imports.media_sink import MediaImageSink
from ocop.imports.service import ImportSource, run_import
from ocop.imports.tables import ImportBatch
from ocop.jobs.queue import QUEUE_NAME, JobQueue, redis_settings
from ocop.assembly import WORKER
from ocop.jobs.worker import build_worker
from ocop.producers.tables import Producer
from ocop.settings import Settings
from ocop.storage import media_store
from tests.ocop.crash.conftest import Service
from tests.ocop.imports.conftest import csv_text, product_row
from tests.ocop.web.support import GIA_LAI, csrf_from, jpeg, login, make_user

ROWS = 3000
HTML = {"accept": "text/html"}


def catalogue() -> bytes:
    """3,000 products of 3 producers (Gia Lai), every SKU distinct, in the staff template's CSV."""
    producers = [("0100233488", "HTX Nông nghiệp Tam Quan"), ("0314409058", "Công ty TNHH Gò Bồi"),
                 ("0100109106", "HTX Bánh tráng Hoài Nhơn")]
    rows = [product_row(tax_code=producers[n % 3][0], producer_name=producers[n % 3][1], sku=f"CS-{n:05d}",
                        name=f"Bánh tráng nước dừa số {n}", price=str(40_000 + n)) for n in range(ROWS)]
    return csv_text(rows).encode("utf-8")


class WriteProbe:
    """Whether another connection holds the SQLite write lock: the import writes everything in one
    ``BEGIN IMMEDIATE`` transaction (ocop/imports/persist.py), so while it is open our own
    ``BEGIN IMMEDIATE`` fails at once (busy timeout 0)."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, timeout=0, isolation_level=None)

    def locked(self) -> bool:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc), exc
            return True
        self.conn.execute("ROLLBACK")
        return False

    def close(self) -> None:
        self.conn.close()


async def visible_counts() -> tuple[int, int, int, int]:
    return (await Product.count(), await Producer.count(), await Certificate.count(), await ImportBatch.count())


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["worker", "embedded"])
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_import_killed_mid_write_leaves_nothing_and_completes_after_restart(
        db: Any, service: Service, crash_redis: str, mode: str, tmp_path: Path) -> None:
    """``worker``: ``ocop serve`` + an ``ocop worker`` on a Redis server (production shape).
    ``embedded``: ``ocop serve`` alone, with its own Redis and the worker inside (the default);
    its redis-server must die with it and keep the queue (ocop/jobs/embedded.py)."""
    await make_user("canbo", "staff", province=GIA_LAI)
    if mode == "embedded":
        del service.env["OCOP_REDIS_URL"]
    socket = tmp_path / "var" / "redis.sock"
    redis = aioredis.from_url(f"unix://{socket}" if service.embedded else crash_redis)
    service.start(workers=0 if service.embedded else 1)
    try:
        async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
            await login(client, "canbo")
            page = await client.get("/imports", headers=HTML)
            sent = await client.post("/imports", data={"_csrf_token": csrf_from(page.text)},
                                     files={"file": ("danh-muc.csv", catalogue(), "text/csv")}, headers=HTML)
            assert sent.status_code == 303, sent.text[:500]
            run_path = sent.headers["location"]
            token = run_path.rsplit("/", 1)[1]

            # freeze the worker the moment its write transaction is open, check that it still is,
            # then SIGKILL the server and the worker
            probe = WriteProbe(db.url.removeprefix("sqlite:///"))
            try:
                deadline = time.monotonic() + 30
                while not probe.locked():
                    state = await runs.load(redis, token)
                    assert state is not None and not state.finished, f"finished before the kill: {state}"
                    assert time.monotonic() < deadline, f"the import never started writing:\n{service.tail()}"
                    await asyncio.sleep(0.002)
                service.freeze_workers()
                assert probe.locked(), "the import committed before the worker was frozen"
                service.kill()
            finally:
                probe.close()
            assert await visible_counts() == (0, 0, 0, 0), "a half-written import is visible"

            if service.embedded:
                deadline = time.monotonic() + 10
                while socket.exists():  # redis-server saves and goes when its parent dies
                    assert time.monotonic() < deadline, "the embedded redis-server outlived ocop serve"
                    await asyncio.sleep(0.05)
                service.start(workers=0)
            else:
                state = await runs.load(redis, token)
                assert state is not None and state.status == "running", state
                service.start(workers=0)
                # with no worker yet, users see the run unfinished and no batch at all
                assert await visible_counts() == (0, 0, 0, 0)
                history = await client.get("/imports", headers=HTML)
                assert history.status_code == 200 and "/imports/1" not in history.text
                running = await client.get(run_path, headers=HTML)
                assert running.status_code == 200, running.status_code
                service.add_workers(1)
            # the queued job runs again by itself (no re-upload) once the dead worker's lease lapses
            deadline = time.monotonic() + 45
            while not (state := await runs.load(redis, token)) or not state.finished:
                assert time.monotonic() < deadline, f"the import never completed after restart:\n{service.tail()}"
                await asyncio.sleep(0.2)
            assert (state.status, state.created, state.failed, state.rows) == ("done", ROWS, 0, ROWS), state

            done = await client.get(run_path, headers=HTML)
            assert done.status_code == 303 and done.headers["location"] == f"/imports/{state.batch_id}"
            result = await client.get(done.headers["location"], headers=HTML)
            assert result.status_code == 200 and "danh-muc.csv" in result.text
    finally:
        await redis.aclose()

    assert await Product.count() == ROWS
    skus = await Product.select(Product.producer, Product.sku)
    assert len({(r["producer"], r["sku"]) for r in skus}) == ROWS
    assert {r["sku"] for r in skus} == {f"CS-{n:05d}" for n in range(ROWS)}
    assert await Producer.count() == 3 and await Certificate.count() == ROWS
    batches = await ImportBatch.select(ImportBatch.id, ImportBatch.created, ImportBatch.rows, ImportBatch.dry_run)
    assert batches == [{"id": state.batch_id, "created": ROWS, "rows": ROWS, "dry_run": False}]


async def test_a_run_interrupted_twice_is_marked_failed_not_left_running(crash_redis: str, tmp_path: Path) -> None:
    """Two deliveries of the job died with their workers (arq counts them in ``arq:retry:<id>``);
    the third delivery does not run the file a third time but says plainly that it stopped and that
    importing again is safe, instead of arq dropping the job and the page showing "running" forever."""
    redis = aioredis.from_url(crash_redis)
    queue = JobQueue(await create_pool(redis_settings(crash_redis), default_queue_name=QUEUE_NAME))
    state = runs.RunState(token=runs.new_token(), user_id=1, file_name="danh-muc.csv", source_key="x",
                          status="running", done=10, total=6000)
    job_id = import_job_id(state.token)
    try:
        await runs.save(redis, state)
        assert await queue.enqueue("import_catalogue", state.token, job_id=job_id) == job_id
        await redis.set(retry_key_prefix + job_id, MAX_RUNS)  # as two killed deliveries left it
        worker = build_worker(Settings(var_dir=tmp_path / "var", secret_key="k" * 32, run_sandbox=False),
                              crash_redis, plan=WORKER, burst=True, handle_signals=False)
        worker.poll_delay_s = 0.05
        try:
            await asyncio.wait_for(worker.main(), 20)
        finally:
            await worker.close()
        assert await queue.result(job_id, timeout_s=5) == "failed"  # ran and ended, not dropped by arq
        final = await runs.load(redis, state.token)
        assert final is not None and final.status == "failed" and final.finished
        assert "interrupted repeatedly" in final.error_en and "an toàn" in final.error_vi
        assert final.batch_id is None
    finally:
        await queue.close()
        await redis.aclose()


class _WorkerDied(Exception):
    """Stands for the SIGKILL: raised out of the photo phase, after the rows were committed."""


class DiesAfter:
    """The real media sink until ``photos`` photos went through; then every photo "kills" the run."""

    def __init__(self, sink: MediaImageSink, photos: int) -> None:
        self.sink, self.left = sink, photos

    async def submit(self, *, product_id: int, position: int, ref: ImageRef, data: bytes) -> None:
        if self.left <= 0:
            raise _WorkerDied
        self.left -= 1
        await self.sink.submit(product_id=product_id, position=position, ref=ref, data=data)


@pytest.mark.parametrize("db", ["sqlite", "postgres"], indirect=True)
async def test_photos_of_a_run_killed_after_its_commit_are_delivered_by_the_next_delivery(
        db: Any, crash_redis: str, tmp_path: Path) -> None:
    """A run can die after committing its rows, while handing photos to the media pipeline. Its
    next delivery finds every row unchanged; with ``resume_photos`` (what the job passes on a
    re-delivery) it still hands over the photos the products lack, and duplicates none."""
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200), (200, 30, 200)]
    names = [f"anh-{n}.jpg" for n in range(len(colours))]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        for name, colour in zip(names, colours, strict=True):
            out.writestr(name, jpeg(640, 480, colour))
    rows = [product_row(sku=f"AN-{n}", name=f"Bánh tráng có ảnh {n}", images=f"{names[2 * n]}; {names[2 * n + 1]}")
            for n in range(3)]
    source = ImportSource("anh.csv", csv_text(rows).encode("utf-8"), archive.getvalue())
    store = media_store(Settings(var_dir=tmp_path / "var"))
    queue = JobQueue(await create_pool(redis_settings(crash_redis), default_queue_name=QUEUE_NAME))
    try:
        with pytest.raises(_WorkerDied):
            await run_import(source, actor_user_id=None, dry_run=False, image_sink=DiesAfter(MediaImageSink(store, queue), 2))
        for _ in range(100):  # the two photos already handed over finish in the background
            if await ImageRow.count() == 2:
                break
            await asyncio.sleep(0.05)
        assert await Product.count() == 3 and await ImageRow.count() == 2  # rows committed, photos cut short

        plain = await run_import(source, actor_user_id=None, dry_run=False, image_sink=MediaImageSink(store, queue))
        assert plain.unchanged == 3 and await ImageRow.count() == 2  # an ordinary re-import adds no photos

        resumed = await run_import(source, actor_user_id=None, dry_run=False, image_sink=MediaImageSink(store, queue),
                                   resume_photos=True)
        assert (resumed.unchanged, resumed.errors) == (3, [])
        images = await ImageRow.select(ImageRow.product, ImageRow.original_key)
        assert len(images) == 6 and len({(i["product"], i["original_key"]) for i in images}) == 6
        per_product = {p: sum(1 for i in images if i["product"] == p) for p in {i["product"] for i in images}}
        assert sorted(per_product.values()) == [2, 2, 2]

        again = await run_import(source, actor_user_id=None, dry_run=False, image_sink=MediaImageSink(store, queue),
                                 resume_photos=True)
        assert again.unchanged == 3 and await ImageRow.count() == 6  # nothing missing: nothing offered again
    finally:
        await queue.close()
