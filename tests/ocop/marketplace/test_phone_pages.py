"""Publishing feedback and the staff's import → review → publish flow through the real app, on
SQLite and PostgreSQL: what a person is told at each step."""

from __future__ import annotations

from datetime import UTC, datetime

from ocop.catalog.tables import Product
from ocop.marketplace.tables import Listing, ListingEvent, Shop, SyncRun
from tests.ocop.marketplace.conftest import TEST_SECRET, connect_shop, make_product, run_worker_burst
from tests.ocop.web.support import csrf, login, make_producer, make_user

HTML = {"accept": "text/html"}


async def test_publish_feedback_and_history_in_words(db, app_client, sandbox, redis_url, arq_redis, rt) -> None:
    mine = await make_producer("HTX Gò Bồi", "0100109106")
    await make_user("goboi", "producer", producer_id=mine)
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (app, client):
        await login(client, "goboi")
        shop = await connect_shop(rt, mine, "shopee")
        product = await make_product(app.state.settings, mine, "NM-1")
        token = await csrf(client, f"/products/{product}/marketplaces")
        nothing = await client.post(f"/products/{product}/publish", data={"_csrf_token": token}, headers=HTML)
        assert nothing.status_code == 303 and nothing.headers["location"].endswith("?err=no_shop")
        page = await client.get(nothing.headers["location"], headers=HTML)
        assert "Chưa chọn gian hàng nào" in page.text

        sent = await client.post(f"/products/{product}/publish", data={"_csrf_token": token, "shop": str(shop.id)},
                                 headers=HTML)
        assert sent.headers["location"].endswith("?msg=requested")
        page = await client.get(sent.headers["location"], headers=HTML)
        assert "Đã gửi yêu cầu đăng bán" in page.text
        assert 'hx-get="/products/%d/marketplaces/status"' % product in page.text  # polls while waiting
        await run_worker_burst(app.state.settings, redis_url, rt)
        status = await client.get(f"/products/{product}/marketplaces/status", headers={**HTML, "hx-request": "true"})
        assert status.status_code == 200 and "Đang bán" in status.text or "Sàn đang duyệt" in status.text

        # A rejection reads in Vietnamese with what to change, the marketplace's words kept.
        listing = await Listing.objects().where(Listing.product == product).first()
        reason = "Main image contains watermark or promotional text"
        await Listing.update({Listing.state: "rejected", Listing.last_error: reason}).where(Listing.id == listing.id)
        await ListingEvent.insert(ListingEvent(listing=listing.id, from_state="live", to_state="rejected",
                                               reason=reason, cause="sync:status", at=datetime(2026, 3, 1, 17, 30, tzinfo=UTC)))
        page = await client.get(f"/products/{product}/marketplaces", headers=HTML)
        assert "Ảnh chính có chữ, logo hoặc hình mờ quảng cáo." in page.text and reason in page.text
        assert "Chụp lại ảnh sản phẩm" in page.text
        assert "02/03/2026 00:30" in page.text  # 17:30 UTC is half past midnight in Vietnam
        assert "user:" not in page.text and "job:" not in page.text and "sync:status" not in page.text
        assert "Đồng bộ với sàn" in page.text and "Hệ thống đăng bán" in page.text and "goboi" in page.text


async def test_shop_taken_sync_and_english_pages(db, app_client, sandbox, redis_url, rt) -> None:
    mine = await make_producer("HTX Gò Bồi", "0100109106")
    await make_user("goboi", "producer", producer_id=mine)
    await make_user("canbo", "staff", province=52)
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (app, client):
        await login(client, "goboi")
        page = await client.get("/shops?err=shop_taken", headers=HTML)
        assert "đã được kết nối với một chủ thể khác" in page.text and "(shop_taken)" not in page.text
        assert "hết hạn" not in page.text.split("Không kết nối được gian hàng")[1][:200]

        await client.post("/logout", data={"_csrf_token": await csrf(client, "/shops")})
        await login(client, "canbo")
        shop = await connect_shop(rt, mine, "shopee")
        await SyncRun.insert(SyncRun(kind="orders", shop=shop.id, started_at=datetime(2026, 3, 1, 17, 5, tzinfo=UTC),
                                     finished_at=datetime(2026, 3, 1, 17, 6, tzinfo=UTC), ok=True,
                                     counts={"orders": 4, "listed": 6, "days": 2}, error=""))
        sync = await client.get("/sync", headers=HTML)
        assert "02/03/2026 00:05" in sync.text and "Đơn hàng" in sync.text  # 17:05 UTC, Vietnam's 00:05
        assert "đơn lưu: 4" in sync.text and "orders stored" not in sync.text and "listed" not in sync.text
        assert f"Shopee · {shop.external_shop_id}" in sync.text

        english = await client.get("/khong-co", headers={**HTML, "accept-language": "en"})
        assert english.status_code == 404 and "not found" in english.text.lower() and "Không tìm thấy" not in english.text
        bad = await client.get("/reports?period=abc", headers=HTML)
        assert bad.status_code == 400 and "Kỳ báo cáo viết theo tháng" in bad.text and 'href="/reports"' in bad.text


async def test_staff_review_publishes_ready_drafts_and_says_why_others_wait(db, app_client, sandbox, redis_url,
                                                                           arq_redis, rt) -> None:
    mine = await make_producer("HTX Gò Bồi", "0100109106")
    await make_user("canbo", "staff", province=52)
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (app, client):
        ready = await make_product(app.state.settings, mine, "NM-READY")
        no_photo = await make_product(app.state.settings, mine, "NM-NOPHOTO", with_image=False)
        await Product.update({Product.status: "draft"}).where(Product.id.is_in([ready, no_photo]))
        await login(client, "canbo")

        page = await client.get("/staff/publish", headers=HTML)
        assert "chủ thể chưa kết nối gian hàng nào" in page.text and 'id="publish-ready"' not in page.text
        # Before: bulk publish took active products only and published 0 of N without a word.
        progress = await client.post("/staff/publish", data={"producer": str(mine),
                                                             "_csrf_token": await csrf(client, "/staff/publish")},
                                     headers=HTML)
        page = await client.get(progress.headers["location"], headers=HTML)
        assert "chủ thể chưa kết nối gian hàng trên sàn" in page.text

        await connect_shop(rt, mine, "shopee")
        page = await client.get("/staff/publish", headers=HTML)
        assert "Đăng bán 1 bản nháp sẵn sàng" in page.text and "cần ít nhất 1 ảnh sản phẩm" in page.text
        sent = await client.post("/staff/publish/ready", data={"product": [str(ready), str(no_photo)],
                                                               "_csrf_token": await csrf(client, "/staff/publish")},
                                 headers=HTML)
        assert sent.status_code == 303 and f"producer={mine}" in sent.headers["location"]
        assert (await Product.select(Product.status).where(Product.id == ready).first())["status"] == "active"
        assert (await Product.select(Product.status).where(Product.id == no_photo).first())["status"] == "draft"
        assert [r["product"] for r in await Listing.select(Listing.product)] == [ready]
        await run_worker_burst(app.state.settings, redis_url, rt)
        page = await client.get(sent.headers["location"], headers=HTML)
        assert "1/1" in page.text and "hx-get" not in page.text
        assert await Shop.count() == 1
