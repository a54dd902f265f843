"""Database engines for SQLite (embedded default) and PostgreSQL (production).

Building engines, per-process start-up, and the raw statements of the hot and bulk paths. Binding
the tables to an engine and migrating belong to the schema (:mod:`ocop.piccolo_app`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString
from piccolo.table import Table

SQLITE_BUSY_TIMEOUT_S = 30


def sqlite_path(url: str) -> Path:
    return Path(unquote(url.removeprefix("sqlite:///")))


def engine_from_url(url: str) -> Engine:
    """Build (but do not connect) the engine for ``sqlite:///…`` or ``postgresql://…``."""
    if url.startswith("sqlite:///"):
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)
    if url.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(url)
        if not parts.path.strip("/"):
            raise ValueError("PostgreSQL URL needs a database name")
        return PostgresEngine(config={"dsn": url}, log_queries=False)
    raise ValueError(f"unsupported database URL scheme: {url.split(':', 1)[0]}")


async def _keep_session(connection: object) -> None:
    """asyncpg pool ``reset`` hook that sends nothing.

    Piccolo takes a pooled connection for every statement outside a transaction, and asyncpg's
    default reset sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on
    every release (asyncpg ``Pool`` docs, ``reset`` parameter, asyncpg >= 0.30): a second round trip
    per query, over a third of the list endpoint's database CPU under load
    (tests/bench/load_bench.py).
    Nothing here leaves session state behind: locks are ``pg_advisory_xact_lock`` and settings
    ``SET LOCAL``, both ending with their transaction; asyncpg still rolls back an open transaction
    before this hook runs."""


async def prepare(engine: Engine) -> None:
    """Per-process start-up: WAL for SQLite (persisted in the file, set once outside any
    transaction, see piccolo#687), a connection pool for PostgreSQL."""
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    elif isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=10, reset=_keep_session)


async def close(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()


async def fetch_dicts(table: type[Table], sql: str, *args: Any) -> list[dict[str, Any]]:
    """``table.raw(sql, *args)`` (same ``{}`` placeholders, nested piccolo clauses allowed) for reads
    on the hot path: every API call authenticates, and the product list is the busiest page. On
    PostgreSQL outside a transaction it compiles the statement with piccolo's own ``QueryString``
    and sends it straight to the pool, skipping the query object's per-call machinery: 0.19 ms of
    CPU per statement instead of 0.38 (tests/bench/load_bench.py). Inside a transaction, and on
    SQLite, it is ``raw`` itself, so the transaction's connection and piccolo's converters apply."""
    engine = table._meta.db
    if isinstance(engine, PostgresEngine) and engine.pool is not None and engine.current_transaction.get() is None:
        query, query_args = QueryString(sql, *args).compile_string(engine_type="postgres")
        return [dict(row) for row in await engine.pool.fetch(query, *query_args)]
    rows: list[dict[str, Any]] = await table.raw(sql, *args)
    return rows


def json_value(value: Any, empty: Any = None) -> Any:
    """A JSON column's value as Python data. Piccolo's ``select()`` hands JSON columns back as text
    (objects and raw queries as the driver gives them), so every reader goes through this;
    ``empty`` stands for NULL or an empty text."""
    if isinstance(value, (str, bytes)):
        return json.loads(value) if value else empty
    return empty if value is None else value


async def ping(engine: Engine) -> None:
    await engine.run_ddl("SELECT 1")


# --------------------------------------------------------------------------- bulk statements
# Piccolo builds every statement in Python, value by value; for tens of thousands of rows that
# dominates. Bulk paths hand the driver one prepared statement and all rows instead
# (aiosqlite/sqlite3 ``executemany``, asyncpg ``executemany`` — pipelined). SQL is written with
# ``?`` placeholders and translated to ``$n`` for PostgreSQL. Values go through the same adapters
# piccolo registers, so rows written here read back identically through piccolo.


def _to_dollar(sql: str) -> str:
    parts = sql.split("?")
    return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, start=1))


def _is_sqlite_connection(connection: object) -> bool:
    return type(connection).__module__.startswith("aiosqlite")


async def executemany(connection: object, sql: str, rows: list[tuple[object, ...]]) -> None:
    if not rows:
        return
    if _is_sqlite_connection(connection):
        await connection.executemany(sql, rows)  # type: ignore[attr-defined]
    else:
        await connection.executemany(_to_dollar(sql), rows)  # type: ignore[attr-defined]


async def fetch(connection: object, sql: str, args: list[object]) -> list[tuple[object, ...]]:
    if _is_sqlite_connection(connection):
        cursor = await connection.execute(sql, args)  # type: ignore[attr-defined]
        rows = await cursor.fetchall()
        await cursor.close()
        # piccolo's SQLite connections use a dict row factory
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in rows]
    return [tuple(r) for r in await connection.fetch(_to_dollar(sql), *args)]  # type: ignore[attr-defined]


async def execute(connection: object, sql: str, args: list[object]) -> None:
    if _is_sqlite_connection(connection):
        await (await connection.execute(sql, args)).close()  # type: ignore[attr-defined]
    else:
        await connection.execute(_to_dollar(sql), *args)  # type: ignore[attr-defined]


def write_transaction(engine: Engine) -> Any:
    """A transaction that writes: ``BEGIN IMMEDIATE`` on SQLite (no lock-upgrade deadlocks between
    concurrent writers, piccolo#687), a plain transaction on PostgreSQL."""
    from piccolo.engine.sqlite import TransactionType

    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()
