"""The commands as a user types them: ``ocop media normalize`` wired once, ``ocop migrate`` saying
what it did, and services that cannot start saying why (the demo moving its sandbox off a busy
port instead)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from piccolo.engine.postgres import PostgresEngine

from tests.conftest import run_sync
from tests.media import corpus
from tests.support.servers import free_port, wait_http

OCOP = [sys.executable, "-m", "ocop"]


def ocop(args: list[str], env: dict[str, str], cwd: Path | None = None,
         timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(OCOP + args, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


@contextmanager
def held_port() -> Iterator[int]:
    """A port something else is listening on, as a second demo would."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_media_normalize_as_the_readme_writes_it(tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_bytes(corpus.phone_photo(1600, 1200))
    done = ocop(["media", "normalize", "photo.jpg", "--profile", "shopee", "--out", "out/"], {}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout)
    assert line["error"] is None and line["output"] == "out/photo.shopee.jpg"
    assert (tmp_path / "out" / "photo.shopee.jpg").stat().st_size == line["bytes"]


def test_media_normalize_help_names_the_verb_once(tmp_path: Path) -> None:
    done = ocop(["media", "normalize", "--help"], {"OCOP_VAR_DIR": str(tmp_path)})
    assert done.returncode == 0 and "usage: ocop media normalize [-h]" in done.stdout
    assert "normalize normalize" not in done.stdout


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no tables at all) of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    postgres = request.getfixturevalue("postgres")
    name = f"fresh_{uuid.uuid4().hex[:12]}"
    run_sync(PostgresEngine(config={"dsn": postgres.url()}).run_ddl(f"CREATE DATABASE {name}"))
    return str(postgres.url(name))


def test_migrate_says_what_it_did(fresh_database_url: str, tmp_path: Path) -> None:
    env = {"OCOP_DATABASE_URL": fresh_database_url, "OCOP_VAR_DIR": str(tmp_path)}
    first = ocop(["migrate"], env)
    assert first.returncode == 0, first.stderr
    count = len(list((Path(__file__).resolve().parents[3] / "ocop" / "migrations").glob("*.py"))) - 1
    assert f"Applied {count} new migrations ({count} in all); the database schema is up to date." \
        in first.stdout
    assert "already" not in first.stdout and "not yet run" not in first.stdout
    again = ocop(["migrate"], env)
    assert again.returncode == 0, again.stderr
    assert f"Nothing to apply: all {count} migrations had already been applied" in again.stdout
    assert "Applied" not in again.stdout


def test_serve_says_why_it_cannot_start(tmp_path: Path) -> None:
    env = {"OCOP_VAR_DIR": str(tmp_path), "OCOP_REDIS_URL": "", "OCOP_DATABASE_URL": ""}
    with held_port() as taken:
        site = ocop(["serve", "--port", str(taken)], env)
    assert site.returncode == 1
    assert "ocop serve: không khởi động được / could not start: " \
        f"không mở được cổng 127.0.0.1:{taken}" in site.stderr
    assert "already in use" in site.stderr

    with held_port() as taken:
        sandbox = ocop(["serve", "--port", str(free_port())], {**env, "OCOP_SANDBOX_PORT": str(taken)})
    assert sandbox.returncode == 1
    last = sandbox.stderr.strip().splitlines()[-1]
    assert last.startswith("ocop serve: không khởi động được / could not start: OSError")
    assert f"cannot listen on 127.0.0.1:{taken}: the port is already in use" in last
    assert "serving at" not in sandbox.stdout  # it never served


def test_worker_says_why_it_cannot_start(tmp_path: Path) -> None:
    env = {"OCOP_VAR_DIR": str(tmp_path), "OCOP_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    done = ocop(["worker"], env)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "ocop worker: dừng vì lỗi / stopped by an error: ConnectionError" in last


def test_demo_takes_a_free_sandbox_port_when_its_own_is_busy(tmp_path: Path) -> None:
    port = free_port()
    with held_port() as busy:
        env = {**os.environ, "OCOP_SANDBOX_PORT": str(busy), "OCOP_REDIS_URL": "", "OCOP_DATABASE_URL": "",
               "OCOP_VAR_DIR": str(tmp_path / "var")}
        proc = subprocess.Popen([*OCOP, "demo", "--port", str(port)], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_http(f"http://127.0.0.1:{port}/readyz", proc, 90)
            # A second demo on the same site port stops at once and says why.
            second = ocop(["demo", "--port", str(port)], {"OCOP_VAR_DIR": str(tmp_path / "var2")},
                          cwd=tmp_path)
        finally:
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    moved = next(line for line in out.splitlines()
                 if line.startswith(f"Cổng {busy} của sàn thử nghiệm đang bận"))
    new_port = int(moved.split("dùng cổng ")[1].split(".")[0])
    assert new_port != busy and f"The sandbox port {busy} is busy; using port {new_port} instead." in moved
    assert f"Sàn thử nghiệm / sandbox:    http://127.0.0.1:{new_port}/" in out
    assert second.returncode == 1
    assert f"127.0.0.1:{port} is already in use (another ocop demo?)" in second.stderr
    assert not (tmp_path / "var2" / "ocop.db").exists()  # refused before any work


async def test_worker_burst_runs_the_queued_jobs_and_exits(redis_url: str, tmp_path: Path) -> None:
    from ocop.jobs.queue import open_queue

    queue = await open_queue(redis_url)
    try:
        token = uuid.uuid4().hex
        job_id = await queue.enqueue("heartbeat", token, job_id=f"hb:{token}")
        assert job_id is not None
        done = ocop(["worker", "--burst"], {"OCOP_REDIS_URL": redis_url, "OCOP_VAR_DIR": str(tmp_path)})
        assert done.returncode == 0, done.stderr
        assert (await queue.result(job_id, timeout_s=5))["token"] == token
    finally:
        await queue.close()
