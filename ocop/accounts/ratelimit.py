"""Throttles in front of password checks and sign-up's existence checks, shared by every web
process through Redis.

Sign-in. An attempt is *counted before* its password is checked, by one Lua script that reads
the counts, refuses or takes a slot, all atomically in Redis (the same runner as the API rate limit,
``ocop.web.ratelimit.KeptScript``). Counting afterwards let 30 or 40 guesses sent at once all be
checked: each saw the count from before the others. A correct password gives its slots back
(:meth:`LoginLimiter.succeeded`), so only failures stay counted. Within a 15-minute window:

- per username *and* client address: :data:`MAX_PER_PAIR` attempts. One attacker on one address
  gets 5 guesses at an account, whatever they send at once;
- per client address: :data:`MAX_PER_ADDRESS` attempts over all usernames (spraying one password
  over many accounts);
- per username over all addresses: :data:`MAX_PER_USER` attempts. Beyond it the account is not
  locked: it takes attempts only from addresses it has signed in from before (kept for
  :data:`KNOWN_FOR_S`), so a many-address botnet is slowed to a crawl while the owner at their usual
  address still gets in.

Why not simply "5 failures lock the account", as before: anyone could then lock any user out for
15 minutes with five wrong passwords (the OWASP Authentication Cheat Sheet warns against
lock-outs that are a denial of service). With the rules above, a lock-out is always the lock-out
of an *address*: an attacker throttles themselves, and the owner, signing in from another address,
is unaffected; only the many-address case narrows the account to its known addresses.

Sign-up. Each submission answers whether a username or a tax code is taken, so
:data:`MAX_SIGNUPS_PER_ADDRESS` submissions per address per window are allowed (a cooperative or
a commune office registering several producers from one connection stays well under it).

Keys carry the database's instance id, so two deployments (or test databases) sharing one Redis
never count together, and a fresh demo database starts with clean counts.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from ocop.domain.text import fold
from ocop.web.ratelimit import KeptScript

WINDOW_S = 15 * 60
MAX_PER_PAIR = 5
MAX_PER_ADDRESS = 20
MAX_PER_USER = 20
KNOWN_FOR_S = 30 * 24 * 3600
MAX_SIGNUPS_PER_ADDRESS = 10

# KEYS: pair, address, user, known addresses of the user. ARGV: the three limits, window (ms),
# the client address. Returns 0 (go ahead, a slot was taken on each counter) or the wait in ms.
_ATTEMPT_LUA = """
local window = tonumber(ARGV[4])
local wait = 0
local function over(key, limit)
  local n = tonumber(redis.call('GET', key) or '0')
  if n >= limit then
    local ttl = redis.call('PTTL', key)
    if ttl < 1 then ttl = window end
    if ttl > wait then wait = ttl end
  end
end
over(KEYS[1], tonumber(ARGV[1]))
over(KEYS[2], tonumber(ARGV[2]))
if redis.call('SISMEMBER', KEYS[4], ARGV[5]) == 0 then over(KEYS[3], tonumber(ARGV[3])) end
if wait > 0 then return wait end
for i = 1, 3 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], window) end
end
return 0
"""

# A correct password: its slots come back, the pair starts over and the address becomes known.
# KEYS: pair, address, user, known. ARGV: the client address, how long it stays known (s).
_SUCCEEDED_LUA = """
redis.call('DEL', KEYS[1])
for i = 2, 3 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[2]))
return 1
"""

# One fixed-window counter. KEYS: the counter. ARGV: limit, window (ms). 0 = go ahead, else ms.
_COUNT_LUA = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
if n > tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 1 then ttl = tonumber(ARGV[2]) end
  return ttl
end
return 0
"""


def _short(value: str) -> str:
    """A fixed-length key part for any text a client sends (usernames of any length)."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass
class LoginLimiter:
    """The sign-in and sign-up throttles of one app (see the module docstring); made once per
    Redis client by :func:`login_limiter`."""

    redis: Any
    namespace: str = ""

    def __post_init__(self) -> None:
        self._attempt = KeptScript(self.redis, _ATTEMPT_LUA)
        self._succeeded = KeptScript(self.redis, _SUCCEEDED_LUA)
        self._count = KeptScript(self.redis, _COUNT_LUA)

    def _keys(self, username: str, ip: str) -> list[str]:
        base = f"ocop:login:{self.namespace}:"
        user = _short(fold(username).strip())
        return [f"{base}pair:{user}:{ip}", f"{base}ip:{ip}", f"{base}user:{user}", f"{base}known:{user}"]

    async def attempt(self, username: str, ip: str) -> int:
        """Take a slot for one password check: 0 = check it now; else the seconds to wait, and the
        password must not be checked."""
        wait_ms = await self._attempt.call(
            self._keys(username, ip), [MAX_PER_PAIR, MAX_PER_ADDRESS, MAX_PER_USER, WINDOW_S * 1000, ip]
        )
        return max(1, math.ceil(int(wait_ms) / 1000)) if int(wait_ms) else 0

    async def succeeded(self, username: str, ip: str) -> None:
        await self._succeeded.call(self._keys(username, ip), [ip, KNOWN_FOR_S])

    async def signup_attempt(self, ip: str) -> int:
        """Take a slot for one sign-up submission from ``ip``: 0 = go ahead, else seconds to wait."""
        wait_ms = await self._count.call(
            [f"ocop:signup:{self.namespace}:ip:{ip}"], [MAX_SIGNUPS_PER_ADDRESS, WINDOW_S * 1000]
        )
        return max(1, math.ceil(int(wait_ms) / 1000)) if int(wait_ms) else 0


def login_limiter(app: Any) -> LoginLimiter:
    """The app's limiter, made on first use (the Redis client is created in the lifespan)."""
    from ocop.accounts.sessions import DB_INSTANCE

    redis = app.state.queue.redis
    found = app.state.get("login_limiter")
    if found is None or found.redis is not redis:
        found = app.state["login_limiter"] = LoginLimiter(redis, namespace=app.state[DB_INSTANCE])
    return found  # type: ignore[no-any-return]


def minutes(wait_s: int) -> int:
    """A wait in whole minutes, as the pages say it."""
    return max(1, (wait_s + 59) // 60)
