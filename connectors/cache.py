"""A small in-process TTL cache for marketplace catalogue data (category trees, required attributes).

Why: category trees are large, change rarely, and count against the same rate
limits as publishing; every client instance in a process shares one cache so a
worker asks each marketplace at most once a day per key.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

CATALOG_TTL_S = 24 * 3600


class TTLCache:
    def __init__(self, ttl_s: float = CATALOG_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._values: dict[Hashable, tuple[float, Any]] = {}

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """Failures are not cached. Two cold callers may both load (harmless: reads only);
        no lock, because a lock would bind to one event loop and workers run several."""
        hit = self._values.get(key)
        if hit and hit[0] > self.clock():
            return hit[1]  # type: ignore[no-any-return]
        value = await load()
        self._values[key] = (self.clock() + self.ttl_s, value)
        return value

    def clear(self) -> None:
        self._values.clear()


CATALOG_CACHE = TTLCache()
