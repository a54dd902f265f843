"""The service's schema: the piccolo app that owns every table and its migrations, and the one way
to bind those tables to a database.

Piccolo finds a table's engine once and caches it on the table; :func:`use_database` rebinds every
table (and piccolo's own conf module) so one process can switch databases cleanly, which the test
suite does to run the same tests on both engines.
"""

from __future__ import annotations

import os
from pathlib import Path

from piccolo.conf.apps import AppConfig
from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine

# Piccolo's migration commands locate their engine through this module; set it before piccolo
# reads it. This is piccolo's own variable, not one of ours.
os.environ.setdefault("PICCOLO_CONF", "ocop.piccolo_conf")

from ocop.accounts.tables import ApiToken, AuditEvent, PasswordReset, User
from ocop.catalog.tables import Certificate, Image, Product
from ocop.imports.tables import ImportBatch
from ocop.marketplace.tables import Listing, ListingEvent, Order, OrderLine, SalesFact, Shop, StockHold, SyncRun
from ocop.producers.tables import Producer

TABLES = [
    Producer,
    User,
    ApiToken,
    PasswordReset,
    Product,
    Certificate,
    Image,
    Shop,
    Listing,
    Order,
    OrderLine,
    SalesFact,
    StockHold,
    ListingEvent,
    SyncRun,
    ImportBatch,
    AuditEvent,
]

APP_CONFIG = AppConfig(
    app_name="ocop",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)


def use_database(engine: Engine) -> Engine:
    """Bind every table, piccolo's migration table and piccolo's conf to ``engine``."""
    import ocop.piccolo_conf as conf
    from piccolo.apps.migrations.tables import Migration

    conf.DB = engine
    for table in (*TABLES, Migration):
        table._meta.db = engine
    return engine


async def migrate(engine: Engine) -> None:
    """Bring the database to the current schema. Running it twice changes nothing."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    use_database(engine)
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migration failed: {response.message}")
