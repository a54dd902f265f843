"""Producer sign-up through the real form: validation per field, nothing typed lost, the HTMX
commune list, one transaction for producer + account, audit."""

from __future__ import annotations

from ocop.accounts.tables import User
from ocop.accounts.tables import AuditEvent
from ocop.producers.tables import Producer
from tests.ocop.web.support import GIA_LAI, post_form, ward_code

GOOD = {
    "kind": "htx",
    "legal_name": "  HTX  Bánh tráng Tam Quan ",
    "tax_code": "4100259564",
    "phone": "0912 345 678",
    "address_line": "Thôn 1",
    "username": "TamQuan",
    "password": "mat-khau-an-toan-1",
    "confirm": "mat-khau-an-toan-1",
    "representative": "Nguyễn Văn A",
}


async def test_signup_creates_producer_and_signs_in(db, app_client, redis_url) -> None:
    commune = await ward_code(GIA_LAI, 3)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        form = await client.get("/signup", headers={"accept": "text/html"})
        assert 'hx-get="/signup/communes"' in form.text and "Hợp tác xã" in form.text
        fragment = await client.get(f"/signup/communes?province_code={GIA_LAI}")
        assert f'value="{commune}"' in fragment.text and "Phường Quy Nhơn" in fragment.text
        done = await post_form(
            client,
            "/signup",
            {**GOOD, "province_code": str(GIA_LAI), "commune_code": str(commune)},
            from_page="/signup",
        )
        assert done.status_code == 303 and done.headers["location"] == "/products"
        me = (await client.get("/api/v1/me")).json()
        assert me["username"] == "tamquan" and me["role"] == "producer"
    producer = await Producer.select().where(Producer.tax_code == "4100259564").first()
    assert producer["legal_name"] == "HTX Bánh tráng Tam Quan"
    assert producer["name_folded"] == "htx banh trang tam quan"
    assert producer["phone"] == "+84912345678" and producer["commune_code"] == commune
    assert me["producer_id"] == producer["id"]
    assert await AuditEvent.exists().where(AuditEvent.action == "producer.signup")


async def test_signup_errors_are_per_field_and_keep_input(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        bad = {
            **GOOD,
            "tax_code": "4100259565",
            "phone": "12345",
            "province_code": str(GIA_LAI),
            "commune_code": "1",
            "confirm": "something-else",
        }
        page = await post_form(client, "/signup", bad, from_page="/signup")
        assert page.status_code == 400
        text = page.text
        assert "Mã số thuế không hợp lệ" in text
        assert 'id="e-phone"' in text and 'id="e-commune_code"' in text
        assert "Hai mật khẩu không khớp" in text
        assert (
            'value="  HTX  Bánh tráng Tam Quan "' in text
            or 'value="HTX  Bánh tráng Tam Quan' in text
            or "Bánh tráng Tam Quan" in text
        )
        assert 'value="Thôn 1"' in text and 'value="TamQuan"' in text
        assert "mat-khau-an-toan-1" not in text  # passwords are never echoed back
        # English when asked for
        en = await post_form(
            client,
            "/signup",
            bad,
            from_page="/signup",
        )
        client.cookies.set("lang", "en", domain="testserver.local")
        en = await post_form(client, "/signup", bad, from_page="/signup")
        assert "Invalid tax code" in en.text and "The two passwords differ" in en.text
    assert await Producer.count() == 0 and await User.count() == 0


async def test_signup_refuses_a_taken_tax_code_and_username(db, app_client, redis_url) -> None:
    commune = await ward_code(GIA_LAI)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        data = {**GOOD, "province_code": str(GIA_LAI), "commune_code": str(commune)}
        assert (await post_form(client, "/signup", data, from_page="/signup")).status_code == 303
        client.cookies.clear()
        again = await post_form(client, "/signup", data, from_page="/signup")
        assert again.status_code == 400 and "Mã số thuế này đã được đăng ký" in again.text
        other = await post_form(client, "/signup", {**data, "tax_code": "0100109106"}, from_page="/signup")
        assert other.status_code == 400 and "Tên đăng nhập đã được sử dụng" in other.text
    assert await Producer.count() == 1  # the second producer was rolled back with its account


async def test_producer_edits_own_details_with_the_same_checks(db, app_client, redis_url) -> None:
    from tests.ocop.web.support import HA_NOI, login, make_producer, make_user

    mine = await make_producer("HTX A", "4100259564")
    other = await make_producer("HTX B", "0100109106")
    await make_user("a1", "producer", producer_id=mine)
    commune = await ward_code(HA_NOI, 1)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await login(client, "a1")
        page = await client.get(f"/producers/{mine}/edit", headers={"accept": "text/html"})
        assert page.status_code == 200 and 'value="0912 345 678"' in page.text
        assert (
            await client.get(f"/producers/{other}/edit", headers={"accept": "text/html"})
        ).status_code == 404
        data = {
            "kind": "doanh_nghiep",
            "legal_name": "Công ty A",
            "tax_code": "0100109106",
            "phone": "0912345678",
            "province_code": str(HA_NOI),
            "commune_code": str(commune),
        }
        taken = await post_form(client, f"/producers/{mine}/edit", data, from_page=f"/producers/{mine}/edit")
        assert taken.status_code == 400 and "Mã số thuế này đã được đăng ký" in taken.text
        ok = await post_form(
            client,
            f"/producers/{mine}/edit",
            {**data, "tax_code": "4100259564"},
            from_page=f"/producers/{mine}/edit",
        )
        assert ok.status_code == 303
    row = await Producer.select().where(Producer.id == mine).first()
    assert (row["kind"], row["legal_name"], row["province_code"], row["commune_code"]) == (
        "doanh_nghiep",
        "Công ty A",
        HA_NOI,
        commune,
    )
    assert await AuditEvent.exists().where(AuditEvent.action == "producer.update")


async def test_producer_api_patch_reports_field_errors(db, app_client, redis_url) -> None:
    from ocop.accounts.tokens import create_token
    from tests.ocop.web.support import make_producer, make_user

    mine = await make_producer("HTX A", "4100259564")
    uid = await make_user("a1", "producer", producer_id=mine)
    token = (await create_token(uid, "t"))[1]
    commune = await ward_code(GIA_LAI, 2)
    body = {
        "kind": "htx",
        "legal_name": "HTX A mới",
        "tax_code": "4100259564",
        "phone": "12",
        "province_code": GIA_LAI,
        "commune_code": commune,
    }
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        auth = {"authorization": f"Bearer {token}"}
        bad = await client.patch(f"/api/v1/producers/{mine}", json=body, headers=auth)
        assert bad.status_code == 422 and [f["field"] for f in bad.json()["error"]["fields"]] == ["phone"]
        ok = await client.patch(
            f"/api/v1/producers/{mine}", json={**body, "phone": "0256 3822 123"}, headers=auth
        )
        assert (
            ok.status_code == 200
            and ok.json()["phone"] == "+842563822123"
            and ok.json()["legal_name"] == "HTX A mới"
        )
