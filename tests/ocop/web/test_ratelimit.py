"""The JSON API rate limit (issue 8 "Limits"), against the real app and the session's real Redis.

Small budgets keep the tests fast: 60 requests/min is one request per second, and a burst of 3
means the 4th request in a row is refused; ``Retry-After`` is then 1 s (whole seconds, rounded up).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from ocop.accounts.tokens import create_token
from ocop.app import create_app
from ocop.settings import Settings
from ocop.web.ratelimit import ApiRate, ApiRateLimiter, ApiRateLimitMiddleware, identity_of
from tests.ocop.web.support import login, make_user

RATE = {"api_rate_per_min": 60, "api_rate_burst": 3}
Open = Callable[..., AbstractAsyncContextManager[tuple[Litestar, Callable[..., httpx.AsyncClient]]]]


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """The limiter does not depend on the database kind: one migrated SQLite file is enough."""
    path = tmp_path / "ocop.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def open_app(tmp_path: Path, sqlite_url: str, redis_url: str) -> Open:
    """``async with open_app(**settings) as (app, client_for)``: the app with its lifespan running;
    ``client_for(ip)`` talks to it through ASGITransport as a client at that address."""

    @asynccontextmanager
    async def run(**overrides: object) -> AsyncIterator[tuple[Litestar, Callable[..., httpx.AsyncClient]]]:
        settings = Settings(var_dir=tmp_path / "var", secret_key="test-secret-key-0123456789abcdef",
                            run_sandbox=False, database_url=sqlite_url, redis_url=redis_url)
        app = create_app(settings.with_overrides(**{**RATE, **overrides}), run_worker=False)
        clients: list[httpx.AsyncClient] = []

        def client_for(ip: str = "198.51.100.1") -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(ip, 40000))
            clients.append(client := httpx.AsyncClient(transport=transport, base_url="http://testserver"))
            return client

        async with app.lifespan():
            try:
                yield app, client_for
            finally:
                for c in clients:
                    await c.aclose()

    return run


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_a_token_over_its_limit_gets_429_others_do_not_and_the_limit_resets(open_app: Open) -> None:
    async with open_app() as (_, client_for):
        client = client_for()
        staff = await make_user("staff_rl", "staff", province=52)
        token_a = (await create_token(staff, "a"))[1]
        token_b = (await create_token(staff, "b"))[1]

        remaining = []
        for _ in range(3):
            ok = await client.get("/api/v1/me", headers=bearer(token_a))
            assert ok.status_code == 200, ok.text
            assert ok.headers["ratelimit-limit"] == "3"
            assert ok.headers["ratelimit-policy"] == "60;w=60;burst=3"
            remaining.append(int(ok.headers["ratelimit-remaining"]))
        assert remaining == [2, 1, 0]

        refused = await client.get("/api/v1/me", headers=bearer(token_a))
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["ratelimit-remaining"] == "0"
        error = refused.json()["error"]
        assert error["code"] == "rate_limited" and error["status"] == 429
        assert "Quá nhiều yêu cầu" in error["message_vi"] and "Too many" in error["message"]
        assert error["request_id"] == refused.headers["x-request-id"]

        other = await client.get("/api/v1/me", headers=bearer(token_b))
        assert other.status_code == 200 and other.headers["ratelimit-remaining"] == "2"

        await asyncio.sleep(int(refused.headers["retry-after"]))
        again = await client.get("/api/v1/me", headers=bearer(token_a))
        assert again.status_code == 200  # one request per second came back
        assert again.headers["ratelimit-remaining"] == "0" and again.headers["ratelimit-reset"] == "3"


async def test_anonymous_calls_count_per_client_address_and_session_calls_per_user(open_app: Open) -> None:
    async with open_app() as (_, client_for):
        stranger, neighbour = client_for("203.0.113.7"), client_for("203.0.113.8")
        codes = [(await stranger.get("/api/v1/products")).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        assert (await neighbour.get("/api/v1/products")).status_code == 401

        staff = await make_user("staff_rl2", "staff", province=52)
        browser = client_for("203.0.113.7")  # same address as the stranger, but signed in
        await login(browser, "staff_rl2")
        codes = [(await browser.get("/api/v1/me")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        token = (await create_token(staff, "script"))[1]
        assert (await browser.get("/api/v1/me", headers=bearer(token))).status_code == 200


async def test_pages_health_and_metrics_are_not_limited(open_app: Open) -> None:
    async with open_app() as (_, client_for):
        client = client_for()
        for path in ("/healthz", "/metrics", "/login", "/schema/openapi.json"):
            for _ in range(5):
                response = await client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                assert "ratelimit-limit" not in response.headers


async def test_the_budget_is_shared_by_every_web_process(open_app: Open, redis_url: str) -> None:
    """Two app instances (two processes of one deployment: same database, same Redis) share buckets."""
    async with open_app() as (_, first), open_app() as (_, second):
        staff = await make_user("staff_rl3", "staff", province=52)
        token = (await create_token(staff, "t"))[1]
        a, b = first(), second()
        codes = [(await c.get("/api/v1/me", headers=bearer(token))).status_code for c in (a, b, a, b)]
        assert codes == [200, 200, 200, 429]


async def test_zero_turns_the_limit_off(open_app: Open) -> None:
    async with open_app(api_rate_per_min=0) as (_, client_for):
        client = client_for()
        codes = {(await client.get("/api/v1/products")).status_code for _ in range(8)}
        assert codes == {401}


async def test_concurrent_requests_never_take_more_than_the_burst(redis_url: str) -> None:
    """The Lua script is atomic: 40 simultaneous requests on one key admit exactly the burst."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)
    try:
        limiter = ApiRateLimiter(client, ApiRate(per_min=6, burst=5), namespace="concurrency-test")
        await client.delete("ocop:api-rl:concurrency-test:token:x")
        decisions = await asyncio.gather(*(limiter.check("token:x") for _ in range(40)))
        assert sum(d.allowed for d in decisions) == 5
        assert {d.retry_after_s for d in decisions if not d.allowed} == {10}  # 10 s per request
    finally:
        await client.aclose()


def test_identity_prefers_the_token_then_the_session_user_then_the_address() -> None:
    scope = {"headers": [(b"authorization", b"Bearer ocop_secret")], "session": {"uid": 7},
             "client": ("192.0.2.1", 1)}
    token_id = identity_of(scope)  # type: ignore[arg-type]
    assert token_id.startswith("token:") and "ocop_secret" not in token_id
    assert identity_of({**scope, "headers": []}) == "user:7"  # type: ignore[arg-type]
    assert identity_of({"headers": [], "session": {}, "client": ("192.0.2.1", 1)}) == "ip:192.0.2.1"  # type: ignore[arg-type]


async def test_without_redis_the_api_stays_up() -> None:
    """Redis unreachable (a closed port on 127.0.0.1): requests pass, unlimited, rather than fail."""
    import redis.asyncio as aioredis
    from litestar import get

    from tests.support.servers import free_port

    dead = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)

    @get("/api/v1/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    app = Litestar([ping], middleware=[ApiRateLimitMiddleware(ApiRate(60, 1), namespace="t", redis_of=lambda _: dead)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        responses = [await client.get("/api/v1/ping") for _ in range(3)]
    await dead.aclose()
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all("ratelimit-limit" not in r.headers for r in responses)
