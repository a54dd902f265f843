"""Chaos: 300 products × 2 marketplaces published by real ``ocop worker`` processes against a
sandbox failing 20 % of requests in every injected way, with one worker SIGKILLed mid-run and
replaced. At the end every listing is live or rejected with a reason, the marketplace holds
exactly one item per listing, and every generated order is in our database exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectors.base import ConnectorError
from ocop.catalog.tables import Certificate, Image, Product
from ocop.marketplace.jobs import dispatch_due
from ocop.marketplace.publishing import request_publish
from ocop.marketplace.sync import sync_shop_orders, sync_statuses
from ocop.marketplace.tables import Listing, ListingEvent, Order, Shop
from ocop.storage import media_store
from tests.ocop.marketplace.conftest import TEST_SECRET, connect_shop, jpeg, make_producer

PRODUCTS = 300
MARKETS = ("shopee", "lazada")
FAULTS = {"p_5xx": 0.04, "p_timeout_after_write": 0.04, "p_429": 0.04, "p_drop": 0.04, "p_expired_token": 0.04,
          "retry_after_s": 0, "timeout_delay_s": 1.6}


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "ocop", "worker"], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)


@pytest.mark.slow
@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_chaos_publish_and_order_sync(db, rt, sandbox, settings, redis_url, arq_redis, tmp_path: Path) -> None:
    producer = await make_producer()
    shops = [await connect_shop(rt, producer, m) for m in MARKETS]
    key = await media_store(settings).put(jpeg())
    rendition = {"key": key, "width": 800, "height": 800, "bytes": 1}
    products = [Product(producer=producer, sku=f"CH-{n:04d}", name=f"Đặc sản thử nghiệm {n}", name_folded=f"dac san {n}",
                        ocop_group=1 + n % 5, description="Sản phẩm OCOP thử nghiệm.", unit="hộp", weight_g=500,
                        length_mm=200, width_mm=150, height_mm=80, price_vnd=50000 + n * 100, stock=10,
                        status="active") for n in range(PRODUCTS)]
    await Product.insert(*products)
    ids = [p["id"] for p in await Product.select(Product.id).order_by(Product.id)]
    await Certificate.insert(*[Certificate(product=i, stars=3 + i % 3, decision_number="1/QĐ-UBND") for i in ids])
    await Image.insert(*[Image(product=i, original_key=key, status="ready",
                               renditions={m: rendition for m in MARKETS}) for i in ids])
    for shop in shops:
        for product_id in ids:
            await request_publish(product_id, shop.id, cause="chaos")

    sandbox.review(seconds=0.0, rejection_share=0.1)
    for market in MARKETS:
        sandbox.faults(market, **FAULTS)
    env = {**os.environ, "OCOP_DATABASE_URL": db.url, "OCOP_REDIS_URL": redis_url, "OCOP_VAR_DIR": str(settings.var_dir),
           "OCOP_SECRET_KEY": TEST_SECRET, "OCOP_SANDBOX_URL": sandbox.base_url, "OCOP_PUBLISH_JOB_TIMEOUT_S": "12",
           "OCOP_MARKETPLACE_TIMEOUT_S": "1.0", "OCOP_PUBLISH_BACKOFF_S": "0.2", "OCOP_PUBLISH_MAX_ATTEMPTS": "40",
           "OCOP_LOG_LEVEL": "warning"}
    log = tmp_path / "workers.log"
    workers = [start_worker(env, log), start_worker(env, log)]
    killed = False
    try:
        deadline = time.monotonic() + 420
        while True:
            await dispatch_due(arq_redis)
            busy = await Listing.count().where(Listing.next_attempt_at.is_not_null())
            published = await Listing.count().where(Listing.external_item_id != "")
            if not killed and published > PRODUCTS // 2:
                workers[0].send_signal(signal.SIGKILL)  # mid-run, jobs in flight
                workers[0].wait(10)
                workers[0] = start_worker(env, log)
                killed = True
            if busy == 0:
                break
            assert time.monotonic() < deadline, f"{busy} listings still in the outbox; see {log}"
            assert all(w.poll() is None for w in workers), log.read_text()[-3000:]
            await asyncio.sleep(1.0)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(20)
    assert killed
    # the faults really happened: many attempts failed and were retried
    retried = await ListingEvent.count().where(ListingEvent.reason.like("%retrying%"))
    assert retried > PRODUCTS * len(MARKETS) // 20, retried

    for market in MARKETS:
        sandbox.faults(market)  # the run is over: settle review status without noise
    await sync_statuses(rt)
    odd = await Listing.select(Listing.id, Listing.state, Listing.last_error).where(
        Listing.state.not_in(["live", "rejected"]))
    assert odd == [], odd[:10]
    for row in await Listing.select().where(Listing.state == "rejected"):
        assert row["last_error"], row
    assert await Listing.count() == PRODUCTS * len(MARKETS)

    inspection = sandbox.items()
    for shop in shops:
        by_sku = inspection[shop.marketplace][shop.external_shop_id]
        ours = {r["seller_sku"] for r in await Listing.select(Listing.seller_sku).where(Listing.shop == shop.id)}
        assert ours <= set(by_sku)
        duplicates = {sku: len(items) for sku, items in by_sku.items() if sku in ours and len(items) != 1}
        assert duplicates == {}, duplicates

    # orders: generated by the marketplace, pulled under faults, each exactly once
    now = time.time()
    for market in MARKETS:
        sandbox.faults(market, **FAULTS)
    for shop in shops:
        sandbox.admin("POST", "/orders", {"marketplace": shop.marketplace, "shop_id": shop.external_shop_id,
                                          "count": 150, "since": now - 10 * 86400, "until": now - 30})
        errors: list[str] = []
        for _ in range(40):
            try:
                await sync_shop_orders(rt, await Shop.objects().where(Shop.id == shop.id).first())
                break
            except ConnectorError as exc:  # injected faults; the next run re-reads the window
                errors.append(f"{type(exc).__name__}: {exc.message}")
                await asyncio.sleep(0.2)
        else:
            raise AssertionError(f"order sync never completed under faults: {errors[-5:]}")
        theirs = set(sandbox.state.shop_orders(shop.marketplace, shop.external_shop_id))
        ours = [r["marketplace_order_id"] for r in await Order.select(Order.marketplace_order_id)
                .where(Order.shop == shop.id)]
        assert len(ours) == len(set(ours)) and set(ours) == theirs
