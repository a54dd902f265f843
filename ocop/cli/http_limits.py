"""How ``ocop serve`` protects itself from slow and greedy clients: request timeouts and limits.

What uvicorn 0.54 does on its own (read in ``uvicorn/protocols/http/h11_impl.py``): it closes a
keep-alive connection that stays silent ``timeout_keep_alive`` seconds *after a response*, and
nothing else. A fresh connection that never finishes its request headers, or a request whose body
trickles in a byte at a time (slowloris), holds its connection and its slot forever; with enough of
them no one else gets served. A slow *handler* is not timed out either: the client simply waits.

So ``ocop serve`` runs uvicorn with :func:`uvicorn_options`:

- ``http=`` :class:`PacedH11Protocol`, uvicorn's own h11 protocol plus the rule of Apache's
  ``mod_reqtimeout`` (its documented defaults ``header=20-40,MinRate=500 body=20,MinRate=500``):
  request headers must arrive within 20 s, extended by 1 s per 500 bytes received, never beyond
  40 s; a body must arrive within 20 s, extended by 1 s per 500 bytes received (a 50 MB import at
  a poor 100 kB/s is fine; 1 byte every few seconds is not). A client that falls behind gets
  ``408 Request Timeout`` and the connection is closed (a connection that never sent a byte is
  closed without an answer: browsers open such spare connections). Time spent while *we* stopped
  reading (uvicorn's flow control while the app is busy) never counts against the client; a silent
  connection kept alive after a response is left to ``timeout_keep_alive``.
- ``timeout_keep_alive=5``: idle keep-alive connections close after 5 s (uvicorn's default, set
  explicitly). Behind a reverse proxy, make the proxy's upstream keep-alive shorter than this.
- ``h11_max_incomplete_event_size=16 KiB``: a request head (request line + headers) still
  incomplete after 16 KiB gets 400 instead of being buffered further. Our cookies are two short ids.
- ``limit_concurrency`` (``OCOP_HTTP_MAX_CONNECTIONS``, default 1000): beyond this many open
  connections plus running requests per process uvicorn answers 503 at once instead of queueing
  without bound.

Slow handlers: there is deliberately no server-side deadline on handlers (a long import upload must
not be cut off); long work runs in arq jobs, and outgoing marketplace calls have their own timeouts
(``OCOP_MARKETPLACE_TIMEOUT_S``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ocop.logs import log

KEEP_ALIVE_S = 5
MAX_REQUEST_HEAD_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class ClientPace:
    """mod_reqtimeout-style pace a client must keep (see the module docstring)."""

    header_s: float = 20.0
    header_max_s: float = 40.0
    body_s: float = 20.0
    min_rate: int = 500
    """Bytes per second; each ``min_rate`` bytes received extend the deadline by one second."""
    tick_s: float = 1.0
    """How often each connection's pace is checked."""


_TOO_SLOW = "Yêu cầu gửi quá chậm nên kết nối bị đóng.\nThe request was sent too slowly; the connection is closed.\n"
_TOO_SLOW_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
    + f"content-length: {len(_TOO_SLOW.encode())}\r\n\r\n".encode()
    + _TOO_SLOW.encode()
)


class PacedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol that cuts off clients sending their request too slowly."""

    pace: ClassVar[ClientPace] = ClientPace()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._phase: tuple[str | None, int] | None = None
        self._phase_started = self.loop.time()
        self._phase_bytes = 0
        self._ticker: asyncio.TimerHandle | None = self.loop.call_later(self.pace.tick_s, self._tick)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._observe()
        self._phase_bytes += len(data)
        super().data_received(data)

    def _observe(self) -> str | None:
        """The phase the client is in ("headers", "body" or None: nothing owed); restarts the
        clock when it changed."""
        state = self.conn.their_state
        phase = "headers" if state is h11.IDLE else "body" if state is h11.SEND_BODY else None
        if self.flow is not None and self.flow.read_paused:
            phase = None  # we stopped reading: the client cannot send
        key = (phase, id(self.cycle))
        if key != self._phase:
            self._phase, self._phase_started, self._phase_bytes = key, self.loop.time(), 0
        return phase

    def _tick(self) -> None:
        self._ticker = None
        if self.transport.is_closing():
            return
        phase = self._observe()
        idle_keep_alive = phase == "headers" and not self._phase_bytes and self.cycle is not None
        if phase is not None and not idle_keep_alive:  # a silent kept-alive connection: uvicorn's timer
            pace = self.pace
            allowed = (pace.header_s if phase == "headers" else pace.body_s) + self._phase_bytes / pace.min_rate
            if phase == "headers":
                allowed = min(allowed, pace.header_max_s)
            if self.loop.time() - self._phase_started > allowed:
                self._cut_off(phase)
                return
        self._ticker = self.loop.call_later(self.pace.tick_s, self._tick)

    def _cut_off(self, phase: str) -> None:
        log.warning("slow_client_cut_off", phase=phase, received=self._phase_bytes)
        started = self._phase_bytes > 0 or phase == "body"
        if started and self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):  # no response begun yet
            self.transport.write(_TOO_SLOW_RESPONSE)  # a connection that never said a word is just closed
        self.transport.close()


def paced_protocol(pace: ClientPace) -> type[PacedH11Protocol]:
    """The protocol class with another pace (uvicorn instantiates the class per connection)."""
    return type("PacedH11Protocol", (PacedH11Protocol,), {"pace": pace})


def uvicorn_options(max_connections: int, pace: ClientPace | None = None) -> dict[str, Any]:
    """The keyword arguments ``ocop serve`` gives ``uvicorn.run`` / ``uvicorn.Config`` for limits."""
    return {
        "http": paced_protocol(pace) if pace is not None else PacedH11Protocol,
        "timeout_keep_alive": KEEP_ALIVE_S,
        "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES,
        "limit_concurrency": max_connections or None,
    }
