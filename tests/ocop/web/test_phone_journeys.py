"""A new producer and commune staff on a 360 x 740 phone, in Debian's Chromium against the whole
service (embedded Redis, in-process worker, in-process sandbox marketplace) under uvicorn.

Producer: sign up → product with an OCOP certificate (date typed without "/") and its scan → photo
(the readiness list updates by itself) → connect a Shopee shop on the marketplace's consent page →
publish (first without ticking a shop: told why) → the status updates by itself to "Đang bán" →
orders synced from the marketplace → sales on the dashboard.

Staff: import a catalogue with a bad row → the error is shown → import the fixed file → review
(ready drafts, and why the others are not) → act for the producer and connect its shop → publish
the ready drafts → progress → dashboard, in Vietnamese and in English.

Every screen is checked by :class:`tests.ocop.web.phone.PhoneChecks` (width, tap targets,
language, console errors, axe-core) and kept as a screenshot under ``var/test-artifacts/phone/``.
"""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect
from vietnam_provinces import Ward

from ocop.catalog.tables import Certificate, Product
from ocop.alerts import dispatch
from ocop.marketplace.apps import sandbox_base_url
from ocop.marketplace.runtime import build_runtime
from ocop.marketplace.sync import sync_all_orders
from ocop.marketplace.tables import Listing, Order, Shop
from ocop.producers.tables import Producer
from ocop.settings import Settings
from tests.ocop.imports.conftest import product_row, write_xlsx
from tests.ocop.web.phone import VIEWPORT, PhoneChecks, phone
from tests.ocop.marketplace.conftest import make_product
from tests.ocop.web.support import GIA_LAI, PASSWORD, jpeg, make_producer, make_user
from tests.support.servers import app_server, free_port, sandbox_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def service(db, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    settings = Settings(var_dir=tmp_path / "var", secret_key="phone-journey-secret-0123456789", database_url=db.url,
                        sandbox_port=sandbox_port(), api_rate_per_min=0).listening_on("127.0.0.1", free_port())
    with app_server(settings) as base:
        # The marketplace reviews at once and accepts everything: the page's live status must
        # reach "Đang bán" by itself (the rejection texts are covered by the reasons tests).
        httpx.post(f"{sandbox_base_url(settings)}/_admin/review", json={"review_seconds": 0, "rejection_share": 0})
        yield base, settings


async def _data_names() -> list[str]:
    """Product data shown on pages: the names of products, producers, their communes and shops."""
    names = [r["name"] for r in await Product.select(Product.name)]
    names += [r["legal_name"] for r in await Producer.select(Producer.legal_name)]
    for row in await Producer.select(Producer.commune_code):
        try:
            names.append(str(Ward.from_code(int(row["commune_code"])).name))
        except ValueError:
            continue
    names += ["Gia Lai", "HTX Nông sản Tam Quan", "Cơ sở Rượu Bàu Đá"]  # the sandbox's shop names
    return names


async def _refresh_data(checks: PhoneChecks) -> None:
    checks.data = await _data_names()


async def _wait_for(page: Page, url_glob: str) -> None:
    await page.wait_for_url(url_glob, timeout=30_000)


async def _consent(page: Page, checks: PhoneChecks, base: str, settings: Settings, name: str) -> None:
    """On the sandbox's Shopee consent page (a phone-sized page of its own), grant the first shop."""
    await page.wait_for_url(f"http://127.0.0.1:{settings.sandbox_port}/shopee/api/v2/shop/auth_partner**")
    assert await page.locator("meta[name=viewport]").count() == 1
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"the consent page is {width} px wide"
    await page.screenshot(path=str(checks_path(name)), full_page=True)
    await page.check("input[type=radio] >> nth=0")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/shops?**")


def checks_path(name: str) -> Path:
    from tests.ocop.web.phone import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


async def _sync_orders(settings: Settings, shop: Shop, count: int, *, days: float = 20) -> None:
    """The marketplace has orders (placed over the last ``days``); the scheduler's order sync (run
    here, once) brings them in."""
    import time

    now = time.time()
    httpx.post(f"{sandbox_base_url(settings)}/_admin/orders", json={
        "marketplace": shop.marketplace, "shop_id": shop.external_shop_id, "count": count,
        "since": now - days * 86400, "until": now - 60}).raise_for_status()
    rt = build_runtime(settings, redis=None, timeout_s=10)
    try:
        await sync_all_orders(rt)
    finally:
        await rt.aclose()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_producer_journey_on_a_phone(service, tmp_path: Path) -> None:
    base, settings = service
    photo = tmp_path / "banh-trang.jpg"
    photo.write_bytes(jpeg(900, 700))
    scan = tmp_path / "chung-nhan.jpg"
    scan.write_bytes(jpeg(600, 800, (240, 240, 230)))
    async with phone() as checks:
        page = checks.page

        await page.goto(f"{base}/")
        await checks.check("p01-home")
        head = await page.locator("header.bar").bounding_box()
        assert head is not None and head["height"] <= 60, f"the header is {head} tall"
        assert (await page.request.head(f"{base}/")).status == 200
        assert (await page.request.get(f"{base}/favicon.ico")).headers["content-type"] == "image/x-icon"

        await page.goto(f"{base}/login")
        await checks.check("p02-login")
        await page.click("text=Quên mật khẩu?")
        await expect(page.locator("main")).to_contain_text("cán bộ")
        await checks.check("p03-forgot-password")

        await page.goto(f"{base}/signup")
        await checks.check("p04-signup")
        await page.select_option("#f-kind", "htx")
        await page.fill("#f-legal_name", "HTX Bánh tráng Tam Quan")
        await page.fill("#f-tax_code", "4100259564")
        await page.fill("#f-phone", "0912 345 678")
        await page.select_option("#f-province_code", str(GIA_LAI))
        await page.wait_for_selector("#f-commune_code:not([disabled])")
        await page.select_option("#f-commune_code", index=2)
        await page.fill("#f-username", "tamquan")
        await page.fill("#f-password", "mat-khau-an-toan-1")
        await page.fill("#f-confirm", "mat-khau-an-toan-1")
        await page.click("form[action='/signup'] button[type=submit]")
        await _wait_for(page, f"{base}/products")
        await _refresh_data(checks)
        await checks.check("p05-products-empty")

        await page.click("text=Thêm sản phẩm")
        await page.fill("#f-name", "Bánh tráng nước dừa Tam Quan")
        await page.select_option("#f-ocop_group", "1")
        await page.fill("#f-unit", "túi")
        await page.fill("#f-price", "150.000")
        await page.fill("#f-stock", "40")
        await page.fill("#f-weight", "500")
        for dim, value in (("length", "25"), ("width", "18"), ("height", "5")):
            await page.fill(f"#f-{dim}", value)
        await page.fill("#f-description", "Bánh tráng nướng giòn, vị nước dừa, làm thủ công ở Tam Quan.")
        await page.select_option("#f-cert_stars", "4")
        await page.fill("#f-cert_decision_number", "1234/QĐ-UBND")
        assert await page.get_attribute("#f-cert_issued_on", "inputmode") is None  # the keyboard keeps "/"
        await page.fill("#f-cert_issued_on", "15082025")  # typed on a number pad
        await page.set_input_files("#f-cert_scan", str(scan))
        for required in ("f-name", "f-ocop_group", "f-unit", "f-price"):  # marked, not only enforced
            await expect(page.locator(f"label[for={required}] .required")).to_have_text("*")
        await checks.check("p06-product-form")
        await page.click("button[value=save]")
        await _wait_for(page, f"{base}/products/*")
        product_url = page.url
        product_id = int(product_url.rstrip("/").rsplit("/", 1)[1])
        cert = await Certificate.objects().where(Certificate.product == product_id).first()
        assert cert is not None and cert.issued_on.isoformat() == "2025-08-15" and cert.scan_key
        await _refresh_data(checks)
        readiness = page.locator("#readiness")
        await expect(readiness).to_contain_text("cần ít nhất 1 ảnh sản phẩm")
        await checks.check("p07-product-no-photo")

        await page.set_input_files("#f-photos", str(photo))
        await page.click("button:has-text('Tải ảnh lên')")
        await page.locator("#photos img").first.wait_for(timeout=30_000)
        # No reload: the readiness list was swapped in with the photos once they were ready.
        await expect(readiness).not_to_contain_text("cần ít nhất 1 ảnh", timeout=30_000)
        await expect(readiness).to_contain_text("Shopee: sẵn sàng")
        await checks.check("p08-product-with-photo")

        await page.click("text=Đăng bán lên sàn")
        await checks.check("p09-publish-no-shop")
        await page.click("a:has-text('Kết nối gian hàng')")
        await checks.check("p10-shops")
        await page.click("a[href^='/shops/connect/shopee']")
        await _consent(page, checks, base, settings, "p11-sandbox-consent")
        await expect(page.get_by_text("Đã kết nối gian hàng.")).to_be_visible()
        await checks.check("p12-shop-connected")

        await page.goto(f"{product_url}/marketplaces")
        await page.click(f"form[action='/products/{product_id}/publish'] button[type=submit]")  # nothing ticked
        await expect(page.locator("#publish-message")).to_contain_text("Chưa chọn gian hàng nào")
        await checks.check("p13-publish-nothing-ticked")
        await page.check("input[name=shop]")
        await page.click(f"form[action='/products/{product_id}/publish'] button[type=submit]")
        await expect(page.locator("#publish-message")).to_contain_text("Đã gửi yêu cầu đăng bán")
        # No reload: the status polls until the marketplace answered.
        await expect(page.locator("#listing-status [data-state]")).to_have_attribute("data-state", "live",
                                                                                   timeout=60_000)
        await expect(page.locator("#listing-status")).to_contain_text("Đang bán")
        await expect(page.locator("#listing-status")).to_have_attribute("data-waiting", "no")
        await checks.check("p14-published-live")
        history = await page.inner_text("main")
        assert "user:" not in history and "job:" not in history and "Hệ thống đăng bán" in history

        shop = await Shop.objects().first()
        await _sync_orders(settings, shop, 12)
        assert await Order.count() >= 12  # and those the sandbox made on its own meanwhile
        await page.goto(f"{base}/reports")
        await expect(page.locator(".kpis")).to_contain_text("đơn hàng")
        await page.click("summary:has-text('Kỳ báo cáo và bộ lọc')")
        await expect(page.locator("#f-commune-hint")).to_be_visible()
        await expect(page.locator("#f-commune-hint .pointer-fine")).to_be_hidden()  # no "hold Ctrl" on a phone
        orders_kpi = await page.locator(".kpi").nth(4).locator("strong").inner_text()
        assert int(orders_kpi.replace(".", "")) > 0, orders_kpi
        await checks.check("p15-sales")
        await page.goto(f"{base}/reports?period=khong-phai-ky")
        await expect(page.locator("main")).to_contain_text("Kỳ báo cáo viết theo tháng")
        await checks.check("p16-bad-period", expected_status=400)
        await page.goto(f"{base}/producer")
        await checks.check("p17-profile")
        await _sync_orders(settings, shop, 2, days=0.02)  # two new orders: the bell counts them
        await dispatch.process_events(settings, zalo_on=False)
        await page.goto(f"{base}/notifications")
        await expect(page.locator(".bell .count")).to_be_visible()
        await expect(page.locator("main")).to_contain_text("Đơn hàng mới trên Shopee")
        await checks.check("p19-notifications")
        await page.click("button:has-text('Đánh dấu tất cả đã đọc')")
        await expect(page.locator(".bell .count")).to_have_count(0)
        await page.click("main a:has-text('Cách nhận thông báo')")
        await page.fill("#f-quiet_start", "21:00")
        await page.fill("#f-quiet_end", "06:00")
        await page.click("main button[type=submit]")
        await expect(page.locator("main")).to_contain_text("Đã lưu.")
        await checks.check("p20-notification-settings")
        await page.click("main a:has-text('Mức báo sắp hết hàng')")
        await expect(page.locator("main")).to_contain_text("Bánh tráng nước dừa Tam Quan")
        await checks.check("p21-stock-levels")
        await page.goto(f"{base}/khong-co-trang-nay")
        await expect(page.locator("h1")).to_have_text("Không tìm thấy.")
        await checks.check("p18-not-found", expected_status=404)
    assert await Listing.count().where(Listing.state == "live") == 1


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_staff_journey_on_a_phone(service, tmp_path: Path) -> None:
    base, settings = service
    await make_user("canbo", "staff", province=GIA_LAI)
    other = await make_producer("HTX Chè Tân Cương", "0100109106")  # in the same area: not to be shown
    await make_product(settings, other, "CHE-1", name="Chè búp Tân Cương")
    photos = tmp_path / "anh.zip"
    with zipfile.ZipFile(photos, "w") as archive:
        for n in range(3):
            buf = io.BytesIO(jpeg(800, 800, (180, 40 * n, 60)))
            archive.writestr(f"sp-{n}.jpg", buf.getvalue())
    rows = [product_row(sku=f"SP-{n}", name=f"Bánh tráng loại {n}", images=f"sp-{n}.jpg") for n in range(3)]
    rows.append(product_row(sku="SP-3", name="Bánh tráng chưa có ảnh"))
    bad = [*rows, product_row(sku="SP-4", name="Bánh tráng mè đen", stars="7")]
    fixed = [*rows, product_row(sku="SP-4", name="Bánh tráng mè đen", stars="4")]
    async with phone() as checks:
        page = checks.page
        await page.goto(f"{base}/login?next=/imports")
        await page.fill("#f-username", "canbo")
        await page.fill("#f-password", PASSWORD)
        await page.click("form[action='/login'] button[type=submit]")
        await _wait_for(page, f"{base}/imports")
        await checks.check("s01-import-empty")

        await page.set_input_files("#f-file", str(write_xlsx(tmp_path / "danh-muc.xlsx", bad)))
        await page.set_input_files("#f-images", str(photos))
        await page.click("form[action='/imports'] button[type=submit]")
        await page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1].isdigit(), timeout=60_000)
        await expect(page.locator("[data-count=failed]")).to_have_text("1")
        await expect(page.locator("table.faults")).to_contain_text("Số sao OCOP")
        await _refresh_data(checks)
        await checks.check("s02-import-with-an-error")

        await page.goto(f"{base}/imports")
        await page.set_input_files("#f-file", str(write_xlsx(tmp_path / "danh-muc-da-sua.xlsx", fixed)))
        await page.set_input_files("#f-images", str(photos))
        await page.click("form[action='/imports'] button[type=submit]")
        await page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1].isdigit(), timeout=60_000)
        await expect(page.locator("[data-count=failed]")).to_have_text("0")
        await _refresh_data(checks)
        await checks.check("s03-import-fixed")
        for _ in range(120):  # the worker normalizes the ZIP's photos
            if await Product.count().where(Product.status == "draft") == 5:
                from ocop.catalog.tables import Image

                if await Image.count().where(Image.status == "ready") >= 3:
                    break
            await asyncio.sleep(0.25)

        await page.click("a:has-text('Xem lại và đăng bán')")
        await expect(page.locator("main")).to_contain_text("chưa kết nối gian hàng")
        assert await page.locator("#publish-ready").count() == 0  # nothing is ready: no shop yet
        await checks.check("s04-review-no-shop")

        producer = await Producer.objects().where(Producer.tax_code != "0100109106").first()
        await make_user("htx-tamquan", "producer", producer_id=producer.id)
        await page.goto(f"{base}/producers/{producer.id}")  # staff make password reset links
        await page.click("button:has-text('Tạo link đặt lại mật khẩu cho htx-tamquan')")
        await expect(page.locator("input.copy")).to_have_value(re.compile(r"/reset/"))
        await checks.check("s05-reset-link")
        await page.goto(f"{base}/staff")
        await checks.check("s05-staff-home")
        await page.click(f"form[action='/staff/act-as']:has(input[value='{producer.id}']) button")
        await _wait_for(page, f"{base}/products")
        await expect(page.locator(".acting")).to_contain_text(producer.legal_name)
        await expect(page.locator("#results")).to_contain_text("5 sản phẩm")  # not the other producer's
        await expect(page.locator("#results")).not_to_contain_text("Chè búp Tân Cương")
        first = await page.locator("#results li").first.bounding_box()
        assert first is not None and first["y"] + first["height"] <= VIEWPORT["height"], first  # first screen
        await checks.check("s06-acting-products")
        await page.goto(f"{base}/shops")
        await page.click("a[href^='/shops/connect/shopee']")
        await _consent(page, checks, base, settings, "s07-sandbox-consent")
        await checks.check("s08-shop-connected")

        await page.goto(f"{base}/staff/publish")
        await expect(page.locator("#publish-ready")).to_contain_text("Đăng bán 3 bản nháp sẵn sàng")
        await expect(page.locator("main")).to_contain_text("cần ít nhất 1 ảnh sản phẩm")  # why SP-3 and SP-4 wait
        await checks.check("s09-review-ready")
        await page.click("#publish-ready")
        await _wait_for(page, f"{base}/staff/publish/progress?**")
        await expect(page.locator("#progress")).to_have_attribute("data-waiting", "0", timeout=60_000)
        await expect(page.locator("#progress")).to_contain_text("3/3")
        await checks.check("s10-publish-progress")
        assert await Listing.count() == 3 and await Product.count().where(Product.status == "active") == 3 + 1  # + Chè

        await page.goto(f"{base}/sync")
        await checks.check("s11-sync")
        await page.goto(f"{base}/products/{(await Listing.objects().first()).product}/marketplaces")
        await checks.check("s12-listing-history")
        await page.goto(f"{base}/reports")
        await checks.check("s13-dashboard")

        await page.click("footer button[value=en]")
        await page.wait_for_load_state()
        checks.lang = "en"
        for name, path in (("s14-dashboard-en", "/reports"), ("s15-review-en", "/staff/publish"),
                           ("s16-sync-en", "/sync"), ("s17-imports-en", "/imports"),
                           ("s18-products-en", "/products")):
            await page.goto(f"{base}{path}")
            await checks.check(name)
        await page.goto(f"{base}/reports")  # the charts' own words too (the checks leave SVG out)
        share = await page.locator("#share svg").first.text_content() or ""
        assert "products" in share and "sản phẩm" not in share, share
