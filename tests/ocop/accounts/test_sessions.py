"""Sign in and out: session cookie flags, id rotation, CSRF, rate limiting, password change."""

from __future__ import annotations

import httpx
import pytest

from tests.ocop.web.support import PASSWORD, csrf, login, make_producer, make_user, post_form

# Cookie, CSRF and rate-limit behaviour does not depend on the database engine.
SQLITE_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


async def test_login_rotates_session_and_sets_safe_cookies(db, app_client, redis_url) -> None:
    pid = await make_producer("HTX Bánh tráng Tam Quan", "4100259564")
    await make_user("tamquan", "producer", producer_id=pid)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        client.cookies.set("ocop_session", "a" * 64, domain="testserver.local")  # planted before login
        response = await login(client, "tamquan")
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("ocop_session="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert "Secure" not in cookie  # http base_url
        new_id = cookie.split(";")[0].split("=", 1)[1]
        assert new_id != "a" * 64 and len(new_id) == 64
        assert response.headers["location"] == "/products"
        me = await client.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["username"] == "tamquan"
        # the planted id was not given the login
        async with httpx.AsyncClient(
            transport=client._transport, base_url="http://testserver", cookies={"ocop_session": "a" * 64}
        ) as attacker:
            assert (await attacker.get("/api/v1/me")).status_code == 401
        out = await post_form(client, "/logout", {}, from_page="/account/password")
        assert out.status_code == 303
        assert (await client.get("/api/v1/me")).status_code == 401


@SQLITE_ONLY
async def test_secure_cookie_over_https(db, app_client, redis_url) -> None:
    pid = await make_producer("HTX A", "4100259564")
    await make_user("a1", "producer", producer_id=pid)
    async with app_client(database_url=db.url, redis_url=redis_url, base_url="https://ocop.example.vn") as (
        _,
        plain,
    ):
        async with httpx.AsyncClient(transport=plain._transport, base_url="https://testserver") as client:
            response = await login(client, "a1")
            cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("ocop_session="))
            assert "Secure" in cookie and "HttpOnly" in cookie


@SQLITE_ONLY
async def test_forms_without_csrf_are_refused(db, app_client, redis_url) -> None:
    pid = await make_producer("HTX A", "4100259564")
    await make_user("a1", "producer", producer_id=pid)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await csrf(client)
        response = await client.post(
            "/login", data={"username": "a1", "password": PASSWORD}, headers={"accept": "text/html"}
        )
        assert response.status_code == 403


@SQLITE_ONLY
async def test_login_rate_limit_has_a_clear_message(db, app_client, redis_url) -> None:
    pid = await make_producer("HTX A", "4100259564")
    await make_user("ratelimited", "producer", producer_id=pid)
    async with app_client(database_url=db.url, redis_url=redis_url) as (app, client):
        await app.state.queue.redis.delete("ocop:login:user:ratelimited")
        for _ in range(5):
            bad = await post_form(client, "/login", {"username": "ratelimited", "password": "wrong-password"})
            assert bad.status_code == 400 and "không đúng" in bad.text
        blocked = await post_form(client, "/login", {"username": "ratelimited", "password": PASSWORD})
        assert blocked.status_code == 429
        assert "sai quá nhiều lần" in blocked.text and "15 phút" in blocked.text
        await app.state.queue.redis.delete("ocop:login:user:ratelimited", "ocop:login:ip:127.0.0.1")


async def test_change_password(db, app_client, redis_url) -> None:
    pid = await make_producer("HTX A", "4100259564")
    await make_user("a1", "producer", producer_id=pid)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await login(client, "a1")
        wrong = await post_form(
            client,
            "/account/password",
            {"current": "nope", "new": "x" * 10, "confirm": "x" * 10},
            from_page="/account/password",
        )
        assert wrong.status_code == 400 and "Mật khẩu hiện tại không đúng" in wrong.text
        ok = await post_form(
            client,
            "/account/password",
            {"current": PASSWORD, "new": "mat-khau-moi-2", "confirm": "mat-khau-moi-2"},
            from_page="/account/password",
        )
        assert ok.status_code == 200 and "Đã đổi mật khẩu" in ok.text
        client.cookies.clear()
        await login(client, "a1", "mat-khau-moi-2")


@SQLITE_ONLY
async def test_anonymous_page_redirects_to_login(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        page = await client.get("/account/password", headers={"accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/account/password"
        api = await client.get("/api/v1/me")
        assert api.status_code == 401 and api.json()["error"]["code"] == "not_authenticated"


@SQLITE_ONLY
async def test_a_token_api_call_neither_reads_nor_touches_the_session(db, app_client, redis_url) -> None:
    from ocop.accounts.tokens import create_token

    pid = await make_producer("HTX Bánh tráng Tam Quan", "4100259564")
    await make_user("tamquan", "producer", producer_id=pid)
    script_user = await make_user("script", "producer", producer_id=pid)
    _, token = await create_token(script_user, "script")
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await login(client, "tamquan")  # the browser's session cookie rides along below
        both = await client.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
        assert both.status_code == 200 and both.json()["username"] == "script"  # the token decides
        assert not both.headers.get_list("set-cookie")  # no session was made or saved
        assert (await client.get("/api/v1/me")).json()["username"] == "tamquan"  # still signed in
        # pages keep their sessions whatever the headers say
        page = await client.get("/products", headers={"authorization": f"Bearer {token}"})
        assert page.status_code == 200
