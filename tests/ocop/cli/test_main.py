"""The ``ocop`` command as a real subprocess: help on every verb, migrate twice, user create,
and a standalone worker consuming jobs from a real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ocop.accounts.passwords import verify_password
from ocop.accounts.tables import User
from ocop.jobs.queue import open_queue
from ocop.producers.tables import Producer

OCOP = [sys.executable, "-m", "ocop"]


def run(args: list[str], env: dict[str, str], stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(OCOP + args, env={**os.environ, **env}, input=stdin, capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.mark.parametrize("verb", [["serve"], ["worker"], ["demo"], ["migrate"], ["import"], ["sandbox"],
                                  ["media", "normalize"], ["user", "create"], ["backup"], ["restore"],
                                  ["keys", "rotate"]])
def test_every_verb_has_help(verb: list[str], tmp_path: Path) -> None:
    done = run([*verb, "--help"], {"OCOP_VAR_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "usage: ocop" in done.stdout


async def test_migrate_is_safe_twice_and_user_create(db, tmp_path: Path) -> None:
    env = {"OCOP_DATABASE_URL": db.url, "OCOP_VAR_DIR": str(tmp_path)}
    for _ in range(2):
        done = run(["migrate"], env)
        assert done.returncode == 0, done.stderr + done.stdout
    await Producer(kind="htx", legal_name="HTX A", name_folded="htx a", tax_code="0100109106").save()

    made = run(["user", "create", "Canbo.GiaLai", "--role", "staff", "--province", "Gia Lai",
                "--commune", "Xã Tuy Phước", "--name", "Cán bộ"], env, stdin="mat-khau-dai-1\n")
    assert made.returncode == 0, made.stderr
    user = await User.objects().where(User.username == "canbo.gialai").output(load_json=True).first()
    assert user is not None and user.role == "staff" and user.area_province_code == 52
    assert len(user.area_commune_codes) == 1
    assert verify_password(user.password_hash, "mat-khau-dai-1")
    assert "mat-khau-dai-1" not in user.password_hash

    producer_user = run(["user", "create", "htxa", "--role", "producer", "--producer-tax-code", "0100109106"],
                        env, stdin="mat-khau-dai-2\n")
    assert producer_user.returncode == 0, producer_user.stderr

    duplicate = run(["user", "create", "canbo.gialai", "--role", "admin"], env, stdin="mat-khau-dai-3\n")
    assert duplicate.returncode == 1 and "đã được sử dụng" in duplicate.stderr
    short = run(["user", "create", "x", "--role", "admin"], env, stdin="short\n")
    assert short.returncode == 1 and "8" in short.stderr
    bad_area = run(["user", "create", "y", "--role", "staff", "--province", "Atlantis"], env, stdin="long-enough\n")
    assert bad_area.returncode == 1


async def test_standalone_worker_consumes_jobs(db, redis_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "OCOP_DATABASE_URL": db.url, "OCOP_REDIS_URL": redis_url, "OCOP_VAR_DIR": str(tmp_path)}
    worker = subprocess.Popen(OCOP + ["worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    queue = await open_queue(redis_url)
    try:
        token = uuid.uuid4().hex
        job_id = await queue.enqueue("heartbeat", token, job_id=f"hb:{token}")
        assert job_id is not None
        assert await queue.enqueue("heartbeat", token, job_id=f"hb:{token}") is None  # duplicates collapse
        result = await queue.result(job_id, timeout_s=30)
        assert result["token"] == token
    finally:
        await queue.close()
        worker.terminate()
        worker.wait(20)


def test_worker_refuses_to_run_without_redis(tmp_path: Path) -> None:
    done = run(["worker"], {"OCOP_VAR_DIR": str(tmp_path), "OCOP_REDIS_URL": ""})
    assert done.returncode == 2 and "OCOP_REDIS_URL" in done.stderr


def test_bad_configuration_is_a_clear_error(tmp_path: Path) -> None:
    done = run(["migrate"], {"OCOP_VAR_DIR": str(tmp_path), "OCOP_DATABASE_URL": "mysql://x/y"})
    assert done.returncode == 2 and "OCOP_DATABASE_URL" in done.stderr and "Traceback" not in done.stderr


def test_serve_on_a_fresh_folder_migrates_and_is_ready(tmp_path: Path) -> None:
    """The embedded defaults in an empty folder: SQLite brought to the schema, embedded Redis, a page
    that reads the database answers (no "no such table"), /readyz ok; SIGTERM stops it cleanly."""
    import time

    import httpx

    from tests.support.servers import free_port

    port = free_port()
    env = {**os.environ, "OCOP_VAR_DIR": str(tmp_path / "var"), "OCOP_PORT": str(port), "OCOP_DATABASE_URL": "",
           "OCOP_REDIS_URL": ""}
    server = subprocess.Popen(OCOP + ["serve"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "ocop serve did not come up"
                time.sleep(0.3)
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "redis": "ok"}
        # A token lookup reads the users' tables: 401, not "no such table".
        me = httpx.get(f"http://127.0.0.1:{port}/api/v1/me", headers={"authorization": "Bearer nope"}, timeout=5)
        assert me.status_code == 401, me.text
        assert (tmp_path / "var" / "ocop.db").exists()
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    # uvicorn re-raises the signal it stopped on, after a graceful shutdown ("stopped" is ours).
    assert server.returncode in (0, -15) and "stopped" in out, out
    assert "no such table" not in out and "Traceback" not in out, out
