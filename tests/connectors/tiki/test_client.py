"""TikiClient against the sandbox over real HTTP on 127.0.0.1 (no mocked transport)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.base import AuthExpiredError, PermanentError, RateLimitedError, RetryableError
from connectors.tiki.client import TikiClient

from .conftest import ORDER_SHOP, SHOP, authorize, product


async def test_consent_page_code_exchange_and_refresh(sandbox_clean, client: TikiClient) -> None:
    url = client.authorize_url("http://127.0.0.1:9/callback", state="tiki-state-1")
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url)
        assert page.status_code == 200 and "300001" in page.text
        query = "&".join(f"{k}={v[0]}" for k, v in parse_qs(urlsplit(url).query).items())
        back = await browser.post(url.split("?")[0], data={"shop_id": SHOP, "query": query})
    assert back.status_code == 302
    params = parse_qs(urlsplit(back.headers["location"]).query)
    assert params["state"] == ["tiki-state-1"]
    tokens = await client.exchange_code(params["code"][0])
    assert tokens.shop_id == SHOP and tokens.extra["warehouse_id"] == "1034"
    assert tokens.access_expires_at > datetime.now(UTC) + timedelta(minutes=50)
    with pytest.raises(PermanentError):  # single-use code → invalid_grant
        await client.exchange_code(params["code"][0])

    fresh = await client.refresh_token(tokens.shop())
    assert fresh.refresh_token and fresh.refresh_token != tokens.refresh_token
    assert fresh.shop_id == SHOP and fresh.extra == tokens.extra
    with pytest.raises(PermanentError):  # the old refresh token is spent
        await client.refresh_token(tokens.shop())
    assert await client.category_tree(fresh.shop())


async def test_request_review_approval_and_sku_updates(sandbox_clean, client: TikiClient) -> None:
    shop = await authorize(client, sandbox_clean)
    sku = f"TK-LIFE-{time.time_ns()}"
    sandbox_clean.admin("POST", "/review", {"review_seconds": 30.0})
    ref = await client.create_item(shop, product(sku))
    assert ref.state == "in_review" and not ref.external_id.isdigit()  # a track id
    pending = await client.item_status(shop, ref.external_id)
    assert pending.state == "in_review" and pending.raw_status == "awaiting_approve"
    found = await client.find_by_seller_sku(shop, sku)
    assert found is not None and found.external_id == ref.external_id and found.state == "in_review"

    sandbox_clean.admin("POST", "/review", {"review_seconds": 0.0})
    (item,) = sandbox_clean.state.items_by_sku("tiki", SHOP, sku)
    item.review_at = 0  # the reviewer finishes now
    status = await client.item_status(shop, ref.external_id)
    assert status.state == "live"  # approved and auto-activated (meta_data.is_auto_turn_on)
    adopted = await client.find_by_seller_sku(shop, sku)
    assert adopted is not None and adopted.external_id.isdigit() and adopted.state == "live"

    await client.update_price_stock(shop, adopted.external_id, sku, 135000, 9)
    assert (item.price_vnd, item.stock) == (135000, 9)
    await client.update_item(
        shop, ref.external_id, product(sku, name="Cà phê Robusta rang mộc loại 1", price_vnd=140000)
    )
    assert item.name == "Cà phê Robusta rang mộc loại 1" and item.price_vnd == 140000
    await client.unlist(shop, adopted.external_id)
    assert (await client.item_status(shop, adopted.external_id)).state == "unlisted"
    assert len(sandbox_clean.admin("GET", "/items")["tiki"][SHOP][sku]) == 1


async def test_rejected_request_carries_reason(sandbox_clean, client: TikiClient) -> None:
    shop = await authorize(client, sandbox_clean)
    sandbox_clean.admin("POST", "/review", {"rejection_share": 1.0})
    ref = await client.create_item(shop, product(f"TK-REJ-{time.time_ns()}"))
    status = await client.item_status(shop, ref.external_id)
    assert status.state == "rejected" and status.raw_status == "rejected"
    assert status.reason and len(status.reason) > 10
    with pytest.raises(PermanentError):  # a rejected request cannot be changed: make a new one
        await client.update_item(shop, ref.external_id, product("x"))


async def test_validation_errors_are_permanent_with_messages(sandbox_clean, client: TikiClient) -> None:
    shop = await authorize(client, sandbox_clean)
    with pytest.raises(PermanentError) as info:
        await client.create_item(shop, product(f"TK-BAD-{time.time_ns()}", category_id="1"))
    assert "category" in info.value.message
    with pytest.raises(PermanentError):
        await client.upload_image(shop, b"\xff\xd8")  # Tiki takes images by URL only
    image = await client.upload_image(shop, b"\xff\xd8", public_url="https://media.example/a.jpg")
    assert image.image_id == image.url == "https://media.example/a.jpg"


async def test_orders_pages_windows_and_detail(sandbox_clean, client: TikiClient) -> None:
    shop = await authorize(client, sandbox_clean, ORDER_SHOP)
    since = time.time() - 50 * 86400
    made = sandbox_clean.admin(
        "POST",
        "/orders",
        {"marketplace": "tiki", "shop_id": ORDER_SHOP, "count": 120, "since": since, "until": since + 86400},
    )["order_ids"]
    start = datetime.fromtimestamp(since - 60, UTC)
    before = len(sandbox_clean.state.request_log)
    refs = [r async for r in client.orders_in_window(shop, start, datetime.now(UTC))]
    ids = [r.order_id for r in refs]
    assert len(ids) == len(set(ids)) and set(made) <= set(ids)
    calls = [
        p
        for m, _, p in sandbox_clean.state.request_log[before:]
        if m == "tiki" and p == "/integration/v2/orders"
    ]
    assert len(calls) >= 4  # two 30-day windows, one of them three pages of 50
    early = [r async for r in client.orders_in_window(shop, start - timedelta(days=2), start)]
    assert not set(made) & {r.order_id for r in early}

    details = await client.order_detail(shop, made[:5] + ["999999999"])
    assert [o.order_id for o in details] == made[:5]
    for o in details:
        assert o.lines and o.total_vnd >= sum(line.total_vnd for line in o.lines)
        assert all(line.seller_sku for line in o.lines)


async def test_categories_and_attributes(sandbox_clean, client: TikiClient) -> None:
    shop = await authorize(client, sandbox_clean)
    tree = await client.category_tree(shop)
    leaf = next(c for c in tree if c.leaf)
    attrs = await client.required_attributes(shop, leaf.category_id)
    assert {a.attribute_id for a in attrs if a.required} == {"brand", "origin"}


# ------------------------------------------------------------------ faults → typed outcomes


async def test_fault_kinds_map_to_typed_outcomes(sandbox_clean, one_shot: TikiClient) -> None:
    shop = await authorize(one_shot, sandbox_clean)
    sandbox_clean.faults("tiki", next=["429"], retry_after_s=2)
    with pytest.raises(RateLimitedError) as limited:
        await one_shot.category_tree(shop)
    assert limited.value.retry_after == 2

    sandbox_clean.faults("tiki", next=["5xx"])
    with pytest.raises(RetryableError) as read:
        await one_shot.find_by_seller_sku(shop, "x")
    assert not read.value.outcome_unknown

    sandbox_clean.faults("tiki", next=["5xx"])
    with pytest.raises(RetryableError) as write:
        await one_shot.create_item(shop, product(f"TK-5XX-{time.time_ns()}"))
    assert write.value.outcome_unknown

    sandbox_clean.faults("tiki", next=["drop"])
    with pytest.raises(RetryableError) as dropped:
        await one_shot.create_item(shop, product(f"TK-DROP-{time.time_ns()}"))
    assert dropped.value.outcome_unknown


async def test_timeout_after_write_then_sku_lookup_adopts(sandbox_clean, one_shot: TikiClient) -> None:
    shop = await authorize(one_shot, sandbox_clean)
    sku = f"TK-TIMEOUT-{time.time_ns()}"
    sandbox_clean.faults("tiki", next=["timeout_after_write"], timeout_delay_s=1.2)
    with pytest.raises(RetryableError) as info:
        await one_shot.create_item(shop, product(sku))
    assert info.value.outcome_unknown
    assert await one_shot.find_by_seller_sku(shop, sku) is not None
    assert len(sandbox_clean.state.items_by_sku("tiki", SHOP, sku)) == 1


async def test_expired_token_is_auth_expired_then_refresh_works(sandbox_clean, client: TikiClient) -> None:
    shop = await authorize(client, sandbox_clean)
    sandbox_clean.faults("tiki", next=["expired_token"])
    with pytest.raises(AuthExpiredError):
        await client.find_by_seller_sku(shop, "x")
    with pytest.raises(AuthExpiredError):
        await client.find_by_seller_sku(shop, "x")
    fresh = (await client.refresh_token(shop)).shop()
    assert await client.find_by_seller_sku(fresh, "x") is None


async def test_bad_client_secret_is_permanent(sandbox_clean, http) -> None:  # type: ignore[no-untyped-def]
    from connectors.base import AppCredentials

    app = sandbox_clean.app("tiki")
    wrong = TikiClient(
        AppCredentials("tiki", app.app_key, "nope", app.redirect_url), http, sandbox_clean.url("tiki")
    )
    code = sandbox_clean.state.issue_code("tiki", app.app_key, SHOP)
    with pytest.raises(PermanentError) as info:
        await wrong.exchange_code(code)
    assert info.value.code == "invalid_client"


async def test_in_house_app_renews_with_client_credentials(sandbox_clean, client: TikiClient) -> None:
    from connectors.base import ShopCredentials

    shop = await authorize(client, sandbox_clean)
    in_house = ShopCredentials(shop_id=shop.shop_id, access_token=shop.access_token, extra=dict(shop.extra))
    renewed = await client.refresh_token(in_house)  # no refresh token: client-credentials grant
    assert renewed.refresh_token == "" and renewed.access_token != shop.access_token
    assert await client.find_by_seller_sku(renewed.shop(), "none") is None


async def test_registry_gives_a_protocol_client_on_the_sandbox(sandbox_clean, http) -> None:  # type: ignore[no-untyped-def]
    from connectors.base import MarketplaceClient
    from connectors.registry import get_client

    client = get_client("tiki", sandbox_clean.app("tiki"), http, sandbox_clean.url("tiki"))
    assert isinstance(client, MarketplaceClient) and isinstance(client, TikiClient)
