"""The piccolo app that owns every table of the service and its migrations."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from ocop.accounts.tables import ApiToken, PasswordReset, User
from ocop.audit.tables import AuditEvent
from ocop.catalog.tables import Certificate, Image, Product
from ocop.imports.tables import ImportBatch
from ocop.marketplace.tables import Listing, ListingEvent, Order, OrderLine, SalesDaily, SalesFact, Shop, SyncRun
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
    SalesDaily,
    SalesFact,
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
