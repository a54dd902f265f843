"""``ocop serve``'s HTTP limits on a real uvicorn server on 127.0.0.1, driven with raw sockets so
the client can be as slow (or as greedy) as an attacker. The pace is shortened (1 s instead of
20 s) to keep every test bounded; the rule and the code path are the ones ``serve`` uses."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from litestar import Litestar, Request, get, post

from ocop.cli.http_limits import ClientPace, PacedH11Protocol, uvicorn_options
from tests.support.servers import free_port

PACE = ClientPace(header_s=1.0, header_max_s=2.0, body_s=1.0, min_rate=500, tick_s=0.1)
MAX_CONNECTIONS = 4


@post("/echo")
async def echo(request: Request) -> dict[str, int]:  # type: ignore[type-arg]
    return {"received": len(await request.body())}


@get("/")
async def hello() -> dict[str, str]:
    return {"ok": "yes"}


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(Litestar([echo, hello]), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", **uvicorn_options(MAX_CONNECTIONS, PACE))
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        srv.should_exit = True
        thread.join(10)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=8)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes (the socket's 8 s timeout bounds a server that would not)."""
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def trickle(sock: socket.socket, data: bytes, every_s: float, max_s: float) -> float:
    """Send ``data`` one byte at a time until the server closes or ``max_s`` passes; return when it closed."""
    started = time.monotonic()
    for byte in data:
        if time.monotonic() - started > max_s:
            break
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            break
        time.sleep(every_s)
    return time.monotonic() - started


def test_serve_uses_the_paced_protocol_with_explicit_limits() -> None:
    options = uvicorn_options(1000)
    assert options["http"] is PacedH11Protocol and PacedH11Protocol.pace == ClientPace()
    assert (options["timeout_keep_alive"], options["h11_max_incomplete_event_size"], options["limit_concurrency"]) \
        == (5, 16 * 1024, 1000)


def test_a_body_trickled_too_slowly_is_cut_off_with_408(server: int) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-type: application/octet-stream\r\n"
                     b"content-length: 1000\r\n\r\n")
        trickle(sock, b"x" * 1000, every_s=0.2, max_s=6)
        answer = read_all(sock)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert "quá chậm".encode() in answer and b"too slowly" in answer
    assert elapsed < 4  # 1 s + 1 s per 500 bytes received: cut off after ~1.1 s at 5 bytes/s


def test_headers_trickled_too_slowly_and_silent_connections_are_cut_off(server: int) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        trickle(sock, b"GET / HTTP/1.1\r\nhost: t\r\nx-padding: " + b"a" * 200, every_s=0.2, max_s=6)
        answer = read_all(sock)
        assert answer.startswith(b"HTTP/1.1 408 ") and time.monotonic() - started < 4
    with connect(server) as sock:  # never says a word: closed without an answer
        started = time.monotonic()
        assert read_all(sock) == b""
        assert 0.9 < time.monotonic() - started < 3


def test_a_kept_alive_connection_is_left_to_the_keep_alive_timeout(server: int) -> None:
    """After a response, a silent keep-alive connection is not cut off at the 1 s request pace
    (uvicorn closes it after ``timeout_keep_alive``, 5 s): 1.5 s later it serves a second request."""
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n")
        first = sock.recv(65536)
        time.sleep(1.5)
        sock.sendall(b"GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
        second = read_all(sock)
    assert first.startswith(b"HTTP/1.1 200 ") and (first + second).count(b"HTTP/1.1 200 ") == 2
    assert b"408" not in first + second


def test_a_client_keeping_a_decent_pace_is_served(server: int) -> None:
    """2,000 bytes in chunks of 500 every 0.4 s (1.25 kB/s, above the 500 B/s minimum) take 1.6 s,
    beyond the 1 s base deadline, and are served because received bytes extend it."""
    body = b"y" * 2000
    with connect(server) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-type: application/octet-stream\r\n"
                     b"connection: close\r\ncontent-length: 2000\r\n\r\n")
        for i in range(0, len(body), 500):
            time.sleep(0.4)
            sock.sendall(body[i:i + 500])
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 201 ") and answer.endswith(b'{"received":2000}'), answer[-200:]


def test_an_oversized_request_head_is_refused(server: int) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: t\r\nx-big: " + b"a" * 20_000)
        time.sleep(0.2)  # the head is still incomplete past 16 KiB
        sock.sendall(b"\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 400 ")


def test_connections_beyond_the_limit_get_503_at_once(server: int) -> None:
    idle = [connect(server) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.1)
        with connect(server) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
            assert read_all(sock).startswith(b"HTTP/1.1 503 ")
    finally:
        for s in idle:
            s.close()
    time.sleep(0.2)
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 200 ")
