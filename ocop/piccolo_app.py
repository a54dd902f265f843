"""The service's schema: the piccolo app that owns every table and its migrations, and the one way
to bind those tables to a database.

Piccolo finds a table's engine once and caches it on the table; :func:`use_database` rebinds every
table (and piccolo's own conf module) so one process can switch databases cleanly, which the test
suite does to run the same tests on both engines.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from piccolo.conf.apps import AppConfig
from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine

# Piccolo's migration commands locate their engine through this module; set it before piccolo
# reads it. This is piccolo's own variable, not one of ours.
os.environ.setdefault("PICCOLO_CONF", "ocop.piccolo_conf")

from ocop.accounts.tables import ApiToken, AuditEvent, DatabaseInstance, PasswordReset, User
from ocop.alerts.tables import AlertDelivery, AlertPreference, Notification, StockAlertLevel, ZaloOaToken
from ocop.catalog.tables import Certificate, Image, Product, Variant
from ocop.imports.tables import ImportBatch
from ocop.marketplace.tables import (Listing, ListingEvent, Order, OrderLine, PushEvent, SalesFact, Shop, StockHold,
                                     SyncRun)
from ocop.events.tables import AlertEvent
from ocop.producers.tables import Producer

TABLES = [
    Producer,
    User,
    ApiToken,
    PasswordReset,
    Product,
    Certificate,
    Image,
    Variant,
    Shop,
    Listing,
    Order,
    OrderLine,
    SalesFact,
    StockHold,
    ListingEvent,
    SyncRun,
    PushEvent,
    ImportBatch,
    AuditEvent,
    DatabaseInstance,
    AlertEvent,
    Notification,
    AlertDelivery,
    AlertPreference,
    StockAlertLevel,
    ZaloOaToken,
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


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What :func:`migrate` did: the migrations it ran now, and how many the database has in all."""

    applied: tuple[str, ...]
    total: int


async def migrate(engine: Engine) -> MigrationReport:
    """Bring the database to the current schema. Running it twice changes nothing.

    Piccolo's own progress lines are kept off the terminal (its first line counts every migration
    file as "already complete", even on an empty database); callers print the report instead, and a
    failure carries piccolo's lines in its message."""
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.apps.migrations.tables import Migration

    use_database(engine)
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    await Migration.create_table(if_not_exists=True)
    before = set(await Migration.select(Migration.name).output(as_list=True))
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):
        response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migration failed: {response.message}\n{chatter.getvalue().strip()}")
    after = set(await Migration.select(Migration.name).output(as_list=True))
    return MigrationReport(applied=tuple(sorted(after - before)), total=len(after))
