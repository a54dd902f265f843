"""One stock across marketplaces, end to end against the sandbox over HTTP, a real Redis and real
arq workers: orders lower ocop's stock exactly once, cancellations give it back, the other
marketplaces hear the new number through the partial endpoint (coalesced), edits go out the right
way, and the sandbox sells only what it shows."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import MarketOrder, OrderLine
from ocop.accounts.auth import Principal
from ocop.catalog.api import PRODUCT_FIELDS
from ocop.catalog.inputs import check_product
from ocop.catalog.photos import set_cover
from ocop.catalog.services import save_product
from ocop.catalog.tables import Image, Product
from ocop.marketplace import stock
from ocop.marketplace.jobs import dispatch_due
from ocop.marketplace.publishing import request_publish
from ocop.marketplace.sync import ingest_orders, sync_shop_orders, sync_statuses
from ocop.marketplace.tables import Listing, Shop, StockHold
from tests.ocop.marketplace.conftest import TEST_SECRET, connect_shop, make_producer, make_product, run_worker_burst
from tests.ocop.web.support import api_headers, csrf, login, make_user

STOCK_PATHS = {"shopee": "/product/update_stock", "lazada": "/product/price_quantity/update",
               "tiktok": "/inventory/update", "tiki": "/products/updateSku"}
WHOLE_PUSH_PATHS = {"shopee": "/product/update_item", "lazada": "/product/update", "tiktok": "/products/",
                    "tiki": "/requests"}


def stock_calls(sandbox: Any, marketplace: str, since: int = 0) -> int:
    return sum(1 for m, method, path in sandbox.state.request_log[since:]
               if m == marketplace and path.endswith(STOCK_PATHS[marketplace]))


def shown(sandbox: Any, shop: Shop, sku: str) -> int:
    return int(sandbox.state.items_by_sku(shop.marketplace, shop.external_shop_id, sku)[0].stock)


async def listed(rt: Any, settings: Any, redis_url: str, arq_redis: Any, markets: tuple[str, ...], *,
                 stock_units: int, buffer: int = 0, name: str = "Nước mắm Gò Bồi",
                 setup: Callable[[int, str], Awaitable[Any]] | None = None) -> tuple[int, str, list[Shop]]:
    """A product with ``stock_units`` published and live on a shop of each marketplace
    (``setup(product, sku)`` runs before it is published, e.g. to give it variants)."""
    producer = await make_producer()
    shops = [await connect_shop(rt, producer, m) for m in markets]
    sku = f"ST-{uuid.uuid4().hex[:10]}"  # the sandbox lives for the session: never adopt another test's item
    product = await make_product(settings, producer, sku, name=name)
    await Product.update({Product.stock: stock_units, Product.stock_buffer: buffer}).where(Product.id == product)
    if setup is not None:
        await setup(product, sku)
    for shop in shops:
        await request_publish(product, shop.id, cause="test")
    await dispatch_due(arq_redis)
    await run_worker_burst(settings, redis_url, rt)
    await sync_statuses(rt)
    assert await Listing.count().where((Listing.product == product) & (Listing.state == "live")) == len(markets)
    time.sleep(3.1)  # orders come (stamped to the second) after our last push by more than CLOCK_MARGIN
    return product, sku, shops


async def sync(rt: Any, *shops: Shop) -> None:
    """Pull orders of these shops at once (each in its own transaction, concurrently)."""
    later = datetime.now(UTC) + timedelta(seconds=2)  # list endpoints cut windows to whole seconds
    fresh = [await Shop.objects().where(Shop.id == s.id).first() for s in shops]
    await asyncio.gather(*(sync_shop_orders(rt, s, now=later) for s in fresh))


async def propagate(settings: Any, redis_url: str, rt: Any, arq_redis: Any) -> None:
    await stock.dispatch_due(arq_redis)
    await run_worker_burst(settings, redis_url, rt)


async def available(product: int) -> int:
    return (await stock.availability([product]))[product].available


async def test_an_order_lowers_stock_once_and_only_the_other_marketplaces_are_told(
        db, rt, sandbox, settings, redis_url, arq_redis) -> None:
    product, sku, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee", "lazada", "tiktok"),
                                       stock_units=10)
    shopee, lazada, tiktok = shops
    assert [shown(sandbox, s, sku) for s in shops] == [10, 10, 10]
    mark = len(sandbox.state.request_log)
    assert sandbox.state.place_order("shopee", shopee.external_shop_id, sku, 3) is not None
    assert shown(sandbox, shopee, sku) == 7  # the marketplace lowered its own stock
    await sync(rt, shopee)
    await sync(rt, shopee)  # the overlapping window is read again: harmless
    order_ids = [r["marketplace_order_id"] for r in await StockHold.select().where(StockHold.product == product)]
    assert len(order_ids) == 1
    assert await available(product) == 7
    await propagate(settings, redis_url, rt, arq_redis)
    assert [shown(sandbox, s, sku) for s in shops] == [7, 7, 7]
    assert stock_calls(sandbox, "shopee", mark) == 0  # it already showed 7: no call
    assert stock_calls(sandbox, "lazada", mark) == 1 and stock_calls(sandbox, "tiktok", mark) == 1
    assert not any(path.endswith(WHOLE_PUSH_PATHS["shopee"]) for _, _, path in sandbox.state.request_log[mark:])
    rows = await Listing.select(Listing.stock_shown, Listing.stock_version, Listing.stock_pushed_version).where(
        Listing.product == product)
    assert all(r["stock_shown"] == 7 and r["stock_version"] == r["stock_pushed_version"] for r in rows)

    # the same order ingested twice more, directly: still lowers stock once
    detail = [o for o in await _orders(rt, shopee, order_ids)]
    await ingest_orders(shopee.id, detail)
    await ingest_orders(shopee.id, detail)
    assert await available(product) == 7


async def _orders(rt: Any, shop: Shop, order_ids: list[str]) -> list[MarketOrder]:
    fresh = await Shop.objects().where(Shop.id == shop.id).first()
    client = rt.env.client(shop.marketplace)
    return await rt.with_fresh_token(fresh, lambda creds: client.order_detail(creds, order_ids))


async def test_cancellation_and_return_before_shipping_give_stock_back(db, rt, sandbox, settings, redis_url,
                                                                        arq_redis) -> None:
    product, sku, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee", "lazada"), stock_units=5)
    shopee, lazada = shops
    order = sandbox.state.place_order("lazada", lazada.external_shop_id, sku, 2)
    await sync(rt, lazada)
    await propagate(settings, redis_url, rt, arq_redis)
    assert await available(product) == 3 and shown(sandbox, shopee, sku) == 3
    time.sleep(3.1)  # a later update time (to the second, as list endpoints give it), well after our push
    assert sandbox.state.cancel_order("lazada", lazada.external_shop_id, order.order_id)
    assert shown(sandbox, lazada, sku) == 5  # the marketplace restores its own stock
    mark = len(sandbox.state.request_log)
    await sync(rt, lazada)
    assert await available(product) == 5
    await propagate(settings, redis_url, rt, arq_redis)
    assert shown(sandbox, shopee, sku) == 5 and shown(sandbox, lazada, sku) == 5
    assert stock_calls(sandbox, "lazada", mark) == 0

    # a return before shipping gives back; a return after shipping keeps the units held
    now = datetime.now(UTC)

    def order_of(order_id: str, status: str, raw: str) -> MarketOrder:
        return MarketOrder(order_id=order_id, status=status, raw_status=raw, created_at=now, updated_at=now,  # type: ignore[arg-type]
                           total_vnd=95_000, lines=(OrderLine(sku, "x", "Nước mắm", 1, 95_000, 95_000),))

    await ingest_orders(shopee.id, [order_of("R-1", "unpaid", "UNPAID"), order_of("R-2", "shipped", "SHIPPED")])
    assert await available(product) == 3
    await ingest_orders(shopee.id, [order_of("R-1", "returned", "TO_RETURN"), order_of("R-2", "returned", "TO_RETURN")])
    assert await available(product) == 4
    await ingest_orders(shopee.id, [order_of("R-1", "returned", "TO_RETURN")])  # seen again: no change
    assert await available(product) == 4


async def test_two_marketplaces_selling_the_last_unit_at_once(db, rt, sandbox, settings, redis_url,
                                                                arq_redis) -> None:
    product, sku, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee", "tiktok"), stock_units=1)
    shopee, tiktok = shops
    # both marketplaces still show 1 and both accept an order for it
    assert sandbox.state.place_order("shopee", shopee.external_shop_id, sku, 1) is not None
    assert sandbox.state.place_order("tiktok", tiktok.external_shop_id, sku, 1) is not None
    assert sandbox.state.place_order("tiktok", tiktok.external_shop_id, sku, 1) is None  # it shows 0 now
    await sync(rt, shopee, tiktok)  # two ingests at the same time
    assert await StockHold.count().where(StockHold.product == product) == 2
    numbers = (await stock.availability([product]))[product]
    assert (numbers.available, numbers.offer) == (-1, 0)  # neither sale lost nor counted twice: oversold by 1
    await propagate(settings, redis_url, rt, arq_redis)
    assert [shown(sandbox, s, sku) for s in shops] == [0, 0]


async def test_concurrent_ingests_of_two_shops_count_every_unit_exactly_once(db, rt, sandbox, settings,
                                                                               redis_url, arq_redis) -> None:
    product, sku, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee", "lazada"), stock_units=50)
    now = datetime.now(UTC)

    def one(order_id: str) -> list[MarketOrder]:
        return [MarketOrder(order_id=order_id, status="unpaid", raw_status="UNPAID", created_at=now, updated_at=now,
                            total_vnd=1, lines=(OrderLine(sku, "x", "n", 1, 1, 1),))]

    ingests = [ingest_orders(shop.id, one(f"C-{n}")) for n in range(10) for shop in shops]
    ingests += [ingest_orders(shop.id, one(f"C-{n}")) for n in range(10) for shop in shops]  # every one twice
    await asyncio.gather(*ingests)
    assert await available(product) == 30
    assert await StockHold.count().where(StockHold.product == product) == 20


async def test_a_burst_of_orders_gives_one_call_per_other_marketplace_with_the_last_number(
        db, rt, sandbox, settings, redis_url, arq_redis) -> None:
    product, sku, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee", "lazada", "tiktok"),
                                       stock_units=30, buffer=2)
    shopee = shops[0]
    assert shown(sandbox, shops[1], sku) == 28  # the safety buffer is kept back everywhere
    mark = len(sandbox.state.request_log)
    for _ in range(10):  # ten orders, each ingested on its own
        assert sandbox.state.place_order("shopee", shopee.external_shop_id, sku, 1) is not None
        await sync(rt, shopee)
    await propagate(settings, redis_url, rt, arq_redis)
    assert await available(product) == 20
    assert [shown(sandbox, s, sku) for s in shops] == [18, 18, 18]
    assert stock_calls(sandbox, "lazada", mark) == 1 and stock_calls(sandbox, "tiktok", mark) == 1

    # down to the buffer: every marketplace shows 0
    await Product.update({Product.stock_buffer: 20}).where(Product.id == product)
    async with Product._meta.db.transaction():
        await stock.bump([product])
    await propagate(settings, redis_url, rt, arq_redis)
    assert [shown(sandbox, s, sku) for s in shops] == [0, 0, 0]
    assert sandbox.state.place_order("lazada", shops[1].external_shop_id, sku, 1) is None


async def test_a_failing_marketplace_is_retried_until_it_shows_the_number(db, rt, sandbox, settings, redis_url,
                                                                           arq_redis) -> None:
    product, sku, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee", "lazada"), stock_units=8)
    sandbox.faults("lazada", next=["5xx", "5xx", "5xx"])  # more than the HTTP layer's own retries
    assert sandbox.state.place_order("shopee", shops[0].external_shop_id, sku, 2) is not None
    await sync(rt, shops[0])
    await propagate(settings, redis_url, rt, arq_redis)
    deadline = time.monotonic() + 30
    while shown(sandbox, shops[1], sku) != 6 and time.monotonic() < deadline:
        await propagate(settings, redis_url, rt, arq_redis)
    assert shown(sandbox, shops[1], sku) == 6


async def test_price_stock_and_content_edits_each_go_out_their_way(db, app_client, rt, sandbox, settings,
                                                                    redis_url, arq_redis) -> None:
    product, sku, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee", "tiktok"), stock_units=10)
    producer = (await Product.select(Product.producer).where(Product.id == product).first())["producer"]
    await make_user("chuse", "producer", producer_id=producer)
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (app, client):
        await login(client, "chuse")
        versions = {r["id"]: r["payload_version"] for r in await Listing.select().where(Listing.product == product)}

        # price: the partial endpoint, no re-push, no new review
        mark = len(sandbox.state.request_log)
        answer = await client.patch(f"/api/v1/products/{product}", json={"price": "99.000"},
                                    headers=api_headers(client))
        assert answer.status_code == 200, answer.text
        await run_worker_burst(settings, redis_url, rt)
        for shop in shops:
            item = sandbox.state.items_by_sku(shop.marketplace, shop.external_shop_id, sku)[0]
            assert (item.price_vnd, item.status) == (99_000, "live")
        assert not any(path.endswith(WHOLE_PUSH_PATHS["shopee"]) for _, _, path in sandbox.state.request_log[mark:])
        assert {r["id"]: r["payload_version"] for r in await Listing.select().where(Listing.product == product)} \
            == versions

        # stock, with a safety buffer: the same partial way
        answer = await client.patch(f"/api/v1/products/{product}", json={"stock": 7, "stock_buffer": 1},
                                    headers=api_headers(client))
        assert answer.status_code == 200 and answer.json()["stock_buffer"] == 1, answer.text
        await run_worker_burst(settings, redis_url, rt)
        assert [shown(sandbox, s, sku) for s in shops] == [6, 6]
        assert not any(path.endswith(WHOLE_PUSH_PATHS["shopee"]) for _, _, path in sandbox.state.request_log[mark:])

        # content: the listing is re-pushed whole and the marketplace reviews it again
        answer = await client.patch(f"/api/v1/products/{product}", json={"name": "Nước mắm Gò Bồi cá cơm 40 độ đạm"},
                                    headers=api_headers(client))
        assert answer.status_code == 200, answer.text
        rows = await Listing.select().where(Listing.product == product)
        assert all(r["payload_version"] == versions[r["id"]] + 1 for r in rows)
        await run_worker_burst(settings, redis_url, rt)
        assert any(path.endswith(WHOLE_PUSH_PATHS["shopee"]) for _, _, path in sandbox.state.request_log[mark:])
        for shop in shops:
            assert sandbox.state.items_by_sku(shop.marketplace, shop.external_shop_id, sku)[0].name.startswith(
                "Nước mắm Gò Bồi cá cơm")

        # the product's marketplace page shows ocop's number and each marketplace's, and pushes again
        page = await client.get(f"/products/{product}/marketplaces", headers={"accept": "text/html"})
        assert page.status_code == 200 and "Tồn kho trên các sàn" in page.text and "Khác số của ocop" not in page.text
        await Listing.update({Listing.stock_shown: 3}).where(Listing.id == rows[0]["id"])
        page = await client.get(f"/products/{product}/marketplaces", headers={"accept": "text/html"})
        assert "Khác số của ocop" in page.text
        token = await csrf(client, f"/products/{product}/marketplaces")
        pushed = await client.post(f"/products/{product}/stock/push", data={"_csrf_token": token})
        assert pushed.status_code == 303 and "stock=pushed" in pushed.headers["location"]
        await run_worker_burst(settings, redis_url, rt)
        page = await client.get(f"/products/{product}/marketplaces", headers={"accept": "text/html"})
        assert "Khác số của ocop" not in page.text and "Đã gửi lại giá và tồn kho" not in page.text
        detail = await client.get(f"/products/{product}?repushed=2", headers={"accept": "text/html"})
        assert "sàn sẽ duyệt lại" in detail.text


async def test_save_product_counts_the_listings_a_content_edit_sends_for_review(db, rt, sandbox, settings,
                                                                                 redis_url, arq_redis) -> None:
    product, sku, shops = await listed(rt, settings, redis_url, arq_redis, ("lazada",), stock_units=4)
    row = await Product.select().where(Product.id == product).first()
    user = await make_user("canbo.stock", "admin")
    me = Principal(user_id=user, username="canbo.stock", role="admin")
    price_only = await save_product(me, row["producer"], product, check_product({"price": "120000"}, PRODUCT_FIELDS,
                                                                                before=row))
    assert price_only == product and price_only.repushed == 0
    # a photo is content too: moving the cover re-pushes the listing
    second = Image(product=product, position=1, original_key="k2", status="ready",
                   renditions={"lazada": {"key": "other-key", "width": 800, "height": 800, "bytes": 1}})
    await second.save()
    before = (await Listing.select(Listing.payload_version).where(Listing.product == product).first())["payload_version"]
    await set_cover(product, second.id)
    after = (await Listing.select(Listing.payload_version).where(Listing.product == product).first())["payload_version"]
    assert after == before + 1
    await Listing.update({Listing.state: "live"}).where(Listing.product == product)  # as if pushed and approved
    row = await Product.select().where(Product.id == product).first()
    content = await save_product(me, row["producer"], product,
                                 check_product({"description": "Ủ chượp 18 tháng."}, PRODUCT_FIELDS, before=row))
    assert content.repushed == 1
    # a new count settles the orders seen so far: they are in the producer's number
    await ingest_orders(shops[0].id, [MarketOrder(
        order_id="S-1", status="unpaid", raw_status="unpaid", created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC), total_vnd=1, lines=(OrderLine(sku, "x", "n", 3, 1, 3),))])
    assert await available(product) == 1
    row = await Product.select().where(Product.id == product).first()
    await save_product(me, row["producer"], product, check_product({"stock": "9"}, PRODUCT_FIELDS, before=row))
    assert await available(product) == 9
