from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-25T23:20:17:650921"
VERSION = "1.38.0"
DESCRIPTION = "import batch source file"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="ocop", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="ImportBatch",
        tablename="import_batch",
        column_name="source_key",
        db_column_name="source_key",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 80,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
