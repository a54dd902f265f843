"""The import pages in a real browser against the whole service in embedded mode (embedded Redis,
in-process arq worker) under uvicorn on 127.0.0.1: the HTMX progress polling must carry the page
to the result by itself. A screenshot is written under ``test-output/browser/``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

from ocop.catalog.tables import Product
from ocop.settings import Settings
from tests.ocop.imports.conftest import product_row, write_xlsx
from tests.ocop.web.support import GIA_LAI, PASSWORD, make_user
from tests.support.servers import app_server, free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]
OUT = Path(__file__).resolve().parents[3] / "test-output" / "browser"


@contextlib.contextmanager
def live_server(database_url: str, var_dir: Path) -> Iterator[str]:
    settings = Settings(var_dir=var_dir, secret_key="browser-test-secret-0123456789", database_url=database_url,
                        run_sandbox=False).listening_on("127.0.0.1", free_port())
    with app_server(settings) as base:
        yield base


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_upload_follows_progress_to_the_result_in_chromium(db: Any, tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Debian's chromium is required: apt-get install chromium"
    await make_user("canbo", "staff", province=GIA_LAI)
    rows = [product_row(sku=f"SP-{i:03d}", name=f"Sản phẩm {i}") for i in range(300)]
    rows.append(product_row(sku="X-7", stars="7"))
    catalogue = write_xlsx(tmp_path / "danh-muc.xlsx", rows)
    OUT.mkdir(parents=True, exist_ok=True)
    with live_server(db.url, tmp_path / "var") as base:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = await browser.new_page(locale="vi-VN", viewport={"width": 1280, "height": 900})
                errors: list[str] = []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                await page.goto(f"{base}/login?next=/imports")
                await page.fill("#f-username", "canbo")
                await page.fill("#f-password", PASSWORD)
                await page.click("form[action='/login'] button[type=submit]")
                await page.wait_for_url(f"{base}/imports")
                await page.set_input_files("#f-file", str(catalogue))
                await page.click("form[action='/imports'] button[type=submit]")
                await page.wait_for_url(f"{base}/imports/runs/*")
                # From here the page moves on by itself: HTMX polls, then follows HX-Redirect.
                await page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1].isdigit(), timeout=60_000)
                await expect(page.locator("[data-count=created]")).to_have_text("300")
                await expect(page.locator("[data-count=failed]")).to_have_text("1")
                await expect(page.locator("table.faults")).to_contain_text("Số sao OCOP")
                await page.screenshot(path=str(OUT / "import-result-1280.png"), full_page=True)
                assert not [e for e in errors if "Content Security Policy" in e], errors
            finally:
                await browser.close()
    assert await Product.count() == 300
