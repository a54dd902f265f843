"""What every visitor's browser, link checker or phone asks of the site besides the pages: HEAD
answered like GET, a favicon, and a way back in for a forgotten password."""

from __future__ import annotations

from tests.ocop.web.support import login, make_producer, make_user

HTML = {"accept": "text/html"}


async def test_head_answers_like_get_without_a_body(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        get = await client.get("/", headers=HTML)
        head = await client.head("/", headers=HTML)
        assert head.status_code == get.status_code == 200
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
        assert (await client.head("/login", headers=HTML)).status_code == 200
        private = await client.head("/products", headers=HTML)  # the same redirect to the login as GET
        assert private.status_code == (await client.get("/products", headers=HTML)).status_code
        assert (await client.head("/khong-co", headers=HTML)).status_code == 404
        assert (await client.head("/healthz")).status_code == 200


async def test_favicon_and_forgotten_password(db, app_client, redis_url) -> None:
    producer = await make_producer("HTX Gò Bồi", "0100109106")
    await make_user("goboi", "producer", producer_id=producer)
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        icon = await client.get("/favicon.ico")
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
        assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
        svg = await client.get("/static/favicon.svg")
        assert svg.status_code == 200 and b"<svg" in svg.content

        page = await client.get("/login", headers=HTML)
        assert 'href="/forgot"' in page.text and "Quên mật khẩu?" in page.text
        forgot = await client.get("/forgot", headers=HTML)
        assert forgot.status_code == 200 and "cán bộ phụ trách xã" in forgot.text
        assert "Tạo link đặt lại mật khẩu" in forgot.text  # and what the officer does
        english = await client.get("/forgot", headers={**HTML, "accept-language": "en"})
        assert "Forgot your password?" in english.text and "commune" in english.text

        await login(client, "goboi")
        products = await client.get("/products", headers=HTML)
        assert '<details class="menu">' in products.text  # the header's links fold into one menu
        assert 'rel="icon" href="/favicon.ico"' in products.text
