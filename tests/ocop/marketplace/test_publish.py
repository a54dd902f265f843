"""Publishing through real arq workers to the sandbox marketplace over HTTP."""

from __future__ import annotations

import pytest

from ocop.catalog.tables import Product
from ocop.marketplace.jobs import dispatch_due
from ocop.marketplace.publishing import PublishError, product_changed, request_publish, request_unlist
from ocop.marketplace.sync import sync_statuses
from ocop.marketplace.tables import Listing, ListingEvent
from tests.ocop.marketplace.conftest import connect_shop, make_producer, make_product, run_worker_burst


@pytest.fixture
def fast_settings(settings):
    return settings.with_overrides(publish_backoff_s=0.05)


async def publish_all(fast_settings, redis_url, rt, arq_redis) -> None:
    for _ in range(20):  # a few rounds: retries deferred by arq, then the dispatcher's safety net
        await dispatch_due(arq_redis)
        await run_worker_burst(fast_settings, redis_url, rt)
        if not await Listing.exists().where(Listing.next_attempt_at.is_not_null()):
            return
    raise AssertionError("listings still pending after 20 rounds")


def copies(sandbox, marketplace: str, shop_id: str, seller_sku: str) -> list[dict]:
    """The items the sandbox holds under one seller SKU (its inspection endpoint)."""
    return sandbox.items().get(marketplace, {}).get(shop_id, {}).get(seller_sku, [])


@pytest.mark.parametrize("marketplace", ["shopee", "lazada", "tiktok", "tiki"])
async def test_publish_review_live_and_repush_only_on_change(db, rt, sandbox, fast_settings, redis_url, arq_redis,
                                                             marketplace: str) -> None:
    producer = await make_producer()
    shop = await connect_shop(rt, producer, marketplace)
    product = await make_product(fast_settings, producer, f"NM-{marketplace}")
    first = await request_publish(product, shop.id, cause="user:1")
    assert first.changed and first.version == 1
    await publish_all(fast_settings, redis_url, rt, arq_redis)
    listing = await Listing.objects().where(Listing.id == first.listing_id).first()
    assert listing.state in ("in_review", "live"), listing.last_error
    assert listing.external_item_id
    await sync_statuses(rt)
    listing = await Listing.objects().where(Listing.id == first.listing_id).first()
    assert listing.state == "live"

    again = await request_publish(product, shop.id, cause="user:1")
    assert not again.changed  # same payload: nothing to push

    await Product.update({Product.price_vnd: 99000}).where(Product.id == product)
    [unchanged] = await product_changed(product, cause="user:1")
    assert not unchanged.changed  # a price change goes out through the partial push (test_stock.py)
    await Product.update({Product.name: "Nước mắm Gò Bồi thượng hạng"}).where(Product.id == product)
    [repush] = await product_changed(product, cause="user:1")
    assert repush.changed and repush.version == 2
    await publish_all(fast_settings, redis_url, rt, arq_redis)
    listing = await Listing.objects().where(Listing.id == first.listing_id).first()
    assert listing.state in ("in_review", "live") and listing.pushed_hash == listing.payload_hash
    [item] = copies(sandbox, marketplace, shop.external_shop_id, listing.seller_sku)
    assert (item["name"], item["price_vnd"]) == ("Nước mắm Gò Bồi thượng hạng", 99000)
    states = [e["to_state"] for e in await ListingEvent.select(ListingEvent.to_state)
              .where(ListingEvent.listing == listing.id).order_by(ListingEvent.id)]
    assert states[:3] == ["pending", "publishing", "in_review"] or states[:3] == ["pending", "publishing", "live"]


async def test_timeout_after_the_write_adopts_the_existing_item(db, rt, sandbox, fast_settings, redis_url,
                                                               arq_redis) -> None:
    producer = await make_producer()
    shop = await connect_shop(rt, producer, "shopee")
    product = await make_product(fast_settings, producer, "NM-TIMEOUT")
    sandbox.faults("shopee", next=["timeout_after_write"] * 3, timeout_delay_s=3.0)
    requested = await request_publish(product, shop.id, cause="user:1")
    await publish_all(fast_settings, redis_url, rt, arq_redis)
    listing = await Listing.objects().where(Listing.id == requested.listing_id).first()
    assert listing.state in ("in_review", "live"), listing.last_error
    assert len(copies(sandbox, "shopee", shop.external_shop_id, listing.seller_sku)) == 1
    reasons = [e["reason"] for e in await ListingEvent.select(ListingEvent.reason).where(ListingEvent.listing == listing.id)]
    assert any("retrying" in r for r in reasons)


async def test_rejection_reason_reaches_the_listing(db, rt, sandbox, fast_settings, redis_url, arq_redis) -> None:
    sandbox.review(seconds=0.0, rejection_share=1.0)
    producer = await make_producer()
    shop = await connect_shop(rt, producer, "lazada")
    product = await make_product(fast_settings, producer, "NM-REJECT")
    requested = await request_publish(product, shop.id, cause="user:1")
    await publish_all(fast_settings, redis_url, rt, arq_redis)
    await sync_statuses(rt)
    listing = await Listing.objects().where(Listing.id == requested.listing_id).first()
    assert listing.state == "rejected" and listing.last_error


async def test_permanent_error_stops_with_the_marketplace_reason(db, rt, sandbox, fast_settings, redis_url,
                                                                arq_redis) -> None:
    producer = await make_producer()
    shop = await connect_shop(rt, producer, "shopee")
    product = await make_product(fast_settings, producer, "NM-NOIMG", with_image=False)  # Shopee needs images
    requested = await request_publish(product, shop.id, cause="user:1")
    await publish_all(fast_settings, redis_url, rt, arq_redis)
    listing = await Listing.objects().where(Listing.id == requested.listing_id).first()
    assert listing.state == "failed" and listing.next_attempt_at is None
    event = await ListingEvent.select().where((ListingEvent.listing == listing.id) & (ListingEvent.to_state == "failed")).first()
    assert "image" in event["reason"].lower()


async def test_unlist_and_guards(db, rt, sandbox, fast_settings, redis_url, arq_redis) -> None:
    producer = await make_producer()
    other = await make_producer("4100259564", "Other")
    shop = await connect_shop(rt, producer, "tiktok")
    product = await make_product(fast_settings, producer, "NM-UNLIST")
    foreign = await make_product(fast_settings, other, "X-1")
    with pytest.raises(PublishError):
        await request_publish(foreign, shop.id, cause="user:1")
    requested = await request_publish(product, shop.id, cause="user:1")
    await publish_all(fast_settings, redis_url, rt, arq_redis)
    assert await request_unlist(requested.listing_id, cause="user:1", reason="hết hàng")
    await publish_all(fast_settings, redis_url, rt, arq_redis)
    listing = await Listing.objects().where(Listing.id == requested.listing_id).first()
    assert listing.state == "unlisted"
    status = await rt.env.client("tiktok").item_status(
        __import__("ocop.marketplace.shops", fromlist=["credentials"]).credentials(shop, rt.cipher), listing.external_item_id)
    assert status.state == "unlisted"
