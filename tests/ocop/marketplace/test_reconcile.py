"""Reconciliation: what the frequent passes never look at again is re-checked against the
marketplace, against the real sandbox over HTTP and real arq workers.

* A listing that gave up while the item an attempt created (its answer lost) went live is
  adopted; one whose item does not exist stays failed with its reason.
* A worker killed while refreshing a shop's access leaves the shop connected: the next refresh
  comes while the marketplace still answers the rotated refresh token (the root cause of listings
  that never settled in the chaos runs).
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

from ocop import db
from ocop.catalog.tables import Image
from ocop.marketplace import shops as shop_auth
from ocop.marketplace.jobs import dispatch_due
from ocop.marketplace.publishing import request_publish
from ocop.marketplace.runtime import REFRESH_LOCK_S, build_runtime
from ocop.marketplace.sync import reconcile, reconcile_listings, sync_statuses
from ocop.marketplace.tables import Listing, ListingEvent, Shop
from ocop.storage import media_store
from tests.ocop.marketplace.conftest import connect_shop, make_producer, make_product, run_worker_burst


async def _images_already_sent(rt: Any, shop: Shop, product_id: int) -> None:
    """An earlier attempt uploaded the product's image (so the next write of a publish is the
    item's creation, where the test puts its fault)."""
    image = await Image.objects().where(Image.product == product_id).first()
    key = db.json_value(image.renditions, {})["shopee"]["key"]
    data = await media_store(rt.settings).get(key)
    uploaded = await rt.env.client("shopee").upload_image(shop_auth.credentials(shop, rt.cipher), data, "a.jpg")
    await Listing.update({Listing.image_map: {key: uploaded.image_id}}).where(Listing.product == product_id)


async def test_a_listing_that_gave_up_while_its_item_went_live_is_adopted(db, sandbox, settings, redis_url,
                                                                         arq_redis) -> None:
    settings = dataclasses.replace(settings, publish_max_attempts=1, marketplace_timeout_s=1.0)
    rt = build_runtime(settings, timeout_s=1.0)
    try:
        producer = await make_producer()
        shop = await connect_shop(rt, producer, "shopee")
        # the sandbox lives for the session: SKUs of this run only
        lost_sku, never_sku = f"GB-LOST-{uuid.uuid4().hex[:8]}", f"GB-NEVER-{uuid.uuid4().hex[:8]}"
        lost = await make_product(settings, producer, lost_sku, name="Nước mắm Gò Bồi 40 độ đạm")
        never = await make_product(settings, producer, never_sku, name="Nước mắm Gò Bồi 30 độ đạm")
        sandbox.review(seconds=0.0)

        # the item is created but its answer is lost; with one attempt allowed the listing gives up
        await request_publish(lost, shop.id, cause="test")
        await _images_already_sent(rt, shop, lost)
        sandbox.faults("shopee", next=["timeout_after_write"], timeout_delay_s=2.5)
        await dispatch_due(arq_redis)
        await run_worker_burst(settings, redis_url, rt)
        # the look-up by seller SKU fails: no item is ever created, the listing gives up too
        await request_publish(never, shop.id, cause="test")
        await _images_already_sent(rt, shop, never)
        sandbox.faults("shopee", next=["5xx"] * rt.env.http.retry.max_attempts)
        await dispatch_due(arq_redis)
        await run_worker_burst(settings, redis_url, rt)
        sandbox.faults("shopee")

        rows = {r["product"]: r for r in await Listing.select()}
        for product in (lost, never):
            assert rows[product]["state"] == "failed" and rows[product]["next_attempt_at"] is None, rows[product]
            assert rows[product]["last_error"].startswith("Dừng thử lại / gave up"), rows[product]
            assert rows[product]["external_item_id"] == ""
        held = sandbox.items()["shopee"][shop.external_shop_id]
        assert [i["status"] for i in held[lost_sku]] == ["live"] and never_sku not in held

        # the frequent status sync does not look at failed listings: ocop still says failed
        await sync_statuses(rt)
        assert (await Listing.select(Listing.state).where(Listing.product == lost).first())["state"] == "failed"

        counts = await reconcile_listings(rt)
        assert counts["adopted"] == 1 and counts["missing"] == 1, counts
        adopted = await Listing.objects().where(Listing.product == lost).first()
        assert adopted.state == "live" and adopted.external_item_id == str(held[lost_sku][0]["item_id"])
        assert adopted.last_error == "" and adopted.next_attempt_at is None
        assert adopted.stock_next_at is not None  # what the item shows is unknown: its stock is pushed
        event = await ListingEvent.objects().where(ListingEvent.listing == adopted.id).order_by(
            ListingEvent.id, ascending=False).first()
        assert (event.from_state, event.to_state, event.cause) == ("failed", "live", "sync:reconcile")
        assert "adopted" in event.reason
        left = await Listing.objects().where(Listing.product == never).first()
        assert left.state == "failed" and left.last_error == rows[never]["last_error"]

        # a second pass changes nothing, and the adopted listing is re-pushed like any other when asked
        again = await reconcile_listings(rt)
        assert again["adopted"] == 0 and again["missing"] == 1
        assert (await request_publish(lost, shop.id, cause="test")).changed
    finally:
        await rt.aclose()


async def test_listings_parked_while_their_shop_needed_reconnecting_are_published_once_it_is(
        db, sandbox, settings, rt, redis_url, arq_redis) -> None:
    producer = await make_producer()
    shop = await connect_shop(rt, producer, "shopee")
    product = await make_product(settings, producer, f"GB-PARK-{uuid.uuid4().hex[:8]}")
    await request_publish(product, shop.id, cause="test")
    await Shop.update({Shop.status: "needs_reauth"}).where(Shop.id == shop.id)
    await dispatch_due(arq_redis)
    await run_worker_burst(settings, redis_url, rt)
    parked = await Listing.objects().where(Listing.product == product).first()
    assert parked.state == "failed" and parked.next_attempt_at is None

    assert (await reconcile_listings(rt))["requeued"] == 0  # still not connected: nothing to do
    await Shop.update({Shop.status: "connected"}).where(Shop.id == shop.id)  # the producer reconnected
    assert (await reconcile_listings(rt))["requeued"] == 1
    await dispatch_due(arq_redis)
    await run_worker_burst(settings, redis_url, rt)
    done = await Listing.objects().where(Listing.product == product).first()
    assert done.state in ("live", "in_review") and done.external_item_id


async def test_a_listing_or_stock_push_nothing_would_dispatch_again_is_put_back_in_the_outbox(db, sandbox, settings, rt) -> None:
    producer = await make_producer()
    shop = await connect_shop(rt, producer, "shopee")
    product = await make_product(settings, producer, f"GB-STALL-{uuid.uuid4().hex[:8]}")
    await request_publish(product, shop.id, cause="test")
    # publishing, its lease long lapsed, nothing due: no dispatcher or job would ever take it
    await Listing.update({Listing.state: "publishing", Listing.next_attempt_at: None,
                          Listing.lease_until: None}).where(Listing.product == product)
    # and a live listing whose stock pushes gave up while the marketplace shows an old number
    other = await make_product(settings, producer, f"GB-STOCK-{uuid.uuid4().hex[:8]}")
    await request_publish(other, shop.id, cause="test")
    await Listing.update({Listing.state: "live", Listing.next_attempt_at: None, Listing.external_item_id: "42",
                          Listing.stock_shown: 3, Listing.stock_next_at: None,
                          Listing.stock_error: "Dừng thử lại / gave up: HTTP 500"}).where(Listing.product == other)
    counts = await reconcile(rt)
    assert counts["requeued"] == 1 and counts["stock_due"] == 1, counts
    row = await Listing.objects().where(Listing.product == product).first()
    assert row.state == "pending" and row.next_attempt_at is not None
    assert (await Listing.objects().where(Listing.product == other).first()).stock_next_at is not None


HOLDER = """
import asyncio, sys
from redis.asyncio import Redis
from ocop.marketplace.runtime import MarketRuntime

async def main() -> None:
    rt = MarketRuntime(settings=None, env=None, cipher=None, redis=Redis.from_url(sys.argv[1]))
    async with rt._shop_lock(int(sys.argv[2])):
        print("held", flush=True)
        await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_a_worker_killed_while_refreshing_leaves_the_shop_connected(db, sandbox, settings, redis_url,
                                                                         arq_redis) -> None:
    """A worker takes the shop's refresh lock, the marketplace rotates the refresh token, and the
    worker is SIGKILLed before it stores the new pair. The next refresh must come while the
    marketplace still answers the old token with that pair (a reuse window, here 20 s): with a
    lock that outlived the window (60 s), the shop ended "needs reconnecting" and every listing
    still to publish on it failed."""
    grace = sandbox.state.config.refresh_reuse_grace_s
    sandbox.state.config.refresh_reuse_grace_s = 20.0
    rt = build_runtime(settings, redis=arq_redis, timeout_s=2.0)
    holder: subprocess.Popen[bytes] | None = None
    try:
        producer = await make_producer()
        shop = await connect_shop(rt, producer, "shopee")
        before = shop.refresh_token_enc
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, redis_url, str(shop.id)], stdout=subprocess.PIPE)
        assert holder.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(holder.stdout.readline), 20)
        assert line.strip() == b"held"
        client = rt.env.client("shopee")
        await client.refresh_token(shop_auth.credentials(shop, rt.cipher))  # rotated; the answer dies with it
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)

        sandbox.faults("shopee", next=["expired_token"])  # the stored access token is refused
        started = time.monotonic()
        found = await asyncio.wait_for(rt.with_fresh_token(
            shop, lambda creds: client.find_by_seller_sku(creds, "GB-NONE")), 45)
        assert found is None
        assert time.monotonic() - started < REFRESH_LOCK_S + 5
        stored = await Shop.objects().where(Shop.id == shop.id).first()
        assert stored.status == "connected" and stored.refresh_token_enc != before  # the successor pair
    finally:
        sandbox.state.config.refresh_reuse_grace_s = grace
        if holder is not None and holder.poll() is None:
            holder.kill()
            holder.wait(10)
        await rt.aclose()
