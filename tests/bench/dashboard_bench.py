"""Benchmark: the whole dashboard (every KPI, ``ocop.reports.kpis.dashboard``) over 100,000 orders.

Run: ``.venv/bin/python tests/bench/dashboard_bench.py [ORDERS]``. For SQLite (a temp file, WAL) and
PostgreSQL (a throw-away cluster from ``tests.support.servers.postgres_server``) it migrates the
schema, inserts a province (400 producers in 40 Gia Lai communes, 1,200 products with
certificates, ~600 shops, ~1,800 listings) and ORDERS orders with 1–2 lines each over 12 months
(bulk, chunked multi-row inserts in one transaction; not timed), fills the sales fact table from
those lines with ``ocop.marketplace.sales_facts.rebuild`` (the order ingest writes the same rows as it goes;
the bulk copy here bypasses it), then times the dashboard for a year, a month, a commune-staff
scope and a filtered view, three runs each. Target (issue 7): < 1 s for every view.
Prints wall time, this process's CPU time (for SQLite the query work runs in this process, so
CPU time shows the cost without other processes' load; for PostgreSQL it runs in the server) and
the peak of Python memory allocated during one more run of each view (``tracemalloc``).

Before (the statement over ``market_order_line``/``market_order`` with correlated "earlier line"
look-ups, commit d1b7ed4), measured on this 2-core machine, best of 3, busy machine (load ≈ 3):

    SQLite      year 2,110 ms (CPU 967 ms) · month 399 ms · 3-commune year 353 ms · filtered year 135 ms
    PostgreSQL  year 1,495 ms · month 512 ms · 3-commune year 282 ms · filtered year 123 ms

(earlier quiet-machine runs: month 0.2–0.3 s, year 1.5–1.8 s on both engines.) After (the sales
fact table and its covering index, ``ocop.marketplace.sales_facts`` / ``ocop.reports.sales``), same machine,
load ≈ 6:

    SQLite      year 508 ms (CPU 315 ms) · month 265 ms (CPU 79) · 3-commune year 121 ms · filtered 148 ms
    PostgreSQL  year 529 ms · month 102 ms · 3-commune year 111 ms · filtered year 90 ms

Peak Python memory during a whole dashboard: 0.1 MB (SQLite) and 0.4 MB (PostgreSQL): no order
row reaches Python, only the ~100 result rows. (``tracemalloc`` does not see the database engine's
own memory: SQLite's sorter and PostgreSQL's ``work_mem``, capped at 64 MB for this statement.)
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
from piccolo.engine.base import Engine  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402
from piccolo.engine.sqlite import SQLiteEngine, TransactionType  # noqa: E402

from ocop import db as dbmod, piccolo_app  # noqa: E402
from ocop.catalog.tables import Certificate, Product  # noqa: E402
from ocop.domain import admin_units  # noqa: E402
from ocop.marketplace.tables import Listing, Shop  # noqa: E402
from ocop.producers.tables import Producer  # noqa: E402
from ocop.marketplace import sales_facts as facts  # noqa: E402
from ocop.reports.kpis import dashboard  # noqa: E402
from ocop.reports.period import parse_period  # noqa: E402
from ocop.reports.scope import Filters, Scope  # noqa: E402
from tests.support.servers import postgres_server  # noqa: E402

CHUNK = 500
MARKETPLACES = ("shopee", "lazada", "tiktok", "tiki")
REASONS = ("Thiếu ảnh sản phẩm", "Sai ngành hàng", "Thiếu giấy chứng nhận", "Giá không hợp lệ", "Trùng sản phẩm")
START = datetime(2025, 12, 1, tzinfo=UTC)
#: Best of 3 with the statement before the sales fact table (see the docstring), in the order of the cases.
BEFORE_MS = {"sqlite": (2110, 399, 353, 135), "postgres": (1495, 512, 282, 123)}


async def bulk(engine: Engine, table: Any, rows: Sequence[Any]) -> None:
    for start in range(0, len(rows), CHUNK):
        await table.insert(*rows[start:start + CHUNK])


async def bulk_raw(engine: Engine, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """The 100,000 orders and their lines skip piccolo's objects (too slow to build in bulk): SQLite
    gets chunked ``executemany`` in one transaction, with datetimes written exactly as piccolo writes
    them (UTC, ``str(datetime)``); PostgreSQL gets ``COPY``."""
    if isinstance(engine, SQLiteEngine):
        from piccolo.engine.sqlite import convert_datetime_in

        marks = ", ".join("?" for _ in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        fixed = [tuple(convert_datetime_in(v) if isinstance(v, datetime) else v for v in row) for row in rows]
        with sqlite3.connect(engine.connection_kwargs["database"]) as conn:
            for start in range(0, len(fixed), 10 * CHUNK):
                conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', fixed[start:start + 10 * CHUNK])
        return
    assert isinstance(engine, PostgresEngine)
    conn = await asyncpg.connect(engine.config["dsn"])
    try:
        await conn.copy_records_to_table(table, records=rows, columns=list(columns))
    finally:
        await conn.close()


async def populate(engine: Engine, orders: int) -> None:
    rng = random.Random(7)
    gia_lai = admin_units.find_province("Gia Lai")
    communes = [int(w.code) for w in admin_units.wards_of(gia_lai)][:40]
    producers = [Producer(id=i + 1, kind="htx", legal_name=f"HTX số {i + 1}", name_folded=f"htx so {i + 1}",
                          tax_code=f"41{i:08d}", province_code=int(gia_lai.code), commune_code=communes[i % 40])
                 for i in range(400)]
    products, certificates, shops, listings = [], [], [], []
    for p in producers:
        for k in range(3):
            pid = len(products) + 1
            products.append(Product(id=pid, producer=p.id, sku=f"SP-{pid}", name=f"Sản phẩm {pid}",
                                    name_folded=f"san pham {pid}", ocop_group=pid % 6 + 1, status="active",
                                    created_at=START - timedelta(days=rng.randint(1, 400))))
            certificates.append(Certificate(id=pid, product=pid, stars=3 + (pid // 6) % 3,
                                            expires_on=date(2026, 11, 1) + timedelta(days=rng.randint(0, 900))))
        for m in rng.sample(MARKETPLACES, rng.randint(1, 2)):
            shops.append(Shop(id=len(shops) + 1, producer=p.id, marketplace=m, external_shop_id=f"{p.id}-{m}",
                              status="connected", created_at=START - timedelta(days=rng.randint(0, 300))))
    by_producer: dict[int, list[Shop]] = {}
    for s in shops:
        by_producer.setdefault(int(s.producer), []).append(s)
    shop_listings: dict[int, list[int]] = {}
    for prod in products:
        for s in by_producer[int(prod.producer)]:
            lid = len(listings) + 1
            roll = rng.random()
            state = "live" if roll < 0.8 else "rejected" if roll < 0.9 else "in_review"
            listings.append(Listing(id=lid, product=prod.id, shop=s.id, seller_sku=prod.sku, state=state,
                                    last_error=rng.choice(REASONS) if state == "rejected" else "",
                                    published_at=START + timedelta(days=rng.randint(0, 300))))
            shop_listings.setdefault(int(s.id), []).append(lid)
    # Orders arrive (and get their ids) in time order, as the order sync writes them.
    span = int(timedelta(days=365).total_seconds())
    times = sorted(START + timedelta(seconds=rng.randrange(span)) for _ in range(orders))
    order_rows: list[tuple[Any, ...]] = []
    line_rows: list[tuple[Any, ...]] = []
    for oid, created in enumerate(times, 1):
        shop = shops[rng.randrange(len(shops))]
        roll = rng.random()
        status = "completed" if roll < 0.85 else "cancelled" if roll < 0.93 else "returned" if roll < 0.98 else "shipped"
        total = 0
        for _ in range(rng.randint(1, 2)):
            qty, price = rng.randint(1, 5), rng.choice((30_000, 45_000, 60_000, 120_000, 250_000))
            total += qty * price
            line_rows.append((oid, rng.choice(shop_listings[int(shop.id)]), qty, price, qty * price))
        order_rows.append((oid, int(shop.id), f"O{oid}", status, total, created, created))
    if isinstance(engine, SQLiteEngine):
        transaction = engine.transaction(transaction_type=TransactionType.immediate)
    else:
        transaction = engine.transaction()
    async with transaction:
        for table, rows in ((Producer, producers), (Product, products), (Certificate, certificates), (Shop, shops),
                            (Listing, listings)):
            await bulk(engine, table, rows)
    await bulk_raw(engine, "market_order", ("id", "shop", "marketplace_order_id", "status", "total_vnd", "created_at",
                                            "updated_at"), order_rows)
    await bulk_raw(engine, "market_order_line", ("order", "listing", "quantity", "unit_price_vnd", "total_vnd"),
                   line_rows)
    t0 = time.perf_counter()
    await facts.rebuild(engine)
    print(f"  sales facts rebuilt from the lines in {time.perf_counter() - t0:.1f} s", flush=True)
    await engine.run_ddl("ANALYZE")  # fresh planner statistics, as a live database has
    print(f"  inserted {len(order_rows):,} orders, {len(line_rows):,} lines, {len(listings):,} listings, "
          f"{len(products):,} products", flush=True)


async def time_dashboards(engine: Engine) -> None:
    gia_lai = admin_units.find_province("Gia Lai")
    communes = tuple(int(w.code) for w in admin_units.wards_of(gia_lai))[:3]
    cases = [
        ("year 2026, province", parse_period("2026"), Scope(province_code=int(gia_lai.code)), Filters()),
        ("month 2026-06, everything", parse_period("2026-06"), Scope(), Filters()),
        ("year, 3-commune staff", parse_period("2026"), Scope(province_code=int(gia_lai.code),
                                                              commune_codes=communes), Filters()),
        ("year, shopee + group 1 + 4★", parse_period("2026"), Scope(), Filters(marketplace="shopee", ocop_group=1,
                                                                             stars=4)),
    ]
    before = BEFORE_MS["postgres" if isinstance(engine, PostgresEngine) else "sqlite"]
    for (name, period, scope, filters), was in zip(cases, before, strict=True):
        runs, cpu = [], []
        for _ in range(3):
            t0, c0 = time.perf_counter(), time.process_time()
            board = await dashboard(period, scope, filters)
            runs.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        tracemalloc.start()
        await dashboard(period, scope, filters)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"  {name:30s} best {min(runs) * 1000:7.1f} ms (before: {was:,} ms)  "
              f"median {statistics.median(runs) * 1000:7.1f} ms"
              f"  (this process's CPU {min(cpu) * 1000:6.1f} ms; peak Python memory {peak / 1e6:5.2f} MB; "
              f"{board.sales.orders:,} net orders, {board.sales.revenue_vnd:,} ₫)", flush=True)


async def bench(url: str, orders: int) -> None:
    engine = dbmod.engine_from_url(url)
    await piccolo_app.migrate(engine)
    piccolo_app.use_database(engine)
    await dbmod.prepare(engine)
    try:
        t0 = time.perf_counter()
        await populate(engine, orders)
        print(f"  (insert took {time.perf_counter() - t0:.1f} s, not part of the target)")
        await time_dashboards(engine)
    finally:
        await dbmod.close(engine)


def main() -> None:
    orders = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (other work slows the timings)")
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite, {orders:,} orders")
        asyncio.run(bench(f"sqlite:///{tmp}/bench.db", orders))
    with postgres_server() as pg:
        async def create() -> None:
            admin = PostgresEngine(config={"dsn": pg.url()})
            await admin.run_ddl("CREATE DATABASE ocop_bench")
        asyncio.run(create())
        print(f"PostgreSQL, {orders:,} orders")
        asyncio.run(bench(pg.url("ocop_bench"), orders))


if __name__ == "__main__":
    main()
