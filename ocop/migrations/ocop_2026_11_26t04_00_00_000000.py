"""Change notices for the in-process caches (``ocop.change_feed``), PostgreSQL only.

Triggers, not application code, announce changes: every writer (pages, API, bulk import SQL,
worker jobs, an operator's ``psql``) is covered, and a notice is delivered only when its
transaction commits. ``pg_notify`` folds identical payloads of one transaction into one, so a
10,000-row import of one producer sends one notice. Listing updates notify only when the listing
moves to another product or shop: state changes do not alter any cached answer, and publishing
updates listings often. Token and user updates notify only for the columns a signed-in principal
is built from (not ``last_used_at``/``last_login_at``, written as a side effect of signing in).

SQLite has no NOTIFY: nothing to do there (its caches stay off).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "change notices for caches"

CATALOG_FUNCTION = """
CREATE OR REPLACE FUNCTION ocop_notify_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  before_producer bigint;
  after_producer bigint;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    PERFORM pg_notify('ocop_changes', 'catalog:*');
    RETURN NULL;
  END IF;
  IF TG_TABLE_NAME = 'producer' THEN
    before_producer := OLD.id;
  ELSIF TG_TABLE_NAME = 'product' THEN
    IF TG_OP <> 'INSERT' THEN before_producer := OLD.producer; END IF;
    IF TG_OP <> 'DELETE' THEN after_producer := NEW.producer; END IF;
  ELSE
    IF TG_OP <> 'INSERT' THEN
      SELECT p.producer INTO before_producer FROM product p WHERE p.id = OLD.product;
    END IF;
    IF TG_OP <> 'DELETE' THEN
      SELECT p.producer INTO after_producer FROM product p WHERE p.id = NEW.product;
    END IF;
  END IF;
  IF before_producer IS NOT NULL THEN
    PERFORM pg_notify('ocop_changes', 'catalog:' || before_producer);
  END IF;
  IF after_producer IS NOT NULL AND after_producer IS DISTINCT FROM before_producer THEN
    PERFORM pg_notify('ocop_changes', 'catalog:' || after_producer);
  END IF;
  RETURN NULL;
END $$
"""

AUTH_FUNCTION = """
CREATE OR REPLACE FUNCTION ocop_notify_auth() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ocop_changes', 'auth:*');
  RETURN NULL;
END $$
"""

_PRINCIPAL_COLUMNS = ("username", "role", "display_name", "producer", "area_province_code", "locale",
                      "is_active")
_USER_CHANGED = " OR ".join(f'OLD."{c}" IS DISTINCT FROM NEW."{c}"' for c in _PRINCIPAL_COLUMNS) + (
    " OR OLD.area_commune_codes::text IS DISTINCT FROM NEW.area_commune_codes::text")
_TOKEN_CHANGED = ('OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.token_hash IS DISTINCT FROM '
                  'NEW.token_hash OR OLD."user" IS DISTINCT FROM NEW."user"')

# (trigger name, table, timing and events, FOR EACH ..., optional WHEN, function)
TRIGGERS = (
    ("ocop_changes_product", "product", "AFTER INSERT OR UPDATE OR DELETE", "ROW", "", "ocop_notify_catalog"),
    ("ocop_changes_certificate", "certificate", "AFTER INSERT OR UPDATE OR DELETE", "ROW", "",
     "ocop_notify_catalog"),
    ("ocop_changes_listing", "listing", "AFTER INSERT OR DELETE", "ROW", "", "ocop_notify_catalog"),
    ("ocop_changes_listing_moved", "listing", "AFTER UPDATE", "ROW",
     "OLD.product IS DISTINCT FROM NEW.product OR OLD.shop IS DISTINCT FROM NEW.shop", "ocop_notify_catalog"),
    ("ocop_changes_producer", "producer", "AFTER UPDATE OR DELETE", "ROW", "", "ocop_notify_catalog"),
    *((f"ocop_changes_{t}_truncate", t, "AFTER TRUNCATE", "STATEMENT", "", "ocop_notify_catalog")
      for t in ("product", "certificate", "listing", "producer")),
    ("ocop_changes_token", "api_token", "AFTER UPDATE", "ROW", _TOKEN_CHANGED, "ocop_notify_auth"),
    ("ocop_changes_token_delete", "api_token", "AFTER DELETE", "ROW", "", "ocop_notify_auth"),
    ("ocop_changes_user", "app_user", "AFTER UPDATE", "ROW", _USER_CHANGED, "ocop_notify_auth"),
    ("ocop_changes_user_delete", "app_user", "AFTER DELETE", "ROW", "", "ocop_notify_auth"),
    *((f"ocop_changes_{t}_truncate", t, "AFTER TRUNCATE", "STATEMENT", "", "ocop_notify_auth")
      for t in ("api_token", "app_user")),
)


def _create_trigger(name: str, table: str, events: str, each: str, when: str, function: str) -> str:
    condition = f" WHEN ({when})" if when else ""
    return (f"CREATE TRIGGER {name} {events} ON {table} FOR EACH {each}{condition} "
            f"EXECUTE FUNCTION {function}()")


async def _engine():  # type: ignore[no-untyped-def]
    from ocop.producers.tables import Producer

    return Producer._meta.db


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ocop", description=DESCRIPTION)

    async def create() -> None:
        from piccolo.engine.postgres import PostgresEngine

        engine = await _engine()
        if not isinstance(engine, PostgresEngine):
            return
        await engine.run_ddl(CATALOG_FUNCTION)
        await engine.run_ddl(AUTH_FUNCTION)
        for name, table, *_ in TRIGGERS:
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for trigger in TRIGGERS:
            await engine.run_ddl(_create_trigger(*trigger))

    async def drop() -> None:
        from piccolo.engine.postgres import PostgresEngine

        engine = await _engine()
        if not isinstance(engine, PostgresEngine):
            return
        for name, table, *_ in TRIGGERS:
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        await engine.run_ddl("DROP FUNCTION IF EXISTS ocop_notify_catalog()")
        await engine.run_ddl("DROP FUNCTION IF EXISTS ocop_notify_auth()")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
