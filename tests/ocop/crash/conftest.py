"""The service as real processes for the crash tests: ``ocop serve`` (which only enqueues, because
OCOP_REDIS_URL is set) and ``ocop worker`` processes sharing one database, one media folder and
one Redis database of their own on the session's redis-server. Every process is SIGKILLed or
terminated in the fixture's teardown, whatever the test did."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ocop.marketplace.conftest import TEST_SECRET, market_sandbox, sandbox  # noqa: F401 - fixtures
from tests.support.servers import free_port, own_redis_db

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 30.0


@dataclass
class Service:
    """``ocop serve`` and ``ocop worker`` processes started with the same environment."""

    env: dict[str, str]
    port: int
    log: Path
    server: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            return subprocess.Popen([sys.executable, "-m", "ocop", *args], env=self.env, cwd=REPO, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    @property
    def embedded(self) -> bool:
        """No OCOP_REDIS_URL: ``ocop serve`` runs its own Redis and the worker in its process."""
        return "OCOP_REDIS_URL" not in self.env

    def start(self, workers: int = 1) -> None:
        """Start the server and ``workers`` workers; return once the server answers /healthz."""
        self.server = self._spawn("serve", "--host", "127.0.0.1", "--port", str(self.port))
        self.add_workers(workers)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            for proc in (self.server, *self.workers):
                assert proc.poll() is None, f"a process exited with {proc.returncode}:\n{self.tail()}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            assert time.monotonic() < deadline, f"ocop serve did not answer in {START_TIMEOUT_S}s:\n{self.tail()}"
            time.sleep(0.1)

    def add_workers(self, count: int) -> None:
        self.workers += [self._spawn("worker") for _ in range(count)]

    def freeze_workers(self) -> None:
        """SIGSTOP every worker (the server itself when it runs the worker, embedded mode): frozen
        at once wherever it is, e.g. inside a transaction."""
        for proc in self.workers or [self.server]:
            assert proc is not None
            proc.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        """SIGKILL the server and every worker at once: no shutdown code of ours runs."""
        procs = [p for p in (self.server, *self.workers) if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        for proc in procs:
            proc.wait(10)
            assert proc.returncode == -signal.SIGKILL, f"exited on its own ({proc.returncode}):\n{self.tail()}"
        self.server, self.workers = None, []

    def stop(self) -> None:
        procs = [p for p in (self.server, *self.workers) if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.server, self.workers = None, []

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@pytest.fixture
async def crash_redis(redis_url: str) -> AsyncIterator[str]:
    async with own_redis_db(redis_url, 13) as url:
        yield url


@pytest.fixture
def service(tmp_path: Path, db: Any, crash_redis: str) -> Iterator[Service]:
    """The processes' environment for the test's database; the test adds what it needs to ``env``
    and calls ``start()``. The database URL comes from the ``db`` fixture (tests/conftest.py)."""
    env = {
        **os.environ,
        "OCOP_DATABASE_URL": db.url,
        "OCOP_REDIS_URL": crash_redis,
        "OCOP_VAR_DIR": str(tmp_path / "var"),
        "OCOP_MEDIA_DIR": str(tmp_path / "var" / "media"),
        "OCOP_SECRET_KEY": TEST_SECRET,
        "OCOP_RUN_SANDBOX": "false",
        "OCOP_LOG_LEVEL": "warning",
    }
    svc = Service(env=env, port=free_port(), log=tmp_path / "service.log")
    try:
        yield svc
    finally:
        svc.stop()
