"""Connecting a shop through each marketplace's real authorization flow (sandbox consent page)."""

from __future__ import annotations

import pytest

from ocop.marketplace import shops
from ocop.marketplace.shops import ShopConnectError, sign_state, verify_state
from ocop.marketplace.tables import Shop
from tests.ocop.marketplace.conftest import connect_shop, make_producer


@pytest.mark.parametrize("marketplace", ["shopee", "lazada", "tiktok", "tiki"])
async def test_connect_stores_encrypted_tokens_that_work(db, rt, marketplace: str) -> None:
    producer = await make_producer()
    shop = await connect_shop(rt, producer, marketplace)
    row = await Shop.select().where(Shop.id == shop.id).first()
    assert row["status"] == "connected" and row["producer"] == producer
    creds = shops.credentials(shop, rt.cipher)
    assert creds.access_token and creds.access_token not in row["access_token_enc"]
    assert creds.refresh_token not in row["refresh_token_enc"]
    # the stored token is usable: a shop-level call succeeds
    assert await rt.env.client(marketplace).find_by_seller_sku(creds, "NOPE-404") is None
    # refresh rotates the tokens
    assert await shops.refresh(rt.env, rt.cipher, shop)
    assert shops.credentials(shop, rt.cipher).refresh_token != creds.refresh_token


async def test_refresh_refused_marks_shop_needs_reauth(db, rt, sandbox) -> None:
    producer = await make_producer()
    shop = await connect_shop(rt, producer, "shopee")
    stale = Shop(**{**shop.to_dict()})  # a copy holding the soon-rotated refresh token
    stale._exists_in_db = True
    assert await shops.refresh(rt.env, rt.cipher, shop)
    assert await shops.refresh(rt.env, rt.cipher, shop)  # the successor pair is used: no grace left
    assert not await shops.refresh(rt.env, rt.cipher, stale)  # the old refresh token stopped working
    row = await Shop.select(Shop.status).where(Shop.id == shop.id).first()
    assert row["status"] == "needs_reauth"


def test_state_is_signed_bound_to_marketplace_and_expires() -> None:
    state = sign_state("k", 7, "shopee", now=1000)
    assert verify_state("k", state, "shopee", now=1001) == 7
    for bad in (lambda: verify_state("other", state, "shopee", now=1001),
                lambda: verify_state("k", state, "lazada", now=1001),
                lambda: verify_state("k", state, "shopee", now=1000 + 3600),
                lambda: verify_state("k", state.replace(".", ".x"), "shopee", now=1001)):
        with pytest.raises(ShopConnectError):
            bad()


async def test_a_shop_cannot_be_moved_to_another_producer(db, rt) -> None:
    first = await make_producer("0100109106", "A")
    second = await make_producer("4100259564", "B")
    await connect_shop(rt, first, "lazada")
    with pytest.raises(ShopConnectError) as err:
        await connect_shop(rt, second, "lazada")
    assert err.value.code == "shop_taken"


async def test_a_lost_refresh_answer_can_be_retried(db, rt, sandbox) -> None:
    """The refresh call timed out after the marketplace rotated the tokens: retrying with the
    stored (old) refresh token within the reuse window gets the same new pair, the shop stays
    connected."""
    producer = await make_producer()
    shop = await connect_shop(rt, producer, "lazada")
    sandbox.faults("lazada", next=["timeout_after_write"], timeout_delay_s=3.0)
    from connectors.base import RetryableError

    with pytest.raises(RetryableError):
        await shops.refresh(rt.env, rt.cipher, shop)
    fresh = await Shop.objects().where(Shop.id == shop.id).first()
    assert await shops.refresh(rt.env, rt.cipher, fresh)
    assert fresh.status == "connected"
