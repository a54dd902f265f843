from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T16:08:54:515726"
VERSION = "1.38.0"
DESCRIPTION = "drop sales_daily (replaced by sales_fact)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="ocop", description=DESCRIPTION
    )

    manager.drop_table(
        class_name="SalesDaily", tablename="sales_daily", schema=None
    )

    return manager
