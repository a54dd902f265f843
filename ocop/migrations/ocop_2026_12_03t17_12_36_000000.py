"""The stock ledger's natural key as a unique index (one hold per marketplace order line), which
the ingest's upsert relies on; raw SQL for the reason given in ``ocop_2026_11_25t22_34_06_000000``."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T17:12:36:000000"
VERSION = "1.38.0"
DESCRIPTION = "stock hold unique key"

KEYS = {"stock_hold_line_key": ("stock_hold", "shop, marketplace_order_id, seller_sku")}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ocop", description=DESCRIPTION)

    async def create() -> None:
        from ocop.marketplace.tables import StockHold

        for name, (table, columns) in KEYS.items():
            await StockHold.raw(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table} ({columns})")

    async def drop() -> None:
        from ocop.marketplace.tables import StockHold

        for name in KEYS:
            await StockHold.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
