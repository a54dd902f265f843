"""Rate limit on the JSON API (``/api/v1/*``), shared by every web process through Redis.

Issue 8 ("Limits": rate limits on the API per token) asks that one script cannot starve the others.
Who is counted, in this order:

- a request with ``Authorization: Bearer …`` counts against that token (its SHA-256, never the token
  itself, goes into the Redis key), so two scripts of the same person have separate budgets;
- a request with a session cookie counts against the signed-in user (the session's ``uid``);
- anything else counts against the client address (``scope["client"]``; uvicorn runs with
  ``proxy_headers`` so behind a trusted proxy this is the real client, see ``ocop/cli/serve.py``).

The algorithm is GCRA (generic cell rate algorithm, the one ``connectors/http.py`` uses for the
marketplaces): one timestamp per key, evaluated atomically by one Lua script with the Redis server's
clock, so every process on every machine agrees and no read-modify-write race lets a burst through.
``rate_per_min`` requests per minute are allowed on average, with bursts of up to ``burst``.

Every answer carries ``RateLimit-Limit/-Remaining/-Reset/-Policy`` (the IETF httpapi draft
"RateLimit header fields for HTTP", the same names Litestar's own RateLimitMiddleware uses); a refused
request gets 429 with ``Retry-After`` (RFC 9110 §10.2.3, whole seconds) in the API's one error shape.

If Redis cannot be reached the request is let through (and logged): ``/readyz`` already reports
Redis, and an API that refuses everything when its limiter is down would be the worse outage.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError

from ocop.web.errors import ApiError
from ocop.logs import log

API_PREFIX = "/api/v1/"
KEY_PREFIX = "ocop:api-rl:"

# One key: allowed only if the bucket's theoretical arrival time (TAT) minus the burst tolerance is
# not in the future. Returns {allowed 0/1, remaining, retry_after_ms, reset_ms}.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if allow_at > now then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, math.floor((now - allow_at) / interval), 0, new_tat - now}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    """The limiter's answer for one request."""

    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int
    reset_s: int
    policy: str

    def headers(self) -> dict[str, str]:
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
            "RateLimit-Policy": self.policy,
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after_s)
        return out

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """:meth:`headers` as ASGI header pairs (lower-case names), built straight as bytes because
        the middleware adds them to every ``/api/v1/*`` response."""
        out = [(b"ratelimit-limit", b"%d" % self.limit), (b"ratelimit-remaining", b"%d" % self.remaining),
               (b"ratelimit-reset", b"%d" % self.reset_s), (b"ratelimit-policy", self.policy.encode())]
        if not self.allowed:
            out.append((b"retry-after", b"%d" % self.retry_after_s))
        return out


@dataclass(frozen=True, slots=True)
class ApiRate:
    """``per_min`` requests per minute on average, bursts of up to ``burst``. ``per_min`` 0 = off."""

    per_min: int
    burst: int

    @property
    def enabled(self) -> bool:
        return self.per_min > 0

    @property
    def interval_ms(self) -> int:
        return max(1, round(60_000 / self.per_min))

    @property
    def policy(self) -> str:
        return f"{self.per_min};w=60;burst={max(1, self.burst)}"


def _bulk(value: bytes) -> bytes:
    """One RESP bulk string (https://redis.io/docs/latest/develop/reference/protocol-spec/#bulk-strings)."""
    return b"$%d\r\n%s\r\n" % (len(value), value)


# Connections kept out of the client's pool between checks. The pool itself never shrinks, so this
# bounds how many of its connections stay with the limiter rather than adding any; 32 covers the
# in-flight requests of one web process (the load bench drives 16).
MAX_KEPT_CONNECTIONS = 32


class KeptScript:
    """One Lua script, run atomically by Redis with ``EVALSHA`` on connections kept out of a pooled
    ``redis.asyncio.Redis`` client (arq's pool). Every Redis-side counter of the service goes through
    this one runner: the API's GCRA bucket (:class:`ApiRateLimiter`) and the sign-in and sign-up
    throttles (``ocop.accounts.ratelimit``).

    Why not ``redis.register_script`` (``AsyncScript``) or ``execute_command``: every call then goes
    through the pool's lock, ``ensure_connection`` (a socket poll, ``can_read_destructive``),
    ``Retry.call_with_retry``, command packing and the script wrapper. A py-spy profile of the load
    bench put that at ~7.5 % of server CPU per API request; ``tests/bench/ratelimit_bench.py``
    measured ~80–110 µs of client CPU per call that way against ~18–30 µs here (uvloop or asyncio),
    most of what is left being the socket send itself. So a few connections stay checked out of that
    same pool (the client stays their owner: its ``aclose()`` closes them too) and a pre-encoded
    ``EVALSHA`` is sent on them.

    What the pool's check-out does on each use is done here on failure instead: a kept connection
    the server closed meanwhile (restart, idle timeout, ``CLIENT KILL``) fails on use with
    ``ConnectionError`` and the call is retried once on a fresh connection from the pool; any other
    failure or a cancellation hands the connection back to the pool (redis-py has already
    disconnected it if its state is unknown, so no stray reply is read by the next call).
    ``NOSCRIPT`` (the server's script cache was flushed, or a fail-over to a server that never saw
    the script) loads the script and retries, as ``AsyncScript`` does; ``SCRIPT LOAD`` rather than
    ``EVAL`` because recent Redis versions evict ``EVAL``-cached scripts in LRU order while loaded
    ones stay until ``SCRIPT FLUSH`` (redis.io, commands/eval and commands/script-load).
    """

    def __init__(self, redis: Any, lua: str) -> None:
        self._pool: ConnectionPool = redis.connection_pool
        script = lua.encode()
        self.sha = hashlib.sha1(script).hexdigest().encode()
        self._load = b"*3\r\n" + _bulk(b"SCRIPT") + _bulk(b"LOAD") + _bulk(script)
        self._kept: list[AbstractConnection] = []

    def pack(self, keys: Sequence[str | bytes], args: Sequence[str | bytes | int]) -> bytes:
        """The RESP bytes of ``EVALSHA sha <n keys> <keys...> <args...>``."""
        parts = [b"EVALSHA", self.sha, b"%d" % len(keys), *map(_bytes, keys), *map(_bytes, args)]
        return b"*%d\r\n" % len(parts) + b"".join(_bulk(part) for part in parts)

    async def call(self, keys: Sequence[str | bytes], args: Sequence[str | bytes | int]) -> Any:
        """Run the script on ``keys`` with ``args``; its reply as redis-py parses it."""
        return await self._run(self.pack(keys, args))

    async def _run(self, command: bytes) -> Any:
        if self._kept:
            try:
                return await self._on(self._kept.pop(), command)
            except RedisConnectionError:
                pass  # closed by the server since its last use: once more on a fresh connection
        return await self._on(await self._pool.get_connection(), command)

    async def _on(self, conn: AbstractConnection, command: bytes) -> Any:
        try:
            try:
                await conn.send_packed_command(command, check_health=False)
                reply = await conn.read_response()
            except NoScriptError:
                await conn.send_packed_command(self._load, check_health=False)
                await conn.read_response()
                await conn.send_packed_command(command, check_health=False)
                reply = await conn.read_response()
        except BaseException:
            await self._pool.release(conn)
            raise
        if len(self._kept) < MAX_KEPT_CONNECTIONS:
            self._kept.append(conn)
        else:
            await self._pool.release(conn)
        return reply


def _bytes(value: str | bytes | int) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


class ApiRateLimiter(KeptScript):
    """The GCRA bucket per identity. ``redis`` is a pooled ``redis.asyncio.Redis`` (arq's pool).
    Every API request pays for this check, so its command's constant parts (sha, number of keys,
    interval, burst) are packed once and only the key changes per request."""

    def __init__(self, redis: Any, rate: ApiRate, *, namespace: str = "") -> None:
        super().__init__(redis, _GCRA_LUA)
        self._burst = max(1, rate.burst)
        self._policy = rate.policy
        self._prefix = (f"{KEY_PREFIX}{namespace}:" if namespace else KEY_PREFIX).encode()
        self._head = b"*6\r\n" + _bulk(b"EVALSHA") + _bulk(self.sha) + _bulk(b"1")
        self._tail = _bulk(b"%d" % rate.interval_ms) + _bulk(b"%d" % self._burst)

    def command(self, identity: str) -> bytes:
        """The RESP bytes of ``EVALSHA sha 1 <key> <interval_ms> <burst>`` for ``identity``."""
        key = self._prefix + identity.encode()
        return b"%s$%d\r\n%s\r\n%s" % (self._head, len(key), key, self._tail)

    async def check(self, identity: str) -> Decision:
        """Take one request from ``identity``'s bucket, or say how long to wait."""
        allowed, remaining, retry_ms, reset_ms = await self._run(self.command(identity))
        return Decision(
            allowed=bool(allowed),
            limit=self._burst,
            remaining=int(remaining),
            retry_after_s=max(1, math.ceil(int(retry_ms) / 1000)),
            reset_s=max(0, math.ceil(int(reset_ms) / 1000)),
            policy=self._policy,
        )


def deployment_namespace(database_url: str) -> str:
    """Account ids are per database: two deployments sharing one Redis (staging and production, or
    test databases) must not share buckets, so keys carry a short hash of the database URL."""
    return hashlib.sha256(database_url.encode()).hexdigest()[:10]


def rate_limited(decision: Decision) -> ApiError:
    exc = ApiError(
        429,
        "rate_limited",
        f"Too many API requests; try again in {decision.retry_after_s} s.",
        f"Quá nhiều yêu cầu tới API, vui lòng thử lại sau {decision.retry_after_s} giây.",
    )
    exc.headers = decision.headers()
    return exc


class ApiRateLimitMiddleware(ASGIMiddleware):
    """Applies :class:`ApiRateLimiter` to ``/api/v1/*`` (health, metrics, pages and the schema are
    never limited). Register it after the session middleware so ``scope["session"]`` is loaded.
    ``redis_of(scope)`` finds the app's Redis client (created in the lifespan, so not at build time);
    ``identity_of(scope)`` names whom the request counts against (``ocop.accounts.tokens.rate_identity``)."""

    scopes: tuple[ScopeType, ...] = (ScopeType.HTTP,)

    def __init__(self, rate: ApiRate, *, namespace: str, redis_of: Callable[[Scope], Any],
                 identity_of: Callable[[Scope], str]) -> None:
        self._rate = rate
        self._identity_of = identity_of
        self._namespace = namespace
        self._redis_of = redis_of
        self._limiter: tuple[Any, ApiRateLimiter] | None = None
        self.should_bypass_for_scope = self._exempt

    def _exempt(self, scope: Scope) -> bool:
        return not (self._rate.enabled and scope["path"].startswith(API_PREFIX))

    def _limiter_for(self, redis: Any) -> ApiRateLimiter:
        """One limiter (and its registered script) per Redis client, not one per request."""
        if self._limiter is None or self._limiter[0] is not redis:
            self._limiter = (redis, ApiRateLimiter(redis, self._rate, namespace=self._namespace))
        return self._limiter[1]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        try:
            decision = await self._limiter_for(self._redis_of(scope)).check(self._identity_of(scope))
        except (RedisError, OSError) as exc:
            log.warning("api_rate_limit_unavailable", error=type(exc).__name__)
            await next_app(scope, receive, send)
            return
        if not decision.allowed:
            raise rate_limited(decision)
        extra = decision.raw_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await next_app(scope, receive, send_with_headers)
