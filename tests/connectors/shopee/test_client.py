"""ShopeeClient against the sandbox over real HTTP on 127.0.0.1: every operation and every fault."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from connectors.base import (
    AuthExpiredError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryableError,
    ShopCredentials,
    TokenSet,
)
from connectors.cache import CATALOG_CACHE
from connectors.http import SharedHttp
from connectors.registry import get_client
from connectors.shopee.client import ShopeeClient
from tests.connectors.conftest import Sandbox
from tests.connectors.helpers import grant, jpeg_bytes, product

SHOP = "14701711"


def client(sandbox: Sandbox, http: SharedHttp) -> ShopeeClient:
    c = get_client("shopee", sandbox.app("shopee"), http, sandbox.url("shopee"))
    assert isinstance(c, ShopeeClient)
    return c


async def authorize(c: ShopeeClient, shop_id: str = SHOP) -> TokenSet:
    answer = grant(c.authorize_url("http://127.0.0.1:9/cb", state="xyz"), shop_id)
    assert answer["shop_id"] == shop_id and answer["state"] == "xyz"
    return await c.exchange_code(answer["code"], answer["shop_id"])


async def test_auth_code_flow_and_refresh_rotation(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c = client(sandbox_clean, http)
    tokens = await authorize(c)
    assert tokens.shop_id == SHOP
    assert tokens.access_expires_at > datetime.now(timezone.utc) + timedelta(minutes=50)
    # the code is single-use
    with pytest.raises(PermanentError) as used:
        await c.exchange_code("0" * 32, SHOP)
    assert used.value.code == "error_auth"

    fresh = await c.refresh_token(tokens.shop())
    assert fresh.access_token != tokens.access_token and fresh.refresh_token != tokens.refresh_token
    # the old refresh token stops working
    with pytest.raises(PermanentError):
        await c.refresh_token(tokens.shop())
    # the new access token works for shop calls
    assert await c.find_by_seller_sku(fresh.shop(), "NOPE-1") is None


async def test_publish_find_update_unlist(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c = client(sandbox_clean, http)
    shop = (await authorize(c)).shop()
    image = await c.upload_image(shop, jpeg_bytes())
    assert image.image_id and image.url.startswith(sandbox_clean.base_url)

    sku = f"OCOP-SP-{time.time_ns()}"
    p = product(sku, image_ids=(image.image_id,))
    ref = await c.create_item(shop, p)
    assert ref.seller_sku == sku and ref.state == "in_review"

    found = await c.find_by_seller_sku(shop, sku)
    assert found is not None and found.external_id == ref.external_id

    status = await c.item_status(shop, ref.external_id)
    assert status.state == "live" and status.raw_status == "NORMAL"  # review_seconds = 0

    await c.update_item(shop, ref.external_id, product(sku, name="Bánh tráng dừa Tam Quan loại đặc biệt",
                                                       price_vnd=52_000, stock=7, image_ids=(image.image_id,)))
    await c.update_price_stock(shop, ref.external_id, sku, 55_000, 3)
    seen = sandbox_clean.state.inspection()["shopee"][SHOP][sku]
    assert len(seen) == 1
    assert seen[0]["price_vnd"] == 55_000 and seen[0]["stock"] == 3
    assert seen[0]["name"] == "Bánh tráng dừa Tam Quan loại đặc biệt"

    await c.unlist(shop, ref.external_id, sku)
    assert (await c.item_status(shop, ref.external_id)).state == "unlisted"

    with pytest.raises(NotFoundError):
        await c.item_status(shop, "999999999")


async def test_review_rejection_with_reason_and_ban(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c = client(sandbox_clean, http)
    shop = (await authorize(c)).shop()
    image = await c.upload_image(shop, jpeg_bytes())
    sandbox_clean.admin("POST", "/review", {"review_seconds": 0.3})
    bad = await c.create_item(shop, product(f"SKU-BAD-{time.time_ns()}", name="Trà thảo mộc chữa bệnh gan",
                                            image_ids=(image.image_id,)))
    assert (await c.item_status(shop, bad.external_id)).state == "in_review"
    time.sleep(0.35)
    status = await c.item_status(shop, bad.external_id)
    assert status.state == "rejected" and status.reason and "chữa bệnh" in status.reason

    good = await c.create_item(shop, product(f"SKU-OK-{time.time_ns()}", image_ids=(image.image_id,)))
    sandbox_clean.admin("POST", "/item_status", {"marketplace": "shopee", "shop_id": SHOP,
                                                 "item_id": good.external_id, "status": "banned",
                                                 "reason": "Counterfeit suspicion"})
    banned = await c.item_status(shop, good.external_id)
    assert banned.state == "banned" and banned.reason == "Counterfeit suspicion"


async def test_orders_in_windows_with_pagination_and_detail(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c = client(sandbox_clean, http)
    shop = (await authorize(c, "14701712")).shop()
    now = time.time()
    since = now - 40 * 86400  # more than two 15-day windows
    # Buyers only take what items show in stock: earlier tests may have left small-stock items live
    # in this shop, and this test needs its 400 orders.
    for item in sandbox_clean.state.shop_items("shopee", "14701712").values():
        item.stock = 1_000_000
    made = sandbox_clean.admin("POST", "/orders", {"marketplace": "shopee", "shop_id": "14701712", "count": 400,
                                                   "since": since, "until": now - 60})["order_ids"]
    for status in ("cancelled", "returned"):
        made += sandbox_clean.admin("POST", "/orders", {"marketplace": "shopee", "shop_id": "14701712", "count": 1,
                                                        "since": now - 120, "until": now - 100,
                                                        "status": status})["order_ids"]
    seen = [ref.order_id async for ref in c.orders_in_window(
        shop, datetime.fromtimestamp(since - 1, timezone.utc), datetime.fromtimestamp(now + 5, timezone.utc))]
    assert set(made) <= set(seen)
    assert len(seen) == len(set(seen))
    gets = [p for (m, meth, p) in sandbox_clean.state.request_log if p == "/api/v2/order/get_order_list"]
    assert len(gets) >= 4  # 3 windows (15-day cap), and pages of 100 within them

    details = await c.order_detail(shop, made[-60:])
    assert len(details) == 60
    by_id = {d.order_id: d for d in details}
    assert by_id[made[-2]].status == "cancelled" and by_id[made[-1]].status == "returned"
    some = by_id[made[-3]]
    assert some.lines and all(l.quantity > 0 and l.unit_price_vnd > 0 for l in some.lines)
    assert some.total_vnd >= sum(l.total_vnd for l in some.lines)
    assert isinstance(some.total_vnd, int)


async def test_category_tree_and_required_attributes(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c = client(sandbox_clean, http)
    shop = (await authorize(c)).shop()
    CATALOG_CACHE.clear()
    tree = await c.category_tree(shop)
    leaves = {cat.category_id for cat in tree if cat.leaf}
    assert "100780" in leaves and any(cat.parent_id is None for cat in tree)
    attrs = await c.required_attributes(shop, "100783")
    calls = len(sandbox_clean.state.request_log)
    assert await c.category_tree(shop) == tree and await c.required_attributes(shop, "100783") == attrs
    assert len(sandbox_clean.state.request_log) == calls  # served from the catalogue cache
    assert {a.name for a in attrs} == {"Xuất xứ", "Nồng độ cồn"} and all(a.required for a in attrs)


# ---------------------------------------------------------------------------- faults


async def test_faults_map_to_typed_outcomes(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c = client(sandbox_clean, http)
    shop = (await authorize(c)).shop()
    sku = f"SKU-F-{time.time_ns()}"

    # 429 on a read: honoured Retry-After, then success
    sandbox_clean.faults("shopee", next=["429"], retry_after_s=0)
    assert await c.find_by_seller_sku(shop, sku) is None

    # 429 beyond the retry budget → RateLimitedError with retry_after
    sandbox_clean.faults("shopee", next=["429"], retry_after_s=30)
    with pytest.raises(RateLimitedError) as limited:
        await c.find_by_seller_sku(shop, sku)
    assert limited.value.retry_after == 30.0  # longer than the retry budget: raised at once

    # 5xx on a read is retried; a dropped connection on a read is retried
    sandbox_clean.faults("shopee", next=["5xx", "drop"])
    assert await c.find_by_seller_sku(shop, sku) is None

    # 5xx on a non-idempotent write: not retried, outcome unknown
    image = await c.upload_image(shop, jpeg_bytes())
    sandbox_clean.faults("shopee", next=["5xx"])
    with pytest.raises(RetryableError) as failed:
        await c.create_item(shop, product(sku, image_ids=(image.image_id,)))
    assert failed.value.outcome_unknown

    # dropped connection during a write: outcome unknown, not retried
    sandbox_clean.faults("shopee", next=["drop"])
    with pytest.raises(RetryableError) as dropped:
        await c.create_item(shop, product(sku, image_ids=(image.image_id,)))
    assert dropped.value.outcome_unknown

    # timeout after the write took effect: outcome unknown, and the item exists (find by SKU adopts it)
    sandbox_clean.faults("shopee", next=["timeout_after_write"], timeout_delay_s=2.8)
    with pytest.raises(RetryableError) as timed_out:
        await c.create_item(shop, product(sku, image_ids=(image.image_id,)))
    assert timed_out.value.outcome_unknown
    adopted = await c.find_by_seller_sku(shop, sku)
    assert adopted is not None
    assert len(sandbox_clean.state.inspection()["shopee"][SHOP][sku]) == 1

    # expired token: AuthExpiredError; refresh then the call works again
    sandbox_clean.faults("shopee", next=["expired_token"])
    with pytest.raises(AuthExpiredError):
        await c.item_status(shop, adopted.external_id)
    with pytest.raises(AuthExpiredError):  # the token really expired
        await c.item_status(shop, adopted.external_id)


async def test_bad_credentials_are_permanent(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    app = sandbox_clean.app("shopee")
    wrong_key = ShopeeClient(type(app)("shopee", app.app_key, "not-the-key"), http, sandbox_clean.url("shopee"))
    with pytest.raises(PermanentError) as bad_sign:
        await wrong_key.refresh_token(ShopCredentials(SHOP, "x", "y"))
    assert bad_sign.value.code == "error_sign"
    wrong_app = ShopeeClient(type(app)("shopee", "999", app.app_secret), http, sandbox_clean.url("shopee"))
    with pytest.raises(PermanentError) as bad_app:
        await wrong_app.refresh_token(ShopCredentials(SHOP, "x", "y"))
    assert bad_app.value.code == "error_auth"
    c = client(sandbox_clean, http)
    with pytest.raises(AuthExpiredError):
        await c.find_by_seller_sku(ShopCredentials(SHOP, "deadbeef"), "X")
