"""The product + certificate form, photos through the normalization job, search and readiness."""

from __future__ import annotations

import json
from datetime import date

from ocop.accounts.tables import AuditEvent
from ocop.catalog.jobs import normalize_image_row
from ocop.storage import media_store
from ocop.catalog.tables import Certificate, Image, Product
from tests.ocop.web.support import csrf, jpeg, login, make_producer, make_user, post_form

FORM = {
    "name": "Bánh tráng nước dừa Tam Quan",
    "sku": "BT-01",
    "ocop_group": "1",
    "unit": "túi",
    "net_quantity": "500 g",
    "price": "150.000",
    "stock": "40",
    "weight": "0,5 kg",
    "length": "20",
    "width": "15",
    "height": "5",
    "description": "Bánh tráng truyền thống",
    "cert_stars": "4",
    "cert_decision_number": "123/QĐ-UBND",
    "cert_issuing_body": "UBND tỉnh Gia Lai",
    "cert_issued_on": "15/03/2025",
    "cert_validity_months": "36",
    "action": "save",
}


async def _producer_client(client, name="HTX Tam Quan", tax="4100259564", user="tamquan") -> int:
    pid = await make_producer(name, tax)
    await make_user(user, "producer", producer_id=pid)
    await login(client, user)
    return pid


async def test_product_form_parses_prices_and_keeps_input_on_error(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        pid = await _producer_client(client)
        bad = {**FORM, "price": "150.00", "cert_stars": "6", "cert_issued_on": "31/02/2025", "name": ""}
        page = await post_form(client, "/products/new", bad, from_page="/products/new")
        assert page.status_code == 400
        assert 'id="e-price"' in page.text and 'id="e-cert_stars"' in page.text and 'id="e-name"' in page.text
        assert 'id="e-cert_issued_on"' in page.text
        assert (
            'value="150.00"' in page.text and 'value="UBND tỉnh Gia Lai"' in page.text
        )  # nothing typed is lost
        assert await Product.count() == 0

        saved = await post_form(
            client, "/products/new", {**FORM, "price": "150000đ"}, from_page="/products/new"
        )
        assert saved.status_code == 303, saved.text[:300]
        product = await Product.select().where(Product.producer == pid).first()
        assert product["price_vnd"] == 150_000 and product["weight_g"] == 500 and product["length_mm"] == 200
        assert product["name_folded"] == "banh trang nuoc dua tam quan" and product["status"] == "active"
        cert = await Certificate.select().where(Certificate.product == product["id"]).first()
        assert (
            cert["stars"] == 4
            and cert["issued_on"] == date(2025, 3, 15)
            and cert["expires_on"] == date(2028, 3, 15)
        )
        assert cert["decision_number"] == "123/QĐ-UBND"
        detail = await client.get(saved.headers["location"], headers={"accept": "text/html"})
        assert "150.000 ₫" in detail.text and "15/03/2025" in detail.text
        assert "Shopee: cần ít nhất 1 ảnh sản phẩm (ảnh chụp điện thoại là được, hệ thống" in detail.text
        edit = await client.get(f"/products/{product['id']}/edit", headers={"accept": "text/html"})
        assert 'value="150.000"' in edit.text and 'value="15/03/2025"' in edit.text

        draft = await post_form(
            client,
            f"/products/{product['id']}/edit",
            {**FORM, "action": "draft", "price": "", "weight": "", "cert_validity_months": "24"},
            from_page="/products/new",
        )
        assert draft.status_code == 303
        row = await Product.select().where(Product.id == product["id"]).first()
        assert row["status"] == "draft" and row["price_vnd"] is None
        assert (await Certificate.select().first())["expires_on"] == date(2027, 3, 15)
        events = (
            await AuditEvent.select().where(AuditEvent.entity_id == product["id"]).order_by(AuditEvent.id)
        )
        assert [e["action"] for e in events] == ["product.create", "product.update"]
        # an active product needs its price; a draft does not
        missing = await post_form(
            client, f"/products/{product['id']}/edit", {**FORM, "price": ""}, from_page="/products/new"
        )
        assert missing.status_code == 400 and "Không được để trống" in missing.text


async def test_duplicate_sku_is_a_field_error(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await _producer_client(client)
        assert (await post_form(client, "/products/new", FORM, from_page="/products/new")).status_code == 303
        again = await post_form(client, "/products/new", FORM, from_page="/products/new")
        assert again.status_code == 400 and "Mã SKU này đã dùng" in again.text


async def test_photos_upload_normalize_reorder_and_search(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (app, client):
        await _producer_client(client)
        created = await post_form(client, "/products/new", FORM, from_page="/products/new")
        product_id = int(created.headers["location"].rsplit("/", 1)[1])
        token = await csrf(client, f"/products/{product_id}")
        files = [
            ("photos", ("a.jpg", jpeg(800, 600), "image/jpeg")),
            ("photos", ("b.jpg", jpeg(200, 200), "image/jpeg")),
            ("photos", ("notes.txt", b"<html><script>alert(1)</script>", "image/jpeg")),
        ]
        upload = await client.post(
            f"/products/{product_id}/photos",
            files=files,
            headers={"hx-request": "true", "x-csrftoken": token},
        )
        assert upload.status_code == 422
        assert "notes.txt" in upload.text and "không phải là ảnh" in upload.text
        images = await Image.select().where(Image.product == product_id).order_by(Image.position)
        assert [i["status"] for i in images] == ["pending", "pending"]
        store = media_store(app.state.settings)
        assert [await normalize_image_row(store, i["id"]) for i in images] == ["ready", "ready"]
        detail = await client.get(f"/products/{product_id}", headers={"accept": "text/html"})
        assert "Shopee: sẵn sàng" in detail.text and f"/images/{images[0]['id']}/web_thumb" in detail.text
        thumb = await client.get(f"/images/{images[0]['id']}/web_thumb")
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
        assert (await client.get(f"/images/{images[0]['id']}/original")).status_code == 404
        small = await Image.select().where(Image.id == images[1]["id"]).first()
        renditions = (
            json.loads(small["renditions"]) if isinstance(small["renditions"], str) else small["renditions"]
        )
        assert "shopee" not in renditions and "tiktok" in renditions  # 200 px: too small for Shopee's 500
        assert "Ảnh quá nhỏ" in small["error_message"]
        # cover, reorder, delete
        cover = await client.post(
            f"/products/{product_id}/photos/{images[1]['id']}/cover",
            headers={"hx-request": "true", "x-csrftoken": token},
        )
        assert cover.status_code == 200
        order = [
            r["id"]
            for r in await Image.select(Image.id).where(Image.product == product_id).order_by(Image.position)
        ]
        assert order == [images[1]["id"], images[0]["id"]]
        await client.post(
            f"/products/{product_id}/photos/{images[1]['id']}/down", headers={"x-csrftoken": token}
        )
        order = [
            r["id"]
            for r in await Image.select(Image.id).where(Image.product == product_id).order_by(Image.position)
        ]
        assert order == [images[0]["id"], images[1]["id"]]
        await client.post(
            f"/products/{product_id}/photos/{images[1]['id']}/delete", headers={"x-csrftoken": token}
        )
        assert await Image.count().where(Image.product == product_id) == 1

        found = await client.get("/products?q=banh+trang+nuoc", headers={"accept": "text/html"})
        assert "Bánh tráng nước dừa Tam Quan" in found.text and "1 sản phẩm" in found.text
        dd = await client.get("/products?q=BANH TRANG NUOC DUA", headers={"hx-request": "true"})
        assert "Bánh tráng nước dừa" in dd.text and "<html" not in dd.text
        none = await client.get("/products?q=ca+phe", headers={"accept": "text/html"})
        assert "Không có sản phẩm nào phù hợp" in none.text
        stars = await client.get("/products?stars=5", headers={"accept": "text/html"})
        assert "0 sản phẩm" in stars.text


async def test_oversized_upload_is_refused_with_413(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await _producer_client(client)
        created = await post_form(client, "/products/new", FORM, from_page="/products/new")
        product_id = int(created.headers["location"].rsplit("/", 1)[1])
        token = await csrf(client, f"/products/{product_id}")
        huge = b"\xff\xd8\xff" + b"0" * (21 * 1024 * 1024)
        refused = await client.post(
            f"/products/{product_id}/photos",
            files=[("photos", ("big.jpg", huge, "image/jpeg"))],
            headers={"hx-request": "true", "x-csrftoken": token},
        )
        assert refused.status_code == 422 and "tối đa 20 MB" in refused.text
        assert await Image.count() == 0


async def test_certificate_scan_upload_is_kept_and_served_as_a_download(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await _producer_client(client)
        token = await csrf(client, "/products/new")
        scan = b"%PDF-1.4\n% quyet dinh OCOP\n"
        data = {**FORM, "_csrf_token": token}
        created = await client.post(
            "/products/new",
            data=data,
            files={"cert_scan": ("qd.pdf", scan, "application/pdf")},
            headers={"accept": "text/html"},
        )
        assert created.status_code == 303, created.text[:300]
        product_id = int(created.headers["location"].rsplit("/", 1)[1])
        served = await client.get(f"/products/{product_id}/certificate-scan")
        assert served.content == scan and served.headers["content-type"] == "application/pdf"
        assert served.headers["content-disposition"].startswith("attachment")
        bad = await client.post(
            "/products/new",
            data={**data, "sku": "X2"},
            files={"cert_scan": ("a.exe", b"MZ...", "application/x-msdownload")},
            headers={"accept": "text/html"},
        )
        assert bad.status_code == 400 and "phải là tệp PDF, JPEG, PNG hoặc HEIC" in bad.text
        for name, body, declared in (("qd.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),
                                     ("qd.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp")):
            disguised = await client.post(
                "/products/new",
                data={**data, "sku": "X3"},
                files={"cert_scan": (name, body, declared)},
                headers={"accept": "text/html"},
            )  # the bytes decide: HTML declared as PDF, and WebP (not a scan format), are refused
            assert disguised.status_code == 400 and "phải là tệp PDF, JPEG, PNG hoặc HEIC" in disguised.text


async def test_list_pages_and_filters_keep_the_query(db, app_client, redis_url) -> None:
    from ocop.domain.text import fold

    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        pid = await _producer_client(client)
        await Product.insert(
            *[
                Product(
                    producer=pid,
                    sku=f"S{i:02}",
                    name=f"Bánh tráng số {i:02}",
                    name_folded=fold(f"Bánh tráng số {i:02}"),
                    status="active",
                )
                for i in range(25)
            ]
        )
        first = await client.get("/products?q=banh&status=active", headers={"accept": "text/html"})
        assert (
            "25 sản phẩm" in first.text
            and "Bánh tráng số 00" in first.text
            and "Bánh tráng số 20" not in first.text
        )
        assert "1 / 2" in first.text and 'href="/products?q=banh&amp;status=active&amp;page=2"' in first.text
        second = await client.get("/products?q=banh&status=active&page=2", headers={"accept": "text/html"})
        assert "Bánh tráng số 24" in second.text and "Bánh tráng số 00" not in second.text
        newest = await client.get("/products?sort=name&desc=1", headers={"accept": "text/html"})
        assert newest.text.index("Bánh tráng số 24") < newest.text.index("Bánh tráng số 23")
