"""TikTokClient against the sandbox over real HTTP on 127.0.0.1 (no mocked transport)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.base import (
    AppCredentials,
    AuthExpiredError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from connectors.sandbox.tiktok import cipher_for
from connectors.tiktok.client import TikTokClient
from connectors.tiktok.signing import sign_request

from .conftest import ORDER_SHOP, SHOP, authorize, jpeg, product


async def test_consent_page_code_exchange_and_shop_cipher(sandbox_clean, client: TikTokClient) -> None:
    url = client.authorize_url("http://127.0.0.1:9/cb", state="st-1234567")
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url)
        assert page.status_code == 200 and "7494001" in page.text
        query = parse_qs(urlsplit(url).query)
        form = {"shop_id": SHOP, "query": "&".join(f"{k}={v[0]}" for k, v in query.items())}
        back = await browser.post(url.split("?")[0], data=form)
    assert back.status_code == 302
    params = parse_qs(urlsplit(back.headers["location"]).query)
    assert params["state"] == ["st-1234567"]
    tokens = await client.exchange_code(params["code"][0])
    assert tokens.shop_id == SHOP
    assert tokens.extra["shop_cipher"] == cipher_for(SHOP)
    assert tokens.access_expires_at > datetime.now(UTC) + timedelta(minutes=50)
    with pytest.raises(PermanentError):  # a code is single-use
        await client.exchange_code(params["code"][0])


async def test_refresh_rotates_and_old_refresh_token_dies(sandbox_clean, client: TikTokClient) -> None:
    shop = await authorize(client, sandbox_clean)
    fresh = await client.refresh_token(shop)
    assert fresh.access_token != shop.access_token and fresh.refresh_token != shop.refresh_token
    assert fresh.extra["shop_cipher"] == shop.extra["shop_cipher"]
    assert await client.category_tree(fresh.shop())  # the new token works
    with pytest.raises(PermanentError):
        await client.refresh_token(shop)


async def test_item_lifecycle(sandbox_clean, client: TikTokClient) -> None:
    shop = await authorize(client, sandbox_clean)
    image = await client.upload_image(shop, jpeg(), "main.jpg")
    assert image.image_id and image.url.endswith(".jpg")
    sku = f"TT-LIFE-{time.time_ns()}"
    assert await client.find_by_seller_sku(shop, sku) is None
    ref = await client.create_item(shop, product(sku, image_ids=(image.image_id,)))
    assert ref.state == "in_review"

    found = await client.find_by_seller_sku(shop, sku)
    assert found is not None and found.external_id == ref.external_id
    assert (await client.item_status(shop, ref.external_id)).state == "live"  # review_seconds=0

    await client.update_item(
        shop,
        ref.external_id,
        product(sku, name="Hạt điều rang muối loại A hũ 500 g", image_ids=(image.image_id,)),
    )
    await client.update_price_stock(shop, ref.external_id, sku, 170000, 7)
    (item,) = sandbox_clean.state.items_by_sku("tiktok", SHOP, sku)
    assert (item.name, item.price_vnd, item.stock) == ("Hạt điều rang muối loại A hũ 500 g", 170000, 7)

    await client.unlist(shop, ref.external_id, sku)
    status = await client.item_status(shop, ref.external_id)
    assert status.state == "unlisted" and status.raw_status == "SELLER_DEACTIVATED"
    assert len(sandbox_clean.admin("GET", "/items")["tiktok"][SHOP][sku]) == 1


async def test_review_rejection_carries_reason(sandbox_clean, client: TikTokClient) -> None:
    shop = await authorize(client, sandbox_clean)
    image = await client.upload_image(shop, jpeg(colour=(10, 120, 30)))
    sku = f"TT-REJ-{time.time_ns()}"
    ref = await client.create_item(
        shop, product(sku, description="Mật ong thần dược chữa bệnh dạ dày.", image_ids=(image.image_id,))
    )
    status = await client.item_status(shop, ref.external_id)
    assert status.state == "rejected" and status.raw_status == "FAILED"
    assert status.reason is not None and "chữa bệnh" in status.reason


async def test_mapping_refusals_reach_the_platform_rules(sandbox_clean, client: TikTokClient) -> None:
    shop = await authorize(client, sandbox_clean)
    with pytest.raises(PermanentError):  # an image uri never uploaded
        await client.create_item(shop, product(f"TT-BAD-{time.time_ns()}", image_ids=("nope",)))
    with pytest.raises(PermanentError):  # not an image at all
        await client.upload_image(shop, b"not an image")


async def test_orders_windows_pagination_and_detail(sandbox_clean, client: TikTokClient) -> None:
    shop = await authorize(client, sandbox_clean, ORDER_SHOP)
    now = time.time()
    since = now - 40 * 86400
    made = sandbox_clean.admin(
        "POST",
        "/orders",
        {
            "marketplace": "tiktok",
            "shop_id": ORDER_SHOP,
            "count": 130,
            "since": since,
            "until": since + 86400,
        },
    )["order_ids"]
    start = datetime.fromtimestamp(since - 60, UTC)
    refs = [r async for r in client.orders_in_window(shop, start, datetime.now(UTC) + timedelta(seconds=5))]
    ids = [r.order_id for r in refs]
    assert len(ids) == len(set(ids))  # overlapping windows/pages never repeat an order
    assert set(made) <= set(ids)
    log = [p for m, _, p in sandbox_clean.state.request_log if m == "tiktok" and p.endswith("/orders/search")]
    assert len(log) >= 4  # 40+ days cut into ≤15-day windows, and one window needs two pages
    # A window that ends before the orders were updated holds none of them.
    early = [r async for r in client.orders_in_window(shop, start - timedelta(days=3), start)]
    assert not set(made) & {r.order_id for r in early}

    details = await client.order_detail(shop, made[:60])  # two requests of ≤ 50 ids
    assert {o.order_id for o in details} == set(made[:60])
    one = details[0]
    assert one.lines and all(line.quantity >= 1 for line in one.lines)
    assert one.total_vnd >= sum(line.total_vnd for line in one.lines)
    assert one.status in ("completed", "cancelled")


async def test_categories_and_attributes_are_cached(sandbox_clean, client: TikTokClient) -> None:
    shop = await authorize(client, sandbox_clean)
    tree = await client.category_tree(shop)
    leaves = [c for c in tree if c.leaf]
    assert leaves and all(c.parent_id for c in leaves)
    attrs = await client.required_attributes(shop, leaves[0].category_id)
    assert any(a.required for a in attrs)
    before = len(sandbox_clean.state.request_log)
    await client.category_tree(shop)
    await client.required_attributes(shop, leaves[0].category_id)
    assert len(sandbox_clean.state.request_log) == before


# ------------------------------------------------------------------ faults → typed outcomes


@pytest.fixture
async def one_shot(sandbox, one_shot_http) -> TikTokClient:  # type: ignore[no-untyped-def]
    return TikTokClient(sandbox.app("tiktok"), one_shot_http, sandbox.url("tiktok"))


async def test_429_is_rate_limited_with_retry_after(
    sandbox_clean, one_shot: TikTokClient, client: TikTokClient
) -> None:
    shop = await authorize(one_shot, sandbox_clean)
    sandbox_clean.faults("tiktok", next=["429"], retry_after_s=2)
    with pytest.raises(RateLimitedError) as info:
        await one_shot.item_status(shop, "1")
    assert info.value.code == "36009002" and info.value.retry_after == 2
    sandbox_clean.faults("tiktok", next=["429"], retry_after_s=0)
    assert await client.find_by_seller_sku(shop, "none-such") is None  # the shared layer waits and retries


async def test_5xx_on_read_is_retryable_and_on_write_outcome_unknown(
    sandbox_clean, one_shot: TikTokClient
) -> None:
    shop = await authorize(one_shot, sandbox_clean)
    sandbox_clean.faults("tiktok", next=["5xx"])
    with pytest.raises(RetryableError) as read:
        await one_shot.find_by_seller_sku(shop, "x")
    assert not read.value.outcome_unknown and read.value.code == "36009003"
    image = await one_shot.upload_image(shop, jpeg(colour=(1, 2, 3)))
    sandbox_clean.faults("tiktok", next=["5xx"])
    with pytest.raises(RetryableError) as write:
        await one_shot.create_item(shop, product(f"TT-5XX-{time.time_ns()}", image_ids=(image.image_id,)))
    assert write.value.outcome_unknown


async def test_dropped_connection_on_write_is_outcome_unknown(sandbox_clean, one_shot: TikTokClient) -> None:
    shop = await authorize(one_shot, sandbox_clean)
    image = await one_shot.upload_image(shop, jpeg(colour=(4, 5, 6)))
    sandbox_clean.faults("tiktok", next=["drop"])
    with pytest.raises(RetryableError) as info:
        await one_shot.create_item(shop, product(f"TT-DROP-{time.time_ns()}", image_ids=(image.image_id,)))
    assert info.value.outcome_unknown


async def test_timeout_after_write_then_the_sku_finds_the_item(sandbox_clean, one_shot: TikTokClient) -> None:
    shop = await authorize(one_shot, sandbox_clean)
    image = await one_shot.upload_image(shop, jpeg(colour=(7, 8, 9)))
    sku = f"TT-TIMEOUT-{time.time_ns()}"
    sandbox_clean.faults("tiktok", next=["timeout_after_write"], timeout_delay_s=1.2)
    with pytest.raises(RetryableError) as info:
        await one_shot.create_item(shop, product(sku, image_ids=(image.image_id,)))
    assert info.value.outcome_unknown
    found = await one_shot.find_by_seller_sku(shop, sku)  # the write did happen: adopt, do not recreate
    assert found is not None
    assert len(sandbox_clean.state.items_by_sku("tiktok", SHOP, sku)) == 1


async def test_expired_token_then_refresh_and_retry(sandbox_clean, client: TikTokClient) -> None:
    shop = await authorize(client, sandbox_clean)
    sandbox_clean.faults("tiktok", next=["expired_token"])
    with pytest.raises(AuthExpiredError) as info:
        await client.find_by_seller_sku(shop, "x")
    assert info.value.code == "105002"
    with pytest.raises(AuthExpiredError):  # the token really is dead now
        await client.find_by_seller_sku(shop, "x")
    fresh = (await client.refresh_token(shop)).shop()
    assert await client.find_by_seller_sku(fresh, "x") is None


async def test_wrong_secret_is_a_permanent_bad_sign(sandbox_clean, client: TikTokClient, http) -> None:  # type: ignore[no-untyped-def]
    shop = await authorize(client, sandbox_clean)
    app = client.app
    wrong = TikTokClient(
        AppCredentials("tiktok", app.app_key, app.app_secret + "x"), http, sandbox_clean.url("tiktok")
    )
    with pytest.raises(PermanentError) as info:
        await wrong.find_by_seller_sku(shop, "x")
    assert info.value.code == "106001"


# ------------------------------------------------------------------ the sandbox signs raw bytes


async def test_sandbox_verifies_raw_body_bytes_not_reserialized_json(
    sandbox_clean, client: TikTokClient
) -> None:
    shop = await authorize(client, sandbox_clean)
    path = "/product/202309/products/search"
    odd = b'{\n   "status" :  "ALL" ,\n\t"seller_skus":[ "NO-SUCH-SKU" ]   }'
    compact = json.dumps(json.loads(odd), separators=(",", ":"), sort_keys=True).encode()
    assert compact != odd
    query = {
        "app_key": client.app.app_key,
        "timestamp": str(int(time.time())),
        "shop_cipher": shop.extra["shop_cipher"],
        "page_size": "10",
    }
    headers = {"x-tts-access-token": shop.access_token, "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=sandbox_clean.url("tiktok")) as raw:
        good = await raw.post(
            path,
            params={**query, "sign": sign_request(client.app.app_secret, path, query, odd)},
            content=odd,
            headers=headers,
        )
        assert good.status_code == 200 and good.json()["code"] == 0
        assert good.json()["data"]["products"] == []
        bad = await raw.post(
            path,
            params={**query, "sign": sign_request(client.app.app_secret, path, query, compact)},
            content=odd,
            headers=headers,
        )
        assert bad.status_code == 401 and bad.json()["code"] == 106001
        stale = {**query, "timestamp": str(int(time.time()) - 3600)}
        old = await raw.post(
            path,
            params={**stale, "sign": sign_request(client.app.app_secret, path, stale, odd)},
            content=odd,
            headers=headers,
        )
        assert old.json()["code"] == 36009004 and "timestamp" in old.json()["message"]


async def test_registry_gives_a_protocol_client_on_the_sandbox(sandbox_clean, http) -> None:  # type: ignore[no-untyped-def]
    from connectors.base import MarketplaceClient
    from connectors.registry import get_client

    client = get_client("tiktok", sandbox_clean.app("tiktok"), http, sandbox_clean.url("tiktok"))
    assert isinstance(client, MarketplaceClient) and isinstance(client, TikTokClient)
    shop = await authorize(client, sandbox_clean)  # type: ignore[arg-type]
    assert shop.extra["warehouse_id"]
