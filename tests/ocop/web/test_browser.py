"""Real browser, real server: Debian's Chromium driven by Playwright against uvicorn on 127.0.0.1.

A producer signs up (picking the commune from the HTMX list), adds a product with a photo, finds
it again by an accent-less search; a second producer cannot open it. Screenshots at 360 px and
1280 px wide are written under ``test-output/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from ocop.catalog.tables import Image
from ocop.settings import Settings
from tests.ocop.web.support import GIA_LAI, jpeg
from tests.support.servers import app_server, free_port, sandbox_port

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
OUT = Path(__file__).resolve().parents[3] / "test-output" / "browser"


@pytest.fixture
def live_server(db, tmp_path: Path) -> Iterator[str]:
    """The whole service (embedded Redis + in-process worker) under uvicorn in a thread."""
    settings = Settings(var_dir=tmp_path / "var", secret_key="browser-test-secret-0123456789", database_url=db.url,
                        sandbox_port=sandbox_port()).listening_on("127.0.0.1", free_port())
    with app_server(settings) as base:
        yield base


async def _sign_up(page: Page, base: str, *, name: str, tax: str, user: str, commune_index: int) -> None:
    await page.goto(f"{base}/signup")
    await page.select_option("#f-kind", "htx")
    await page.fill("#f-legal_name", name)
    await page.fill("#f-tax_code", tax)
    await page.fill("#f-phone", "0912 345 678")
    await page.select_option("#f-province_code", str(GIA_LAI))
    await page.wait_for_selector("#f-commune_code:not([disabled])")  # filled by HTMX
    await page.select_option("#f-commune_code", index=commune_index)
    await page.fill("#f-username", user)
    await page.fill("#f-password", "mat-khau-an-toan-1")
    await page.fill("#f-confirm", "mat-khau-an-toan-1")
    await page.click("form[action='/signup'] button[type=submit]")
    await page.wait_for_url(f"{base}/products")


async def _fits_360(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} scrolls sideways at 360 px ({width} px)"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_producer_journey_in_chromium(live_server: str, tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Debian's chromium is required: apt-get install chromium"
    OUT.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "banh-trang.jpg"
    photo.write_bytes(jpeg(900, 700))
    base = live_server
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            phone = await browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
            page = await phone.new_page()
            await _sign_up(
                page, base, name="HTX Bánh tráng Tam Quan", tax="4100259564", user="tamquan", commune_index=2
            )
            await page.screenshot(path=str(OUT / "products-empty-360.png"), full_page=True)

            await page.click("text=Thêm sản phẩm")
            await page.fill("#f-name", "Bánh tráng nước dừa Tam Quan")
            await page.select_option("#f-ocop_group", "1")
            await page.fill("#f-unit", "túi")
            await page.fill("#f-price", "150.000")
            await page.fill("#f-weight", "500")
            await page.select_option("#f-cert_stars", "4")
            await page.fill("#f-cert_issued_on", "15/03/2025")
            await page.screenshot(path=str(OUT / "product-form-360.png"), full_page=True)
            await _fits_360(page)
            await page.click("button[value=save]")
            await page.wait_for_url(f"{base}/products/*")
            product_url = page.url
            assert "150.000 ₫" in await page.content()

            await page.set_input_files("#f-photos", str(photo))
            await page.click("button:has-text('Tải ảnh lên')")
            thumb = page.locator("#photos img").first
            await thumb.wait_for(timeout=20_000)  # HTMX polls until the worker made the renditions
            assert (await thumb.get_attribute("src") or "").endswith("/web_thumb")
            assert await thumb.evaluate("img => img.naturalWidth") == 500
            await page.reload()
            assert "Shopee: thiếu mô tả" in await page.content()
            await page.screenshot(path=str(OUT / "product-360.png"), full_page=True)
            await _fits_360(page)

            await page.goto(f"{base}/products")
            await page.fill("#f-q", "banh trang nuoc")
            await expect(page.locator("#results")).to_contain_text("1 sản phẩm")  # HTMX live search
            assert "Bánh tráng nước dừa Tam Quan" in await page.inner_text("#results")
            await _fits_360(page)
            await page.fill("#f-q", "ca phe")
            await expect(page.locator("#results")).to_contain_text("0 sản phẩm")

            desk = await browser.new_context(viewport={"width": 1280, "height": 900})
            page2 = await desk.new_page()
            await page2.goto(product_url)  # not signed in: the login page, in the browser's language
            assert (
                page2.url.startswith(f"{base}/login?next=/products/") and "Sign in" in await page2.content()
            )
            await _sign_up(
                page2, base, name="HTX Chè Tân Cương", tax="0100109106", user="tancuong", commune_index=3
            )
            response = await page2.goto(product_url)
            assert response is not None and response.status == 404
            assert "Not found" in await page2.content()
            await page2.goto(f"{base}/products")
            assert "Search by name" in await page2.content()  # signed up in English, kept on the account
            await page2.screenshot(path=str(OUT / "products-1280.png"), full_page=True)
            assert "Bánh tráng nước dừa" not in await page2.content()
        finally:
            await browser.close()
    assert await Image.count() == 1
    for name in ("products-empty-360.png", "product-form-360.png", "product-360.png", "products-1280.png"):
        assert (OUT / name).stat().st_size > 1000
    await asyncio.sleep(0)
