"""Log lines carry the request id and never secrets or full phone numbers."""

from __future__ import annotations

import pytest

from ocop.web.logs import configure_logging, log, mask_phone


def test_phone_numbers_are_masked() -> None:
    assert mask_phone("gọi 0905123456 hoặc +84935234567") == "gọi 090…56 hoặc +8493…67"


def test_secret_fields_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", json=True)
    log.info("token_refreshed", access_token="abc123SECRET", password="hunter2", shop_id=42,
             note="khách 0905123456")
    err = capsys.readouterr().err
    assert "abc123SECRET" not in err and "hunter2" not in err and "0905123456" not in err
    assert '"shop_id": 42' in err and '"access_token": "***"' in err
