"""The sandbox app over real HTTP: signature checks with the marketplaces' error answers,
fault injection at the wire, admin and inspection endpoints, the overview page."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from urllib.parse import urlencode

import httpx
import pytest

from connectors.base import AppCredentials, AuthExpiredError
from connectors.http import SharedHttp
from connectors.lazada import signing as lz_signing
from connectors.registry import get_client
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.server import credentials_banner, start_in_thread
from connectors.shopee import signing as sp_signing
from tests.connectors.conftest import Sandbox
from tests.connectors.helpers import grant


def shopee_get(sandbox: Sandbox, path: str, ts: int, sign_path: str | None = None, **extra: str) -> httpx.Response:
    app = sandbox.config.app("shopee")
    sign = sp_signing.sign(app.app_secret, app.app_key, sign_path or path, ts)
    query = urlencode({"partner_id": app.app_key, "timestamp": ts, "sign": sign, **extra})
    return httpx.get(f"{sandbox.url('shopee')}{path}?{query}", timeout=5)


def test_shopee_signature_stale_timestamp_and_proxy_prefix(sandbox_clean: Sandbox) -> None:
    path = "/api/v2/shop/auth_partner"
    ok = shopee_get(sandbox_clean, path, int(time.time()), redirect="http://cb")
    assert ok.status_code == 200 and "<form" in ok.text
    stale = shopee_get(sandbox_clean, path, int(time.time()) - 301, redirect="http://cb")
    assert stale.status_code == 403 and stale.json()["error"] == "error_auth" and "timestamp" in stale.json()["message"]
    prefixed = shopee_get(sandbox_clean, path, int(time.time()), sign_path="/shopee" + path, redirect="http://cb")
    assert prefixed.status_code == 403 and prefixed.json()["error"] == "error_sign"
    assert prefixed.json()["message"] == "Wrong sign." and prefixed.json()["request_id"]


def lazada_post(sandbox: Sandbox, api: str, params: dict[str, str], ts_ms: int, body: bool = True) -> httpx.Response:
    app = sandbox.config.app("lazada")
    signed = {**params, "app_key": app.app_key, "timestamp": str(ts_ms), "sign_method": "sha256"}
    signed["sign"] = lz_signing.sign(app.app_secret, api, signed)
    url = f"{sandbox.url('lazada')}/rest{api}"
    if body:
        return httpx.post(url, data=signed, timeout=5)
    return httpx.post(url, params=signed, timeout=5)


def test_lazada_verifies_query_and_body_alike(sandbox_clean: Sandbox) -> None:
    now = int(time.time() * 1000)
    for in_body in (True, False):
        answer = lazada_post(sandbox_clean, "/auth/token/create", {"code": "nope"}, now, in_body)
        assert answer.json()["code"] == "InvalidCode", answer.text  # the signature itself passed
    stale = lazada_post(sandbox_clean, "/auth/token/create", {"code": "nope"}, now - 3 * 3600 * 1000)
    assert stale.json()["code"] == "InvalidTimestamp"
    app = sandbox_clean.config.app("lazada")
    tampered = {"code": "nope", "app_key": app.app_key, "timestamp": str(now), "sign_method": "sha256"}
    tampered["sign"] = lz_signing.sign(app.app_secret, "/auth/token/create", tampered)
    tampered["code"] = "other"
    answer = httpx.post(f"{sandbox_clean.url('lazada')}/rest/auth/token/create", data=tampered, timeout=5).json()
    assert answer == {**answer, "type": "ISV", "code": "IncompleteSignature"}


def test_wire_level_faults(sandbox_clean: Sandbox) -> None:
    path = "/api/v2/auth/token/get"
    app = sandbox_clean.config.app("shopee")

    def post(timeout: float = 5.0) -> httpx.Response:
        ts = int(time.time())
        q = urlencode({"partner_id": app.app_key, "timestamp": ts,
                       "sign": sp_signing.sign(app.app_secret, app.app_key, path, ts)})
        return httpx.post(f"{sandbox_clean.url('shopee')}{path}?{q}", json={"code": "x", "shop_id": 1,
                                                                             "partner_id": int(app.app_key)}, timeout=timeout)

    sandbox_clean.faults("shopee", next=["429"], retry_after_s=7)
    limited = post()
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert limited.json()["error"] == "error_rate_limit"
    sandbox_clean.faults("shopee", next=["5xx"])
    assert post().status_code == 500
    sandbox_clean.faults("shopee", next=["drop"])
    with pytest.raises(httpx.RemoteProtocolError):
        post()
    sandbox_clean.faults("shopee", next=["timeout_after_write"], timeout_delay_s=1.5)
    with pytest.raises(httpx.ReadTimeout):
        post(timeout=0.5)
    assert post().json()["error"] == "error_auth"  # back to normal: the code is simply invalid

    sandbox_clean.faults("shopee", p_5xx=1.0)  # a probability, not a script
    assert [post().status_code for _ in range(3)] == [500, 500, 500]
    sandbox_clean.faults("shopee", p_5xx=0.0)
    assert post().status_code == 403


def test_admin_validation_inspection_and_overview(sandbox_clean: Sandbox) -> None:
    bad = httpx.put(f"{sandbox_clean.base_url}/_admin/faults/shopee", json={"next": ["meteor"]}, timeout=5)
    assert bad.status_code == 400 and "meteor" in bad.text
    config = sandbox_clean.admin("GET", "/config")
    assert {a["marketplace"] for a in config["apps"]} >= {"shopee", "lazada"}
    sandbox_clean.state.create_item(
        "shopee", "14701712", seller_sku="DUP-1", name="Rượu Bàu Đá", description="d", price_vnd=180_000, stock=5,
        weight_g=900, dims_cm=(8, 8, 30), category_id="100783", brand="No brand", images=["i"], attributes={},
    )
    sandbox_clean.state.create_item(
        "shopee", "14701712", seller_sku="DUP-1", name="Rượu Bàu Đá (2)", description="d", price_vnd=180_000, stock=5,
        weight_g=900, dims_cm=(8, 8, 30), category_id="100783", brand="No brand", images=["i"], attributes={},
    )
    items = sandbox_clean.admin("GET", "/items")
    assert len(items["shopee"]["14701712"]["DUP-1"]) == 2  # duplicates are countable
    page = httpx.get(sandbox_clean.base_url + "/", timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Rượu Bàu Đá (2)" in page.text and "180.000 ₫" in page.text and "HTX Nông sản Tam Quan" in page.text


def test_start_in_thread_prints_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    config = SandboxConfig.default()
    base_url, stop, state = start_in_thread(config)
    try:
        out = capsys.readouterr().out
        assert base_url in out and config.app("shopee").app_secret in out
        assert out.strip() == credentials_banner(config, base_url)
        assert httpx.get(base_url + "/_admin/config", timeout=5).status_code == 200
    finally:
        stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(base_url + "/", timeout=2)


async def test_short_token_lifetime_over_http() -> None:
    """Lifetimes configurable down to seconds: the token really expires, refresh brings the shop back."""
    config = SandboxConfig.from_json(b'{"access_token_ttl_s": 1, "review_seconds": 0}')
    assert config.apps and config.access_token_ttl_s == 1
    base_url, stop, state = start_in_thread(config, quiet=True)
    http = SharedHttp()
    try:
        app = config.app("shopee")
        client = get_client("shopee", AppCredentials("shopee", app.app_key, app.app_secret), http, base_url + "/shopee")
        answer = grant(client.authorize_url("http://127.0.0.1:9/cb"), "14701711")
        tokens = await client.exchange_code(answer["code"], answer["shop_id"])
        assert (tokens.access_expires_at - datetime.now(timezone.utc)).total_seconds() <= 1.5
        assert await client.find_by_seller_sku(tokens.shop(), "A") is None
        time.sleep(1.2)
        with pytest.raises(AuthExpiredError):
            await client.find_by_seller_sku(tokens.shop(), "A")
        fresh = await client.refresh_token(tokens.shop())
        assert await client.find_by_seller_sku(fresh.shop(), "A") is None
    finally:
        await http.aclose()
        stop()
