"""Serve the sandbox with uvicorn: in the foreground (``ocop sandbox``) or in a thread (tests, demo).

The sandbox binds 127.0.0.1 by default: it is a local training and test tool.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from connectors.sandbox.app import create_sandbox_app
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.state import SandboxState


def credentials_banner(config: SandboxConfig, base_url: str) -> str:
    """What a producer or tester needs to point a client at the sandbox."""
    lines = [f"Sandbox marketplace at {base_url}"]
    for app in config.apps:
        lines.append(
            f"  {app.marketplace:<7} base_url={base_url}/{app.marketplace}  "
            f"app_key={app.app_key}  app_secret={app.app_secret}"
        )
    for shop in config.shops:
        lines.append(f"  {shop.marketplace:<7} shop {shop.shop_id}: {shop.name}")
    return "\n".join(lines)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def run(host: str = "127.0.0.1", port: int = 8765, config: SandboxConfig | None = None) -> None:
    """Foreground server; prints the app credentials first."""
    config = config or SandboxConfig.default()
    print(credentials_banner(config, f"http://{host}:{port}"), flush=True)
    uvicorn.run(create_sandbox_app(config), host=host, port=port, log_level="warning")


def start_in_thread(
    config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int | None = None,
    *, quiet: bool = False,
) -> tuple[str, Callable[[], None], SandboxState]:
    """Start a real HTTP server in a daemon thread.

    Returns ``(base_url, stop, state)``; ``state`` is the live world (tests read it).
    """
    config = config or SandboxConfig.default()
    state = SandboxState(config)
    port = port or free_port(host)
    server = uvicorn.Server(
        uvicorn.Config(
            create_sandbox_app(config, state), host=host, port=port, log_level="critical",
            lifespan="on", timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, name="sandbox-marketplace", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("sandbox marketplace did not start")
        time.sleep(0.02)
    base_url = f"http://{host}:{port}"
    if not quiet:
        print(credentials_banner(config, base_url), flush=True)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)

    return base_url, stop, state
