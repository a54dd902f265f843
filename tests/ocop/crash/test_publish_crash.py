"""Crash safety of a bulk publish (issue 8): staff publish 40 products of a producer to its
connected Shopee shop through the real form; the sandbox marketplace holds some answers past the
client's timeout after doing the write; the server and the worker are SIGKILLed while listings are
being published. After a restart every listing ends live (or in review) exactly once and the
marketplace holds exactly one item per seller SKU.

What the design guarantees (ocop/marketplace/publishing.py, ocop/marketplace/jobs.py): the request
is an outbox row in the database, so no job is lost with Redis or a worker; a listing claimed by a
killed job is leased only for ``lease_for(settings)`` and then re-dispatched; before creating an
item the job looks the seller SKU up and adopts the item a killed or timed-out attempt created."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocop.marketplace.jobs import lease_for
from ocop.marketplace.runtime import build_runtime
from ocop.marketplace.tables import Listing, ListingEvent
from ocop.settings import Settings
from tests.ocop.crash.conftest import Service
from tests.ocop.marketplace.conftest import TEST_SECRET, Sandbox, connect_shop, make_product
from tests.ocop.web.support import GIA_LAI, csrf, login, make_producer, make_user

PRODUCTS = 40
ENV = {"OCOP_PUBLISH_JOB_TIMEOUT_S": "5", "OCOP_MARKETPLACE_TIMEOUT_S": "1.0", "OCOP_PUBLISH_BACKOFF_S": "0.2",
       "OCOP_PUBLISH_MAX_ATTEMPTS": "30", "OCOP_WORKER_CONCURRENCY": "4"}
FAULTS = {"p_timeout_after_write": 0.2, "timeout_delay_s": 1.5}
"""Answers held past the 1 s client timeout after the item was written: the unknown outcomes a
kill must not turn into a second item."""


async def states() -> dict[str, int]:
    out: dict[str, int] = {}
    for row in await Listing.select(Listing.state):
        out[row["state"]] = out.get(row["state"], 0) + 1
    return out


@pytest.mark.slow
@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_bulk_publish_killed_mid_way_ends_with_one_item_per_sku(
        db: Any, service: Service, sandbox: Sandbox, tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", secret_key=TEST_SECRET, sandbox=True, sandbox_url=sandbox.base_url)
    producer = await make_producer("HTX Nước mắm Gò Bồi", "0100109106", province=GIA_LAI)
    await make_user("canbo", "staff", province=GIA_LAI)
    rt = build_runtime(settings, timeout_s=5.0)
    try:
        shop = await connect_shop(rt, producer, "shopee")
    finally:
        await rt.aclose()
    skus = [f"GB-{n:03d}" for n in range(PRODUCTS)]
    for n, sku in enumerate(skus):
        await make_product(settings, producer, sku, name=f"Nước mắm Gò Bồi loại {n}", price=90_000 + n * 1000)

    sandbox.faults("shopee", **FAULTS)
    service.env.update(ENV, OCOP_SANDBOX_URL=sandbox.base_url)
    service.start()
    async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
        await login(client, "canbo")
        sent = await client.post("/staff/publish", data={"producer": str(producer),
                                                         "_csrf_token": await csrf(client, "/imports")},
                                 headers={"accept": "text/html"})
        assert sent.status_code == 303, sent.text[:500]
        assert await Listing.count() == PRODUCTS

        # SIGKILL both while some listings are published and others are in a worker's hands
        deadline = time.monotonic() + 30
        while True:
            now = await states()
            published = await Listing.count().where(Listing.external_item_id != "")
            if published >= PRODUCTS // 5 and now.get("publishing", 0) > 0:
                break
            assert published < PRODUCTS, f"all published before the kill: {now}"
            assert time.monotonic() < deadline, f"publishing never got going: {now}\n{service.tail()}"
            await asyncio.sleep(0.01)
        service.kill()
        at_kill = await states()
        left = at_kill.get("pending", 0) + at_kill.get("publishing", 0) + at_kill.get("failed", 0)
        assert left > 0 and sum(at_kill.values()) == PRODUCTS, at_kill

        service.start()
        # every listing settles: the rest from the queue, the leased ones once their lease lapses
        # and the dispatcher (every 20 s) hands them out again
        lease = lease_for(Settings(publish_job_timeout_s=5, marketplace_timeout_s=1.0)).total_seconds()
        assert lease == 10.0
        deadline = time.monotonic() + lease + 20 + 30
        while (now := await states()).get("live", 0) + now.get("in_review", 0) < PRODUCTS:
            given_up = await Listing.select(Listing.seller_sku, Listing.state, Listing.last_error).where(
                Listing.state.is_in(["failed", "rejected"]) & Listing.next_attempt_at.is_null())
            assert given_up == [], given_up
            assert time.monotonic() < deadline, f"listings never settled after restart: {now}\n{service.tail()}"
            await asyncio.sleep(0.2)
        progress = await client.get(f"/staff/publish/progress?producer={producer}", headers={"accept": "text/html"})
        assert progress.status_code == 200
        assert f"{PRODUCTS}/{PRODUCTS}" in progress.text and "hx-get" not in progress.text  # done, polling stops
    sandbox.faults("shopee")

    rows = await Listing.select(Listing.seller_sku, Listing.external_item_id, Listing.state, Listing.lease_until,
                                Listing.next_attempt_at)
    assert sorted(r["seller_sku"] for r in rows) == skus
    assert all(r["next_attempt_at"] is None and r["lease_until"] is None for r in rows), rows
    held = sandbox.items()["shopee"][shop.external_shop_id]
    assert {sku: len(items) for sku, items in held.items()} == {sku: 1 for sku in skus}
    # the faults really happened: attempts whose outcome was unknown were retried (and adopted the item)
    assert await ListingEvent.count().where(ListingEvent.reason.like("%retrying%")) > 0
    ours = {r["seller_sku"]: r["external_item_id"] for r in rows}
    theirs = {sku: str(items[0]["item_id"]) for sku, items in held.items()}
    assert ours == theirs
