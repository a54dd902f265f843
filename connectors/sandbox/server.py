"""Serve the sandbox with uvicorn: in the foreground (``ocop sandbox``) or in a thread (tests, demo).

The sandbox binds 127.0.0.1 by default: it is a local training and test tool. One server listens
on the combined port (every marketplace under ``/<name>``) and, when given, on one port per
marketplace that serves it at the root (for clients that sign the URL's whole path).
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping

import uvicorn

from connectors.sandbox.app import create_sandbox_app
from connectors.sandbox.config import MARKETPLACES, SandboxConfig
from connectors.sandbox.state import SandboxState

_THREAD_NAME = "sandbox-marketplace"


def credentials_banner(config: SandboxConfig, base_url: str, roots: Mapping[str, str] | None = None) -> str:
    """What a producer or tester needs to point a client at the sandbox: per marketplace the base
    URL on the combined port and, when it has a port of its own, the root URL there."""
    lines = [f"Sandbox marketplace at {base_url}"]
    for app in config.apps:
        root = f"  root_url={roots[app.marketplace]}" if roots and app.marketplace in roots else ""
        lines.append(
            f"  {app.marketplace:<7} base_url={base_url}/{app.marketplace}{root}  "
            f"app_key={app.app_key}  app_secret={app.app_secret}"
        )
    for shop in config.shops:
        lines.append(f"  {shop.marketplace:<7} shop {shop.shop_id}: {shop.name}")
    return "\n".join(lines)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``host:port`` now."""
    try:
        listen_socket(host, port).close()
    except OSError:
        return False
    return True


def sandbox_ports_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether the sandbox could start on ``port``: the combined port and its marketplace
    neighbours (:func:`default_marketplace_ports`) all free."""
    return all(port_is_free(p, host) for p in (port, *default_marketplace_ports(port).values()))


def free_sandbox_port(host: str = "127.0.0.1") -> int:
    """A combined port whose marketplace neighbours are free too (one free port is not enough:
    the next one may be another server's, and the sandbox then stops with EADDRINUSE)."""
    for _ in range(200):
        port = free_port(host)
        if port + len(MARKETPLACES) <= 65535 and sandbox_ports_free(port, host):
            return port
    raise OSError(errno.EADDRINUSE, f"no {len(MARKETPLACES) + 1} consecutive free ports on {host}")


def default_marketplace_ports(port: int) -> dict[str, int]:
    """The combined port's neighbours, in a fixed order: shopee N+1, lazada N+2, tiktok N+3, tiki N+4."""
    return {name: port + 1 + i for i, name in enumerate(MARKETPLACES)}


def listen_socket(host: str, port: int) -> socket.socket:
    """A bound socket for uvicorn (``Server.run(sockets=…)``). Binding here, not inside uvicorn,
    turns a taken port into an ``OSError`` that names the address instead of a silent exit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets
    # whose ``proto`` says TCP (asyncio.base_events._set_nodelay), and accepted connections inherit
    # it. With proto 0 every small answer waited for the client's delayed ACK: /healthz took ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = "the port is already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {reason}") from exc
    sock.set_inheritable(True)
    return sock


def _bind_all(host: str, ports: list[int]) -> list[socket.socket]:
    sockets: list[socket.socket] = []
    try:
        for port in ports:
            sockets.append(listen_socket(host, port))
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def run(host: str = "127.0.0.1", port: int = 8765, config: SandboxConfig | None = None,
        marketplace_ports: Mapping[str, int] | None = None) -> None:
    """Foreground server on ``port`` (combined layout) and on each marketplace's own port
    (default :func:`default_marketplace_ports`; an empty mapping serves the combined port only).
    Prints the app credentials and every URL first."""
    config = config or SandboxConfig.default()
    own = dict(default_marketplace_ports(port) if marketplace_ports is None else marketplace_ports)
    sockets = _bind_all(host, [port, *own.values()])
    roots = {name: f"http://{host}:{p}" for name, p in own.items()}
    print(credentials_banner(config, f"http://{host}:{port}", roots), flush=True)
    app = create_sandbox_app(config, own_ports={p: name for name, p in own.items()})
    try:
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run(sockets=sockets)
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl+C it handled: a clean stop (as uvicorn.run)
        pass


class _QuietThread(logging.Filter):
    """Keeps the embedded sandbox out of uvicorn's shared loggers, which the host process (``ocop
    serve``, a test run) also uses: its access lines never (they carry the query string, with
    tokens and signatures), its start/stop chatter neither; its warnings and errors do show."""

    def __init__(self, min_level: int) -> None:
        super().__init__()
        self.min_level = min_level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.min_level or record.threadName != _THREAD_NAME


_QUIET = {
    "uvicorn.error": _QuietThread(logging.WARNING),
    "uvicorn.access": _QuietThread(logging.CRITICAL + 1),
}


def start_in_thread(
    config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int | None = None,
    *, quiet: bool = False, marketplace_ports: Mapping[str, int] | None = None,
) -> tuple[str, Callable[[], None], SandboxState]:
    """Start a real HTTP server in a daemon thread.

    Returns ``(base_url, stop, state)``; ``state`` is the live world (tests read it). A taken port
    raises ``OSError`` naming it. The server leaves the process's logging as it found it (no
    ``log_config``, no log levels): a host process such as ``ocop serve`` keeps its own.
    """
    config = config or SandboxConfig.default()
    state = SandboxState(config)
    port = port or free_port(host)
    own = dict(marketplace_ports or {})
    sockets = _bind_all(host, [port, *own.values()])
    for name, quiet_filter in _QUIET.items():
        logging.getLogger(name).addFilter(quiet_filter)  # a logger adds the same filter only once
    server = uvicorn.Server(
        uvicorn.Config(
            create_sandbox_app(config, state, own_ports={p: name for name, p in own.items()}),
            host=host, port=port, log_config=None, log_level=None, access_log=False,
            lifespan="on", timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, name=_THREAD_NAME, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            for sock in sockets:
                sock.close()
            raise RuntimeError(f"the sandbox marketplace did not start on {host}:{port}")
        time.sleep(0.02)
    base_url = f"http://{host}:{port}"
    if not quiet:
        roots = {name: f"http://{host}:{p}" for name, p in own.items()}
        print(credentials_banner(config, base_url, roots), flush=True)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)
        for sock in sockets:
            sock.close()

    return base_url, stop, state
