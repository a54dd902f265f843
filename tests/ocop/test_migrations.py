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
