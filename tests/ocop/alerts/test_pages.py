"""The notification pages: each user sees and marks only their own, the bell counts what is
unread, choices are validated with field errors in the reader's language."""

from __future__ import annotations

import re

from ocop.alerts import dispatch
from ocop.alerts.tables import AlertPreference, Notification
from ocop.events import outbox
from ocop.settings import Settings
from tests.ocop.web.support import GIA_LAI, csrf, login, make_producer, make_user, post_form


async def _two_producers() -> tuple[int, int, int, int]:
    a = await make_producer("HTX Tam Quan", "0100109106", province=GIA_LAI)
    b = await make_producer("HTX Gò Bồi", "0100109107", province=GIA_LAI)
    ua = await make_user("tamquan", "producer", producer_id=a)
    ub = await make_user("goboi", "producer", producer_id=b)
    for producer, name in ((a, "Bánh tráng nước dừa"), (a, "Nước mắm nhĩ"), (b, "Rượu Bàu Đá")):
        await outbox.record(outbox.STOCK_LOW, producer, payload={"product_name": name, "available": 2})
    await dispatch.process_events(Settings(), zalo_on=False)
    return a, b, ua, ub


def _bell(html: str) -> str:
    match = re.search(r'<a class="bell"[^>]*aria-label="([^"]*)"', html)
    assert match, "no bell in the header"
    return match.group(1)


async def test_each_user_sees_and_marks_only_their_own(db, app_client, redis_url) -> None:
    _, _, ua, ub = await _two_producers()
    theirs = await Notification.select(Notification.id).where(Notification.user == ub).first()
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await login(client, "tamquan")
        home = await client.get("/", headers={"accept": "text/html"})
        assert _bell(home.text) == "Thông báo: 2 chưa đọc"
        page = await client.get("/notifications")
        assert page.status_code == 200
        assert "Sắp hết hàng: Bánh tráng nước dừa" in page.text and "Sắp hết hàng: Nước mắm nhĩ" in page.text
        assert "Rượu Bàu Đá" not in page.text
        # someone else's notification: the same 404 as a missing one, and it stays unread
        token = await csrf(client, "/notifications")
        other = await client.post(f"/notifications/{theirs['id']}/read", data={"_csrf_token": token},
                                  headers={"accept": "text/html"})
        assert other.status_code == 404
        assert (await Notification.select(Notification.read_at).where(Notification.id == theirs["id"]).first())[
            "read_at"] is None
        # without the CSRF token: refused
        mine = await Notification.select(Notification.id).where(Notification.user == ua).first()
        assert (await client.post(f"/notifications/{mine['id']}/read")).status_code == 403
        done = await post_form(client, f"/notifications/{mine['id']}/read", {}, from_page="/notifications")
        assert done.status_code == 303
        assert _bell((await client.get("/", headers={"accept": "text/html"})).text) == "Thông báo: 1 chưa đọc"
        await post_form(client, "/notifications/read-all", {}, from_page="/notifications")
        assert _bell((await client.get("/", headers={"accept": "text/html"})).text) == "Thông báo"
    assert await Notification.count().where((Notification.user == ub) & Notification.read_at.is_null()) == 1


async def test_choices_are_checked_and_kept(db, app_client, redis_url) -> None:
    _, _, ua, _ = await _two_producers()
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await login(client, "tamquan")
        form = await client.get("/notifications/settings")
        assert 'value="0912 345 678"' in form.text  # the producer's own phone until they choose
        bad = await post_form(client, "/notifications/settings",
                              {"zalo_phone": "12345", "email": "not-an-address", "quiet_start": "25:00",
                               "use_zalo": "on"}, from_page="/notifications/settings")
        assert bad.status_code == 400
        assert "Số điện thoại Zalo không hợp lệ (ví dụ 0912 345 678)." in bad.text
        assert "Địa chỉ e-mail không hợp lệ." in bad.text and "Giờ phải có dạng HH:MM, ví dụ 21:00." in bad.text
        await post_form(client, "/lang", {"lang": "en", "next": "/"}, from_page="/notifications/settings")
        bad_en = await post_form(client, "/notifications/settings", {"zalo_phone": "12345"},
                                 from_page="/notifications/settings")
        assert bad_en.status_code == 400 and "Not a valid Zalo phone number (e.g. 0912 345 678)." in bad_en.text
        await post_form(client, "/lang", {"lang": "vi", "next": "/"}, from_page="/notifications/settings")
        ok = await post_form(client, "/notifications/settings",
                             {"zalo_phone": "0912 345 678", "email": "htx@example.vn", "use_zalo": "on",
                              "quiet_start": "21:00", "quiet_end": "06:00", "kind_new_order": "on",
                              "kind_listing_rejected": "on"}, from_page="/notifications/settings")
        assert ok.status_code == 200 and "Đã lưu." in ok.text
    row = await AlertPreference.select().where(AlertPreference.user == ua).first()
    assert (row["zalo_phone"], row["use_zalo"], row["use_email"]) == ("+84912345678", True, False)
    assert (row["quiet_start"], row["quiet_end"]) == (21 * 60, 6 * 60)
    assert "stock_low" in row["kinds_off"] and "new_order" not in row["kinds_off"]


async def test_staff_choose_only_the_kinds_they_receive(db, app_client, redis_url) -> None:
    await make_user("canbo", "staff", province=GIA_LAI)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await login(client, "canbo")
        page = await client.get("/notifications/settings")
        assert "kind_shop_reauth" in page.text and "kind_listing_rejected" in page.text
        assert "kind_new_order" not in page.text


async def test_a_product_s_own_low_stock_level_is_used_by_the_check(db, app_client, redis_url) -> None:
    from ocop.alerts import checks
    from ocop.alerts.tables import StockAlertLevel
    from ocop.catalog.tables import Product
    from ocop.events.tables import AlertEvent
    from ocop.marketplace.tables import Listing, Shop

    a, b, _, _ = await _two_producers()
    mine = Product(producer=a, sku="BT-1", name="Bánh tráng", name_folded="banh trang", stock=8, status="active")
    theirs = Product(producer=b, sku="R-1", name="Rượu", name_folded="ruou", stock=8, status="active")
    for p in (mine, theirs):
        await p.save()
        shop = Shop(producer=p.producer, marketplace="shopee", external_shop_id=f"s{p.id}")
        await shop.save()
        await Listing(product=p.id, shop=shop.id, seller_sku=p.sku, external_item_id=f"i{p.id}", state="live").save()
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await login(client, "tamquan")
        page = await client.get("/notifications/stock-levels")
        assert "Bánh tráng" in page.text and "Rượu" not in page.text
        bad = await post_form(client, "/notifications/stock-levels", {f"level_{mine.id}": "nhiều"},
                              from_page="/notifications/stock-levels")
        assert bad.status_code == 400 and "Nhập một số nguyên từ 0 đến 100.000" in bad.text
        # another producer's product is not ours to set, even when named in the form
        ok = await post_form(client, "/notifications/stock-levels", {f"level_{mine.id}": "10", f"level_{theirs.id}": "50"},
                             from_page="/notifications/stock-levels")
        assert ok.status_code == 200 and "Đã lưu." in ok.text
    assert [(r["product"], r["level"]) for r in await StockAlertLevel.select()] == [(mine.id, 10)]
    assert await checks.stock_running_low(Settings()) == 1  # 8 ≤ 10 for ours; 8 > 5 (the default) for theirs
    assert [e["product"] for e in await AlertEvent.select().where(
        (AlertEvent.kind == "stock_low") & AlertEvent.product.is_not_null())] == [mine.id]
