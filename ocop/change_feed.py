"""What changed in the database, told to every process at once: PostgreSQL ``LISTEN``/``NOTIFY``,
and the in-process caches that rely on it.

Why: the JSON API's busiest calls (authenticating a token, a producer's product list) read data
that changes rarely, and re-reading it on every call was most of their cost
(``tests/bench/load_bench.py``). Caching it in each process is only safe if every process learns of
every change, whoever made it: a page, the API, an import (raw bulk SQL), a worker job, or an
operator with ``psql``. So the database says it, not the code: triggers (migration
``ocop_2026_11_26t04_00_00_000000``) call ``pg_notify`` on the channel :data:`CHANNEL` for each
changed row, and PostgreSQL delivers the notice when the transaction commits (never for a rolled
back one), once per distinct payload per transaction.

Payloads: ``catalog:<producer id>`` (a product, certificate, listing or the producer itself
changed), ``catalog:*`` (a table of them was truncated) and ``auth:*`` (a token was revoked or a
user's role, area, producer, language or active flag changed).

When caching is safe:

- only while the listening connection is up (:attr:`ChangeFeed.live`). When it drops, notices may
  be lost, so every cache is emptied and stays off until the connection is back (emptied again);
  a heartbeat finds a connection that died silently;
- an entry computed while any notice arrived is not stored (:meth:`FeedCache.begin` /
  :meth:`FeedCache.put`): it may hold data older than the notice;
- a process's own writes empty its caches before their response goes out (``own_writes_hook`` in
  ``ocop.app``): a client that writes and then reads through the same process sees its write.
  Another process learns of it when the notice arrives: milliseconds after the commit on a
  healthy database, the same order as a read replica's lag.

SQLite has no ``NOTIFY``: there the feed never goes live and caches stay off (the embedded,
single-process default does not need them).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from ocop.logs import log

CHANNEL = "ocop_changes"
CHANGE_FEED = "change_feed"
"""``app.state`` key of the process's :class:`ChangeFeed` (set up by ``ocop.app``)."""
APPLICATION_NAME = "ocop-change-feed"  # how the listening connection shows in pg_stat_activity
HEARTBEAT_S = 10.0
RECONNECT_S = (0.5, 1.0, 2.0, 5.0)

V = TypeVar("V")


class ChangeFeed:
    """One listening connection per process; calls each subscriber with every payload, and with
    ``"*"`` when notices may have been lost (connection dropped or not yet up)."""

    def __init__(self) -> None:
        self.live = False
        self.generation = 0
        """Moves on every notice and every loss: an entry computed across a move is not stored."""
        self._subscribers: list[Callable[[str], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def subscribe(self, callback: Callable[[str], None]) -> None:
        self._subscribers.append(callback)

    def publish(self, payload: str) -> None:
        """A notice, from PostgreSQL or from this process (its own writes, see module docstring)."""
        self.generation += 1
        for callback in self._subscribers:
            callback(payload)

    def _lost(self) -> None:
        if self.live and not self._stopping:
            log.warning("change_feed_lost")
        self.live = False
        self.publish("*")

    async def start(self, dsn: str) -> None:
        """Listen in the background; returns once the first connection is up (or failed once)."""
        first = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(dsn, first), name="ocop-change-feed")
        await first

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.live = False

    async def _run(self, dsn: str, first: asyncio.Future[None]) -> None:
        import asyncpg

        attempt = 0
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(dsn, timeout=5,
                                             server_settings={"application_name": APPLICATION_NAME})
                closed = asyncio.Event()
                conn.add_termination_listener(lambda _c: closed.set())
                await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: self.publish(payload))
                self.publish("*")  # whatever happened while we were not listening
                self.live = True
                attempt = 0
                if not first.done():
                    first.set_result(None)
                log.info("change_feed_live")
                while not closed.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(closed.wait(), HEARTBEAT_S)
                    if not closed.is_set():
                        await conn.fetchval("SELECT 1", timeout=5)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure means notices may be missed: caches off
                log.warning("change_feed_down", error=type(exc).__name__)
            finally:
                self._lost()
                if not first.done():
                    first.set_result(None)
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.terminate()
            await asyncio.sleep(RECONNECT_S[min(attempt, len(RECONNECT_S) - 1)])
            attempt += 1


class FeedCache(Generic[V]):
    """Values grouped by what they depend on, dropped when a notice names their group.

    ``affected(group, payload)`` says whether a payload (``"*"`` aside: it always empties the
    cache) invalidates a group. Bounded: past ``max_weight`` (entries, or what ``weigh`` says of
    each value, e.g. its bytes) the least recently used groups go.
    """

    def __init__(self, feed: ChangeFeed, affected: Callable[[Hashable, str], bool], *, max_weight: int,
                 weigh: Callable[[V], int] = lambda _value: 1) -> None:
        self._feed = feed
        self._affected = affected
        self._max = max_weight
        self._weigh = weigh
        self._groups: OrderedDict[Hashable, dict[Hashable, V]] = OrderedDict()
        self._weight = 0
        feed.subscribe(self._on_notice)

    @property
    def enabled(self) -> bool:
        return self._feed.live and self._max > 0

    def begin(self) -> int:
        """Call before reading the data an entry is computed from; pass the result to :meth:`put`."""
        return self._feed.generation

    def get(self, group: Hashable, key: Hashable) -> V | None:
        if not self._feed.live:
            return None
        entries = self._groups.get(group)
        if entries is None:
            return None
        self._groups.move_to_end(group)
        return entries.get(key)

    def put(self, group: Hashable, key: Hashable, value: V, begun: int) -> None:
        if not self.enabled or begun != self._feed.generation:
            return
        entries = self._groups.setdefault(group, {})
        self._groups.move_to_end(group)
        if key in entries:
            self._weight -= self._weigh(entries[key])
        entries[key] = value
        self._weight += self._weigh(value)
        while self._weight > self._max and self._groups:
            self._drop(next(iter(self._groups)))

    @property
    def weight(self) -> int:
        return self._weight

    def _drop(self, group: Hashable) -> None:
        self._weight -= sum(self._weigh(v) for v in self._groups.pop(group).values())

    def _on_notice(self, payload: str) -> None:
        if payload == "*":
            self._groups.clear()
            self._weight = 0
            return
        for group in [g for g in self._groups if self._affected(g, payload)]:
            self._drop(group)

