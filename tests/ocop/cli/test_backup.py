"""Backup while the database is in use, then a restore that brings the data back."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ocop.producers.tables import Producer


def ocop(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ocop", *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_backup_and_restore_round_trip(db, tmp_path: Path) -> None:
    env = {"OCOP_DATABASE_URL": db.url, "OCOP_VAR_DIR": str(tmp_path)}
    await Producer(kind="htx", legal_name="HTX Trước", name_folded="htx truoc", tax_code="0100109106").save()
    backup = tmp_path / "backups" / "ocop-1.db"
    done = ocop(["backup", str(backup)], env)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(backup) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    await Producer.delete(force=True)
    await Producer(kind="htx", legal_name="HTX Sau", name_folded="htx sau", tax_code="4100259564").save()
    done = ocop(["restore", str(backup)], env)
    assert done.returncode == 0, done.stderr
    names = [r["legal_name"] for r in await Producer.select(Producer.legal_name)]
    assert names == ["HTX Trước"]

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database")
    assert ocop(["restore", str(junk)], env).returncode == 1
    assert [r["legal_name"] for r in await Producer.select(Producer.legal_name)] == ["HTX Trước"]


def test_backup_on_postgres_points_to_pg_dump(tmp_path: Path) -> None:
    done = ocop(["backup", str(tmp_path / "x.db")], {"OCOP_DATABASE_URL": "postgresql://u@127.0.0.1:1/db",
                                                     "OCOP_VAR_DIR": str(tmp_path)})
    assert done.returncode == 2 and "pg_dump" in done.stderr
