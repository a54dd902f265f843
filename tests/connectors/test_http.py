"""SharedHttp: retries, 429 handling, error mapping, redaction, and the Redis rate limiter shared across processes."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
import uuid
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from connectors.base import RateLimitedError, RetryableError, ShopCredentials
from connectors.http import Limits, RateLimit, RedisRateLimiter, RetryPolicy, SharedHttp, parse_retry_after, redact
from connectors.registry import get_client
from connectors.shopee.client import ShopeeClient
from tests.connectors.conftest import Sandbox
from tests.connectors.helpers import grant, product

ROOT = Path(__file__).resolve().parents[2]


def test_redact_masks_secrets_in_urls_json_and_headers() -> None:
    text = ("GET https://h/api?partner_id=1&access_token=AT123&sign=S1 body={\"refresh_token\": \"RT9\", "
            "\"code\": \"C7\"} Authorization: Bearer TOK x-tts-access-token: TT1 order_code=5")
    out = redact(text)
    for secret in ("AT123", "S1", "RT9", "C7", "TOK", "TT1"):
        assert secret not in out
    assert "partner_id=1" in out and "order_code=5" in out


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert 9 <= parse_retry_after(formatdate(time.time() + 10, usegmt=True)) <= 10.5
    assert parse_retry_after(None, 1.5) == 1.5 and parse_retry_after("soon", 2.0) == 2.0


async def shopee_shop(sandbox: Sandbox, http: SharedHttp) -> tuple[ShopeeClient, ShopCredentials]:
    c = get_client("shopee", sandbox.app("shopee"), http, sandbox.url("shopee"))
    assert isinstance(c, ShopeeClient)
    answer = grant(c.authorize_url("http://127.0.0.1:9/cb"), "14701711")
    return c, (await c.exchange_code(answer["code"], answer["shop_id"])).shop()


async def test_bounded_retries(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c, shop = await shopee_shop(sandbox_clean, http)
    before = len(sandbox_clean.state.request_log)
    sandbox_clean.faults("shopee", next=["429", "429", "429"], retry_after_s=0)
    with pytest.raises(RateLimitedError):
        await c.find_by_seller_sku(shop, "X")
    assert len(sandbox_clean.state.request_log) - before == 3  # max_attempts, then give up

    before = len(sandbox_clean.state.request_log)
    sandbox_clean.faults("shopee", next=["5xx", "5xx", "5xx"])
    with pytest.raises(RetryableError) as failed:
        await c.find_by_seller_sku(shop, "X")
    assert not failed.value.outcome_unknown  # a read: nothing to reconcile
    assert len(sandbox_clean.state.request_log) - before == 3


async def test_connection_refused_is_retryable_and_safe(http: SharedHttp, sandbox: Sandbox) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = ShopeeClient(sandbox.app("shopee"), http, f"http://127.0.0.1:{port}")
    with pytest.raises(RetryableError) as refused:
        await c.create_item(ShopCredentials("1", "t"), product("S", image_ids=("i",)))
    assert not refused.value.outcome_unknown  # nothing was sent, even for a write


async def test_tokens_never_reach_the_logs(sandbox_clean: Sandbox, http: SharedHttp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    c, shop = await shopee_shop(sandbox_clean, http)
    sandbox_clean.faults("shopee", next=["5xx"])
    await c.find_by_seller_sku(shop, "X")
    assert "HTTP Request" in caplog.text  # httpx did log the URLs…
    assert shop.access_token not in caplog.text and shop.refresh_token not in caplog.text  # …without the token
    assert "sign=***" in caplog.text


async def test_limiter_paces_one_process(redis_server_url: str) -> None:
    client = aioredis.from_url(redis_server_url)
    limiter = RedisRateLimiter(client, prefix=f"t:{uuid.uuid4().hex}:")
    bucket = [("lazada:shop:x", RateLimit(rate=10, burst=1))]
    t0 = time.monotonic()
    for _ in range(5):
        await limiter.acquire(bucket)
    assert time.monotonic() - t0 >= 0.35  # 4 intervals of 100 ms after the first
    assert await limiter.try_acquire(bucket) > 0
    await client.aclose()


async def test_limiter_gives_up_beyond_max_wait(redis_server_url: str) -> None:
    client = aioredis.from_url(redis_server_url)
    limiter = RedisRateLimiter(client, prefix=f"t:{uuid.uuid4().hex}:", max_wait=0.05)
    bucket = [("x", RateLimit(rate=1, per=10.0))]
    await limiter.acquire(bucket)
    with pytest.raises(RateLimitedError) as err:
        await limiter.acquire(bucket)
    assert 9 < err.value.retry_after <= 10
    await client.aclose()


async def test_shared_http_applies_per_shop_limits(sandbox_clean: Sandbox, redis_server_url: str) -> None:
    client = aioredis.from_url(redis_server_url)
    http = SharedHttp(
        client=httpx.AsyncClient(timeout=2.0), limiter=RedisRateLimiter(client, prefix=f"t:{uuid.uuid4().hex}:"),
        limits={"shopee": Limits(per_app=RateLimit(rate=1000), per_shop=RateLimit(rate=10))},
        retry=RetryPolicy(max_attempts=1),
    )
    c, shop = await shopee_shop(sandbox_clean, http)
    t0 = time.monotonic()
    for _ in range(4):
        assert await c.find_by_seller_sku(shop, "NONE") is None  # one request each
    assert time.monotonic() - t0 >= 0.25
    await http.aclose()
    await client.aclose()


def test_limiter_is_shared_across_two_processes(redis_server_url: str) -> None:
    """Two processes, 10 acquisitions each, one shop bucket of 20/s with bursts of 2.
    Shared pacing needs ≥ 0.9 s for the 20; two private limiters would finish in ~0.45 s."""
    prefix = f"t:{uuid.uuid4().hex}:"
    procs = [
        subprocess.Popen([sys.executable, str(Path(__file__).with_name("ratelimit_worker.py")), redis_server_url,
                          prefix, "10"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, text=True)
        for _ in range(2)
    ]
    # a common start once both are ready: a fixed delay from here was overrun by a slow import on a
    # busy machine, and then the two never ran at the same time
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready", p.stderr and p.stderr.read()
    start_at = f"{time.time() + 0.3}\n"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(start_at)
        p.stdin.flush()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        outs.append([float(x) for x in out.split()])
    assert all(len(o) == 10 for o in outs)
    # the two really ran at the same time
    assert min(outs[0]) < max(outs[1]) and min(outs[1]) < max(outs[0])
    stamps = sorted(outs[0] + outs[1])
    assert stamps[-1] - stamps[0] >= 0.85
    # GCRA: never more than the burst (2) plus one per 50 ms interval
    for i in range(len(stamps) - 2):
        assert stamps[i + 2] - stamps[i] >= 0.045


@pytest.mark.parametrize("marketplace,shop_id,code", [("shopee", "14701711", "error_rate_limit"),
                                                      ("lazada", "200170001", "ApiCallLimit")])
async def test_marketplace_quota_answers_are_honoured(
    sandbox_clean: Sandbox, http: SharedHttp, marketplace: str, shop_id: str, code: str
) -> None:
    client = get_client(marketplace, sandbox_clean.app(marketplace), http, sandbox_clean.url(marketplace))
    answer = grant(client.authorize_url("http://127.0.0.1:9/cb"), shop_id)
    shop = (await client.exchange_code(answer["code"], answer.get("shop_id"))).shop()
    sandbox_clean.admin("POST", "/limits", {"shop_calls_per_s": 2.0})
    impatient = SharedHttp(client=http.client, retry=RetryPolicy(max_attempts=1))
    blunt = get_client(marketplace, sandbox_clean.app(marketplace), impatient, sandbox_clean.url(marketplace))
    await blunt.find_by_seller_sku(shop, "A")
    await blunt.find_by_seller_sku(shop, "A")
    with pytest.raises(RateLimitedError) as limited:
        await blunt.find_by_seller_sku(shop, "A")
    assert limited.value.code == code and limited.value.retry_after >= 1
    # the patient client waits for Retry-After and gets through
    t0 = time.monotonic()
    assert await client.find_by_seller_sku(shop, "A") is None
    assert time.monotonic() - t0 >= 0.9
