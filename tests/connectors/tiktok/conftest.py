"""TikTok fixtures on top of the shared sandbox (tests/connectors/conftest.py)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image

from connectors.base import ProductInput, ShopCredentials
from connectors.http import RetryPolicy, SharedHttp
from connectors.tiktok.client import TikTokClient

SHOP = "7494001"
ORDER_SHOP = "7494002"


def jpeg(size: int = 400, colour: tuple[int, int, int] = (200, 150, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buf, "JPEG")
    return buf.getvalue()


def product(sku: str, **kw: object) -> ProductInput:
    base: dict[str, object] = dict(
        seller_sku=sku,
        name="Hạt điều rang muối Bình Phước hũ 500 g",
        description="Hạt điều loại A.",
        price_vnd=165000,
        stock=20,
        weight_g=600,
        length_cm=10,
        width_cm=10,
        height_cm=12,
        ocop_stars=4,
        certificate_number="77/QĐ-UBND",
        ocop_group=1,
        image_ids=(),
    )
    base.update(kw)
    return ProductInput(**base)  # type: ignore[arg-type]


@pytest.fixture
def client(sandbox, http: SharedHttp) -> TikTokClient:  # type: ignore[no-untyped-def]
    return TikTokClient(sandbox.app("tiktok"), http, sandbox.url("tiktok"))


@pytest.fixture
async def one_shot_http() -> AsyncIterator[SharedHttp]:
    """No retries: the first typed outcome surfaces (to check each fault's mapping)."""
    shared = SharedHttp(
        client=httpx.AsyncClient(timeout=httpx.Timeout(0.6, connect=2.0)),
        retry=RetryPolicy(max_attempts=1, backoff_base=0.0, backoff_max=0.0, max_retry_after=0.0),
    )
    try:
        yield shared
    finally:
        await shared.aclose()


async def authorize(client: TikTokClient, sandbox, shop_id: str = SHOP) -> ShopCredentials:  # type: ignore[no-untyped-def]
    code = sandbox.state.issue_code("tiktok", client.app.app_key, shop_id)
    return (await client.exchange_code(code)).shop()
