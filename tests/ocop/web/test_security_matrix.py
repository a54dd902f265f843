"""The authorization matrix's security companions: each test is one leak an outside probe of the
demo found (guessing passwords in parallel, sessions and tokens outliving a password change, import
batches and sync runs leaking across areas, private answers kept in caches, tokens minting tokens)
or one of the weaker spots it noted beside them (CSRF tokens and OAuth states not bound to their
session, sign-up answering "does this exist?" without limit, public metrics, declared file types,
extreme photo shapes). Each runs on SQLite and PostgreSQL and fails on the code before the fix.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar
from PIL import Image as PILImage

from ocop.accounts.tables import ApiToken, DatabaseInstance, User
from ocop.accounts.tokens import create_token
from ocop.catalog.tables import Product
from ocop.domain.text import fold
from ocop.imports.tables import ImportBatch
from ocop.marketplace.tables import Shop, SyncRun
from tests.ocop.web.support import (
    GIA_LAI,
    HA_NOI,
    PASSWORD,
    api_headers,
    csrf,
    login,
    make_producer,
    make_user,
    post_form,
    ward_code,
)

HTML = {"accept": "text/html"}
ClientFor = Callable[..., httpx.AsyncClient]


@asynccontextmanager
async def opened(app_client: Any, db: Any, redis_url: str, **settings: Any) -> AsyncIterator[
        tuple[Litestar, ClientFor]]:
    """The app, and ``client_for(ip)``: a new cookie jar talking to it from that client address."""
    async with app_client(database_url=db.url, redis_url=redis_url, **settings) as (app, _):
        made: list[httpx.AsyncClient] = []

        def client_for(ip: str = "127.0.0.1") -> httpx.AsyncClient:
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)),
                                       base_url="http://testserver")
            made.append(client)
            return client

        try:
            yield app, client_for
        finally:
            for client in made:
                await client.aclose()


async def _me(client: httpx.AsyncClient, token: str | None = None) -> int:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return (await client.get("/api/v1/me", headers=headers)).status_code


# ----------------------------------------------------------------------------- 1. parallel guessing


async def test_parallel_wrong_passwords_are_counted_before_the_check(db, app_client, redis_url) -> None:
    """30 wrong passwords sent at once for one user from one address: 5 are checked (400), the
    rest refused unchecked (429). The owner, at another address, still signs in: five failures
    throttle the guesser's address, not the account."""
    producer = await make_producer("HTX Tam Quan", "4100259564")
    await make_user("tamquan", "producer", producer_id=producer)
    async with opened(app_client, db, redis_url) as (_, client_for):
        attacker = client_for("203.0.113.50")
        token = await csrf(attacker)
        answers = await asyncio.gather(*(
            attacker.post("/login", data={"username": "tamquan", "password": f"doan-sai-{i}",
                                          "_csrf_token": token},
                          headers=HTML)
            for i in range(30)))
        codes = sorted(a.status_code for a in answers)
        assert codes.count(400) == 5 and codes.count(429) == 25, codes
        refused = next(a for a in answers if a.status_code == 429)
        assert "sai quá nhiều lần" in refused.text and int(refused.headers["retry-after"]) > 0
        # even the right password is not checked from the throttled address
        right = await post_form(attacker, "/login", {"username": "tamquan", "password": PASSWORD})
        assert right.status_code == 429
        owner = client_for("198.51.100.20")
        assert (await login(owner, "tamquan")).status_code == 303


# ----------------------------------------------------------------------------- 2. sessions and tokens


async def test_password_change_ends_other_sessions_and_revokes_tokens(db, app_client, redis_url) -> None:
    producer = await make_producer("HTX Tam Quan", "4100259564")
    user = await make_user("tamquan", "producer", producer_id=producer)
    async with opened(app_client, db, redis_url) as (_, client_for):
        here, phone = client_for(), client_for()
        await login(here, "tamquan")
        await login(phone, "tamquan")
        token = (await create_token(user, "script"))[1]
        assert (await _me(phone), await _me(client_for(), token)) == (200, 200)
        changed = await post_form(here, "/account/password",
                                  {"current": PASSWORD, "new": "mat-khau-moi-2026",
                                   "confirm": "mat-khau-moi-2026"},
                                  from_page="/account/password")
        assert changed.status_code == 200, changed.text[:300]
        assert "Mọi phiên đăng nhập khác đã bị đăng xuất" in changed.text
        assert "cache-control" in changed.headers and changed.headers["cache-control"] == "no-store"
        assert await _me(here) == 200  # this browser stays signed in
        assert await _me(phone) == 401
        assert await _me(client_for(), token) == 401
        assert await ApiToken.count().where(ApiToken.revoked_at.is_null()) == 0


async def test_the_current_password_on_the_change_form_is_throttled_too(db, app_client, redis_url) -> None:
    """A borrowed session must not become a way to guess the password: the change form's check of
    the current password sits behind the same throttle as signing in."""
    producer = await make_producer("HTX Tam Quan", "4100259564")
    await make_user("tamquan", "producer", producer_id=producer)
    async with opened(app_client, db, redis_url) as (_, client_for):
        borrowed = client_for("203.0.113.80")
        await login(borrowed, "tamquan")
        token = await csrf(borrowed, "/account/password")
        answers = await asyncio.gather(*(
            borrowed.post("/account/password", headers=HTML, data={
                "current": f"doan-{i}", "new": "mat-khau-moi-2026", "confirm": "mat-khau-moi-2026",
                "_csrf_token": token})
            for i in range(12)))
        codes = sorted(a.status_code for a in answers)
        assert codes.count(400) == 5 and codes.count(429) == 7, codes


async def test_reset_link_ends_the_users_sessions_and_tokens(db, app_client, redis_url) -> None:
    producer = await make_producer("HTX Tam Quan", "4100259564")
    user = await make_user("tamquan", "producer", producer_id=producer)
    await make_user("admin", "admin")
    async with opened(app_client, db, redis_url) as (_, client_for):
        stolen, admin = client_for(), client_for()
        await login(stolen, "tamquan")
        token = (await create_token(user, "script"))[1]
        await login(admin, "admin")
        made = await post_form(admin, f"/admin/users/{user}/reset-link", {}, from_page="/admin/users")
        link = made.text.split("/reset/", 1)[1].split('"', 1)[0].split("<", 1)[0]
        reset = await post_form(client_for(), f"/reset/{link}", {"new": "mat-khau-moi-2026",
                                                                 "confirm": "mat-khau-moi-2026"},
                                from_page=f"/reset/{link}")
        assert reset.status_code == 200 and "Mọi phiên đăng nhập cũ" in reset.text
        assert await _me(stolen) == 401
        assert await _me(client_for(), token) == 401


async def test_deactivation_and_role_change_end_sessions_and_revoke_tokens(db, app_client, redis_url) -> None:
    staff = await make_user("canbo", "staff", province=GIA_LAI)
    await make_user("admin", "admin")
    async with opened(app_client, db, redis_url) as (_, client_for):
        admin = client_for()
        await login(admin, "admin")
        for action, data in (("active", {"active": "0"}),
                             ("role", {"role": "staff", "area_province_code": str(HA_NOI)})):
            await User.update({User.is_active: True}).where(User.id == staff)
            browser = client_for()
            await login(browser, "canbo")
            token = (await create_token(staff, action))[1]
            assert (await _me(browser), await _me(client_for(), token)) == (200, 200)
            done = await post_form(admin, f"/admin/users/{staff}/{action}", data, from_page="/admin/users")
            assert done.status_code == 200, (action, done.status_code)
            assert "đăng xuất mọi phiên đăng nhập" in done.text
            assert (await _me(browser), await _me(client_for(), token)) == (401, 401), action
        row = await User.select(User.area_province_code, User.is_active).where(User.id == staff).first()
        assert row == {"area_province_code": HA_NOI, "is_active": True}


async def test_sessions_end_with_the_database_they_were_made_for(db, app_client, redis_url) -> None:
    """A session cookie kept in Redis names a user id; on a database made anew (``ocop demo
    --fresh``, a restore) that id may be someone else. The session carries the database's id."""
    producer = await make_producer("HTX Tam Quan", "4100259564")
    await make_user("tamquan", "producer", producer_id=producer)
    async with opened(app_client, db, redis_url) as (_, client_for):
        browser = client_for()
        await login(browser, "tamquan")
        assert await _me(browser) == 200
        cookies = dict(browser.cookies)
    await DatabaseInstance.delete(force=True)  # what a fresh database is: another instance id
    async with opened(app_client, db, redis_url) as (_, client_for):
        again = client_for()
        again.cookies.update(cookies)
        assert await _me(again) == 401


# ----------------------------------------------------------------------------- 3 and 4. areas


async def test_commune_staff_cannot_open_a_province_officers_batch(db, app_client, redis_url) -> None:
    ward, other_ward = await ward_code(GIA_LAI, 0), await ward_code(GIA_LAI, 1)
    province_officer = await make_user("canbo-tinh", "staff", province=GIA_LAI)
    commune_officer = await make_user("canbo-xa", "staff", province=GIA_LAI, communes=(ward,))
    await make_user("canbo-xa-ben", "staff", province=GIA_LAI, communes=(other_ward,))
    await make_user("canbo-tinh-2", "staff", province=GIA_LAI)
    async with opened(app_client, db, redis_url) as (app, client_for):
        rows = "Mã số thuế,Tên chủ thể,Điện thoại\n0100109106,HTX Xa,0912345678\n"
        source = await app.state.media.put(rows.encode())
        batches = {}
        for name, owner in (("tinh.csv", province_officer), ("xa.csv", commune_officer)):
            batch = ImportBatch(created_by=owner, file_name=name, file_sha256="0" * 64, source_key=source,
                                status="done", rows=1, report=[])
            await batch.save()
            batches[name] = int(batch.id)
        expected = {  # who opens which batch (and its original file back with errors)
            "canbo-tinh": {"tinh.csv": 200, "xa.csv": 200},
            "canbo-tinh-2": {"tinh.csv": 200, "xa.csv": 200},
            "canbo-xa": {"tinh.csv": 404, "xa.csv": 200},
            "canbo-xa-ben": {"tinh.csv": 404, "xa.csv": 404},
        }
        failures = []
        for username, seen in expected.items():
            client = client_for()
            await login(client, username)
            listed = (await client.get("/imports", headers=HTML)).text
            for name, status in seen.items():
                for path in (f"/imports/{batches[name]}", f"/imports/{batches[name]}/errors.xlsx"):
                    got = (await client.get(path, headers=HTML)).status_code
                    if got != status:
                        failures.append(f"{username} {path}: {got} != {status}")
                if (name in listed) != (status == 200):
                    failures.append(f"{username} history lists {name}: {name in listed}")
        assert not failures, "\n".join(failures)


async def test_sync_page_shows_only_the_staff_members_area(db, app_client, redis_url) -> None:
    gia_lai = await make_producer("HTX Gia Lai", "4100259564", GIA_LAI)
    ha_noi = await make_producer("HTX Hà Nội", "0100109106", HA_NOI)
    await make_user("canbo-gialai", "staff", province=GIA_LAI)
    await make_user("canbo-hanoi", "staff", province=HA_NOI)
    await make_user("admin", "admin")
    for producer, label in ((gia_lai, "loi-gia-lai"), (ha_noi, "loi-ha-noi"), (None, "loi-toan-he-thong")):
        shop_id = None
        if producer is not None:
            shop = Shop(producer=producer, marketplace="shopee", external_shop_id=label)
            await shop.save()
            shop_id = shop.id
        await SyncRun.insert(SyncRun(kind="orders", shop=shop_id, ok=False, error=label, counts={}))
    expected = {"canbo-gialai": {"loi-gia-lai"}, "canbo-hanoi": {"loi-ha-noi"},
                "admin": {"loi-gia-lai", "loi-ha-noi", "loi-toan-he-thong"}}
    async with opened(app_client, db, redis_url) as (_, client_for):
        for username, visible in expected.items():
            client = client_for()
            await login(client, username)
            page = await client.get("/sync", headers=HTML)
            assert page.status_code == 200
            shown = {label for label in expected["admin"] if label in page.text}
            assert shown == visible, username


# ----------------------------------------------------------------------------- 5. no-store


async def test_authenticated_answers_are_never_stored(db, app_client, redis_url) -> None:
    producer = await make_producer("HTX Tam Quan", "4100259564")
    user = await make_user("tamquan", "producer", producer_id=producer)
    await make_user("admin", "admin")
    token = (await create_token(user, "script"))[1]
    async with opened(app_client, db, redis_url) as (_, client_for):
        browser, admin, script, anonymous = client_for(), client_for(), client_for(), client_for()
        await login(browser, "tamquan")
        await login(admin, "admin")
        answers = {
            "page": await browser.get("/products", headers=HTML),
            "api (session)": await browser.get("/api/v1/me"),
            "api (token)": await script.get("/api/v1/products", headers={"authorization": f"Bearer {token}"}),
            "token page": await post_form(browser, "/account/tokens", {"name": "x"},
                                          from_page="/account/tokens"),
            "reset-link page": await post_form(admin, f"/admin/users/{user}/reset-link", {},
                                               from_page="/admin/users"),
        }
        link = answers["reset-link page"].text.split("/reset/", 1)[1].split('"', 1)[0].split("<", 1)[0]
        answers["reset page"] = await anonymous.get(f"/reset/{link}", headers=HTML)
        for name, answer in answers.items():
            assert answer.status_code == 200, (name, answer.status_code)
            assert answer.headers.get("cache-control") == "no-store", name
        assert "no-store" not in (await browser.get("/static/app.css")).headers.get("cache-control", "")
        login_page = await anonymous.get("/login", headers=HTML)
        assert "no-store" not in login_page.headers.get("cache-control", "")


# ----------------------------------------------------------------------------- 6. tokens from tokens


async def test_tokens_are_created_only_from_a_signed_in_session(db, app_client, redis_url) -> None:
    staff = await make_user("canbo", "staff", province=GIA_LAI)
    token = (await create_token(staff, "script"))[1]
    async with opened(app_client, db, redis_url) as (_, client_for):
        script = client_for()
        minted = await script.post("/api/v1/tokens", json={"name": "child"},
                                   headers={"authorization": f"Bearer {token}"})
        assert minted.status_code == 403, minted.text
        assert minted.json()["error"]["code"] == "session_required" and minted.json()["error"]["message_vi"]
        browser = client_for()
        await login(browser, "canbo")
        made = await browser.post("/api/v1/tokens", json={"name": "from the page"},
                                  headers=api_headers(browser))
        assert made.status_code == 201
        assert await ApiToken.count().where(ApiToken.user == staff) == 2


# ----------------------------------------------------------------------------- also seen


async def test_csrf_tokens_are_bound_to_their_session(db, app_client, redis_url) -> None:
    """A validly signed CSRF token from another browser (its cookie and form value) is refused for
    this session; the session's own works."""
    producer = await make_producer("HTX Tam Quan", "4100259564")
    await make_user("tamquan", "producer", producer_id=producer)
    async with opened(app_client, db, redis_url) as (_, client_for):
        victim, attacker = client_for(), client_for()
        await login(victim, "tamquan")
        own = victim.cookies["csrftoken"]
        foreign = await csrf(attacker, "/login")  # the attacker's own, properly signed token
        victim.cookies.set("csrftoken", foreign, domain="testserver.local")  # planted (cookie tossing)
        forged = await victim.post("/account/tokens", data={"name": "x", "_csrf_token": foreign},
                                   headers=HTML)
        assert forged.status_code == 403
        api = await victim.post("/api/v1/tokens", json={"name": "x"}, headers={"x-csrftoken": foreign})
        assert api.status_code == 403
        victim.cookies.set("csrftoken", own, domain="testserver.local")
        assert (await post_form(victim, "/account/tokens", {"name": "x"}, from_page="/account/tokens")
                ).status_code == 200


async def test_signup_existence_checks_are_rate_limited(db, app_client, redis_url) -> None:
    await make_producer("HTX Tam Quan", "4100259564")
    async with opened(app_client, db, redis_url) as (_, client_for):
        prober = client_for("203.0.113.60")
        codes = []
        for i in range(12):
            answer = await post_form(prober, "/signup", {"username": f"thu-{i}", "tax_code": "4100259564"},
                                     from_page="/signup")
            codes.append(answer.status_code)
        assert codes[:10] == [400] * 10 and codes[10:] == [429, 429], codes
        assert "Quá nhiều lần đăng ký" in answer.text
        assert (await post_form(client_for("198.51.100.61"), "/signup", {"username": "x"},
                                from_page="/signup")).status_code == 400  # another address is unaffected


async def test_metrics_answer_only_allowed_addresses_or_the_bearer_secret(db, app_client, redis_url) -> None:
    async with opened(app_client, db, redis_url, metrics_token="scrape-secret-0123") as (_, client_for):
        assert (await client_for("127.0.0.1").get("/metrics")).status_code == 200
        outside = client_for("203.0.113.70")
        refused = await outside.get("/metrics")
        assert refused.status_code == 403 and "ocop_requests_total" not in refused.text
        assert (await outside.get("/metrics", headers={"authorization": "Bearer wrong"})).status_code == 403
        allowed = await outside.get("/metrics", headers={"authorization": "Bearer scrape-secret-0123"})
        assert allowed.status_code == 200 and "ocop_requests_total" in allowed.text
    async with opened(app_client, db, redis_url, metrics_allow="203.0.113.0/24") as (_, client_for):
        assert (await client_for("203.0.113.70").get("/metrics")).status_code == 200
        assert (await client_for("127.0.0.1").get("/metrics")).status_code == 403


async def test_an_extreme_aspect_ratio_photo_is_refused_with_a_clear_message(db, app_client,
                                                                             redis_url) -> None:
    producer = await make_producer("HTX Tam Quan", "4100259564")
    await make_user("tamquan", "producer", producer_id=producer)
    product = Product(producer=producer, sku="BT-01", name="Bánh tráng", name_folded=fold("Bánh tráng"))
    await product.save()
    strip = io.BytesIO()
    PILImage.new("RGB", (1, 60000), (200, 120, 40)).save(strip, "PNG")
    async with opened(app_client, db, redis_url) as (_, client_for):
        browser = client_for()
        await login(browser, "tamquan")
        answer = await browser.post(f"/api/v1/products/{product.id}/images", headers=api_headers(browser),
                                    files={"file": ("strip.png", strip.getvalue(), "image/png")})
        assert answer.status_code in (400, 422), answer.text
        error = answer.json()["error"]
        assert "1×60000" in error["message_vi"] and "quá dài hoặc quá hẹp" in error["message_vi"], error
        assert "too long or too narrow" in error["message"], error
