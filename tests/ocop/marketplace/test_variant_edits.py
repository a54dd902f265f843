"""Saving a product's variants goes through the same hooks as an edit of its own price and stock
(the partial push) and content (a re-push): against the sandbox over HTTP with real arq workers.
Until the mappers send variants, a marketplace sees the product's roll-up (lowest price, total
stock); what matters here is that every variant save reaches it, and the right way."""

from __future__ import annotations

from ocop.marketplace.tables import Listing
from tests.ocop.marketplace.conftest import TEST_SECRET, run_worker_burst
from tests.ocop.marketplace.test_stock import WHOLE_PUSH_PATHS, listed, shown
from tests.ocop.web.support import api_headers, login, make_user
from ocop.catalog.tables import Product

VARIATION = [{"name": "Dung tích", "options": ["500 ml", "1 lít"]}]


async def test_variant_price_stock_and_structure_edits_reach_the_marketplace(db, app_client, rt, sandbox, settings,
                                                                             redis_url, arq_redis) -> None:
    product, sku, shops = await listed(rt, settings, redis_url, arq_redis, ("shopee",), stock_units=10)
    shop = shops[0]
    producer = (await Product.select(Product.producer).where(Product.id == product).first())["producer"]
    await make_user("goboi", "producer", producer_id=producer)
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (_, client):
        await login(client, "goboi")
        url = f"/api/v1/products/{product}"
        variants = [{"sku": f"{sku}-500", "option1": "500 ml", "price": "60.000", "stock": 4},
                    {"sku": f"{sku}-1L", "option1": "1 lít", "price": "110.000", "stock": 3}]

        # variants added: the structure is a content change (re-pushed once the listing payload, built by
        # the marketplace mappers, carries variants); the new lowest price and total stock go out now
        answer = await client.patch(url, json={"variation": VARIATION, "variants": variants}, headers=api_headers(client))
        assert answer.status_code == 200, answer.text
        rows = await Listing.select().where(Listing.product == product)
        await run_worker_burst(settings, redis_url, rt)
        assert shown(sandbox, shop, sku) == 7  # the variants' total
        item = sandbox.state.items_by_sku(shop.marketplace, shop.external_shop_id, sku)[0]
        assert item.price_vnd == 60_000

        # one variant's stock: the partial way, no re-push
        versions = {r["id"]: r["payload_version"] for r in rows}
        mark = len(sandbox.state.request_log)
        variants[1]["stock"] = 9
        answer = await client.patch(url, json={"variants": variants}, headers=api_headers(client))
        assert answer.status_code == 200 and answer.json()["stock"] == 13, answer.text
        await run_worker_burst(settings, redis_url, rt)
        assert shown(sandbox, shop, sku) == 13
        assert not any(path.endswith(WHOLE_PUSH_PATHS["shopee"]) for _, _, path in sandbox.state.request_log[mark:])
        assert {r["id"]: r["payload_version"] for r in await Listing.select().where(Listing.product == product)} \
            == versions

        # the cheapest variant's price: the partial way too
        variants[0]["price"] = "55.000"
        answer = await client.patch(url, json={"variants": variants}, headers=api_headers(client))
        assert answer.status_code == 200 and answer.json()["price_vnd"] == 55_000, answer.text
        await run_worker_burst(settings, redis_url, rt)
        assert sandbox.state.items_by_sku(shop.marketplace, shop.external_shop_id, sku)[0].price_vnd == 55_000
        assert not any(path.endswith(WHOLE_PUSH_PATHS["shopee"]) for _, _, path in sandbox.state.request_log[mark:])
