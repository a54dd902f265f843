"""The JSON API rate limit (issue 8 "Limits"), against the real app and the session's real Redis.

Small budgets keep the tests fast: 60 requests/min is one request per second, and a burst of 3
means the 4th request in a row is refused; ``Retry-After`` is then 1 s (whole seconds, rounded up).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from ocop.accounts.tokens import create_token
from ocop.accounts.tokens import rate_identity as identity_of
from ocop.app import create_app
from ocop.settings import Settings
from ocop.web import ratelimit
from ocop.web.ratelimit import _GCRA_LUA, ApiRate, ApiRateLimiter, ApiRateLimitMiddleware, Decision
from tests.ocop.web.support import login, make_user
from tests.support.servers import redis_server

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
        client = client_for("127.0.0.1")  # /metrics answers loopback by default (ocop.web.metrics_access)
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
    # the first Authorization header decides, as it does for authentication: a Bearer behind a
    # Basic one authenticates nobody, so it is not counted as that token either
    second = {**scope, "headers": [(b"authorization", b"Basic eDp5"), (b"authorization", b"Bearer ocop_secret")]}
    assert identity_of(second) == "user:7"  # type: ignore[arg-type]


async def test_without_redis_the_api_stays_up() -> None:
    """Redis unreachable (a closed port on 127.0.0.1): requests pass, unlimited, rather than fail."""
    import redis.asyncio as aioredis
    from litestar import get

    from tests.support.servers import free_port

    dead = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)

    @get("/api/v1/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    app = Litestar([ping], middleware=[ApiRateLimitMiddleware(ApiRate(60, 1), namespace="t", redis_of=lambda _: dead,
                                                              identity_of=identity_of)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        responses = [await client.get("/api/v1/ping") for _ in range(3)]
    await dead.aclose()
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all("ratelimit-limit" not in r.headers for r in responses)


# ---------------------------------------------------------------- the lean EVALSHA path (issue 8 load)


@pytest.fixture(scope="module")
def own_redis() -> Iterator[str]:
    """A redis-server of these tests alone: they flush its script cache, kill and pause its clients."""
    with redis_server() as url:
        yield url


@asynccontextmanager
async def clients(url: str) -> AsyncIterator[tuple[Any, Any]]:
    """``(client, admin)``: the client the limiter uses, and another to act on the server."""
    import redis.asyncio as aioredis

    client, admin = aioredis.from_url(url), aioredis.from_url(url)
    try:
        yield client, admin
    finally:
        await client.aclose()
        await admin.aclose()


async def connected_clients(admin: Any) -> int:
    """Clients connected to the server, not counting ``admin`` itself."""
    return len(await admin.client_list()) - 1


def test_the_command_is_the_evalsha_redis_py_would_send() -> None:
    import redis.asyncio as aioredis
    from redis.asyncio.connection import Connection

    client = aioredis.Redis()  # never connects: only its script sha is compared
    sha = client.register_script(_GCRA_LUA).sha
    limiter = ApiRateLimiter(client, ApiRate(per_min=90, burst=7), namespace="ns")
    for identity in ("token:0123abcd", "user:42", "ip:2001:db8::1", "user:Nguyễn Thị Ánh"):
        packed = Connection().pack_command("EVALSHA", sha, 1, f"ocop:api-rl:ns:{identity}", 667, 7)
        assert limiter.command(identity) == b"".join(packed)
    plain = ApiRateLimiter(client, ApiRate(per_min=60, burst=0))
    packed = Connection().pack_command("EVALSHA", sha, 1, "ocop:api-rl:ip:x", 1000, 1)
    assert plain.command("ip:x") == b"".join(packed)


async def test_a_flushed_script_cache_is_loaded_again(own_redis: str) -> None:
    """NOSCRIPT (``SCRIPT FLUSH``, or a fail-over to a server that never saw the script): the limiter
    loads the script and the bucket carries on where it was."""
    async with clients(own_redis) as (client, admin):
        limiter = ApiRateLimiter(client, ApiRate(per_min=60, burst=5), namespace="noscript")
        sha = client.register_script(_GCRA_LUA).sha
        await client.delete("ocop:api-rl:noscript:token:x")
        await admin.script_flush()
        assert (await limiter.check("token:x")).remaining == 4  # NOSCRIPT on the very first call
        await admin.script_flush()
        assert await admin.script_exists(sha) == [False]
        decision = await limiter.check("token:x")
        assert decision.allowed and decision.remaining == 3
        assert await admin.script_exists(sha) == [True]


async def test_a_connection_the_server_closed_is_replaced_rather_than_failing_open(own_redis: str) -> None:
    async with clients(own_redis) as (client, admin):
        limiter = ApiRateLimiter(client, ApiRate(per_min=60, burst=5), namespace="killed")
        await client.delete("ocop:api-rl:killed:token:x")
        assert [(await limiter.check("token:x")).remaining for _ in range(2)] == [4, 3]
        killed = await admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        assert killed >= 1  # the limiter's kept connection among them
        decision = await limiter.check("token:x")
        assert decision.allowed and decision.remaining == 2


async def test_a_cancelled_check_leaves_no_reply_behind_for_the_next(own_redis: str) -> None:
    """A request cancelled while its EVALSHA is in flight (client gone, deadline) must not leave its
    reply on a connection the next check reads from."""
    async with clients(own_redis) as (client, admin):
        limiter = ApiRateLimiter(client, ApiRate(per_min=60, burst=10), namespace="cancel")
        await client.delete("ocop:api-rl:cancel:token:a", "ocop:api-rl:cancel:token:b")
        for _ in range(3):
            await limiter.check("token:a")
        await admin.execute_command("CLIENT", "PAUSE", 300, "ALL")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(limiter.check("token:a"), 0.05)
        decision = await limiter.check("token:b")  # waits out the pause
        assert decision.allowed and decision.remaining == 9  # b's own fresh bucket, not a's reply


async def test_kept_connections_are_bounded_and_closed_with_the_client(
    own_redis: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "MAX_KEPT_CONNECTIONS", 4)
    async with clients(own_redis) as (client, admin):
        limiter = ApiRateLimiter(client, ApiRate(per_min=60_000, burst=100), namespace="kept")
        pool = client.connection_pool  # 12 connections opened up front: opening one sends commands
        opened = [await pool.get_connection() for _ in range(12)]  # (CLIENT SETINFO) a pause would hold
        for conn in opened:
            await pool.release(conn)
        await admin.execute_command("CLIENT", "PAUSE", 200, "ALL")  # all 12 checks in flight at once
        decisions = await asyncio.gather(*(limiter.check(f"token:{i}") for i in range(12)))
        assert all(d.allowed for d in decisions)
        assert await connected_clients(admin) == 12  # one connection per simultaneous check
        assert len(limiter._kept) == 4  # the other 8 went back to the client's pool
        await asyncio.gather(*(limiter.check(f"token:{i}") for i in range(12)))
        assert await connected_clients(admin) == 12  # reused, none opened
        assert len(limiter._kept) == 4
        await client.aclose()
        for _ in range(50):  # the server notices closed sockets asynchronously; bounded wait
            if await connected_clients(admin) == 0:
                break
            await asyncio.sleep(0.02)
        assert await connected_clients(admin) == 0


async def test_redis_going_away_while_running_lets_requests_through_and_logs_it() -> None:
    import redis.asyncio as aioredis
    from litestar import get
    from structlog.testing import capture_logs

    @get("/api/v1/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    with redis_server() as url:
        client = aioredis.from_url(url, socket_connect_timeout=1)
        app = Litestar([ping], middleware=[ApiRateLimitMiddleware(ApiRate(60, 5), namespace="gone",
                                                                  redis_of=lambda _: client,
                                                                  identity_of=identity_of)])
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        before = await http.get("/api/v1/ping")
    try:  # the server is stopped now; the limiter's kept connection is dead
        with capture_logs() as logs:
            after = [await http.get("/api/v1/ping") for _ in range(3)]
    finally:
        await http.aclose()
        await client.aclose()
    assert before.status_code == 200 and before.headers["ratelimit-remaining"] == "4"
    assert [r.status_code for r in after] == [200, 200, 200]
    assert all("ratelimit-limit" not in r.headers for r in after)
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["api_rate_limit_unavailable"] * 3


@pytest.mark.parametrize("allowed", [True, False])
def test_raw_headers_are_the_headers_as_asgi_bytes(allowed: bool) -> None:
    decision = Decision(allowed=allowed, limit=5, remaining=0 if not allowed else 3, retry_after_s=12,
                        reset_s=7, policy="300;w=60;burst=5")
    expected = [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
    assert decision.raw_headers() == expected
    assert ((b"retry-after", b"12") in expected) is not allowed
