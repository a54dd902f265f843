"""A producer adds a product with variants on a 360 x 740 phone in Debian's Chromium: two
attributes, the combinations made, a field error shown next to its variant's field, saved, shown
on the product page and list, then an option renamed. Every screen goes through the phone checks
(no sideways scrolling, tap targets ≥ 44 px, no English on a Vietnamese page, no console errors,
axe-core)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from ocop.catalog.tables import Product, Variant
from ocop.settings import Settings
from tests.ocop.web.phone import phone
from tests.ocop.web.support import PASSWORD, make_producer, make_user
from tests.support.servers import app_server, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAME = "Mật ong hoa cà phê Chư Sê"


@pytest.fixture
def service(db, tmp_path: Path) -> Iterator[str]:
    settings = Settings(var_dir=tmp_path / "var", secret_key="variant-browser-secret-0123456789",
                        database_url=db.url, run_sandbox=False).listening_on("127.0.0.1", free_port())
    with app_server(settings) as base:
        yield base


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_product_with_variants_on_a_phone(service: str) -> None:
    base = service
    producer = await make_producer("HTX Ong mật Chư Sê", "4100259564")
    await make_user("chuse", "producer", producer_id=producer)
    async with phone() as checks:
        page = checks.page
        checks.data = [NAME, "HTX Ong mật Chư Sê"]
        await page.goto(f"{base}/login")
        await page.fill("#f-username", "chuse")
        await page.fill("#f-password", PASSWORD)
        await page.click("form[action='/login'] button[type=submit]")
        await page.wait_for_url(f"{base}/products")

        await page.goto(f"{base}/products/new")
        await page.fill("#f-name", NAME)
        await page.fill("#f-sku", "MO")
        await page.select_option("#f-ocop_group", "1")
        await page.fill("#f-unit", "hũ")
        await page.click("button[value=add_attr]")
        await page.wait_for_selector("#f-attr0_name")
        assert await page.input_value("#f-name") == NAME  # what was typed is kept
        await page.fill("#f-attr0_name", "Dung tích")
        await page.fill("#f-attr0_opt0", "250 ml")
        await page.click("button[value=add_attr]")
        await page.fill("#f-attr0_opt1", "500 ml")
        await page.fill("#f-attr1_name", "Quy cách")
        await page.fill("#f-attr1_opt0", "hũ")
        await page.click("button[value=gen]")
        await page.wait_for_selector("#f-v1_sku")
        assert await page.input_value("#f-v0_sku") == "MO-250ML-HU"
        assert await page.input_value("#f-v1_sku") == "MO-500ML-HU"
        await checks.check("v01-variant-grid")

        await page.fill("#f-v0_price", "120.000")
        await page.fill("#f-v0_stock", "10")
        await page.fill("#f-v1_price", "0")
        await page.fill("#f-v1_stock", "5")
        await page.click("button[value=save]:not([hidden])")
        await expect(page.locator("#e-v1_price")).to_have_text("Giá bán phải lớn hơn 0")
        await checks.check("v02-variant-error", expected_status=400)
        assert await Product.count() == 0

        await page.fill("#f-v1_price", "210.000")
        await page.click("button[value=save]:not([hidden])")
        await page.wait_for_url(f"{base}/products/*")
        await expect(page.locator("#variants")).to_contain_text("500 ml / hũ")
        await expect(page.locator("main")).to_contain_text("120.000 ₫ – 210.000 ₫")
        await checks.check("v03-product-with-variants")
        product_url = page.url

        await page.goto(f"{base}/products")
        await expect(page.locator("main")).to_contain_text("2 phân loại")
        await checks.check("v04-list-with-variants")

        await page.goto(f"{product_url}/edit")
        await page.fill("#f-attr1_opt0", "hũ thủy tinh")
        await page.click("button[value=save]:not([hidden])")
        await page.wait_for_url(f"{base}/products/*")
        await expect(page.locator("#variants")).to_contain_text("250 ml / hũ thủy tinh")
        assert [r["option2"] for r in await Variant.select(Variant.option2)] == ["hũ thủy tinh"] * 2
        assert not checks.errors, checks.errors
