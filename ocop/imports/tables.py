"""One row per catalogue import run, with its per-row report."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ocop.accounts.tables import User


class ImportBatch(Table, tablename="import_batch"):
    created_by = ForeignKey(User, null=True, default=None, index=True)
    file_name = Varchar(length=255)
    file_sha256 = Varchar(length=64, index=True)
    source_key = Varchar(length=80, default="")
    """Media-store key of the uploaded file (web uploads), so the result page can offer it back
    with an error column; empty for CLI runs, whose file stays on the operator's disk."""
    status = Varchar(length=16, default="running")  # running | done | failed
    dry_run = Boolean(default=False)
    rows = Integer(default=0)
    created = Integer(default=0)
    updated = Integer(default=0)
    unchanged = Integer(default=0)
    failed = Integer(default=0)
    report = JSON(default=[])
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
