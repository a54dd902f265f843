"""``ocop backup PATH`` and ``ocop restore PATH`` for the embedded SQLite database.

The backup uses SQLite's online backup API, so it is consistent while ``ocop serve`` keeps
writing (WAL). A restore replaces the database file and must run with the service stopped.
PostgreSQL deployments use ``pg_dump -Fc`` / ``pg_restore`` instead (see README).
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

from ocop import db
from ocop.settings import Settings


def _sqlite_path(settings: Settings) -> Path | None:
    if not settings.is_sqlite:
        print("Cơ sở dữ liệu là PostgreSQL: dùng pg_dump / pg_restore (xem README). "
              "The database is PostgreSQL: use pg_dump / pg_restore (see README).", file=sys.stderr)
        return None
    return db.sqlite_path(settings.effective_database_url)


def backup(settings: Settings, target: Path) -> int:
    source = _sqlite_path(settings)
    if source is None:
        return 2
    if not source.exists():
        print(f"Không có cơ sở dữ liệu tại {source} / no database at {source}", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
        src.backup(dst)
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        partial.unlink(missing_ok=True)
        print(f"Bản sao lưu hỏng / backup failed its integrity check: {check}", file=sys.stderr)
        return 1
    partial.replace(target)
    print(f"Đã sao lưu vào / backed up to {target}")
    return 0


def restore(settings: Settings, source: Path) -> int:
    target = _sqlite_path(settings)
    if target is None:
        return 2
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as check:
            ok = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            ok = ok and check.execute("SELECT count(*) FROM sqlite_master WHERE name = 'product'").fetchone()[0] == 1
    except sqlite3.DatabaseError:
        ok = False
    if not ok:
        print(f"{source} không phải bản sao lưu hợp lệ / is not a valid ocop backup", file=sys.stderr)
        return 1
    for suffix in ("-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(source, target)
    print(f"Đã khôi phục {target} từ / restored from {source}")
    return 0
