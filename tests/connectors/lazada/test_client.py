"""LazadaClient against the sandbox over real HTTP on 127.0.0.1: every operation and every fault."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from connectors.base import (
    AppCredentials,
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
from connectors.lazada.client import LazadaClient
from connectors.registry import get_client
from tests.connectors.conftest import Sandbox
from tests.connectors.helpers import grant, jpeg_bytes, product

SHOP = "200170001"


def client(sandbox: Sandbox, http: SharedHttp) -> LazadaClient:
    c = get_client("lazada", sandbox.app("lazada"), http, sandbox.url("lazada"))
    assert isinstance(c, LazadaClient)
    return c


async def authorize(c: LazadaClient, shop_id: str = SHOP) -> TokenSet:
    answer = grant(c.authorize_url("http://127.0.0.1:9/cb", state="st-1"), shop_id)
    assert answer["state"] == "st-1"
    return await c.exchange_code(answer["code"])


async def test_auth_code_flow_and_refresh_rotation(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c = client(sandbox_clean, http)
    tokens = await authorize(c)
    assert tokens.shop_id == SHOP and tokens.extra["country"] == "vn"
    assert tokens.refresh_expires_at and tokens.refresh_expires_at > tokens.access_expires_at
    with pytest.raises(PermanentError) as reused:
        await c.exchange_code("not-a-code")
    assert reused.value.code == "InvalidCode"
    fresh = await c.refresh_token(tokens.shop())
    assert fresh.access_token != tokens.access_token and fresh.refresh_token != tokens.refresh_token
    with pytest.raises(PermanentError):
        await c.refresh_token(tokens.shop())  # rotated: the old refresh token is dead
    assert await c.find_by_seller_sku(fresh.shop(), "NONE") is None


async def test_publish_find_update_unlist(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c = client(sandbox_clean, http)
    shop = (await authorize(c)).shop()
    image = await c.upload_image(shop, jpeg_bytes())
    assert image.image_id.startswith(sandbox_clean.base_url)
    sku = f"OCOP-LZ-{time.time_ns()}"
    ref = await c.create_item(shop, product(sku, image_ids=(image.image_id,)))
    assert ref.state == "in_review"
    found = await c.find_by_seller_sku(shop, sku)
    assert found is not None and found.external_id == ref.external_id and found.state == "live"
    assert (await c.item_status(shop, ref.external_id)).state == "live"

    await c.update_item(shop, ref.external_id, product(sku, name="Bánh tráng dừa Tam Quan đặc biệt",
                                                       image_ids=(image.image_id,)))
    await c.update_price_stock(shop, ref.external_id, sku, 61_000, 9)
    seen = sandbox_clean.state.inspection()["lazada"][SHOP][sku]
    assert len(seen) == 1
    assert (seen[0]["price_vnd"], seen[0]["stock"], seen[0]["name"]) == (61_000, 9, "Bánh tráng dừa Tam Quan đặc biệt")

    await c.unlist(shop, ref.external_id, sku)
    assert (await c.item_status(shop, ref.external_id)).state == "unlisted"
    with pytest.raises(NotFoundError):
        await c.item_status(shop, "12345")


async def test_review_rejection_with_reason_and_ban(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c = client(sandbox_clean, http)
    shop = (await authorize(c)).shop()
    image = await c.upload_image(shop, jpeg_bytes())
    sandbox_clean.admin("POST", "/review", {"review_seconds": 0.3, "rejection_share": 1.0})
    ref = await c.create_item(shop, product(f"LZ-REJ-{time.time_ns()}", image_ids=(image.image_id,)))
    assert (await c.item_status(shop, ref.external_id)).state == "in_review"
    time.sleep(0.35)
    status = await c.item_status(shop, ref.external_id)
    assert status.state == "rejected" and status.reason and len(status.reason) > 10

    sandbox_clean.admin("POST", "/review", {"review_seconds": 0.0, "rejection_share": 0.0})
    ok = await c.create_item(shop, product(f"LZ-OK-{time.time_ns()}", image_ids=(image.image_id,)))
    sandbox_clean.admin("POST", "/item_status", {"marketplace": "lazada", "shop_id": SHOP, "item_id": ok.external_id,
                                                 "status": "banned", "reason": "Prohibited product"})
    banned = await c.item_status(shop, ok.external_id)
    assert banned.state == "banned" and banned.reason == "Prohibited product"


async def test_orders_in_windows_with_pagination_and_detail(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c = client(sandbox_clean, http)
    shop = (await authorize(c, "200170002")).shop()
    now = time.time()
    since = now - 70 * 86400
    made = sandbox_clean.admin("POST", "/orders", {"marketplace": "lazada", "shop_id": "200170002", "count": 260,
                                                   "since": since, "until": now - 60})["order_ids"]
    for status in ("cancelled", "returned"):
        made += sandbox_clean.admin("POST", "/orders", {"marketplace": "lazada", "shop_id": "200170002", "count": 1,
                                                        "since": now - 50, "until": now - 40, "status": status})["order_ids"]
    before = len(sandbox_clean.state.request_log)
    seen = [r.order_id async for r in c.orders_in_window(
        shop, datetime.fromtimestamp(since - 1, timezone.utc), datetime.fromtimestamp(now + 5, timezone.utc))]
    assert set(made) <= set(seen) and len(seen) == len(set(seen))
    calls = [p for (_, _, p) in sandbox_clean.state.request_log[before:] if p == "/rest/orders/get"]
    assert len(calls) >= 4  # 3 windows of 30 days, pages of 100

    details = await c.order_detail(shop, made[-55:])
    assert [d.order_id for d in details] == made[-55:]
    by_id = {d.order_id: d for d in details}
    assert by_id[made[-2]].status == "cancelled" and by_id[made[-1]].status == "returned"
    for d in details:
        assert d.lines and d.total_vnd >= sum(l.total_vnd for l in d.lines)
        assert all(l.quantity >= 1 and l.total_vnd == l.quantity * l.unit_price_vnd for l in d.lines)


async def test_category_tree_and_required_attributes(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c = client(sandbox_clean, http)
    shop = (await authorize(c)).shop()
    CATALOG_CACHE.clear()
    tree = await c.category_tree(shop)
    by_id = {cat.category_id: cat for cat in tree}
    assert by_id["10001"].leaf and by_id["10001"].parent_id == "10000" and not by_id["10000"].leaf
    attrs = await c.required_attributes(shop, "10004")
    calls = len(sandbox_clean.state.request_log)
    assert await c.category_tree(shop) == tree and await c.required_attributes(shop, "10004") == attrs
    assert len(sandbox_clean.state.request_log) == calls  # served from the catalogue cache
    assert {a.attribute_id for a in attrs} == {"name", "brand", "SellerSku", "package_weight", "alcohol_content"}


async def test_faults_map_to_typed_outcomes(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    c = client(sandbox_clean, http)
    shop = (await authorize(c)).shop()
    sku = f"LZ-F-{time.time_ns()}"
    sandbox_clean.faults("lazada", next=["429"], retry_after_s=0)
    assert await c.find_by_seller_sku(shop, sku) is None
    sandbox_clean.faults("lazada", next=["429"], retry_after_s=30)
    with pytest.raises(RateLimitedError) as limited:
        await c.find_by_seller_sku(shop, sku)
    assert limited.value.retry_after == 30.0 and limited.value.code == "ApiCallLimit"
    sandbox_clean.faults("lazada", next=["5xx", "drop"])
    assert await c.find_by_seller_sku(shop, sku) is None

    image = await c.upload_image(shop, jpeg_bytes())
    for kind in ("5xx", "drop"):
        sandbox_clean.faults("lazada", next=[kind])
        with pytest.raises(RetryableError) as failed:
            await c.create_item(shop, product(sku, image_ids=(image.image_id,)))
        assert failed.value.outcome_unknown, kind
    assert sku not in sandbox_clean.state.inspection()["lazada"][SHOP]

    sandbox_clean.faults("lazada", next=["timeout_after_write"], timeout_delay_s=2.8)
    with pytest.raises(RetryableError) as timed_out:
        await c.create_item(shop, product(sku, image_ids=(image.image_id,)))
    assert timed_out.value.outcome_unknown
    assert await c.find_by_seller_sku(shop, sku) is not None
    assert len(sandbox_clean.state.inspection()["lazada"][SHOP][sku]) == 1

    sandbox_clean.faults("lazada", next=["expired_token"])
    with pytest.raises(AuthExpiredError) as expired:
        await c.find_by_seller_sku(shop, sku)
    assert expired.value.code == "IllegalAccessToken"


async def test_bad_credentials_are_permanent(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    app = sandbox_clean.app("lazada")
    bad_sign = LazadaClient(AppCredentials("lazada", app.app_key, "wrong"), http, sandbox_clean.url("lazada"))
    with pytest.raises(PermanentError) as e1:
        await bad_sign.exchange_code("x")
    assert e1.value.code == "IncompleteSignature"
    bad_app = LazadaClient(AppCredentials("lazada", "999", app.app_secret), http, sandbox_clean.url("lazada"))
    with pytest.raises(PermanentError) as e2:
        await bad_app.exchange_code("x")
    assert e2.value.code == "InvalidAppKey"
    with pytest.raises(AuthExpiredError):
        await client(sandbox_clean, http).find_by_seller_sku(ShopCredentials(SHOP, "nope"), "X")
