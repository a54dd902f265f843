"""Checked-in migrations describe exactly the tables in code, on both engines, and enforce the
natural keys the upserts rely on."""

from __future__ import annotations

import pytest

from ocop.catalog.tables import Product
from ocop.piccolo_app import TABLES
from ocop.producers.tables import Producer


async def _columns(db, table: str) -> set[str]:
    if db.kind == "sqlite":
        rows = await Producer.raw(f"PRAGMA table_info({table})")
        return {r["name"] for r in rows}
    rows = await Producer.raw("SELECT column_name FROM information_schema.columns WHERE table_name = {}", table)
    return {r["column_name"] for r in rows}


async def test_migrated_schema_matches_table_classes(db) -> None:
    for table in TABLES:
        expected = {c._meta.db_column_name for c in table._meta.columns}
        actual = await _columns(db, table._meta.tablename)
        assert actual == expected, f"{table._meta.tablename}: run tests.support.make_migration ({actual ^ expected})"


async def test_producer_sku_is_unique_per_producer(db) -> None:
    a = Producer(kind="htx", legal_name="A", name_folded="a", tax_code="0100109106")
    b = Producer(kind="htx", legal_name="B", name_folded="b", tax_code="4100259564")
    await a.save()
    await b.save()
    await Product(producer=a.id, sku="X1", name="Trà", name_folded="tra").save()
    await Product(producer=b.id, sku="X1", name="Trà", name_folded="tra").save()  # other producer: fine
    with pytest.raises(Exception, match="(?i)unique"):
        await Product(producer=a.id, sku="X1", name="Trà 2", name_folded="tra 2").save()


async def test_upgrading_a_database_that_holds_orders_backfills_the_sales_facts(db) -> None:
    """A deployment from before ``sales_fact`` upgrades with ``ocop migrate``: the two migrations
    create the table and its index and fill it from the stored order lines, with exactly the rows
    the order ingest writes (so the dashboard shows the same figures as for orders synced after)."""
    from ocop import piccolo_app
    from ocop.marketplace.tables import SalesFact
    from tests.ocop.reports.conftest import seed_province

    await seed_province()  # through the real ingest, which writes the facts
    columns = [c._meta.db_column_name for c in SalesFact._meta.columns if c._meta.db_column_name != "id"]
    select = "SELECT " + ", ".join(f'"{c}"' for c in columns) + " FROM sales_fact"
    def rows(found: list[dict[str, object]]) -> list[tuple[str, ...]]:
        return sorted(tuple(str(v) for v in r.values()) for r in found)  # None-safe ordering

    written = rows(await SalesFact.raw(select))
    assert len(written) >= 10

    # Back to the schema before the facts: table and index gone, the two migrations not yet run.
    await SalesFact.raw("DROP INDEX IF EXISTS sales_fact_cells")
    await SalesFact.raw("DROP TABLE sales_fact")
    await SalesFact.raw("DELETE FROM migration WHERE name IN ({}, {})",
                        "2026-11-26T01:20:06:553585", "2026-11-26T01:20:07:000000")

    await piccolo_app.migrate(SalesFact._meta.db)
    assert rows(await SalesFact.raw(select)) == written
