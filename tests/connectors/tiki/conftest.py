"""Tiki fixtures on top of the shared sandbox (tests/connectors/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from connectors.base import ProductInput, ShopCredentials
from connectors.http import RetryPolicy, SharedHttp
from connectors.tiki.client import TikiClient

SHOP = "300001"
ORDER_SHOP = "300002"


def product(sku: str, **kw: object) -> ProductInput:
    base: dict[str, object] = dict(
        seller_sku=sku,
        name="Cà phê Robusta rang mộc Gia Lai 500 g",
        description="Hạt chọn lọc, rang mộc.",
        price_vnd=120000,
        stock=25,
        weight_g=500,
        length_cm=10,
        width_cm=6,
        height_cm=18,
        ocop_stars=4,
        certificate_number="312/QĐ-UBND",
        ocop_group=2,
        image_ids=("https://media.ocop.example/r/abc/tiki.jpg", "https://media.ocop.example/r/def/tiki.jpg"),
    )
    base.update(kw)
    return ProductInput(**base)  # type: ignore[arg-type]


@pytest.fixture
def client(sandbox, http: SharedHttp) -> TikiClient:  # type: ignore[no-untyped-def]
    return TikiClient(sandbox.app("tiki"), http, sandbox.url("tiki"))


@pytest.fixture
async def one_shot(sandbox) -> AsyncIterator[TikiClient]:  # type: ignore[no-untyped-def]
    """No retries: the first typed outcome surfaces."""
    shared = SharedHttp(
        client=httpx.AsyncClient(timeout=httpx.Timeout(0.6, connect=2.0)),
        retry=RetryPolicy(max_attempts=1, backoff_base=0.0, backoff_max=0.0, max_retry_after=0.0),
    )
    try:
        yield TikiClient(sandbox.app("tiki"), shared, sandbox.url("tiki"))
    finally:
        await shared.aclose()


async def authorize(client: TikiClient, sandbox, shop_id: str = SHOP) -> ShopCredentials:  # type: ignore[no-untyped-def]
    code = sandbox.state.issue_code("tiki", client.app.app_key, shop_id)
    return (await client.exchange_code(code)).shop()
