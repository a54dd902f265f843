"""Chaos of pushes: the sandbox pushes orders and cancellations of two shops (Shopee, Lazada) to a
real ``ocop serve`` with ``ocop worker`` processes, losing, duplicating, delaying and reordering
pushes and sending forged copies with wrong signatures, while a worker is SIGKILLed. Every push
that arrived is reflected exactly once, forged ones are refused and counted, and what was lost is
repaired by the next polling pass: then ocop's orders equal the marketplace's, none counted twice."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import create_pool

from ocop.jobs.queue import redis_settings
from ocop.marketplace.jobs import dispatch_due
from ocop.marketplace.publishing import request_publish
from ocop.marketplace.runtime import build_runtime
from ocop.marketplace.sync import sync_all_orders, sync_statuses
from ocop.marketplace.tables import Listing, Order, PushEvent, SalesFact, Shop
from ocop.settings import Settings
from tests.ocop.crash.conftest import Service
from tests.ocop.marketplace.conftest import TEST_SECRET, Sandbox, connect_shop, make_product, run_worker_burst
from tests.ocop.web.support import make_producer

MARKETS = ("shopee", "lazada")
ORDERS = 24
PUSH_FAULTS = {"p_loss": 0.15, "p_duplicate": 0.3, "p_reorder": 0.3, "p_bad_signature": 0.2, "delay_s": 0.5,
               "retry_delays_s": [0.3, 0.6, 1.2, 2.0]}


async def _ours(shop_ids: list[int]) -> dict[str, dict[str, Any]]:
    rows = await Order.select(Order.id, Order.marketplace_order_id, Order.status, Order.total_vnd).where(
        Order.shop.is_in(shop_ids))
    return {r["marketplace_order_id"]: r for r in rows}


@pytest.mark.slow
@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_pushes_under_chaos_end_equal_to_the_marketplace(db: Any, service: Service, sandbox: Sandbox,
                                                               tmp_path: Path, redis_url: str) -> None:
    settings = Settings(var_dir=tmp_path / "var", secret_key=TEST_SECRET, sandbox=True, sandbox_url=sandbox.base_url)
    rt = build_runtime(settings, timeout_s=5.0)
    producer = await make_producer("HTX Nông sản Tam Quan", "0100109106")
    shops: dict[str, Shop] = {}
    skus: dict[str, list[str]] = {}
    try:
        for market in MARKETS:
            shops[market] = await connect_shop(rt, producer, market)
            skus[market] = []
            for n in range(2):
                sku = f"CHAOS-{market}-{n}-{time.time_ns()}"
                product = await make_product(settings, producer, sku, name=f"Bánh tráng Tam Quan {n}")
                await request_publish(product, shops[market].id, cause="test")
                skus[market].append(sku)
        pool = await create_pool(redis_settings(redis_url))
        try:
            await pool.flushdb()
            await dispatch_due(pool)
        finally:
            await pool.aclose()
        await run_worker_burst(settings, redis_url, rt)
        await sync_statuses(rt)
        assert await Listing.count().where(Listing.state == "live") == 4

        service.env.update(OCOP_SANDBOX_URL=sandbox.base_url, OCOP_BASE_URL=service.base_url,
                           OCOP_SYNC_INTERVAL_MINUTES="60", OCOP_WORKER_CONCURRENCY="4")
        service.start(workers=2)
        for market in MARKETS:
            sandbox.admin("PUT", f"/push/{market}", {"callback_url": f"{service.base_url}/push/{market}",
                                                     **PUSH_FAULTS})
        await asyncio.sleep(1.0)  # the sandbox looks at the shops once before it pushes their changes

        placed: list[tuple[str, str]] = []
        state = sandbox.state
        for n in range(ORDERS):
            market = MARKETS[n % 2]
            order = state.place_order(market, shops[market].external_shop_id, skus[market][n % 4 // 2], 1)
            assert order is not None
            placed.append((market, order.order_id))
            if n % 5 == 4:  # some buyers cancel at once: a second push about the same order
                assert state.cancel_order(market, shops[market].external_shop_id, order.order_id)
            if n == ORDERS // 3:
                victim = service.workers[0]
                victim.send_signal(signal.SIGKILL)
                victim.wait(10)
                service.workers.remove(victim)
                service.add_workers(1)
            await asyncio.sleep(0.1)

        # every push delivered (retries included) and every stored event handled
        deadline = time.monotonic() + 120  # a killed worker's lock lapses (30 s), then the requeue cron
        while True:
            busy = bool(state.pusher._tasks)
            queued = await PushEvent.count().where(PushEvent.status == "queued")
            if not busy and queued == 0:
                break
            assert time.monotonic() < deadline, f"pushes never settled ({queued} queued)\n{service.tail()}"
            await asyncio.sleep(0.3)

        report = sandbox.admin("GET", "/pushes")
        sent = [r for r in report["sent"] if r["marketplace"] in MARKETS and r["kind"] == "order"]
        assert report["counts"]["lost"] > 0 and report["counts"]["forged"] > 0
        assert any(r["note"] == "duplicate" for r in sent) and any(r["note"] == "reordered" for r in sent)
        forged = [r for r in report["sent"] if r["note"] == "forged"]
        assert forged and all(r["answer"].startswith("401") for r in forged)
        metrics = httpx.get(f"{service.base_url}/metrics", timeout=5).text
        refused = sum(float(v) for v in re.findall(r'^ocop_push_rejected_total\{[^}]*\} (\S+)$', metrics, re.M))
        assert refused == len(forged)

        # what arrived is right; what is missing or behind is exactly what was lost
        shop_ids = [s.id for s in shops.values()]
        theirs = {oid: state.orders[(m, shops[m].external_shop_id)][oid] for m, oid in placed}
        ours = await _ours(shop_ids)
        delivered = {re.match(r"(\S+) →", r["summary"]).group(1) for r in sent
                     if r["note"] not in ("lost", "forged") and r["answer"].startswith("200")}
        for market, oid in placed:
            if oid in delivered and not any(r["note"] == "lost" and r["summary"].startswith(oid) for r in sent):
                now = theirs[oid].status_at(time.time())
                assert oid in ours and ours[oid]["status"] == now, (oid, ours.get(oid), now)
        missing = {oid for _, oid in placed if oid not in ours}
        lost = {re.match(r"(\S+) →", r["summary"]).group(1) for r in sent if r["note"] == "lost"}
        assert missing <= lost

        # the next polling pass repairs what was lost: now every order equals the marketplace's
        await sync_all_orders(rt)
        ours = await _ours(shop_ids)
        for market, oid in placed:
            order = theirs[oid]
            assert ours[oid]["status"] == order.status_at(time.time()) and ours[oid]["total_vnd"] == order.total_vnd
        # no order counted twice: one row each, and the sales facts hold each order's units once
        assert len(ours) == await Order.count().where(Order.shop.is_in(shop_ids))
        units = Counter()
        for row in await SalesFact.select(SalesFact.order, SalesFact.units, SalesFact.status_class).where(
                SalesFact.shop.is_in(shop_ids)):
            units[row["order"]] += row["units"]
        for market, oid in placed:
            assert units[ours[oid]["id"]] == sum(line.quantity for line in theirs[oid].lines)
        assert await PushEvent.count().where(PushEvent.status == "failed") == 0
    finally:
        for market in MARKETS:
            sandbox.admin("PUT", f"/push/{market}", {})
        await rt.aclose()
