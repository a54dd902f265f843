"""In Chromium against the whole service (embedded Redis, in-process worker, in-process sandbox):
a producer connects a Shopee shop through the marketplace's consent page and publishes a product.
This caught a real bug: a connect *form* was redirected off-site, which our own CSP
(``form-action 'self'``) rightly blocks in a browser."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from ocop.marketplace.tables import Listing, Shop
from ocop.settings import Settings
from tests.ocop.marketplace.conftest import make_product
from tests.ocop.web.support import make_producer, make_user
from tests.support.servers import app_server, free_port, sandbox_port

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
OUT = Path(__file__).resolve().parents[3] / "test-output" / "browser"


@pytest.fixture
def service(db, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    settings = Settings(var_dir=tmp_path / "var", secret_key="browser-market-secret-0123456789", database_url=db.url,
                        sandbox_port=sandbox_port()).listening_on("127.0.0.1", free_port())
    with app_server(settings) as base:
        yield base, settings


@pytest.mark.browser
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_producer_connects_a_shop_and_publishes_in_chromium(db, service) -> None:
    base, settings = service
    producer = await make_producer("HTX Gò Bồi", "0100109106")
    await make_user("goboi", "producer", producer_id=producer)
    product = await make_product(settings, producer, "NM-UI")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = await browser.new_page(viewport={"width": 360, "height": 800})
        await page.goto(f"{base}/login")
        await page.fill("input[name=username]", "goboi")
        await page.fill("input[name=password]", "mat-khau-an-toan-1")
        await page.click("form[action='/login'] button[type=submit]")
        await page.goto(f"{base}/shops")
        await page.click("a[href^='/shops/connect/shopee']")
        await page.wait_for_url(f"http://127.0.0.1:{settings.sandbox_port}/shopee/api/v2/shop/auth_partner**")
        await page.check("input[type=radio]")
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/shops?**")
        await expect(page.get_by_text("Đã kết nối gian hàng.")).to_be_visible()
        shop = await Shop.objects().where(Shop.producer == producer).first()
        assert shop is not None and shop.status == "connected"

        await page.goto(f"{base}/products/{product}/marketplaces")
        await page.check(f"input[name=shop][value='{shop.id}']")
        await page.click(f"form[action='/products/{product}/publish'] button[type=submit]")
        for _ in range(60):  # the in-process worker publishes to the in-process sandbox
            listing = await Listing.objects().where(Listing.product == product).first()
            if listing and listing.state in ("in_review", "live"):
                break
            await asyncio.sleep(0.25)
        assert listing is not None and listing.state in ("in_review", "live"), listing
        await page.reload()
        await expect(page.get_by_text("Sàn đang duyệt").or_(page.get_by_text("Đang bán")).first).to_be_visible()
        OUT.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(OUT / "publish-360.png"), full_page=True)
        await browser.close()
