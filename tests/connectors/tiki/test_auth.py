"""Tiki OAuth 2 pure parts."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.tiki import auth


def test_authorize_url() -> None:
    url = auth.authorize_url("https://api.tiki.vn", "7590139168389961", "https://x.vn/cb", "state-123456")
    parts = urlsplit(url)
    assert parts.path == "/sc/oauth2/auth"
    q = parse_qs(parts.query)
    assert q["response_type"] == ["code"] and q["client_id"] == ["7590139168389961"]
    assert q["scope"] == ["offline product order inventory"] and q["state"] == ["state-123456"]
    with pytest.raises(ValueError):
        auth.authorize_url("https://api.tiki.vn", "1", "https://x.vn/cb", "short")


def test_basic_header_round_trip() -> None:
    header = auth.basic_auth_header("7590139168389961", "s3cr:et")
    assert header.startswith("Basic ")
    assert auth.parse_basic_auth(header) == ("7590139168389961", "s3cr:et")
    assert auth.parse_basic_auth("Bearer abc") is None
    assert auth.parse_basic_auth("Basic !!!") is None


def test_grant_forms() -> None:
    assert auth.refresh_grant_form("r", "c") == {
        "grant_type": "refresh_token",
        "refresh_token": "r",
        "client_id": "c",
    }
    assert auth.code_grant_form("k", "https://x/cb", "c")["grant_type"] == "authorization_code"
    assert auth.client_credentials_form() == {"grant_type": "client_credentials"}
