"""Order sync against the sandbox: every order exactly once, statuses follow, sales facts net of
cancellations and returns, on Vietnamese calendar days."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import ConnectorError
from ocop.marketplace.jobs import dispatch_due
from ocop.marketplace.publishing import request_publish
from ocop.domain.dates import VN_TZ as VN
from ocop.marketplace.sync import refresh_due_tokens, sync_all_orders, sync_shop_orders, sync_statuses
from ocop.marketplace import sales_facts
from ocop.marketplace.tables import Listing, Order, OrderLine, SalesFact, Shop, SyncRun
from ocop.marketplace.jobs import _record
from tests.ocop.marketplace.conftest import connect_shop, make_producer, make_product, run_worker_burst


async def _live_shop(rt, sandbox, settings, redis_url, arq_redis, marketplace: str):
    producer = await make_producer()
    shop = await connect_shop(rt, producer, marketplace)
    for n in range(2):
        product = await make_product(settings, producer, f"SKU-{n}", name=f"Sản phẩm {n}", price=50000 + n * 10000)
        await request_publish(product, shop.id, cause="test")
    await dispatch_due(arq_redis)
    await run_worker_burst(settings, redis_url, rt)
    await sync_statuses(rt)
    return shop


def sandbox_orders(sandbox, marketplace: str, shop_id: str) -> dict:
    return sandbox.state.shop_orders(marketplace, shop_id)


@pytest.mark.parametrize("marketplace", ["shopee", "lazada", "tiktok", "tiki"])
async def test_orders_arrive_exactly_once_and_follow_status(db, rt, sandbox, settings, redis_url, arq_redis,
                                                            marketplace: str) -> None:
    shop = await _live_shop(rt, sandbox, settings, redis_url, arq_redis, marketplace)
    now = time.time()
    sandbox.admin("POST", "/orders", {"marketplace": marketplace, "shop_id": shop.external_shop_id, "count": 30,
                                      "since": now - 20 * 86400, "until": now - 60})
    shop = await Shop.objects().where(Shop.id == shop.id).first()
    await sync_shop_orders(rt, shop)
    await sync_shop_orders(rt, await Shop.objects().where(Shop.id == shop.id).first())  # overlap re-read: harmless

    theirs = sandbox_orders(sandbox, marketplace, shop.external_shop_id)
    ours = {o["marketplace_order_id"]: o for o in await Order.select().where(Order.shop == shop.id)}
    our_skus = {r["seller_sku"] for r in await Listing.select(Listing.seller_sku).where(Listing.shop == shop.id)}
    assert set(ours) == set(theirs)
    assert len(ours) == await Order.count().where(Order.shop == shop.id)  # no duplicates
    for order_id, order in theirs.items():
        assert ours[order_id]["total_vnd"] == order.total_vnd
        lines = await OrderLine.select().where(OrderLine.order == ours[order_id]["id"])
        assert sorted((l["seller_sku"], l["quantity"]) for l in lines) == \
            sorted((l.seller_sku, l.quantity) for l in order.lines)
        # lines of our items link to our listings (the shared sandbox shop also sells other items)
        assert all((l["listing"] is not None) == (l["seller_sku"] in our_skus) for l in lines)

    # the sales facts of our listings equal the orders that were not cancelled or returned, per Vietnamese day
    expected: Counter[tuple[str, int]] = Counter()
    for order in theirs.values():
        if ours[order.order_id]["status"] in ("cancelled", "returned"):
            continue
        day = datetime.fromtimestamp(order.created_at, UTC).astimezone(VN).date().isoformat()
        for line in order.lines:
            if line.seller_sku in our_skus:
                expected[(day, 0)] += line.quantity * line.unit_price_vnd
    rolled: Counter[tuple[str, int]] = Counter()
    for row in await SalesFact.select().where((SalesFact.status_class == sales_facts.SOLD)
                                              & SalesFact.listing.is_not_null()):
        rolled[(str(row["day"]), 0)] += row["revenue_vnd"]
    assert rolled == expected


async def test_cancellation_seen_later_updates_the_order(db, rt, sandbox, settings, redis_url, arq_redis) -> None:
    shop = await _live_shop(rt, sandbox, settings, redis_url, arq_redis, "shopee")
    now = time.time()
    made = sandbox.admin("POST", "/orders", {"marketplace": "shopee", "shop_id": shop.external_shop_id, "count": 3,
                                             "since": now - 3600, "until": now - 60, "status": "completed"})["order_ids"]
    await sync_shop_orders(rt, await Shop.objects().where(Shop.id == shop.id).first())
    mine = Order.marketplace_order_id.is_in(made)
    assert [o["status"] for o in await Order.select(Order.status).where(mine)] == ["completed"] * 3
    # the buyer cancels one: the sandbox's timeline moves on, and the next (overlapping) sync sees it
    victim = sandbox_orders(sandbox, "shopee", shop.external_shop_id)[made[0]]
    victim.timeline.append((time.time() - 1, "cancelled"))
    total = await Order.count()
    await sync_shop_orders(rt, await Shop.objects().where(Shop.id == shop.id).first())
    row = await Order.select().where(Order.marketplace_order_id == victim.order_id).first()
    assert row["status"] == "cancelled"
    assert await Order.count() == total


async def test_scheduled_runs_are_recorded(db, rt, sandbox, settings, redis_url, arq_redis) -> None:
    await _live_shop(rt, sandbox, settings, redis_url, arq_redis, "lazada")
    totals = await sync_all_orders(rt, record=_record)
    assert totals["shops"] == 1 and totals["errors"] == 0
    runs = await SyncRun.select().where(SyncRun.kind == "orders")
    assert len(runs) == 1 and runs[0]["ok"]


async def test_tokens_are_refreshed_ahead_of_expiry(db, rt, sandbox, settings, redis_url, arq_redis) -> None:
    producer = await make_producer()
    shop = await connect_shop(rt, producer, "tiktok")
    await Shop.update({Shop.access_expires_at: datetime.now(UTC) + timedelta(minutes=5)}).where(Shop.id == shop.id)
    before = (await Shop.select(Shop.access_token_enc).where(Shop.id == shop.id).first())["access_token_enc"]
    counts = await refresh_due_tokens(rt, record=_record)
    assert counts["refreshed"] == 1
    after = await Shop.select().where(Shop.id == shop.id).first()
    assert after["access_token_enc"] != before and after["access_expires_at"] > datetime.now(UTC) + timedelta(minutes=30)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # the storage path runs on both engines above
@pytest.mark.parametrize("marketplace", ["shopee", "lazada", "tiktok", "tiki"])
async def test_order_sync_under_faults_gets_every_order_once(db, rt, sandbox, settings, redis_url, arq_redis,
                                                             marketplace: str) -> None:
    producer = await make_producer()
    shop = await connect_shop(rt, producer, marketplace)
    now = time.time()
    made = sandbox.admin("POST", "/orders", {"marketplace": marketplace, "shop_id": shop.external_shop_id,
                                             "count": 60, "since": now - 20 * 86400, "until": now - 30})["order_ids"]
    sandbox.faults(marketplace, p_5xx=0.05, p_429=0.05, p_drop=0.05, p_expired_token=0.05, retry_after_s=0)  # waits are tested in tests/connectors
    errors = []
    for _ in range(40):  # each run keeps what it read; only what is still missing is read again
        try:
            await sync_shop_orders(rt, await Shop.objects().where(Shop.id == shop.id).first())
            break
        except ConnectorError as exc:
            errors.append(exc.message)
    else:
        raise AssertionError(errors[-3:])
    ours = [r["marketplace_order_id"] for r in await Order.select(Order.marketplace_order_id).where(Order.shop == shop.id)]
    assert len(ours) == len(set(ours))
    assert set(made) <= set(ours), (len(set(made) - set(ours)), errors[-3:])
