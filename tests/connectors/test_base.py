"""connectors.base: window splitting, secret-free reprs, refresh-then-retry-once against the sandbox."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from connectors.base import (
    AppCredentials,
    AuthExpiredError,
    ShopCredentials,
    TokenSet,
    split_window,
)
from connectors.http import SharedHttp
from connectors.registry import get_client, marketplaces
from tests.connectors.conftest import Sandbox
from tests.connectors.helpers import grant


def test_split_window_caps_each_request() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    parts = split_window(t0, t0 + timedelta(days=40), timedelta(days=15))
    assert [(b - a).days for a, b in parts] == [15, 15, 10]
    assert parts[0][0] == t0 and parts[-1][1] == t0 + timedelta(days=40)
    assert all(parts[i][1] == parts[i + 1][0] for i in range(len(parts) - 1))
    assert split_window(t0, t0, timedelta(days=1)) == []


def test_reprs_hide_secrets() -> None:
    app = AppCredentials("shopee", "1", "SECRET-KEY")
    shop = ShopCredentials("9", "ACCESS-TOK", "REFRESH-TOK")
    tokens = TokenSet("ACCESS-TOK", "REFRESH-TOK", datetime.now(timezone.utc), None, "9")
    for text in (repr(app), repr(shop), repr(tokens), str([app, shop, tokens])):
        assert "SECRET-KEY" not in text and "ACCESS-TOK" not in text and "REFRESH-TOK" not in text


def test_registry_knows_the_four_marketplaces() -> None:
    assert marketplaces() == ("shopee", "lazada", "tiktok", "tiki")
    with pytest.raises(ValueError):
        get_client("amazon", AppCredentials("amazon", "k", "s"), SharedHttp(), None)


@pytest.mark.parametrize("marketplace,shop_id", [("shopee", "14701711"), ("lazada", "200170001")])
async def test_an_expired_token_is_refreshed_into_a_new_pair_that_works(
    sandbox_clean: Sandbox, http: SharedHttp, marketplace: str, shop_id: str
) -> None:
    """What ``ocop.marketplace.runtime.MarketRuntime.with_fresh_token`` relies on: the client maps
    the marketplace's "expired" answer to ``AuthExpiredError`` and its refresh gives a working pair."""
    client = get_client(marketplace, sandbox_clean.app(marketplace), http, sandbox_clean.url(marketplace))
    answer = grant(client.authorize_url("http://127.0.0.1:9/cb"), shop_id)
    shop = (await client.exchange_code(answer["code"], answer.get("shop_id"))).shop()

    sandbox_clean.faults(marketplace, next=["expired_token"])
    with pytest.raises(AuthExpiredError):
        await client.find_by_seller_sku(shop, "NONE")
    tokens = await client.refresh_token(shop)
    assert tokens.access_token != shop.access_token
    assert await client.find_by_seller_sku(tokens.shop(), "NONE") is None
