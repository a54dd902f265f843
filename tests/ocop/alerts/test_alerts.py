"""Each alert kind made by the real path that causes it, delivered to the sandbox's Zalo
emulation or a real SMTP server, with choices, quiet hours, the hourly digest and scoping."""

from __future__ import annotations

import time
import unicodedata
import uuid
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header

import pytest

from ocop.alerts import checks, delivery, dispatch, messages
from ocop.alerts.kinds import DEFAULT_TEMPLATE_IDS
from ocop.alerts.tables import AlertDelivery, AlertPreference, Notification
from ocop.catalog.tables import Certificate, Product
from ocop.domain.dates import VN_TZ
from ocop.events.tables import AlertEvent
from ocop.marketplace import shops
from ocop.marketplace.jobs import dispatch_due
from ocop.marketplace.publishing import request_publish
from ocop.marketplace.sync import refresh_due_tokens, sync_shop_orders, sync_statuses
from ocop.marketplace.tables import Listing, Shop
from tests.ocop.marketplace.conftest import connect_shop, make_product, run_worker_burst
from tests.ocop.web.support import GIA_LAI, make_producer, make_user, ward_code

PHONE = "84912345678"  # the producer's +84 912 345 678, as ZNS wants it


async def _producer_with_users(tax_code: str = "0100109106") -> tuple[int, int, int]:
    """A producer in Gia Lai, its user, and a staff member of that province (ids)."""
    producer = await make_producer("HTX Nông sản Tam Quan", tax_code, province=GIA_LAI)
    user = await make_user(f"p{tax_code}", "producer", producer_id=producer)
    staff = await make_user(f"s{tax_code}", "staff", province=GIA_LAI)
    return producer, user, staff


async def _live_listing(rt, settings, redis_url, arq_redis, producer: int, marketplace: str = "shopee",
                        name: str = "Nước mắm Gò Bồi") -> tuple[Shop, int]:
    """A live item of a new SKU (the sandbox lives for the whole session) in the first sandbox shop."""
    shop = await connect_shop(rt, producer, marketplace)
    product = await make_product(settings, producer, f"SKU-{uuid.uuid4().hex[:10]}", name=name)
    await request_publish(product, shop.id, cause="test")
    await dispatch_due(arq_redis)
    await run_worker_burst(settings, redis_url, rt)
    await sync_statuses(rt)
    listing = await Listing.select().where(Listing.product == product).first()
    assert listing["state"] == "live", listing
    return await Shop.objects().where(Shop.id == shop.id).first(), product


def _zalo(sandbox) -> list[dict]:
    return sandbox.admin("GET", "/zalo")["messages"]


async def _deliver_due(alerts_rt, now: datetime | None = None) -> list[str]:
    now = now or datetime.now(UTC)
    due = await AlertDelivery.select(AlertDelivery.id).where(
        (AlertDelivery.status == "queued") & (AlertDelivery.due_at <= now))
    return [await delivery.deliver(alerts_rt, row["id"], now=now) for row in due]


async def test_new_orders_from_the_sandbox_become_one_notification_each_and_one_zalo_digest(
        db, rt, sandbox, settings, redis_url, arq_redis, alerts_rt) -> None:
    producer, user, staff = await _producer_with_users()
    shop, product = await _live_listing(rt, settings, redis_url, arq_redis, producer)
    now = time.time()
    old = sandbox.admin("POST", "/orders", {"marketplace": "shopee", "shop_id": shop.external_shop_id, "count": 2,
                                            "since": now - 20 * 86400, "until": now - 10 * 86400,
                                            "status": "completed"})["order_ids"]
    await sync_shop_orders(rt, shop)  # the first sync reads 30 days back (the shared sandbox shop's too)
    seen = {messages.payload_of(e["payload"])["order_id"] for e in await AlertEvent.select()}
    assert not seen & set(old)  # old orders are not news
    await dispatch.process_events(settings, zalo_on=True)
    await Notification.delete(force=True)
    await AlertDelivery.delete(force=True)
    ours = (await Listing.select(Listing.seller_sku).where(Listing.product == product).first())["seller_sku"]
    with sandbox.state.lock:  # the shared sandbox shop sells only this test's item from now on
        for item in sandbox.state.shop_items("shopee", shop.external_shop_id).values():
            if item.seller_sku != ours and item.status == "live":
                item.status = "unlisted"

    new = sandbox.admin("POST", "/orders", {"marketplace": "shopee", "shop_id": shop.external_shop_id, "count": 3,
                                            "since": now - 1800, "until": now - 60,
                                            "status": "ready_to_ship"})["order_ids"]
    await sync_shop_orders(rt, await Shop.objects().where(Shop.id == shop.id).first())
    await sync_shop_orders(rt, await Shop.objects().where(Shop.id == shop.id).first())  # re-read: nothing new
    pending = await AlertEvent.select().where(AlertEvent.processed_at.is_null())
    assert sorted(messages.payload_of(e["payload"])["order_id"] for e in pending) == sorted(new)
    counts = await dispatch.process_events(settings, zalo_on=True)
    assert counts["events"] == 3
    notes = await Notification.select().where(Notification.user == user)
    assert len(notes) == 3 and all(n["kind"] == "new_order" for n in notes)
    assert await Notification.count().where(Notification.user == staff) == 0  # orders are the producer's

    # one message for the three: "3 đơn hàng mới"
    assert await _deliver_due(alerts_rt) == ["zalo"]
    sent = _zalo(sandbox)
    assert len(sent) == 1
    assert sent[0]["phone"] == PHONE and sent[0]["template_id"] == DEFAULT_TEMPLATE_IDS["new_order"]
    assert sent[0]["template_data"]["count"] == "3"
    assert sent[0]["template_data"]["marketplace"] == "Shopee"
    assert sent[0]["template_data"]["product_name"] not in ("", "-")
    assert sent[0]["template_data"]["total"].endswith(" ₫")

    # a fourth order within the hour waits for the hour to pass, then goes alone
    sandbox.admin("POST", "/orders", {"marketplace": "shopee", "shop_id": shop.external_shop_id, "count": 1,
                                      "since": time.time() - 30, "until": time.time() - 1, "status": "ready_to_ship"})
    await sync_shop_orders(rt, await Shop.objects().where(Shop.id == shop.id).first())
    await dispatch.process_events(settings, zalo_on=True)
    assert await Notification.count().where(Notification.user == user) == 4  # in-app gets every event
    assert await _deliver_due(alerts_rt) == []
    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    assert await _deliver_due(alerts_rt, later) == ["zalo"]
    assert [m["template_data"]["count"] for m in _zalo(sandbox)] == ["3", "1"]


async def test_a_rejection_and_a_ban_reach_the_producer_and_the_area_staff_explained(
        db, rt, sandbox, settings, redis_url, arq_redis, alerts_rt) -> None:
    producer, user, staff = await _producer_with_users()
    other_area = await make_user("s-hanoi", "staff", province=1)
    shop, product = await _live_listing(rt, settings, redis_url, arq_redis, producer)
    listing = await Listing.select().where(Listing.product == product).first()
    sandbox.admin("POST", "/item_status", {"marketplace": "shopee", "shop_id": shop.external_shop_id,
                                           "item_id": int(listing["external_item_id"]), "status": "rejected",
                                           "reason": "Main image contains watermark or promotional text"})
    await sync_statuses(rt)
    await dispatch.process_events(settings, zalo_on=True)
    mine = await Notification.select().where(Notification.user == user)
    assert [n["kind"] for n in mine] == ["listing_rejected"]
    assert await Notification.count().where(Notification.user == staff) == 1
    assert await Notification.count().where(Notification.user == other_area) == 0

    assert "zalo" in await _deliver_due(alerts_rt)
    data = _zalo(sandbox)[0]["template_data"]
    assert data["reason"].startswith("Ảnh chính có chữ, logo hoặc hình mờ quảng cáo.")
    assert "Main image contains watermark" in data["reason"]
    assert data["fix"].startswith("Chụp lại ảnh sản phẩm")
    assert unicodedata.is_normalized("NFC", data["reason"])

    # banned later (the item came back live first): said as a ban
    sandbox.admin("POST", "/item_status", {"marketplace": "shopee", "shop_id": shop.external_shop_id,
                                           "item_id": int(listing["external_item_id"]), "status": "live"})
    from ocop.marketplace import listings as listing_states  # the producer fixed it and it went live again

    assert await listing_states.move(listing["id"], "rejected", "live", cause="test")
    sandbox.admin("POST", "/item_status", {"marketplace": "shopee", "shop_id": shop.external_shop_id,
                                           "item_id": int(listing["external_item_id"]), "status": "banned",
                                           "reason": ""})
    await sync_statuses(rt)
    await dispatch.process_events(settings, zalo_on=True)
    latest = (await Notification.select().where(Notification.user == user).order_by(
        Notification.id, ascending=False).first())
    shown = messages.text(latest["kind"], messages.payload_of(latest["payload"]), "vi")
    assert shown.title == "Shopee khoá sản phẩm Nước mắm Gò Bồi"
    assert messages.text(latest["kind"], messages.payload_of(latest["payload"]), "en").title == \
        "Shopee banned the product Nước mắm Gò Bồi"


async def test_a_refused_refresh_marks_the_shop_and_alerts_once(db, rt, sandbox, settings, alerts_rt) -> None:
    producer, user, staff = await _producer_with_users()
    shop = await connect_shop(rt, producer, "lazada")
    # the refresh token the marketplace no longer knows (revoked on its side), access token due
    shop.refresh_token_enc = rt.cipher.encrypt("revoked-refresh-token")
    shop.access_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    await shop.save()
    counts = await refresh_due_tokens(rt)
    assert counts["needs_reauth"] == 1
    assert (await Shop.select(Shop.status).where(Shop.id == shop.id).first())["status"] == "needs_reauth"
    await shops.mark_needs_reauth(shop, "again")  # already marked: no second alert
    await dispatch.process_events(settings, zalo_on=True)
    assert [n["kind"] for n in await Notification.select().where(Notification.user == user)] == ["shop_reauth"]
    assert [n["kind"] for n in await Notification.select().where(Notification.user == staff)] == ["shop_reauth"]
    assert await _deliver_due(alerts_rt) == ["zalo"]
    assert await AlertDelivery.count().where(AlertDelivery.user == staff) == 0  # no phone or e-mail: in-app only
    assert _zalo(sandbox)[0]["template_data"]["marketplace"] == "Lazada"


async def test_scheduled_checks_find_expiring_authorization_certificate_and_low_stock_once(
        db, rt, sandbox, settings, redis_url, arq_redis) -> None:
    producer, user, _ = await _producer_with_users()
    shop, product = await _live_listing(rt, settings, redis_url, arq_redis, producer)
    await Shop.update({Shop.refresh_expires_at: datetime.now(UTC) + timedelta(days=5)}).where(Shop.id == shop.id)
    await Certificate(product=product, stars=4, decision_number="1/QĐ", issued_on=date.today() - timedelta(days=1000),
                      expires_on=date.today() + timedelta(days=20)).save()
    far = await make_product(settings, producer, "SKU-FAR", name="Rượu Bàu Đá")
    await Certificate(product=far, stars=3, expires_on=date.today() + timedelta(days=200)).save()
    await Product.update({Product.stock: 3}).where(Product.id == product)

    for _ in range(2):  # a second run finds the same situations: nothing new
        found = await checks.run_all(settings)
        assert found == {"auth_expiring": 1, "cert_expiring": 1, "stock_low": 1}
    kinds = sorted(e["kind"] for e in await AlertEvent.select(AlertEvent.kind))
    assert kinds == ["auth_expiring", "cert_expiring", "stock_low"]
    # a restock (a new count from the producer) starts a new watch
    await Product.update({Product.stock: 2}).where(Product.id == product)
    await checks.stock_running_low(settings)
    assert await AlertEvent.count().where(AlertEvent.kind == "stock_low") == 2
    await dispatch.process_events(settings, zalo_on=True)
    notes = {n["kind"]: n for n in await Notification.select().where(Notification.user == user)}
    cert = messages.text("cert_expiring", messages.payload_of(notes["cert_expiring"]["payload"]), "vi")
    assert cert.title == "Giấy chứng nhận OCOP của Nước mắm Gò Bồi sắp hết hạn"
    assert (date.today() + timedelta(days=20)).strftime("%d/%m/%Y") in cert.body


async def test_quiet_hours_hold_messages_until_they_end(db, settings, alerts_rt, sandbox) -> None:
    producer, user, _ = await _producer_with_users()
    await AlertPreference.insert(AlertPreference(user=user, zalo_phone="0912 345 678", quiet_start=21 * 60,
                                                 quiet_end=6 * 60))
    night = datetime(2026, 12, 3, 22, 30, tzinfo=VN_TZ).astimezone(UTC)
    from ocop.events import outbox

    await outbox.record(outbox.STOCK_LOW, producer, product=None, payload={"product_name": "Hồ tiêu", "available": 2})
    await dispatch.process_events(settings, zalo_on=True, now=night)
    row = await AlertDelivery.select().where(AlertDelivery.user == user).first()
    assert row["due_at"].astimezone(VN_TZ) == datetime(2026, 12, 4, 6, 0, tzinfo=VN_TZ)
    assert await _deliver_due(alerts_rt, datetime(2026, 12, 4, 5, 59, tzinfo=VN_TZ)) == []
    assert await delivery.deliver(alerts_rt, row["id"], now=datetime(2026, 12, 4, 5, 59, tzinfo=VN_TZ)) == "skipped"
    assert await _deliver_due(alerts_rt, datetime(2026, 12, 4, 6, 0, tzinfo=VN_TZ)) == ["zalo"]


async def test_kinds_turned_off_and_no_channel_still_reach_the_list(db, settings, alerts_rt, sandbox) -> None:
    producer, user, _ = await _producer_with_users()
    await AlertPreference.insert(AlertPreference(user=user, zalo_phone="0912345678", kinds_off='["stock_low"]'))
    from ocop.events import outbox

    await outbox.record(outbox.STOCK_LOW, producer, payload={"product_name": "Hồ tiêu", "available": 2})
    await dispatch.process_events(settings, zalo_on=True)
    assert await Notification.count().where(Notification.user == user) == 1
    assert await AlertDelivery.count() == 0


async def test_email_when_there_is_no_zalo_phone_and_when_zalo_refuses(db, settings, alerts_rt, sandbox,
                                                                       mailbox) -> None:
    producer, user, _ = await _producer_with_users()
    await AlertPreference.insert(AlertPreference(user=user, zalo_phone="", email="htx.tamquan@example.vn"))
    from ocop.events import outbox

    await outbox.record(outbox.CERT_EXPIRING, producer, product=None,
                        payload={"product_name": "Bánh tráng nước dừa", "expires_on": "2027-01-02"})
    await dispatch.process_events(settings, zalo_on=True)
    assert await _deliver_due(alerts_rt) == ["email"]
    mail = mailbox.received[-1]
    assert mail["X-Envelope-To"] == "htx.tamquan@example.vn"
    raw_subject = mail.as_bytes().split(b"Subject: ", 1)[1].split(b"\n", 1)[0]
    assert raw_subject.startswith(b"=?utf-8?") and raw_subject.isascii()  # RFC 2047, not raw 8-bit
    subject = "".join(part.decode(enc) if enc else part for part, enc in decode_header(str(mail["Subject"])))
    assert subject == "Giấy chứng nhận OCOP của Bánh tráng nước dừa sắp hết hạn"
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"
    body = mail.get_content()
    assert "Giấy chứng nhận hết hạn ngày 02/01/2027" in body
    assert unicodedata.is_normalized("NFC", body) and unicodedata.is_normalized("NFC", subject)
    assert "http://127.0.0.1:8000/notifications" in body

    # Zalo answers "Zalo account not existed" (-118): the same message goes by e-mail instead
    await AlertPreference.update({AlertPreference.zalo_phone: "0987 654 321"}).where(AlertPreference.user == user)
    sandbox.admin("POST", "/zalo", {"next_errors": [-118]})
    await outbox.record(outbox.STOCK_LOW, producer, payload={"product_name": "Hồ tiêu Chư Sê", "available": 1})
    await dispatch.process_events(settings, zalo_on=True)
    assert await _deliver_due(alerts_rt) == ["email"]
    assert "Hồ tiêu Chư Sê" in mailbox.received[-1].get_content()
    row = await AlertDelivery.select().where(AlertDelivery.kind == "stock_low").first()
    assert row["channel"] == "email" and "-118" in row["error"]
    assert sandbox.admin("GET", "/zalo")["refused"][-1] == [-118, "84987654321"]


@pytest.mark.parametrize("english", [False, True])
async def test_email_in_the_readers_language(db, settings, alerts_rt, mailbox, english: bool) -> None:
    producer, user, _ = await _producer_with_users()
    from ocop.accounts.tables import User
    from ocop.events import outbox

    await User.update({User.locale: "en" if english else "vi"}).where(User.id == user)
    await AlertPreference.insert(AlertPreference(user=user, use_zalo=False, email="a@example.vn"))
    await outbox.record(outbox.STOCK_LOW, producer, payload={"product_name": "Hồ tiêu", "available": 2})
    await dispatch.process_events(settings, zalo_on=True)
    assert await _deliver_due(alerts_rt) == ["email"]
    subject = str(mailbox.received[-1]["Subject"])
    assert subject == ("Stock running low: Hồ tiêu" if english else "Sắp hết hàng: Hồ tiêu")


async def test_staff_of_a_commune_hear_only_of_producers_in_their_communes(db, settings) -> None:
    producer = await make_producer("HTX A", "0100109106", province=GIA_LAI, commune=await ward_code(GIA_LAI, 0))
    elsewhere = await make_producer("HTX B", "0100109107", province=GIA_LAI, commune=await ward_code(GIA_LAI, 1))
    commune_staff = await make_user("s-commune", "staff", province=GIA_LAI, communes=(await ward_code(GIA_LAI, 0),))
    from ocop.events import outbox

    for p in (producer, elsewhere):
        await outbox.record(outbox.SHOP_REAUTH, p, payload={"marketplace": "tiki", "shop_name": "X"})
    await dispatch.process_events(settings, zalo_on=False)
    assert [n["producer"] for n in await Notification.select().where(Notification.user == commune_staff)] == [producer]


async def test_the_worker_reads_the_outbox_and_sends_when_woken(db, rt, sandbox, settings, redis_url,
                                                               arq_redis) -> None:
    """The writers' wake-up enqueues the outbox job by name; a real arq worker runs it, which
    queues the message job, which sends through Zalo, all in one burst."""
    from ocop.events import outbox

    producer, user, _ = await _producer_with_users()
    await outbox.record(outbox.STOCK_LOW, producer, payload={"product_name": "Hạt điều rang muối", "available": 4})
    await outbox.kick(arq_redis)
    await run_worker_burst(settings, redis_url, rt)
    assert await Notification.count().where(Notification.user == user) == 1
    row = await AlertDelivery.select().where(AlertDelivery.user == user).first()
    assert (row["status"], row["channel"]) == ("sent", "zalo")
    assert _zalo(sandbox)[-1]["template_data"] == {"product_name": "Hạt điều rang muối", "available": "4"}


async def test_keys_rotate_re_encrypts_the_zalo_tokens(db, settings) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    from ocop.alerts.tables import ZaloOaToken
    from ocop.marketplace.runtime import cipher_for

    old = cipher_for(settings)
    await ZaloOaToken(app_id="3910000000000000001", access_token_enc=old.encrypt("access"),
                      refresh_token_enc=old.encrypt("refresh")).save()
    new_secret = "a-new-secret-key-for-this-deployment-0123"
    env = {**os.environ, "OCOP_DATABASE_URL": db.url, "OCOP_SECRET_KEY": new_secret,
           "OCOP_OLD_SECRET_KEYS": settings.secret_key, "OCOP_VAR_DIR": str(settings.var_dir)}
    done = subprocess.run([str(Path(sys.executable).parent / "ocop"), "keys", "rotate"], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    row = await ZaloOaToken.select().first()
    fresh = cipher_for(settings.with_overrides(secret_key=new_secret, old_secret_keys=""))
    assert (fresh.decrypt(row["access_token_enc"]), fresh.decrypt(row["refresh_token_enc"])) == ("access", "refresh")


@pytest.mark.parametrize(("given", "wanted"), [
    ("0912345678", "84912345678"), ("0912 345 678", "84912345678"), ("+84 912 345 678", "84912345678"),
    ("84912345678", "84912345678"), ("912.345.678", "84912345678"), ("(091) 234-5678", "84912345678"),
    ("", ""), ("12345", ""), ("0912-345-67x", ""), ("+1 650 253 0000", ""),
    ("0256 3822 123", ""),  # a landline has no Zalo account
])
def test_zalo_numbers_are_mobiles_in_international_form_without_plus(given: str, wanted: str) -> None:
    from ocop.alerts.prefs import zalo_number

    assert zalo_number(given) == wanted


async def test_processed_events_are_forgotten_after_90_days(db, settings) -> None:
    from ocop.events import outbox

    producer, _, _ = await _producer_with_users()
    for key in ("old", "recent"):
        await outbox.record(outbox.CERT_EXPIRING, producer, dedupe_key=key, payload={"product_name": key})
    await dispatch.process_events(settings, zalo_on=False)
    await AlertEvent.update({AlertEvent.processed_at: datetime.now(UTC) - timedelta(days=91)}).where(
        AlertEvent.dedupe_key == "old")
    await checks.run_all(settings)
    assert [e["dedupe_key"] for e in await AlertEvent.select(AlertEvent.dedupe_key)] == ["recent"]


async def test_a_message_taken_by_a_worker_that_died_is_sent_once_its_lease_ends(db, settings, alerts_rt,
                                                                                sandbox) -> None:
    from ocop.events import outbox

    producer, user, _ = await _producer_with_users()
    await outbox.record(outbox.STOCK_LOW, producer, payload={"product_name": "Tiêu đen", "available": 1})
    await dispatch.process_events(settings, zalo_on=True)
    row = await AlertDelivery.select().where(AlertDelivery.user == user).first()
    now = datetime.now(UTC)
    await delivery._claim(row["id"], now)  # taken, then the worker is killed before it sends
    assert await _deliver_due(alerts_rt, now) == []
    assert await delivery.deliver(alerts_rt, row["id"], now=now + timedelta(seconds=30)) == "skipped"
    assert await delivery.deliver(alerts_rt, row["id"], now=now + delivery.LEASE + timedelta(seconds=1)) == "zalo"
