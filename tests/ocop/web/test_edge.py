"""The service's edge (ocop.web.edge) in the assembled app: request ids, security headers, one
access line per request and the Prometheus request metrics, on matched routes and router 404s."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from litestar import get
from prometheus_client.parser import text_string_to_metric_families

from ocop.web.security_headers import CSP

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

SECURITY = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "same-origin",
            "content-security-policy": CSP}


async def metric(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """One sample of /metrics (0 if the series does not exist yet): metrics are process-wide, so
    tests compare before and after."""
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def written(capsys: pytest.CaptureFixture[str]) -> str:
    """stderr so far, once the event loop has finished its iteration: access lines of one
    iteration are written together at its end (``ocop.logs.write_access_line``)."""
    await asyncio.sleep(0)
    return capsys.readouterr().err


def access_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if " request " in line and "path=" in line]


@pytest.mark.parametrize("path,status", [("/healthz", 200), ("/api/v1/no-such-thing", 404)])
async def test_every_response_gets_a_request_id_security_headers_and_one_access_line(
        db: Any, app_client: Any, redis_url: str, capsys: pytest.CaptureFixture[str], path: str,
        status: int) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        capsys.readouterr()
        answer = await client.get(f"{path}?code=SECRETCODE123&phone=0912345678")
        err = await written(capsys)
    assert answer.status_code == status
    request_id = answer.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert answer.headers.get_list("x-request-id") == [request_id]
    for name, value in SECURITY.items():
        assert answer.headers.get_list(name) == [value], name
    assert "strict-transport-security" not in answer.headers  # only with secure cookies (HTTPS)
    lines = access_lines(err)
    assert len(lines) == 1, err
    assert "method=GET" in lines[0] and f"path={path} " in lines[0] and f"status={status}" in lines[0]
    assert f"request_id={request_id}" in lines[0] and re.search(r" ms=\d+\.\d ", lines[0])
    assert "SECRETCODE123" not in err and "0912345678" not in err and "?" not in lines[0]


async def test_a_well_formed_incoming_request_id_is_kept_a_bad_one_replaced(
        db: Any, app_client: Any, redis_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        kept = await client.get("/healthz", headers={"x-request-id": "lb-req.0001_abc"})
        replaced = await client.get("/healthz", headers={"x-request-id": "bad id with spaces"})
        err = await written(capsys)
    assert kept.headers["x-request-id"] == "lb-req.0001_abc"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    assert "request_id=lb-req.0001_abc" in err and "bad id with spaces" not in err


async def test_hsts_is_added_when_served_over_https(db: Any, app_client: Any, redis_url: str) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url,
                          base_url="https://ocop.example.vn") as (_, client):
        answer = await client.get("/healthz")
    assert answer.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_log_lines_inside_a_handler_carry_the_request_id(
        db: Any, app_client: Any, redis_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from ocop.logs import log

    @get("/api/v1/test-edge-logs", sync_to_thread=False)
    def logs_something() -> dict[str, str]:
        log.info("inside_handler", shop_id=7)
        return {"ok": "yes"}

    async with app_client(database_url=db.url, redis_url=redis_url) as (app, client):
        app.register(logs_something)
        answer = await client.get("/api/v1/test-edge-logs")
        err = await written(capsys)
    inside = [line for line in err.splitlines() if "inside_handler" in line]
    assert answer.status_code == 200 and len(inside) == 1
    assert f"request_id={answer.headers['x-request-id']}" in inside[0]


async def test_metrics_keep_litestars_names_and_labels(db: Any, app_client: Any, redis_url: str) -> None:
    @get("/api/v1/test-edge-boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("kaput")

    ok = dict(method="GET", path="/healthz", status_code="200", app_name="ocop")
    failed = dict(method="GET", path="/api/v1/test-edge-boom", status_code="500", app_name="ocop")
    async with app_client(database_url=db.url, redis_url=redis_url) as (app, client):
        app.register(boom)
        before = {name: await metric(client, name, **ok) for name in
                  ("ocop_requests_total", "ocop_request_duration_seconds_count")}
        errors_before = await metric(client, "ocop_requests_error_total", **failed)
        for _ in range(3):
            assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/api/v1/test-edge-boom")).status_code == 500
        assert await metric(client, "ocop_requests_total", **ok) == before["ocop_requests_total"] + 3
        assert (await metric(client, "ocop_request_duration_seconds_count", **ok)
                == before["ocop_request_duration_seconds_count"] + 3)
        assert await metric(client, "ocop_request_duration_seconds_sum", **ok) > 0
        assert await metric(client, "ocop_requests_error_total", **failed) == errors_before + 1
        assert await metric(client, "ocop_requests_total", **failed) >= 1
        # none in flight between requests; the gauge carries status_code="200" like Litestar's
        assert await metric(client, "ocop_requests_in_progress", method="GET", path="/healthz",
                            status_code="200", app_name="ocop") == 0
        text = (await client.get("/metrics")).text
        gauge = 'ocop_requests_in_progress{app_name="ocop",method="GET",path="/healthz",status_code="200"}'
        assert gauge in text


async def test_a_request_cut_off_by_the_deadline_is_counted_as_503(
        db: Any, app_client: Any, redis_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    @get("/api/v1/test-edge-stuck")
    async def stuck() -> None:
        await asyncio.sleep(30)

    labels = dict(method="GET", path="/api/v1/test-edge-stuck", status_code="503", app_name="ocop")
    async with app_client(database_url=db.url, redis_url=redis_url, request_timeout_s=0.3) as (app, client):
        app.register(stuck)
        before = await metric(client, "ocop_requests_total", **labels)
        answer = await client.get("/api/v1/test-edge-stuck")
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "timeout"
        assert answer.headers["retry-after"] == "5" and answer.headers["x-content-type-options"] == "nosniff"
        assert answer.json()["error"]["request_id"] == answer.headers["x-request-id"]
        assert await metric(client, "ocop_requests_total", **labels) == before + 1
        err = await written(capsys)
    assert "request_timeout" in err
    assert len([line for line in access_lines(err) if "test-edge-stuck" in line]) == 1


async def test_a_security_header_the_handler_sets_itself_wins(db: Any, app_client: Any, redis_url: str) -> None:
    from litestar import Response

    @get("/api/v1/test-edge-framed", sync_to_thread=False)
    def framed() -> Response[dict[str, str]]:
        return Response({"ok": "yes"}, headers={"X-Frame-Options": "SAMEORIGIN"})

    async with app_client(database_url=db.url, redis_url=redis_url) as (app, client):
        app.register(framed)
        answer = await client.get("/api/v1/test-edge-framed")
    assert answer.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert answer.headers["content-security-policy"] == CSP
