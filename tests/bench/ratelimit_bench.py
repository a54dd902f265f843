"""CPU per call of the API rate limiter's Redis check (issue 8, load target), old way vs new.

    .venv/bin/python tests/bench/ratelimit_bench.py [--calls 20000] [--concurrency 16] [--rounds 3]
                                                    [--loop auto|uvloop|asyncio]

Every ``/api/v1/*`` request runs :meth:`ocop.web.ratelimit.ApiRateLimiter.check`; a py-spy profile of
``tests/bench/load_bench.py`` put the old check at ~7.5 % of server CPU, mostly redis-py's client
machinery. This script compares, against a throw-away redis-server on 127.0.0.1
(``tests.support.servers.redis_server``) and through the arq pool the service uses
(``ocop.jobs.queue.open_queue``):

* ``old``: the check as it was, redis-py's ``AsyncScript`` (``register_script``: EVALSHA through
  ``Redis.execute_command``, its pool check-out, health poll and retry wrapper) and the same
  ``Decision``; kept here as the baseline;
* ``new``: today's ``ApiRateLimiter.check``.

Calls run sequentially and ``--concurrency``-way (that many tasks sharing the calls), each on its own
key so every call is admitted and writes. CPU is ``time.process_time()`` of this process (the
client side only: the Redis server's own work is the same Lua script for both); the best of
``--rounds`` interleaved rounds is printed, because a shared machine only ever adds time. Peak
memory: ``tracemalloc``'s peak of Python allocations over a separate concurrent pass (tracemalloc
slows calls down, so not during the timed rounds), and the process' peak RSS at the end. The event
loop defaults to what uvicorn's ``loop="auto"`` picks for ``ocop serve``: uvloop if installed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import math
import resource
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ocop.jobs.queue import open_queue  # noqa: E402
from ocop.web.ratelimit import _GCRA_LUA, KEY_PREFIX, ApiRate, ApiRateLimiter, Decision  # noqa: E402
from tests.support.servers import redis_server  # noqa: E402

Check = Callable[[str], Awaitable[Decision]]
# Every call admitted: 1,000,000 per minute with a burst of a million.
RATE = ApiRate(per_min=1_000_000, burst=1_000_000)
NAMESPACE = "bench"


def old_check(redis: Any, rate: ApiRate) -> Check:
    """The check before this change (redis-py ``AsyncScript``), verbatim but for being a closure."""
    script = redis.register_script(_GCRA_LUA)
    prefix = f"{KEY_PREFIX}{NAMESPACE}:"

    async def check(identity: str) -> Decision:
        burst = max(1, rate.burst)
        allowed, remaining, retry_ms, reset_ms = await script(
            keys=[prefix + identity], args=[rate.interval_ms, burst]
        )
        return Decision(
            allowed=bool(allowed),
            limit=burst,
            remaining=int(remaining),
            retry_after_s=max(1, math.ceil(int(retry_ms) / 1000)),
            reset_s=max(0, math.ceil(int(reset_ms) / 1000)),
            policy=rate.policy,
        )

    return check


async def run_calls(check: Check, calls: int, concurrency: int, tag: str) -> None:
    async def worker(k: int) -> None:
        identity = f"{tag}:{k}"
        for _ in range(calls // concurrency):
            decision = await check(identity)
            if not decision.allowed:
                raise SystemExit(f"unexpected refusal for {identity}: {decision}")

    await asyncio.gather(*(worker(k) for k in range(concurrency)))


async def cpu_per_call_us(check: Check, calls: int, concurrency: int, tag: str) -> float:
    start = time.process_time()
    await run_calls(check, calls, concurrency, tag)
    return (time.process_time() - start) / (calls // concurrency * concurrency) * 1e6


async def bench(url: str, args: argparse.Namespace) -> None:
    queue = await open_queue(url)
    try:
        redis = queue.redis
        checks: dict[str, Check] = {
            "old": old_check(redis, RATE),
            "new": ApiRateLimiter(redis, RATE, namespace=NAMESPACE).check,
        }
        for name, check in checks.items():  # warm up: script loaded, connections open
            await run_calls(check, 2_000, args.concurrency, f"warm-{name}")
        best: dict[tuple[str, int], float] = {}
        for round_no in range(args.rounds):
            for concurrency in (1, args.concurrency):
                for name, check in checks.items():
                    us = await cpu_per_call_us(check, args.calls, concurrency, f"{name}-{round_no}")
                    key = (name, concurrency)
                    best[key] = min(best.get(key, us), us)
        peaks: dict[str, int] = {}
        for name, check in checks.items():
            tracemalloc.start()
            await run_calls(check, 2_000, args.concurrency, f"mem-{name}")
            peaks[name] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        print(f"ratelimit check, {args.calls} calls, best of {args.rounds} rounds, loop={args.loop}, "
              f"client CPU per call (time.process_time):")
        for concurrency in (1, args.concurrency):
            old, new = best[("old", concurrency)], best[("new", concurrency)]
            label = "sequential" if concurrency == 1 else f"{concurrency}-way"
            print(f"  {label:>11}: old {old:6.1f} us  new {new:6.1f} us  new/old {new / old:5.2f}  "
                  f"({old / new:.1f}x cheaper)")
        print("  tracemalloc peak over 2000 concurrent calls: "
              + "  ".join(f"{name} {peak / 1024:.0f} KiB" for name, peak in peaks.items()))
        print(f"  process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")
    finally:
        await queue.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loop", choices=("auto", "uvloop", "asyncio"), default="auto")
    args = parser.parse_args()
    if args.loop == "auto":
        args.loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    with redis_server() as url:
        if args.loop == "uvloop":
            import uvloop

            uvloop.run(bench(url, args))
        else:
            asyncio.run(bench(url, args))


if __name__ == "__main__":
    main()
