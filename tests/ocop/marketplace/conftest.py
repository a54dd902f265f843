"""Publishing tests run against the real sandbox marketplace over HTTP on 127.0.0.1, a real Redis
and real arq workers; nothing is mocked."""

from __future__ import annotations

import html
import io
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from arq.connections import ArqRedis, create_pool
from PIL import Image as PILImage

from connectors.http import RetryPolicy
from ocop.catalog.tables import Certificate, Image, Product
from ocop.jobs.queue import redis_settings
from ocop.assembly import WORKER
from ocop.jobs.worker import build_worker
from ocop.marketplace import shops
from ocop.marketplace.runtime import MarketRuntime, build_runtime
from ocop.marketplace.sandbox import start_embedded_sandbox
from ocop.marketplace.tables import Shop
from ocop.producers.tables import Producer
from ocop.settings import Settings
from ocop.storage import media_store
from tests.support.servers import sandbox_port

TEST_SECRET = "test-secret-key-0123456789abcdef"


@dataclass
class Sandbox:
    base_url: str
    state: Any

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        r = httpx.request(method, f"{self.base_url}/_admin{path}", json=json, timeout=10)
        r.raise_for_status()
        return r.json()

    def faults(self, marketplace: str, **cfg: Any) -> None:
        self.admin("PUT", f"/faults/{marketplace}", cfg)

    def review(self, seconds: float = 0.0, rejection_share: float = 0.0) -> None:
        self.admin("POST", "/review", {"review_seconds": seconds, "rejection_share": rejection_share})

    def reset(self) -> None:
        for key in ("*", "shopee", "lazada", "tiktok", "tiki"):
            self.faults(key)
        self.review()

    def items(self) -> dict[str, Any]:
        return self.admin("GET", "/items")


@pytest.fixture(scope="session")
def market_sandbox() -> Iterator[Sandbox]:
    settings = Settings(secret_key=TEST_SECRET, sandbox_port=sandbox_port())
    url, stop, state = start_embedded_sandbox(settings, review_seconds=0.0, rejection_share=0.0,
                                              orders_per_hour=0.0, access_token_ttl_s=3600)
    try:
        yield Sandbox(url, state)
    finally:
        stop()


@pytest.fixture
def sandbox(market_sandbox: Sandbox) -> Iterator[Sandbox]:
    market_sandbox.reset()
    yield market_sandbox
    market_sandbox.reset()


@pytest.fixture
def settings(tmp_path: Path, sandbox: Sandbox) -> Settings:
    return Settings(var_dir=tmp_path / "var", secret_key=TEST_SECRET, sandbox=True, sandbox_url=sandbox.base_url,
                    base_url="http://127.0.0.1:8000", api_rate_per_min=0)  # the limit: tests/ocop/web/test_ratelimit.py


@pytest.fixture
async def rt(settings: Settings) -> AsyncIterator[MarketRuntime]:
    runtime = build_runtime(settings, timeout_s=2.0)
    runtime.env.http.retry = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_max=0.05, max_retry_after=3)
    try:
        yield runtime
    finally:
        await runtime.aclose()


@pytest.fixture
async def arq_redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(redis_settings(redis_url))
    await pool.flushall()
    try:
        yield pool
    finally:
        await pool.aclose()


async def run_worker_burst(settings: Settings, redis_url: str, rt: MarketRuntime, *, max_jobs: int = 10) -> Any:
    """Run every queued job (and the retries they schedule) to completion with a real arq worker."""
    worker = build_worker(settings, redis_url, plan=WORKER, burst=True, handle_signals=False, ctx={"market": rt})
    # The queued jobs only, not the clock's: a cron falling due mid-burst (order history every
    # minute, status and orders every quarter hour) would call the shared sandbox behind the
    # test's back and take the faults it forces.
    worker.cron_jobs = []
    worker.max_jobs = max_jobs
    worker.poll_delay_s = 0.05
    try:
        await worker.main()
    finally:
        await worker.close()
    return worker


def consent(authorize_url: str) -> dict[str, str]:
    """Act as the seller on the sandbox consent page: pick the first shop, grant, and return the
    query of the redirect back to us (code, shop_id, state)."""
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        page = client.get(authorize_url)
        assert page.status_code == 200, page.text
        form = re.search(r"<form([^>]*)>(.*?)</form>", page.text, re.S)
        assert form, page.text
        action = re.search(r"""action=['"]([^'"]+)['"]""", form.group(1))
        inputs = re.findall(r"""<input[^>]*type=['"](hidden|radio)['"][^>]*name=['"]([^'"]+)['"][^>]*value=['"]([^'"]*)['"]""",
                            form.group(2))
        fields: dict[str, str] = {}
        for kind, name, value in inputs:
            if kind == "hidden" or name not in fields:
                fields[name] = html.unescape(value)
        target = urljoin(str(page.url), html.unescape(action.group(1))) if action else str(page.url)
        done = client.post(target, data=fields)
        assert done.status_code in (302, 303), done.text
        query = parse_qs(urlsplit(done.headers["location"]).query)
        return {k: v[0] for k, v in query.items()}


async def connect_shop(rt: MarketRuntime, producer_id: int, marketplace: str) -> Shop:
    url = shops.authorize_url(rt.env, rt.settings.resolved_secret_key(), producer_id, marketplace)
    back = consent(url)
    return await shops.complete_authorization(rt.env, rt.cipher, rt.settings.resolved_secret_key(), marketplace,
                                              code=back["code"], state=back["state"], shop_id=back.get("shop_id"))


def jpeg(size: int = 800, colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (size, size), colour).save(buf, "JPEG", quality=85)
    return buf.getvalue()


async def make_product(settings: Settings, producer_id: int, sku: str, *, name: str = "Nước mắm Gò Bồi",
                       price: int = 95000, with_image: bool = True) -> int:
    product = Product(producer=producer_id, sku=sku, name=name, name_folded=name.lower(), ocop_group=1,
                      description="Nước mắm truyền thống ủ chượp 12 tháng.", unit="chai", net_quantity="500 ml",
                      weight_g=800, length_mm=70, width_mm=70, height_mm=250, price_vnd=price, stock=100,
                      status="active")
    await product.save()
    await Certificate(product=product.id, stars=4, decision_number="987/QĐ-UBND",
                      issuing_body="UBND tỉnh Gia Lai").save()
    if with_image:
        key = await media_store(settings).put(jpeg())
        rendition = {"key": key, "width": 800, "height": 800, "bytes": 1}
        await Image(product=product.id, position=0, original_key=key, status="ready",
                    renditions={m: rendition for m in ("shopee", "lazada", "tiktok", "tiki")}).save()
    return product.id


async def make_products(settings: Settings, producer_id: int, count: int, sku_prefix: str,
                        markets: tuple[str, ...]) -> list[int]:
    """``count`` publishable products sharing one photo, inserted in bulk (chaos and crash runs)."""
    key = await media_store(settings).put(jpeg())
    rendition = {"key": key, "width": 800, "height": 800, "bytes": 1}
    await Product.insert(*[Product(
        producer=producer_id, sku=f"{sku_prefix}{n:04d}", name=f"Đặc sản thử nghiệm {n}", name_folded=f"dac san {n}",
        ocop_group=1 + n % 5, description="Sản phẩm OCOP thử nghiệm.", unit="hộp", weight_g=500, length_mm=200,
        width_mm=150, height_mm=80, price_vnd=50000 + n * 100, stock=10, status="active") for n in range(count)])
    ids = [p["id"] for p in await Product.select(Product.id).where(Product.producer == producer_id)
           .order_by(Product.id)][-count:]
    await Certificate.insert(*[Certificate(product=i, stars=3 + i % 3, decision_number="1/QĐ-UBND") for i in ids])
    await Image.insert(*[Image(product=i, original_key=key, status="ready", renditions={m: rendition for m in markets})
                         for i in ids])
    return ids


async def make_producer(tax_code: str = "0100109106", name: str = "HTX Gò Bồi") -> int:
    producer = Producer(kind="htx", legal_name=name, name_folded=name.lower(), tax_code=tax_code)
    await producer.save()
    return producer.id
