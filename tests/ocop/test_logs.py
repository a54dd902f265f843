"""Log lines carry the request id and never secrets or full phone numbers."""

from __future__ import annotations

import pytest

from ocop.logs import configure_logging, log, mask_phone


def test_phone_numbers_are_masked() -> None:
    assert mask_phone("gọi 0905123456 hoặc +84935234567") == "gọi 090…56 hoặc +8493…67"


def test_secret_fields_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", json=True)
    log.info("token_refreshed", access_token="abc123SECRET", password="hunter2", shop_id=42,
             note="khách 0905123456")
    err = capsys.readouterr().err
    assert "abc123SECRET" not in err and "hunter2" not in err and "0905123456" not in err
    assert '"shop_id": 42' in err and '"access_token": "***"' in err


@pytest.mark.parametrize("json", [False, True])
@pytest.mark.parametrize("path,status,ms,request_id", [
    ("/healthz", 200, 0.2, "4dcff7455cba45c0a4f28e9fdfc9c05c"),
    ("/api/v1/products", 503, 60012.5, "lb-req.0001_abc"),
    ("/producers/0912345678/ảnh sản phẩm", 404, 12.0, "req-0912345678"),
    ("/reset/abcdefSECRET", 302, 1.0, "0123456789abcdef"),
    ("/x/code=SECRET1/y", 200, 3.4, "a1b2c3d4e5"),
    ("/a'b\"c=d\te", 400, 0.0, "abcdefgh"),
    ("/bearer", 200, 0.1, "abcdefgh12"),
])
def test_the_fast_access_line_is_what_the_structlog_chain_writes(
        capsys: pytest.CaptureFixture[str], json: bool, path: str, status: int, ms: float,
        request_id: str) -> None:
    """``access_line`` skips the processor chain; it must still write the very line the chain
    writes (same renderer layout, same scrubbing), whatever the path holds."""
    import structlog

    from ocop.logs import access_line

    configure_logging("info", json=json)
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        log.info("request", method="GET", path=path, status=status, ms=ms)
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    chain = capsys.readouterr().err.rstrip("\n")
    timestamp = __import__("json").loads(chain)["timestamp"] if json else chain.split(" ", 1)[0]
    assert access_line(timestamp, "GET", path, status, ms, request_id, json=json) == chain
    assert "SECRET" not in chain and "0912345678" not in chain


@pytest.mark.parametrize("level,written", [("info", 1), ("debug", 1), ("warning", 0)])
def test_the_access_line_follows_the_level_and_format(capsys: pytest.CaptureFixture[str], level: str,
                                                      written: int) -> None:
    import json

    from ocop.logs import write_access_line

    configure_logging(level, json=True)
    write_access_line("POST", "/api/v1/products", 201, 5.5, "abcdefgh12")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == written
    if written:
        line = json.loads(lines[0])
        assert line["event"] == "request" and line["status"] == 201 and line["level"] == "info"
        assert line["timestamp"].endswith("Z") and line["request_id"] == "abcdefgh12"
