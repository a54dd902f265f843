"""One stock per variant across marketplaces, end to end against the sandbox over HTTP, a real
Redis and real arq workers: a 2 × 2 product published to all four marketplaces as one item with
four SKUs and read back; an order on a variant lowers that variant once, everywhere else hears it
per SKU (one call per listing); cancellations and returns give back; two marketplaces selling a
variant's last unit; variant price, stock and content edits each go out their way."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from connectors.base import MarketOrder, OrderLine
from ocop.catalog.tables import Product, Variant
from ocop.marketplace import stock
from ocop.marketplace.sync import ingest_orders, sync_statuses
from ocop.marketplace.tables import Listing, Shop, StockHold
from tests.ocop.marketplace.conftest import TEST_SECRET, connect_shop, make_producer, make_product, run_worker_burst
from tests.ocop.marketplace import test_stock as stock_tests
from tests.ocop.marketplace.test_stock import WHOLE_PUSH_PATHS, propagate, stock_calls, sync
from tests.ocop.web.support import api_headers, csrf, login, make_user

ATTRIBUTES = [{"name": "Dung tích", "options": ["250 ml", "500 ml"]}, {"name": "Quy cách", "options": ["Hũ", "Hộp quà"]}]
COMBOS = [("250 ml", "Hũ", 120_000), ("250 ml", "Hộp quà", 150_000), ("500 ml", "Hũ", 210_000),
          ("500 ml", "Hộp quà", 260_000)]


async def with_variants(product: int, base: str, stocks: list[int]) -> list[str]:
    """Give the product a 2 × 2 variation (price and stock rolled up as the catalogue keeps them)."""
    skus = [f"{base}-{n}" for n in range(len(COMBOS))]
    for position, ((o1, o2, price), sku, units) in enumerate(zip(COMBOS, skus, stocks)):
        await Variant.insert(Variant(product=product, position=position, option1=o1, option2=o2, sku=sku,
                                     price_vnd=price, stock=units))
    await Product.update({Product.variation: ATTRIBUTES, Product.stock: sum(stocks),
                          Product.price_vnd: min(p for _, _, p in COMBOS)}).where(Product.id == product)
    return skus


async def listed(rt: Any, settings: Any, redis_url: str, arq_redis: Any, markets: tuple[str, ...],
                 stocks: list[int], buffer: int = 0) -> tuple[int, list[str], list[Shop]]:
    """A 2 × 2 product with these variant stocks published and live on a shop of each marketplace."""
    skus: list[str] = []

    async def give_variants(product: int, base: str) -> None:
        skus.extend(await with_variants(product, base, stocks))

    product, _, shops = await stock_tests.listed(rt, settings, redis_url, arq_redis, markets, stock_units=0,
                                                 buffer=buffer, name="Mật ong hoa cà phê Chư Sê", setup=give_variants)
    return product, skus, shops


def shown(sandbox: Any, shop: Shop, sku: str) -> int:
    (item,) = sandbox.state.items_by_sku(shop.marketplace, shop.external_shop_id, sku)
    model = item.model_by_sku(sku)
    assert model is not None, f"{shop.marketplace} has no variant {sku}"
    return model.stock


async def available(product: int) -> dict[str, int]:
    return {sku: n.available for sku, n in (await stock.variant_availability([product]))[product].items()}


async def test_a_two_by_two_product_on_all_four_marketplaces_and_read_back(db, rt, sandbox, settings, redis_url,
                                                                         arq_redis) -> None:
    product, skus, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee", "lazada", "tiktok", "tiki"),
                                        [7, 3, 5, 2], buffer=1)
    for shop in shops:
        (item,) = sandbox.state.items_by_sku(shop.marketplace, shop.external_shop_id, skus[0])
        assert [(n, list(o)) for n, o in item.tiers] == [("Dung tích", ["250 ml", "500 ml"]),
                                                        ("Quy cách", ["Hũ", "Hộp quà"])]
        assert {m.seller_sku: (m.options, m.price_vnd, m.stock) for m in item.models.values()} == {
            sku: ((o1, o2), price, units - 1) for sku, (o1, o2, price), units in zip(skus, COMBOS, [7, 3, 5, 2])}
        assert len(sandbox.state.items_by_sku(shop.marketplace, shop.external_shop_id, skus[3])) == 1
    for row in await Listing.select().where(Listing.product == product):
        read = await stock.read_back(rt, row["id"])
        assert read == {sku: [price, units - 1] for sku, (_, _, price), units in zip(skus, COMBOS, [7, 3, 5, 2])}
        after = await Listing.select(Listing.skus_read, Listing.skus_read_at, Listing.stock_version,
                                     Listing.stock_pushed_version).where(Listing.id == row["id"]).first()
        assert after["skus_read_at"] is not None
        assert after["stock_version"] == after["stock_pushed_version"]  # no drift: nothing to push


async def test_an_order_on_a_variant_lowers_it_once_and_the_others_hear_it_per_sku(
        db, rt, sandbox, settings, redis_url, arq_redis) -> None:
    product, skus, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee", "lazada", "tiktok"),
                                        [10, 4, 6, 2])
    shopee, lazada, tiktok = shops
    mark = len(sandbox.state.request_log)
    order = sandbox.state.place_order("shopee", shopee.external_shop_id, skus[2], 3)
    assert order is not None and shown(sandbox, shopee, skus[2]) == 3
    await sync(rt, shopee)
    await sync(rt, shopee)  # the overlapping window read again: harmless
    assert await StockHold.count().where(StockHold.product == product) == 1
    assert await available(product) == {skus[0]: 10, skus[1]: 4, skus[2]: 3, skus[3]: 2}
    detail = await rt.with_fresh_token(await Shop.objects().where(Shop.id == shopee.id).first(),
                                       lambda creds: rt.env.client("shopee").order_detail(creds, [order.order_id]))
    assert detail[0].lines[0].seller_sku == skus[2]
    await ingest_orders(shopee.id, detail)  # the same order ingested twice more, directly
    await ingest_orders(shopee.id, detail)
    assert (await available(product))[skus[2]] == 3
    await propagate(settings, redis_url, rt, arq_redis)
    assert [shown(sandbox, s, skus[2]) for s in shops] == [3, 3, 3]
    assert [shown(sandbox, s, skus[0]) for s in shops] == [10, 10, 10]  # the other variants untouched
    assert stock_calls(sandbox, "shopee", mark) == 0  # it already shows 3
    assert stock_calls(sandbox, "lazada", mark) == 1 and stock_calls(sandbox, "tiktok", mark) == 1
    assert not any(path.endswith(WHOLE_PUSH_PATHS["shopee"]) or path.endswith(WHOLE_PUSH_PATHS["lazada"])
                   or (m == "tiktok" and method == "PUT") for m, method, path in sandbox.state.request_log[mark:])
    shopee_row = await Listing.select(Listing.skus_shown).where(
        (Listing.product == product) & (Listing.shop == shopee.id)).first()
    assert stock.db.json_value(shopee_row["skus_shown"], {})[skus[2]] == [210_000, 3]


async def test_cancel_and_return_give_a_variant_back(db, rt, sandbox, settings, redis_url, arq_redis) -> None:
    product, skus, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee", "lazada"), [5, 5, 5, 5])
    shopee, lazada = shops
    order = sandbox.state.place_order("lazada", lazada.external_shop_id, skus[1], 2)
    await sync(rt, lazada)
    await propagate(settings, redis_url, rt, arq_redis)
    assert (await available(product))[skus[1]] == 3 and shown(sandbox, shopee, skus[1]) == 3
    time.sleep(3.1)
    assert sandbox.state.cancel_order("lazada", lazada.external_shop_id, order.order_id)
    assert shown(sandbox, lazada, skus[1]) == 5  # the marketplace restores its own stock of that variant
    mark = len(sandbox.state.request_log)
    await sync(rt, lazada)
    assert (await available(product))[skus[1]] == 5
    await propagate(settings, redis_url, rt, arq_redis)
    assert shown(sandbox, shopee, skus[1]) == 5 and stock_calls(sandbox, "lazada", mark) == 0

    now = datetime.now(UTC)

    def order_of(order_id: str, status: str, raw: str) -> MarketOrder:
        return MarketOrder(order_id=order_id, status=status, raw_status=raw, created_at=now, updated_at=now,  # type: ignore[arg-type]
                           total_vnd=120_000, lines=(OrderLine(skus[0], "x", "Mật ong", 1, 120_000, 120_000),))

    await ingest_orders(shopee.id, [order_of("V-1", "unpaid", "UNPAID"), order_of("V-2", "shipped", "SHIPPED")])
    assert (await available(product))[skus[0]] == 3
    await ingest_orders(shopee.id, [order_of("V-1", "returned", "TO_RETURN"), order_of("V-2", "returned", "TO_RETURN")])
    assert (await available(product))[skus[0]] == 4  # returned before shipping gives back, after does not
    assert await available(product) == {skus[0]: 4, skus[1]: 5, skus[2]: 5, skus[3]: 5}


async def test_two_marketplaces_selling_a_variants_last_unit_at_once(db, rt, sandbox, settings, redis_url,
                                                                      arq_redis) -> None:
    product, skus, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee", "tiktok"), [3, 1, 3, 3])
    shopee, tiktok = shops
    assert sandbox.state.place_order("shopee", shopee.external_shop_id, skus[1], 1) is not None
    assert sandbox.state.place_order("tiktok", tiktok.external_shop_id, skus[1], 1) is not None
    assert sandbox.state.place_order("tiktok", tiktok.external_shop_id, skus[1], 1) is None  # shows 0 now
    await sync(rt, shopee, tiktok)  # two ingests at the same time
    numbers = (await stock.variant_availability([product]))[product][skus[1]]
    assert (numbers.available, numbers.offer) == (-1, 0)  # oversold by one: neither sale lost nor counted twice
    await propagate(settings, redis_url, rt, arq_redis)
    assert [shown(sandbox, s, skus[1]) for s in shops] == [0, 0]
    assert [shown(sandbox, s, skus[0]) for s in shops] == [3, 3]
    assert sandbox.state.place_order("shopee", shopee.external_shop_id, skus[1], 1) is None


async def test_variant_price_stock_and_content_edits_each_go_out_their_way(
        db, app_client, rt, sandbox, settings, redis_url, arq_redis) -> None:
    product, skus, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee", "lazada"), [10, 4, 6, 2])
    producer = (await Product.select(Product.producer).where(Product.id == product).first())["producer"]
    await make_user("chuse", "producer", producer_id=producer)
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (app, client):
        await login(client, "chuse")
        versions = {r["id"]: r["payload_version"] for r in await Listing.select().where(Listing.product == product)}
        current = (await client.get(f"/api/v1/products/{product}", headers=api_headers(client))).json()["variants"]
        sent = [{"sku": v["sku"], "option1": v["option1"], "option2": v["option2"], "price": v["price_vnd"],
                 "stock": v["stock"]} for v in current]

        # a variant's price and another's stock: the partial endpoints, no re-push, no new review
        mark = len(sandbox.state.request_log)
        sent[0]["price"], sent[3]["stock"] = 125_000, 9
        answer = await client.patch(f"/api/v1/products/{product}", json={"variants": sent},
                                    headers=api_headers(client))
        assert answer.status_code == 200, answer.text
        await run_worker_burst(settings, redis_url, rt)
        for shop in shops:
            (item,) = sandbox.state.items_by_sku(shop.marketplace, shop.external_shop_id, skus[0])
            assert (item.model_by_sku(skus[0]).price_vnd, item.model_by_sku(skus[3]).stock, item.status) == (
                125_000, 9, "live")
            assert stock_calls(sandbox, shop.marketplace, mark) == 1
        assert not any(path.endswith(WHOLE_PUSH_PATHS[m]) for m, _, path in sandbox.state.request_log[mark:])
        assert {r["id"]: r["payload_version"] for r in await Listing.select().where(Listing.product == product)} \
            == versions

        # a variant added, one removed, an option renamed: the listing is re-pushed (Shopee add_model etc.)
        sent = [v for v in sent if v["sku"] != skus[1]]
        for v in sent:
            v["option1"] = "450 ml" if v["option1"] == "500 ml" else v["option1"]
        sent.append({"sku": f"{skus[0]}-1L", "option1": "1 l", "option2": "Hũ", "price": 390_000, "stock": 3})
        variation = [{"name": "Dung tích", "options": ["250 ml", "450 ml", "1 l"]}, ATTRIBUTES[1]]
        mark = len(sandbox.state.request_log)
        answer = await client.patch(f"/api/v1/products/{product}", json={"variation": variation, "variants": sent},
                                    headers=api_headers(client))
        assert answer.status_code == 200, answer.text
        rows = await Listing.select().where(Listing.product == product)
        assert all(r["payload_version"] == versions[r["id"]] + 1 for r in rows)
        await run_worker_burst(settings, redis_url, rt)
        await sync_statuses(rt)
        paths = [path for m, _, path in sandbox.state.request_log[mark:] if m == "shopee"]
        assert any(p.endswith("/product/add_model") for p in paths) and any(
            p.endswith("/product/update_tier_variation") for p in paths)
        for shop in shops:
            (item,) = sandbox.state.items_by_sku(shop.marketplace, shop.external_shop_id, skus[0])
            assert {m.seller_sku: m.options for m in item.models.values()} == {
                v["sku"]: (v["option1"], v["option2"]) for v in sent}
            assert item.model_by_sku(f"{skus[0]}-1L").stock == 3

        # the page shows each variant on each marketplace, differences highlighted, and reads back
        page = await client.get(f"/products/{product}/marketplaces", headers={"accept": "text/html"})
        assert page.status_code == 200 and "Từng phân loại trên các sàn" in page.text
        assert "1 l / Hũ" in page.text and "Khác số của ocop" not in page.text
        (item,) = sandbox.state.items_by_sku("lazada", shops[1].external_shop_id, skus[0])
        item.model_by_sku(skus[2]).stock = 1  # someone changed it in the seller centre: drift
        token = await csrf(client, f"/products/{product}/marketplaces")
        read = await client.post(f"/products/{product}/stock/read", data={"_csrf_token": token})
        assert read.status_code == 303 and "stock=read" in read.headers["location"]
        page = await client.get(f"/products/{product}/marketplaces", headers={"accept": "text/html"})
        assert "Khác số của ocop" in page.text
        await propagate(settings, redis_url, rt, arq_redis)  # the drift is repaired by a partial push
        assert shown(sandbox, shops[1], skus[2]) == 6


async def test_the_stock_section_says_so_when_nothing_is_listed(db, app_client, rt, sandbox, settings,
                                                                 redis_url) -> None:
    producer = await make_producer()
    await connect_shop(rt, producer, "shopee")
    base = f"MO-{uuid.uuid4().hex[:8]}"
    product = await make_product(settings, producer, base)
    await with_variants(product, base, [1, 2, 3, 4])
    await make_user("chuse", "producer", producer_id=producer)
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (app, client):
        await login(client, "chuse")
        page = await client.get(f"/products/{product}/marketplaces", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert "Sản phẩm chưa được đăng trên sàn nào" in page.text
