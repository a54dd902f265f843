"""Admins create staff; staff/admin hand over one-time password-reset links."""

from __future__ import annotations

import re

import pytest

from ocop.accounts.tables import PasswordReset, User
from ocop.accounts.tables import AuditEvent
from tests.ocop.web.support import GIA_LAI, HA_NOI, login, make_producer, make_user, post_form


async def test_admin_creates_staff_with_an_area(db, app_client, redis_url) -> None:
    await make_user("admin", "admin")
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await login(client, "admin")
        page = await client.get("/admin/users", headers={"accept": "text/html"})
        assert page.status_code == 200 and "Gia Lai" in page.text
        no_area = await post_form(
            client,
            "/admin/users",
            {"username": "cb1", "password": "x" * 10, "role": "staff"},
            from_page="/admin/users",
        )
        assert (
            no_area.status_code == 400
            and "Cán bộ cần có địa bàn" in no_area.text
            and 'value="cb1"' in no_area.text
        )
        ok = await post_form(
            client,
            "/admin/users",
            {
                "username": "cb1",
                "password": "x" * 10,
                "role": "staff",
                "area_province_code": str(GIA_LAI),
                "area_commune_codes": "1, 2",
            },
            from_page="/admin/users",
        )
        assert ok.status_code == 200 and "Đã tạo tài khoản" in ok.text
        producer_role = await post_form(
            client,
            "/admin/users",
            {"username": "p", "password": "x" * 10, "role": "producer"},
            from_page="/admin/users",
        )
        assert producer_role.status_code == 400
    staff = await User.select().where(User.username == "cb1").first()
    assert staff["role"] == "staff" and staff["area_province_code"] == GIA_LAI
    assert await AuditEvent.exists().where(AuditEvent.action == "user.create")


async def test_reset_link_is_one_time(db, app_client, redis_url) -> None:
    pid = await make_producer("HTX A", "4100259564", GIA_LAI)
    uid = await make_user("prod_a", "producer", producer_id=pid)
    await make_user("staff_in", "staff", province=GIA_LAI)
    await make_user("staff_out", "staff", province=HA_NOI)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await login(client, "staff_out")
        denied = await post_form(client, f"/admin/users/{uid}/reset-link", {}, from_page="/staff")
        assert denied.status_code == 404
        client.cookies.clear()
        await login(client, "staff_in")
        made = await post_form(client, f"/admin/users/{uid}/reset-link", {}, from_page="/staff")
        assert made.status_code == 200
        link = re.search(r'value="(http://127\.0\.0\.1:8000/reset/[^"]+)"', made.text).group(1)
        token = link.rsplit("/", 1)[1]
        assert await PasswordReset.count() == 1
        assert (await PasswordReset.select().first())["token_hash"] != token  # only a hash is stored
        client.cookies.clear()
        form = await client.get(f"/reset/{token}", headers={"accept": "text/html"})
        assert form.status_code == 200
        short = await post_form(
            client, f"/reset/{token}", {"new": "short", "confirm": "short"}, from_page=f"/reset/{token}"
        )
        assert short.status_code == 400 and "ít nhất 8 ký tự" in short.text
        done = await post_form(
            client,
            f"/reset/{token}",
            {"new": "mat-khau-moi-99", "confirm": "mat-khau-moi-99"},
            from_page=f"/reset/{token}",
        )
        assert done.status_code == 200 and "Đã đặt mật khẩu mới" in done.text
        again = await client.get(f"/reset/{token}", headers={"accept": "text/html"})
        assert again.status_code == 404
        await login(client, "prod_a", "mat-khau-moi-99")


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_expired_reset_link_is_refused(db, app_client, redis_url) -> None:
    from datetime import UTC, datetime, timedelta

    from ocop.accounts.services import make_reset_link, reset_target

    pid = await make_producer("HTX A", "4100259564")
    uid = await make_user("prod_a", "producer", producer_id=pid)
    link = await make_reset_link(uid, uid, "http://x")
    token = link.rsplit("/", 1)[1]
    assert await reset_target(token) is not None
    await PasswordReset.update({PasswordReset.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        PasswordReset.user == uid
    )
    assert await reset_target(token) is None


async def test_token_page_shows_a_token_once_and_revokes_it(db, app_client, redis_url) -> None:
    import httpx

    from ocop.accounts.tables import ApiToken

    await make_user("cb", "staff", province=GIA_LAI)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await login(client, "cb")
        made = await post_form(client, "/account/tokens", {"name": "nhap lieu"}, from_page="/account/tokens")
        token = re.search(r'value="(ocop_[^"]+)"', made.text).group(1)
        listing = await client.get("/account/tokens", headers={"accept": "text/html"})
        assert "nhap lieu" in listing.text and token not in listing.text
        async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as script:
            auth = {"authorization": f"Bearer {token}"}
            assert (await script.get("/api/v1/me", headers=auth)).json()["username"] == "cb"
            token_id = (await ApiToken.select(ApiToken.id).first())["id"]
            revoked = await post_form(
                client, f"/account/tokens/{token_id}/revoke", {}, from_page="/account/tokens"
            )
            assert revoked.status_code == 303
            assert (await script.get("/api/v1/me", headers=auth)).status_code == 401
