"""Login rate limiting: after too many failed attempts, sign-in is refused for a while.

Counts live in Redis (shared by every web process) under a fixed window: 5 failures per username
or 20 per client address within 15 minutes (the OWASP Authentication Cheat Sheet advises throttling
per account as well as per source, so one attacker cannot lock everybody out from one address).
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from ocop.domain.text import fold

WINDOW_S = 15 * 60
MAX_PER_USER = 5
MAX_PER_IP = 20


@dataclass
class LoginLimiter:
    redis: Redis

    def _keys(self, username: str, ip: str) -> tuple[str, str]:
        return f"ocop:login:user:{fold(username)}", f"ocop:login:ip:{ip}"

    async def retry_after(self, username: str, ip: str) -> int:
        """Seconds until another attempt is allowed; 0 = allowed now."""
        user_key, ip_key = self._keys(username, ip)
        counts = await self.redis.mget(user_key, ip_key)
        over = [
            (key, int(c))
            for key, c, limit in zip((user_key, ip_key), counts, (MAX_PER_USER, MAX_PER_IP), strict=True)
            if c is not None and int(c) >= limit
        ]
        if not over:
            return 0
        ttls = [await self.redis.ttl(key) for key, _ in over]
        return max(max(ttls), 1)

    async def failed(self, username: str, ip: str) -> None:
        for key in self._keys(username, ip):
            count = await self.redis.incr(key)
            if count == 1:
                await self.redis.expire(key, WINDOW_S)

    async def succeeded(self, username: str) -> None:
        await self.redis.delete(self._keys(username, "")[0])
