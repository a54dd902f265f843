"""Ingest 100,000 marketplace orders (≈2 lines each) through ``ingest_orders`` on SQLite and on
PostgreSQL; prints orders/s, peak RSS and the ratio to a bare executemany of the same rows.

    .venv/bin/python tests/bench/orders_bench.py [--orders 100000] [--recent] [--variants]

``--recent`` places every order within the last day, so each one not cancelled is also a "new
order" alert written by the ingest (``ocop.events``); by default they are months old, as a history
read is, and no alert is written.

``--variants``: the ten products sell as two variants each, and the orders name the variants' SKUs
(each line then holds its variant's units in the stock ledger).

Target (issue 6): at least 5,000 orders/s on SQLite. The baseline in the same run is the
database's own floor: plain ``sqlite3.executemany`` of the order rows alone, with no upsert, no
lines and no ORM, so the ratio says how much our bookkeeping costs on top of raw inserts.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connectors.base import MarketOrder, OrderLine  # noqa: E402
from ocop import db, piccolo_app  # noqa: E402
from ocop.marketplace.sync import ingest_orders  # noqa: E402
from ocop.marketplace.tables import Listing, Shop  # noqa: E402
from ocop.catalog.tables import Product, Variant  # noqa: E402
from ocop.producers.tables import Producer  # noqa: E402
from tests.support.servers import postgres_server  # noqa: E402


def make_orders(n: int, skus: list[str], *, recent: bool = False) -> list[MarketOrder]:
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=1) if recent else datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(days=1) / max(n, 1) if recent else timedelta(minutes=5)
    out = []
    for i in range(n):
        created = start + step * i
        lines = tuple(OrderLine(seller_sku=sku, external_item_id=str(100 + k), name=f"Sản phẩm {sku}",
                                quantity=rng.randint(1, 3), unit_price_vnd=rng.choice((45000, 95000, 180000)),
                                total_vnd=0)
                      for k, sku in enumerate(rng.sample(skus, k=rng.randint(1, 3))))
        total = sum(l.quantity * l.unit_price_vnd for l in lines)
        out.append(MarketOrder(order_id=f"O{i:08d}", status=rng.choice(("completed", "completed", "cancelled")),
                               raw_status="", created_at=created, updated_at=created, total_vnd=total, lines=lines))
    return out


async def prepare(url: str, variants: bool = False) -> int:
    engine = db.engine_from_url(url)
    await piccolo_app.migrate(engine)
    await db.prepare(engine)
    producer = Producer(kind="htx", legal_name="HTX", name_folded="htx", tax_code="0100109106")
    await producer.save()
    shop = Shop(producer=producer.id, marketplace="shopee", external_shop_id="1")
    await shop.save()
    for n in range(10):
        product = Product(producer=producer.id, sku=f"S{n}", name=f"P{n}", name_folded=f"p{n}")
        await product.save()
        await Listing(product=product.id, shop=shop.id, seller_sku=f"S{n}", state="live").save()
        if variants:
            for k, size in enumerate(("250 ml", "500 ml")):
                await Variant(product=product.id, position=k, option1=size, sku=f"S{n}-{k}", price_vnd=95000,
                              stock=1000).save()
    return int(shop.id)


async def run_ingest(url: str, orders: list[MarketOrder], batch: int = 2000, variants: bool = False) -> float:
    shop_id = await prepare(url, variants)
    started = time.perf_counter()
    for i in range(0, len(orders), batch):  # a sync run hands over one page batch at a time
        await ingest_orders(shop_id, orders[i:i + batch])
    elapsed = time.perf_counter() - started
    await db.close(Producer._meta.db)
    return elapsed


def bare_sqlite(path: Path, orders: list[MarketOrder]) -> float:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE o (id INTEGER PRIMARY KEY, shop INT, oid TEXT UNIQUE, status TEXT, total INT, "
                "created TEXT, updated TEXT)")
    rows = [(1, o.order_id, o.status, o.total_vnd, o.created_at.isoformat(), o.updated_at.isoformat()) for o in orders]
    started = time.perf_counter()
    with con:
        con.executemany("INSERT INTO o (shop, oid, status, total, created, updated) VALUES (?,?,?,?,?,?)", rows)
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--recent", action="store_true", help="orders of the last day: each one is a new-order alert")
    parser.add_argument("--variants", action="store_true", help="orders on the products' variant SKUs")
    args = parser.parse_args()
    skus = [f"S{n}-{k}" for n in range(10) for k in range(2)] if args.variants else [f"S{n}" for n in range(10)]
    orders = make_orders(args.orders, skus, recent=args.recent)
    lines = sum(len(o.lines) for o in orders)
    with tempfile.TemporaryDirectory() as tmp:
        base = bare_sqlite(Path(tmp) / "bare.db", orders)
        sqlite_s = asyncio.run(run_ingest(f"sqlite:///{tmp}/bench.db", orders, variants=args.variants))
    with postgres_server() as pg:
        async def create() -> None:
            from piccolo.engine.postgres import PostgresEngine

            await PostgresEngine(config={"dsn": pg.url()}).run_ddl("CREATE DATABASE ocop_bench")

        asyncio.run(create())
        pg_s = asyncio.run(run_ingest(pg.url("ocop_bench"), orders, variants=args.variants))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"orders: {len(orders):,}  lines: {lines:,}")
    print(f"bare sqlite3 executemany (orders only): {len(orders) / base:,.0f} orders/s")
    print(f"ocop ingest on SQLite:     {len(orders) / sqlite_s:,.0f} orders/s  ({sqlite_s:.1f} s; "
          f"{sqlite_s / base:.1f}x the bare insert)  target >= 5,000/s: {'MET' if len(orders) / sqlite_s >= 5000 else 'NOT MET'}")
    print(f"ocop ingest on PostgreSQL: {len(orders) / pg_s:,.0f} orders/s  ({pg_s:.1f} s)")
    print(f"peak RSS: {rss_mb:.0f} MiB")


if __name__ == "__main__":
    main()
