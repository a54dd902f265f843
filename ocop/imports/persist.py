"""Write validated rows: upsert producers and products (+ certificate), record the batch.

Everything of one import happens in **one** transaction (``IMMEDIATE`` on SQLite, so the write
lock is taken up front instead of failing on lock promotion — piccolo docs, "Using SQLite and
asyncio effectively"), with chunked multi-row ``INSERT``s and, for changed records, one prepared
``UPDATE`` per distinct set of changed columns run with ``executemany`` — never one query per cell.
One transaction rather than one per chunk, because a chunk committed before a crash would be a
half-written batch; on SQLite that holds the write lock for the import's few seconds. A crash or kill before the commit leaves nothing visible — no half-written
row, no batch row — and running the import again starts from the same state.

Idempotency: a product is found by (producer tax code, ``Mã sản phẩm``); ``Product.content_hash``
holds a hash of everything the row writes for it, so re-importing the same file finds every row
unchanged without comparing column by column; a changed row updates only the columns that differ.
Empty optional producer cells (phone) never erase what is stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

from ocop.catalog.tables import Certificate, Product, Variant
from ocop.catalog.variant_store import write_variants
from ocop.catalog.variants import variation_json
from ocop.domain.text import fold
from ocop.imports.tables import ImportBatch
from ocop.imports.columns import BY_KEY
from ocop.imports.validate import ProducerData, RowFault, RowRecord
from ocop.producers.tables import Producer

IMPORT_LOCK_KEY = 0x0C0B1A4  # arbitrary, constant: "the catalogue import" advisory lock
CHUNK = 400  # rows per multi-row INSERT: ~20 columns x 400 stays far below SQLite's 32,766 parameters
PRODUCT_FIELDS = (
    "name", "ocop_group", "unit", "net_quantity", "price_vnd", "stock", "weight_g", "length_mm", "width_mm",
    "height_mm", "shelf_life_days", "description",
)
PRODUCER_FIELDS = ("kind", "legal_name", "phone", "province_code", "commune_code", "legacy_district")
#: Producer columns an empty cell never erases (optional in the template).
KEEP_WHEN_EMPTY = frozenset({"phone", "legacy_district"})
CERTIFICATE_FIELDS = ("stars", "decision_number", "issued_on", "expires_on")

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True, slots=True)
class RowOutcome:
    row: int
    status: str  # created | updated | unchanged
    product_id: int
    has_images: bool  # created/updated with images: they go to the image sink


@dataclass(slots=True)
class WriteSummary:
    outcomes: list[RowOutcome] = field(default_factory=list)
    batch_id: int | None = None

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


class _DryRunRollback(Exception):
    """Raised inside the transaction to roll a dry run back after computing exact counts."""


def transaction(engine: Engine) -> Any:
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def write_records(
    records: Sequence[RowRecord],
    *,
    engine: Engine,
    batch: dict[str, Any] | None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> WriteSummary:
    """Upsert ``records`` and insert the ImportBatch row (``batch``: its column values) atomically.

    With ``dry_run`` the same work runs and is rolled back, so the counts are exact and nothing stays.
    """
    summary = WriteSummary()
    try:
        async with transaction(engine):
            if isinstance(engine, PostgresEngine):
                # Serialise imports: two concurrent runs would otherwise both create a new
                # producer or product. SQLite's IMMEDIATE transaction already admits one writer.
                await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock({})", IMPORT_LOCK_KEY))
            await _write(engine, records, summary, progress)
            if batch is not None:
                batch = dict(batch, created=summary.count("created"), updated=summary.count("updated"),
                             unchanged=summary.count("unchanged"))
                rows = await ImportBatch.insert(ImportBatch(**batch)).returning(ImportBatch.id)
                summary.batch_id = rows[0]["id"]
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        summary.batch_id = None
    return summary


async def _write(engine: Engine, records: Sequence[RowRecord], summary: WriteSummary,
                 progress: Callable[[int, int], None] | None) -> None:
    now = datetime.now(timezone.utc)
    total = len(records)
    producer_ids, changed_producers = await _upsert_producers(engine, records, now)
    existing = await _existing_products(list(set(producer_ids.values())))
    new: list[tuple[RowRecord, int]] = []
    changed: list[tuple[RowRecord, dict[str, Any]]] = []
    for record in records:
        producer_id = producer_ids[record.producer.tax_code]
        current = existing.get((producer_id, record.product.sku))
        if current is None:
            new.append((record, producer_id))
        elif current["content_hash"] == record.content_hash:
            status = "updated" if record.row in changed_producers else "unchanged"
            summary.outcomes.append(RowOutcome(record.row, status, current["id"], False))
        else:
            changed.append((record, current))
    done = len(summary.outcomes)
    if progress is not None:
        progress(done, total)
    certificates = await _certificates_of([current["id"] for _, current in changed])
    product_updates: list[tuple[int, dict[str, Any]]] = []
    certificate_updates: list[tuple[int, dict[str, Any]]] = []
    certificate_inserts: list[tuple[Any, ...]] = []
    for record, current in changed:
        product_updates.append((current["id"], _product_changes(record, current, now)))
        wanted = _certificate_values(record)
        target = _certificate_to_update(certificates.get(current["id"], []), wanted["decision_number"])
        if target is None:
            certificate_inserts.append((current["id"], *wanted.values(), now))
        elif cert_changes := {k: v for k, v in wanted.items() if target[k] != v}:
            certificate_updates.append((target["id"], cert_changes))
        summary.outcomes.append(RowOutcome(record.row, "updated", current["id"], bool(record.images)))
    await _update_rows(engine, Product, product_updates)
    for record, current in changed:
        if record.variants or db_json_list(current.get("variation")):
            await _write_variants(current["id"], record, dict(product_updates)[current["id"]])
    await _tell_marketplaces(product_updates)
    await _update_rows(engine, Certificate, certificate_updates)
    for chunk in _chunks(certificate_inserts):
        await _insert_rows(engine, Certificate, ("product", *CERTIFICATE_FIELDS, "created_at"), chunk)
    done += len(changed)
    if progress is not None:
        progress(done, total)
    for chunk in _chunks(new):
        ids = await _insert_products(engine, chunk, now)
        for record, pid in chunk:
            if record.variants:
                await _write_variants(ids[(pid, record.product.sku)], record, {})
        await _insert_rows(
            engine, Certificate, ("product", *CERTIFICATE_FIELDS, "created_at"),
            [(ids[(pid, r.product.sku)], *_certificate_values(r).values(), now) for r, pid in chunk],
        )
        summary.outcomes.extend(RowOutcome(r.row, "created", ids[(pid, r.product.sku)], bool(r.images)) for r, pid in chunk)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    summary.outcomes.sort(key=lambda o: o.row)


async def sku_clashes(records: Sequence[RowRecord]) -> list[RowFault]:
    """Seller SKUs the file would give twice to a producer already in the database: a variant SKU
    that is another stored product's own SKU or variant SKU, or a product code that is a stored
    variant SKU of another product (a marketplace needs each seller SKU once per shop)."""
    producers = {p["tax_code"]: p["id"] for p in await Producer.select(Producer.id, Producer.tax_code).where(
        Producer.tax_code.is_in(sorted({r.producer.tax_code for r in records}) or [""]))}
    if not producers:
        return []
    ids = list(producers.values())
    products: dict[tuple[int, str], int] = {}
    for chunk in _chunks(ids):
        for row in await Product.select(Product.id, Product.producer, Product.sku).where(
                Product.producer.is_in(list(chunk))):
            products[(row["producer"], row["sku"].casefold())] = row["id"]
    variants: dict[tuple[int, str], int] = {}
    for chunk in _chunks(ids):
        for row in await Variant.select(Variant.product, Variant.sku, Variant.product.producer.as_alias("producer")
                                        ).where(Variant.product.producer.is_in(list(chunk))):
            variants[(row["producer"], row["sku"].casefold())] = row["product"]
    faults = []
    for record in records:
        producer = producers.get(record.producer.tax_code)
        if producer is None:
            continue
        own = products.get((producer, record.product.sku.casefold()))
        other = variants.get((producer, record.product.sku.casefold()))
        if other is not None and other != own:
            faults.append(RowFault(record.row, BY_KEY["sku"].header, record.product.sku, "sku_taken",
                                   "Mã đã dùng cho một phân loại của sản phẩm khác",
                                   "This code is already a variant SKU of another product"))
        if record.variants:
            for row, variant in zip(record.variant_rows, record.variants):
                key = (producer, variant.sku.casefold())
                holder = products.get(key, variants.get(key))
                if holder is not None and holder != own:
                    faults.append(RowFault(row, BY_KEY["variant_sku"].header, variant.sku, "sku_taken",
                                           "Mã SKU đã dùng cho sản phẩm khác của chủ thể",
                                           "This SKU is already used by another product of the producer"))
    return faults


def db_json_list(value: Any) -> list[Any]:
    from ocop import db

    return list(db.json_value(value, []) or [])


async def _write_variants(product_id: int, record: RowRecord, changes: dict[str, Any]) -> None:
    """A product's variants as its rows give them (none: the product has none any more), and its
    attributes; what changed is added to ``changes`` so its stock and price go out like an edit's."""
    await Product.update({Product.variation: json.dumps(variation_json(record.variation), ensure_ascii=False)}
                         ).where(Product.id == product_id)
    changes.update((await write_variants(product_id, record.variants)).audit())


async def _tell_marketplaces(product_updates: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """A new stock count or price of a product already listed goes out through the marketplaces'
    partial push, as an edit on the product page does (:mod:`ocop.marketplace.stock`)."""
    from ocop.catalog.services import PARTIAL_FIELDS
    from ocop.marketplace import stock as market_stock

    await market_stock.stock_edited(pid for pid, changes in product_updates
                                    if "stock" in changes or "variant_stock" in changes)
    await market_stock.bump(pid for pid, changes in product_updates if PARTIAL_FIELDS & changes.keys())


async def _insert_rows(engine: Engine, table: type[Table], columns: Sequence[str], rows: Sequence[tuple[Any, ...]],
                       returning: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """One multi-row ``INSERT … VALUES (…), (…) [RETURNING …]`` on the transaction's connection.

    Piccolo's ``Table.insert`` builds a ``Table`` object and a querystring per row, which was 60 %
    of the import's time at 10,000 rows; the driver takes the parameters directly. Values go through
    the same adapters piccolo registers for SQLite (dates, datetimes), so stored forms are identical.
    ``RETURNING`` needs SQLite 3.35+ (the same floor piccolo uses for its own ``returning``).
    """
    if not rows:
        return []
    # The driver connection of the transaction piccolo holds for this task (aiosqlite or asyncpg).
    connection = engine.current_transaction.get().connection
    width = len(columns)
    names = ", ".join(f'"{c}"' for c in columns)
    tail = f' RETURNING {", ".join(chr(34) + c + chr(34) for c in returning)}' if returning else ""
    params = [value for row in rows for value in row]
    if isinstance(engine, SQLiteEngine):
        group = "(" + ", ".join("?" * width) + ")"
        sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES {", ".join([group] * len(rows))}{tail}'
        cursor = await connection.execute(sql, params)
        result = [tuple(r[c] for c in returning) for r in await cursor.fetchall()]  # piccolo's row factory gives dicts
        await cursor.close()
        return result
    groups = ", ".join(
        "(" + ", ".join(f"${i * width + j + 1}" for j in range(width)) + ")" for i in range(len(rows))
    )
    sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES {groups}{tail}'
    if returning:
        return [tuple(r[c] for c in returning) for r in await connection.fetch(sql, *params)]
    await connection.execute(sql, *params)
    return []


async def _insert_products(engine: Engine, chunk: Sequence[tuple[RowRecord, int]], now: datetime) -> dict[tuple[int, str], int]:
    columns = ("producer", "sku", "name_folded", "content_hash", "created_at", "updated_at", *PRODUCT_FIELDS)
    rows = [
        (pid, r.product.sku, fold(r.product.name), r.content_hash, now, now, *(getattr(r.product, f) for f in PRODUCT_FIELDS))
        for r, pid in chunk
    ]
    returned = await _insert_rows(engine, Product, columns, rows, returning=("id", "producer", "sku"))
    return {(producer, sku): product_id for product_id, producer, sku in returned}


async def _certificates_of(product_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for chunk in _chunks(product_ids):
        for row in await Certificate.select().where(Certificate.product.is_in(list(chunk))).order_by(Certificate.id, ascending=False):
            found.setdefault(row["product"], []).append(row)
    return found


def _producer_values(data: ProducerData) -> dict[str, Any]:
    return {name: getattr(data, name) for name in PRODUCER_FIELDS}


async def _upsert_producers(engine: Engine, records: Sequence[RowRecord], now: datetime) -> tuple[dict[str, int], set[int]]:
    """Return tax code -> producer id, and the rows whose producer details changed something."""
    first: dict[str, RowRecord] = {}
    for record in records:
        first.setdefault(record.producer.tax_code, record)
    codes = list(first)
    ids: dict[str, int] = {}
    changed_rows: set[int] = set()
    stored: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(codes):
        for row in await Producer.select(Producer.id, Producer.tax_code, *(getattr(Producer, f) for f in PRODUCER_FIELDS)).where(
            Producer.tax_code.is_in(list(chunk))
        ):
            stored[row["tax_code"]] = row
    to_insert: list[tuple[Any, ...]] = []
    updates: list[tuple[int, dict[str, Any]]] = []
    for code, record in first.items():
        values = _producer_values(record.producer)
        current = stored.get(code)
        if current is None:
            to_insert.append((code, fold(values["legal_name"]), now, now, *values.values()))
            continue
        ids[code] = current["id"]
        changes = {k: v for k, v in values.items() if current[k] != v and not (k in KEEP_WHEN_EMPTY and not v)}
        if changes:
            if "legal_name" in changes:
                changes["name_folded"] = fold(changes["legal_name"])
            changes["updated_at"] = now
            updates.append((current["id"], changes))
            changed_rows.add(record.row)
    await _update_rows(engine, Producer, updates)
    columns = ("tax_code", "name_folded", "created_at", "updated_at", *PRODUCER_FIELDS)
    for chunk in _chunks(to_insert):
        ids.update({code: pid for pid, code in await _insert_rows(engine, Producer, columns, chunk, returning=("id", "tax_code"))})
    return ids, changed_rows


async def _existing_products(producer_ids: list[int]) -> dict[tuple[int, str], dict[str, Any]]:
    found: dict[tuple[int, str], dict[str, Any]] = {}
    columns = (Product.id, Product.producer, Product.sku, Product.content_hash, Product.variation,
               *(getattr(Product, f) for f in PRODUCT_FIELDS))
    for chunk in _chunks(producer_ids):
        for row in await Product.select(*columns).where(Product.producer.is_in(list(chunk))):
            found[(row["producer"], row["sku"])] = row
    return found


def _product_values(record: RowRecord) -> dict[str, Any]:
    return {name: getattr(record.product, name) for name in PRODUCT_FIELDS}


def _certificate_values(record: RowRecord) -> dict[str, Any]:
    """In :data:`CERTIFICATE_FIELDS` order."""
    return {name: getattr(record.certificate, name) for name in CERTIFICATE_FIELDS}


def _product_changes(record: RowRecord, current: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Only the product columns that differ, plus the new hash and timestamp."""
    values = _product_values(record)
    changes = {k: v for k, v in values.items() if current[k] != v}
    if "name" in changes:
        changes["name_folded"] = fold(values["name"])
    changes["content_hash"] = record.content_hash
    changes["updated_at"] = now
    return changes


def _certificate_to_update(certificates: list[dict[str, Any]], decision_number: str) -> dict[str, Any] | None:
    """The certificate a row corrects: same decision number, else a newest one without a number.
    ``None`` means a re-certification (a new decision): a new certificate row is added."""
    for certificate in certificates:  # newest first
        if certificate["decision_number"] == decision_number:
            return certificate
    if certificates and not certificates[0]["decision_number"]:
        return certificates[0]
    return None


async def _update_rows(engine: Engine, table: type[Table], updates: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """``UPDATE … SET <changed columns> WHERE id = ?`` as one prepared statement per distinct set of
    changed columns, run with ``executemany`` (not one piccolo query per row)."""
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row_id, changes in updates:
        columns = tuple(sorted(changes))
        groups.setdefault(columns, []).append((*(changes[c] for c in columns), row_id))
    connection = engine.current_transaction.get().connection
    for columns, params in groups.items():
        if isinstance(engine, SQLiteEngine):
            sets = ", ".join(f'"{c}" = ?' for c in columns)
            await connection.executemany(f'UPDATE "{table._meta.tablename}" SET {sets} WHERE "id" = ?', params)
        else:
            sets = ", ".join(f'"{c}" = ${i + 1}' for i, c in enumerate(columns))
            sql = f'UPDATE "{table._meta.tablename}" SET {sets} WHERE "id" = ${len(columns) + 1}'
            await connection.executemany(sql, params)
