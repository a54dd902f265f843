"""One worker process for the cross-process rate-limit test: gets ready (imports, Redis connection),
says so on stdout, reads the common start time from stdin, waits for it, then acquires."""

from __future__ import annotations

import asyncio
import sys
import time

import redis.asyncio as aioredis

from connectors.http import RateLimit, RedisRateLimiter


async def main(url: str, prefix: str, count: int) -> None:
    client = aioredis.from_url(url)
    limiter = RedisRateLimiter(client, prefix=prefix, max_wait=30)
    await client.ping()
    print("ready", flush=True)
    start_at = float(await asyncio.to_thread(sys.stdin.readline))
    await asyncio.sleep(max(0.0, start_at - time.time()))
    stamps = []
    for _ in range(count):
        await limiter.acquire([("shopee:app:2001887", RateLimit(rate=100)), ("shopee:shop:2001887:1", RateLimit(rate=20, burst=2))])
        stamps.append(time.time())
    await client.aclose()
    print(" ".join(f"{t:.6f}" for t in stamps))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
