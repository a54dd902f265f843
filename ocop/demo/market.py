"""The demo's marketplace side: connected sandbox shops, live listings and a few months of orders,
so every page (shops, publishing status, sync, sales, the dashboard) shows something real on first
start.

It goes through the same code as a person and the scheduler would, against the sandbox marketplace
running in this process (whose state lives in memory, hence this runs once the service is up, on
every start): the marketplace's consent page and our OAuth completion, a publish request handed to
the worker through the outbox, the status sync, and the order sync read window by window over the
past months (orders the sandbox generates over that time from the shops' live items). On a
restart with the same database, shops are re-authorized and listings re-pushed (the sandbox starts
empty); orders already stored are not read again.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from connectors.base import ConnectorError

from ocop.demo.seed import load_catalog, tax_code
from ocop.catalog.tables import Product
from ocop.marketplace import shops as shop_service
from ocop.marketplace.jobs import dispatch_due, sync_listing_status
from ocop.marketplace.publishing import PublishError, request_publish
from ocop.marketplace.sync import sync_shop_orders
from ocop.marketplace.tables import Listing, Order, Shop
from ocop.producers.tables import Producer
from ocop.logs import log

#: Which sandbox shop (see connectors.sandbox.config.SandboxConfig.default) each demo producer owns.
DEMO_SHOPS = {
    "tamquan": (("shopee", "14701711"), ("lazada", "200170001")),
    "bauda": (("shopee", "14701712"),),
    "goboi": (("lazada", "200170002"),),
    "chuse": (("tiktok", "7494002"),),
}
HISTORY_DAYS = 120
ORDERS_PER_SHOP = 60
WINDOW = timedelta(days=14)
CAUSE = "demo:seed"


def _grant(authorize_url: str, shop_id: str) -> dict[str, str]:
    """Act as the seller on the sandbox's consent page: choose ``shop_id``, grant, and return the
    query of the redirect back to us (code, state, shop id)."""
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        page = client.get(authorize_url)
        page.raise_for_status()
        for attrs, body in re.findall(r"<form([^>]*)>(.*?)</form>", page.text, re.S):
            if shop_id not in body:
                continue
            fields: dict[str, str] = {}
            for tag in re.findall(r"<input[^>]*>", body):
                name = re.search(r"""name=['"]([^'"]+)['"]""", tag)
                value = re.search(r"""value=['"]([^'"]*)['"]""", tag)
                if not name or not value:
                    continue
                if "radio" in tag and html.unescape(value.group(1)) != shop_id:
                    continue
                fields[name.group(1)] = html.unescape(value.group(1))
            action = re.search(r"""action=['"]([^'"]+)['"]""", attrs)
            target = urljoin(str(page.url), html.unescape(action.group(1))) if action else str(page.url)
            done = client.post(target, data=fields)
            query = parse_qs(urlsplit(done.headers.get("location", "")).query)
            return {k: v[0] for k, v in query.items()}
    raise LookupError(f"shop {shop_id} is not offered on {authorize_url}")


async def _connect(rt: Any, producer_id: int, marketplace: str, shop_id: str) -> Shop:
    secret = rt.settings.resolved_secret_key()
    url = shop_service.authorize_url(rt.env, secret, producer_id, marketplace)
    back = await asyncio.to_thread(_grant, url, shop_id)
    return await shop_service.complete_authorization(rt.env, rt.cipher, secret, marketplace, code=back["code"],
                                                     state=back["state"], shop_id=back.get("shop_id") or shop_id)


async def _sandbox_orders(sandbox_url: str, shop: Shop, since: datetime, until: datetime) -> None:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as client:
        answer = await client.post("/_admin/orders", json={
            "marketplace": shop.marketplace, "shop_id": shop.external_shop_id, "count": ORDERS_PER_SHOP,
            "since": since.timestamp(), "until": until.timestamp()})
        answer.raise_for_status()


async def _settle(listing_ids: list[int], states: tuple[str, ...], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not await Listing.exists().where(Listing.id.is_in(listing_ids or [0]) & Listing.state.not_in(list(states))):
            return
        await asyncio.sleep(0.5)


async def _sync_window(rt: Any, shop_id: int, until: datetime, attempts: int = 5) -> None:
    """One window of the order sync; a transient marketplace error is retried like the scheduler's
    next run would (the cursor only moves once a window is read whole)."""
    for attempt in range(attempts):
        try:
            await sync_shop_orders(rt, await Shop.objects().where(Shop.id == shop_id).first(), now=until)
            return
        except ConnectorError as exc:
            if attempt == attempts - 1:
                raise
            log.info("demo_order_sync_retry", shop=shop_id, error=exc.message)
            await asyncio.sleep(1 + attempt)


async def seed_marketplace(app: Any) -> None:
    """Run once the service is up (the sandbox and the worker are in this process)."""
    from ocop.marketplace.apps import sandbox_base_url

    rt, redis = app.state.market, app.state.queue.redis
    sandbox_url = sandbox_base_url(rt.settings)
    try:
        catalog = {spec["key"]: spec for spec in load_catalog()["producers"]}
        connected: list[tuple[Shop, bool]] = []
        listing_ids: list[int] = []
        for key, wanted in DEMO_SHOPS.items():
            producer = await Producer.select(Producer.id).where(
                Producer.tax_code == tax_code(catalog[key]["tax_serial"])).first()
            if producer is None:
                continue
            products = [r["id"] for r in await Product.select(Product.id).where(
                (Product.producer == producer["id"]) & (Product.status == "active")).order_by(Product.id)]
            for marketplace, shop_id in wanted:
                shop = await _connect(rt, producer["id"], marketplace, shop_id)
                # The in-process sandbox starts empty on every start: items a previous run published
                # are gone from it, so our listings no longer point at anything there.
                await Listing.update({Listing.external_item_id: "", Listing.pushed_hash: ""}).where(
                    Listing.shop == shop.id)
                had_orders = await Order.exists().where(Order.shop == shop.id)
                connected.append((shop, had_orders))
                for product_id in products:
                    try:
                        listing_ids.append((await request_publish(product_id, shop.id, cause=CAUSE, force=True)).listing_id)
                    except PublishError:
                        continue
        await dispatch_due(redis, limit=500)  # the in-process worker publishes them
        await _settle(listing_ids, ("in_review", "live", "rejected", "failed"), 90)
        # The marketplace's review (seconds in the sandbox): most go live, a few are rejected with a reason.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await sync_listing_status({"market": rt})  # the scheduler's job, recorded on /sync
            if not await Listing.exists().where(Listing.id.is_in(listing_ids or [0]) & (Listing.state == "in_review")):
                break
            await asyncio.sleep(2)
        now = datetime.now(UTC)
        for shop, had_orders in connected:
            if had_orders:
                continue
            fresh = await Shop.objects().where(Shop.id == shop.id).first()
            await _sandbox_orders(sandbox_url, fresh, now - timedelta(days=HISTORY_DAYS), now - timedelta(hours=1))
            # The order sync, window by window over the past months, as the scheduler would have run it.
            step = now - timedelta(days=HISTORY_DAYS) + WINDOW
            try:
                while True:
                    await _sync_window(rt, shop.id, min(step, now))
                    if step >= now:
                        break
                    step += WINDOW
            except ConnectorError as exc:  # the scheduled order sync carries on from the cursor
                log.warning("demo_order_history_incomplete", shop=shop.id, error=exc.message)
        log.info("demo_marketplace_seeded", shops=len(connected), listings=len(listing_ids))
    except Exception as exc:  # noqa: BLE001 - the demo site must come up even if this part fails
        log.warning("demo_marketplace_seed_failed", error=str(exc), exc_info=exc)
