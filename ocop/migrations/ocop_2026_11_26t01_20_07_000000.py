"""The dashboard's covering index on ``sales_fact`` and the backfill of facts for existing orders.

The index is ordered like the dashboard's first aggregate (``ocop.reports.sales``): grouping by
its leading columns lets SQLite aggregate in index order instead of sorting ~130,000 rows per
query, and the remaining columns make the scan index-only. Raw SQL because piccolo declares only
single-column indexes; the backfill fills the table from ``market_order_line`` for databases that
already hold orders (``ocop.marketplace.sales_facts.rebuild``: the same rows ``ingest_orders`` writes).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T01:20:07:000000"
VERSION = "1.38.0"
DESCRIPTION = "sales fact covering index and backfill"

INDEX = ("CREATE INDEX IF NOT EXISTS sales_fact_cells ON sales_fact (month, shop, product, status_class, rank, "
         "first_product, day, units, revenue_vnd, \"order\")")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ocop", description=DESCRIPTION)

    async def create() -> None:
        from ocop.marketplace.tables import SalesFact
        from ocop.marketplace.sales_facts import rebuild

        await SalesFact.raw(INDEX)
        await rebuild(SalesFact._meta.db)

    async def drop() -> None:
        from ocop.marketplace.tables import SalesFact

        await SalesFact.raw("DROP INDEX IF EXISTS sales_fact_cells")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
