"""The one shared HTTP layer under every marketplace client.

Why it exists: timeouts, retries, rate limits and error mapping are the same
problem for the four marketplaces, and getting them subtly wrong duplicates
items on a marketplace. Rules:

- httpx timeouts are per socket operation, so every attempt also runs under an
  ``asyncio.timeout`` total deadline.
- Retries are bounded, with full-jitter exponential backoff, and only where safe:
  connection never established (``ConnectError``/``ConnectTimeout``: nothing was
  sent) → always; ``429`` (the request was refused, not executed) → always, after
  ``Retry-After``; 5xx / read timeout / dropped connection → only for idempotent
  calls (reads, or writes the marketplace makes idempotent). A non-idempotent write
  that ends that way raises ``RetryableError(outcome_unknown=True)`` so the caller
  looks the item up by seller SKU before writing again.
- Every attempt builds a fresh request through a factory so signatures and
  timestamps are recomputed (Shopee refuses timestamps older than 5 minutes).
- Discarded responses are closed (pydantic/pydantic-ai#2724: leaked responses
  exhaust the pool).
- The marketplace's own error body is mapped by a ``classify`` callback given by
  each client; the transport-level mapping lives here.
- Secrets never reach a log line: URLs are logged without their query string and
  ``redact`` masks known secret parameters anywhere in a text.
- A per-app and per-shop rate limit shared by all processes is kept in Redis as
  a GCRA (generic cell rate algorithm) evaluated atomically by a Lua script.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx

from connectors.base import (
    ConnectorError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)

log = logging.getLogger("connectors.http")

SECRET_PARAMS = (
    "access_token",
    "refresh_token",
    "sign",
    "code",
    "auth_code",
    "app_secret",
    "partner_key",
    "client_secret",
    "x-tts-access-token",
    "authorization",
)
_REDACT_RE = re.compile(
    r"(?i)((?<![A-Za-z0-9_])\"?(?:" + "|".join(re.escape(p) for p in SECRET_PARAMS) + r")\"?\s*[=:]\s*\"?)((?:Bearer\s+)?[^&\"\s,}]+)"
)


def redact(text: str) -> str:
    """Mask the values of secret parameters in a URL, form body, JSON text or header dump."""
    return _REDACT_RE.sub(lambda m: m.group(1) + "***", text)


class RedactingFilter(logging.Filter):
    """httpx logs every request URL at INFO ("HTTP Request: GET https://…?access_token=…&sign=…"):
    rewrite such records so tokens and signatures never reach a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix
            return True
        record.msg, record.args = redact(message), None
        return True


for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(RedactingFilter())


def safe_url(url: httpx.URL | str) -> str:
    """Scheme, host and path only: the query string carries tokens and signatures."""
    u = httpx.URL(str(url))
    return f"{u.scheme}://{u.host}{':' + str(u.port) if u.port else ''}{u.path}"


# --------------------------------------------------------------------------- rate limiting


@dataclass(frozen=True)
class RateLimit:
    """``rate`` requests per ``per`` seconds, with bursts of up to ``burst`` requests."""

    rate: int
    per: float = 1.0
    burst: int = 1

    @property
    def interval_ms(self) -> int:
        return max(1, int(self.per * 1000 / self.rate))


# GCRA over several keys at once: allowed only if every key allows, and then all
# keys are updated, atomically (one EVAL). Time comes from the Redis server so
# workers on machines with skewed clocks agree. Returns 0 or the wait in ms.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  local allow_at = tat - tolerance
  if allow_at > now and allow_at - now > wait then wait = allow_at - now end
  tats[i] = tat + interval
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, tats[i], 'PX', tats[i] - now + 1000)
end
return 0
"""


class RedisRateLimiter:
    """Shared limiter: ``acquire`` waits until every named bucket has room.

    ``redis`` is a ``redis.asyncio.Redis``. Waiting longer than ``max_wait`` seconds
    raises ``RateLimitedError`` instead of stalling a worker.
    """

    def __init__(self, redis: object, *, prefix: str = "connectors:rl:", max_wait: float = 30.0) -> None:
        self._redis = redis
        self._prefix = prefix
        self._max_wait = max_wait
        self._script = redis.register_script(_GCRA_LUA)  # type: ignore[attr-defined]

    async def try_acquire(self, buckets: Sequence[tuple[str, RateLimit]]) -> float:
        """One atomic attempt: 0.0 if a slot was taken, else the seconds to wait."""
        if not buckets:
            return 0.0
        keys = [self._prefix + name for name, _ in buckets]
        args: list[int] = []
        for _, limit in buckets:
            args += [limit.interval_ms, limit.interval_ms * (limit.burst - 1)]
        wait_ms = await self._script(keys=keys, args=args)
        return int(wait_ms) / 1000.0

    async def acquire(self, buckets: Sequence[tuple[str, RateLimit]]) -> None:
        deadline = time.monotonic() + self._max_wait
        while True:
            wait = await self.try_acquire(buckets)
            if wait <= 0:
                return
            if time.monotonic() + wait > deadline:
                raise RateLimitedError("local rate limit: no slot within max_wait", retry_after=wait)
            await asyncio.sleep(wait)


@dataclass(frozen=True)
class Limits:
    """Per-app and per-shop budgets for one marketplace (None: unlimited)."""

    per_app: RateLimit | None = None
    per_shop: RateLimit | None = None


# --------------------------------------------------------------------------- the client


@dataclass
class RetryPolicy:
    max_attempts: int = 3
    backoff_base: float = 0.2
    backoff_max: float = 5.0
    max_retry_after: float = 30.0
    total_timeout: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Full jitter (AWS architecture blog "Exponential Backoff And Jitter")."""
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))


Classifier = Callable[[httpx.Response], ConnectorError | None]


def parse_retry_after(value: str | None, default: float = 1.0) -> float:
    """RFC 9110 §10.2.3: delay-seconds or an HTTP-date."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return default


@dataclass
class SharedHttp:
    """One ``httpx.AsyncClient`` + retry policy + optional shared rate limiter.

    Create once per process (app lifespan / worker startup) and pass to
    ``connectors.registry.get_client``; close with ``aclose``.
    """

    client: httpx.AsyncClient = field(
        default_factory=lambda: httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
    )
    limiter: RedisRateLimiter | None = None
    limits: dict[str, Limits] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def aclose(self) -> None:
        await self.client.aclose()

    def buckets(self, marketplace: str, app_key: str, shop_id: str | None) -> list[tuple[str, RateLimit]]:
        lim = self.limits.get(marketplace)
        if lim is None:
            return []
        out: list[tuple[str, RateLimit]] = []
        if lim.per_app:
            out.append((f"{marketplace}:app:{app_key}", lim.per_app))
        if lim.per_shop and shop_id:
            out.append((f"{marketplace}:shop:{app_key}:{shop_id}", lim.per_shop))
        return out

    async def send(
        self,
        build: Callable[[], httpx.Request],
        *,
        idempotent: bool,
        classify: Classifier,
        marketplace: str,
        app_key: str,
        shop_id: str | None = None,
    ) -> httpx.Response:
        """Send with rate limiting, retries and error mapping; returns the successful response
        (body read). ``build`` must return a freshly signed request on every call."""
        pol = self.retry
        last: ConnectorError | None = None
        for attempt in range(pol.max_attempts):
            if self.limiter is not None:
                await self.limiter.acquire(self.buckets(marketplace, app_key, shop_id))
            request = build()
            where = f"{request.method} {safe_url(request.url)}"
            try:
                async with asyncio.timeout(pol.total_timeout):
                    response = await self.client.send(request)
                    await response.aread()
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached the server: safe for writes too.
                last = RetryableError(f"{where}: cannot connect ({type(exc).__name__})")
            except (httpx.TimeoutException, TimeoutError) as exc:
                last = RetryableError(
                    f"{where}: timed out waiting for the answer ({type(exc).__name__})",
                    outcome_unknown=not idempotent,
                )
                if not idempotent:
                    log.warning("%s attempt %d: timeout after sending a write; not retried", where, attempt + 1)
                    raise last from exc
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                last = RetryableError(
                    f"{where}: connection dropped ({type(exc).__name__})", outcome_unknown=not idempotent
                )
                if not idempotent:
                    log.warning("%s attempt %d: connection dropped during a write; not retried", where, attempt + 1)
                    raise last from exc
            else:
                err = self._map(response, classify, where, idempotent)
                if err is None:
                    log.debug("%s -> %d", where, response.status_code)
                    return response
                last = err
                if isinstance(err, RateLimitedError):
                    if err.retry_after > pol.max_retry_after or attempt + 1 >= pol.max_attempts:
                        raise err
                    log.info("%s attempt %d: rate limited, waiting %.2fs", where, attempt + 1, err.retry_after)
                    await self.sleep(err.retry_after)
                    continue
                if not isinstance(err, RetryableError) or (err.outcome_unknown and not idempotent):
                    raise err
            log.info("%s attempt %d failed: %s", where, attempt + 1, redact(str(last)))
            if attempt + 1 < pol.max_attempts:
                await self.sleep(pol.backoff(attempt))
        assert last is not None
        raise last

    @staticmethod
    def _map(
        response: httpx.Response, classify: Classifier, where: str, idempotent: bool
    ) -> ConnectorError | None:
        """Marketplace body first (it knows its codes), then the HTTP status."""
        err = classify(response)
        if err is not None:
            return err
        status = response.status_code
        if status == 429:
            return RateLimitedError(
                f"{where}: HTTP 429", retry_after=parse_retry_after(response.headers.get("retry-after"))
            )
        if status >= 500:
            return RetryableError(f"{where}: HTTP {status}", outcome_unknown=not idempotent)
        if status >= 400:
            return PermanentError(f"{where}: HTTP {status}: {redact(response.text[:300])}")
        return None
