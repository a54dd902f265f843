"""A newly connected shop's order history, read back ``order_history_months`` in the
marketplace's allowed windows (the sandbox refuses longer ones, as the marketplaces do), resumable
after a crash, with its progress on the shops page. The history is seeded through the sandbox's
admin API."""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime, timedelta

import pytest

from ocop.accounts.tables import User
from ocop.marketplace.sync import backfill_all, backfill_shop, history_progress, months_before
from ocop.marketplace.tables import Order, Shop
from tests.ocop.marketplace.conftest import TEST_SECRET, connect_shop, make_producer
from tests.ocop.web.support import login, make_user

MONTHS = 12


def test_months_before_keeps_the_day_or_takes_the_last_one() -> None:
    assert months_before(datetime(2026, 12, 3, 19, 0, tzinfo=UTC), 12) == datetime(2025, 12, 3, 19, 0, tzinfo=UTC)
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(2024, 12, 15, tzinfo=UTC)


async def _fresh(shop_id: int) -> Shop:
    return await Shop.objects().where(Shop.id == shop_id).first()


@pytest.mark.parametrize("marketplace", ["shopee", "lazada", "tiktok", "tiki"])
async def test_history_is_read_window_by_window_and_resumes_after_a_crash(db, rt, sandbox, marketplace: str) -> None:
    producer = await make_producer()
    shop = await connect_shop(rt, producer, marketplace)
    now = time.time()
    day = 86400
    seeded: list[str] = []

    def seed(count: int, since: float, until: float) -> list[str]:
        made = sandbox.admin("POST", "/orders", {"marketplace": marketplace, "shop_id": shop.external_shop_id,
                                                 "count": count, "since": since, "until": until,
                                                 "status": "completed"})["order_ids"]
        seeded.extend(made)
        return made

    try:
        seed(20, now - 360 * day, now - 200 * day)
        seed(20, now - 199 * day, now - 2 * day)
        too_old = seed(3, now - 420 * day, now - 390 * day)
        assert too_old
        await _backfill_with_a_crash(rt, sandbox, shop, marketplace, too_old)
    finally:
        # the sandbox (and its shops) live for the session: other tests compare whole shops and
        # sell the items' stock, so the seeded orders go and give their units back
        with sandbox.state.lock:
            orders = sandbox.state.orders.get((marketplace, shop.external_shop_id), {})
            items = sandbox.state.shop_items(marketplace, shop.external_shop_id)
            for order_id in seeded:
                order = orders.pop(order_id, None)
                for line in order.lines if order else ():
                    if line.item_id in items:
                        items[line.item_id].stock += line.quantity


async def _backfill_with_a_crash(rt, sandbox, shop: Shop, marketplace: str, too_old: list[str]) -> None:
    # a worker dies mid-way: the windows it finished are kept on the shop
    task = asyncio.create_task(backfill_shop(rt, shop, months=MONTHS))
    step = rt.env.client(marketplace).max_order_window
    while True:
        moved = await _fresh(shop.id)
        if moved.history_until is not None and moved.history_started_at - moved.history_until >= 2 * step:
            break
        assert not task.done(), task.result()
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    crashed = await _fresh(shop.id)
    assert 0 < history_progress(crashed) < 1
    started, oldest, reached = crashed.history_started_at, crashed.history_from, crashed.history_until
    assert oldest == months_before(started, MONTHS)
    assert await Order.count().where(Order.shop == shop.id) > 0

    resumed = await backfill_shop(rt, crashed, months=MONTHS)
    assert resumed["windows"] == math.ceil((reached - oldest) / step)  # nothing read twice
    done = await _fresh(shop.id)
    assert history_progress(done) == 1.0 and done.history_started_at == started
    assert (await backfill_all(rt, months=MONTHS))["shops"] == 0  # nothing left to read

    at = datetime.now(UTC).timestamp()
    theirs = {oid for oid, o in sandbox.state.shop_orders(marketplace, shop.external_shop_id).items()
              if o.updated_at(at) >= oldest.timestamp()}
    ours = [r["marketplace_order_id"] for r in await Order.select(Order.marketplace_order_id)
            .where(Order.shop == shop.id)]
    assert len(ours) == len(set(ours)) and set(ours) == theirs
    assert not set(too_old) & set(ours)  # older than the setting: left alone


async def test_the_shops_page_shows_the_history_progress(db, app_client, sandbox, redis_url, rt) -> None:
    producer = await make_producer()
    user = await make_user("goboi", "producer", producer_id=producer)
    shop = await connect_shop(rt, producer, "shopee")
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (_app, client):
        await login(client, "goboi")
        page = (await client.get("/shops", headers={"accept": "text/html"})).text
        assert "Lịch sử đơn hàng sẽ được tải trong ít phút." in page
        start = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)
        await Shop.update({Shop.history_started_at: start, Shop.history_from: months_before(start, 12),
                           Shop.history_until: start - timedelta(days=90)}).where(Shop.id == shop.id)
        page = (await client.get("/shops", headers={"accept": "text/html"})).text
        assert "Đang tải lịch sử đơn hàng: 24%" in page and "03/12/2025" in page and "04/09/2026" in page
        await User.update({User.locale: "en"}).where(User.id == user)
        english = (await client.get("/shops", headers={"accept": "text/html"})).text
        assert "Reading the order history: 24%" in english
        await User.update({User.locale: "vi"}).where(User.id == user)
        await Shop.update({Shop.history_until: months_before(start, 12)}).where(Shop.id == shop.id)
        page = (await client.get("/shops", headers={"accept": "text/html"})).text
        assert "Đã tải lịch sử đơn hàng từ 03/12/2025" in page
