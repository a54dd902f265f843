"""Composite natural keys as unique indexes.

Piccolo declares composite ``Unique`` constraints with ``ALTER TABLE … ADD CONSTRAINT``, which
SQLite cannot run; a unique index is the same guarantee on both engines and is what
``INSERT … ON CONFLICT (cols)`` upserts (orders by marketplace id, roll-ups by day) rely on.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T22:34:06:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique keys"

KEYS = {
    "product_producer_sku_key": ("product", "producer, sku"),
    "shop_marketplace_external_key": ("shop", "marketplace, external_shop_id"),
    "listing_product_shop_key": ("listing", "product, shop"),
    "listing_shop_sku_key": ("listing", "shop, seller_sku"),
    "market_order_shop_order_key": ("market_order", "shop, marketplace_order_id"),
    "sales_daily_listing_day_key": ("sales_daily", "listing, day"),
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ocop", description=DESCRIPTION)

    async def create() -> None:
        from ocop.producers.tables import Producer

        for name, (table, columns) in KEYS.items():
            await Producer.raw(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table} ({columns})")

    async def drop() -> None:
        from ocop.producers.tables import Producer

        for name in KEYS:
            await Producer.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
