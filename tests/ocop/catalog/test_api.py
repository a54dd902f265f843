"""The JSON API: filters, pagination, certificates, image upload, listings, OpenAPI documentation."""

from __future__ import annotations

from datetime import timedelta

from ocop.accounts.tokens import create_token
from ocop.catalog.tables import Certificate, Product
from ocop.domain.dates import today_vn
from ocop.domain.text import fold
from ocop.marketplace.tables import Listing, Shop
from tests.ocop.web.support import GIA_LAI, HA_NOI, jpeg, make_producer, make_user

NAMES = ["Bánh tráng nước dừa", "Bánh tráng mè đen", "Đường phèn Quảng Ngãi", "Dầu dừa", "Cà phê Robusta"]


async def _seed() -> dict[str, int]:
    a = await make_producer("HTX Tam Quan", "4100259564", GIA_LAI)
    b = await make_producer("HTX Hà Nội", "0100109106", HA_NOI)
    staff = await make_user("staff_gl", "staff", province=GIA_LAI)
    ids = []
    for i, name in enumerate(NAMES):
        row = Product(
            producer=a,
            sku=f"A{i}",
            name=name,
            name_folded=fold(name),
            ocop_group=1 if i < 3 else 2,
            price_vnd=10_000 * (i + 1),
            status="active" if i % 2 == 0 else "draft",
        )
        await row.save()
        ids.append(int(row.id))
    await Certificate.insert(
        Certificate(product=ids[0], stars=5, expires_on=today_vn() + timedelta(days=20)),
        Certificate(product=ids[1], stars=3, expires_on=today_vn() + timedelta(days=400)),
    )
    other = Product(producer=b, sku="B0", name="Bánh tráng Hà Nội", name_folded=fold("Bánh tráng Hà Nội"))
    await other.save()
    shop = Shop(producer=a, marketplace="tiki", external_shop_id="1")
    await shop.save()
    await Listing.insert(
        Listing(product=ids[0], shop=shop.id, seller_sku="A0", state="live"),
        Listing(product=ids[1], shop=shop.id, seller_sku="A1", state="rejected"),
    )
    return {"a": a, "b": b, "staff": staff, "first": ids[0], "other": int(other.id)}


async def test_product_search_filters_and_pages(db, app_client, redis_url) -> None:
    w = await _seed()
    token = (await create_token(w["staff"], "t"))[1]
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        auth = {"authorization": f"Bearer {token}"}

        async def names(**params: object) -> list[str]:
            response = await client.get("/api/v1/products", params=params, headers=auth)
            assert response.status_code == 200, response.text
            return [p["name"] for p in response.json()["items"]]

        assert await names(q="banh trang") == ["Bánh tráng mè đen", "Bánh tráng nước dừa"]  # not Hà Nội's
        assert await names(q="duong") == ["Đường phèn Quảng Ngãi"]  # đ matches d
        assert await names(group=2) == ["Cà phê Robusta", "Dầu dừa"]
        assert await names(stars=5) == ["Bánh tráng nước dừa"]
        assert await names(expiring="true") == ["Bánh tráng nước dừa"]
        assert await names(status="draft") == ["Bánh tráng mè đen", "Dầu dừa"]
        assert await names(marketplace="tiki") == ["Bánh tráng mè đen", "Bánh tráng nước dừa"]
        assert await names(marketplace="shopee") == []
        assert await names(sort="price", desc="true", per_page=2) == ["Cà phê Robusta", "Dầu dừa"]
        page2 = (
            await client.get(
                "/api/v1/products", params={"sort": "price", "per_page": 2, "page": 2}, headers=auth
            )
        ).json()
        assert page2["total"] == 5 and [p["price_vnd"] for p in page2["items"]] == [30_000, 40_000]
        bad = await client.get("/api/v1/products", params={"per_page": 1000}, headers=auth)
        assert bad.status_code == 400 and bad.json()["error"]["fields"]

        listings = (await client.get("/api/v1/listings", params={"state": "rejected"}, headers=auth)).json()
        assert [item["seller_sku"] for item in listings["items"]] == ["A1"] and listings["items"][0][
            "marketplace"
        ] == "tiki"
        producers = (await client.get("/api/v1/producers", headers=auth)).json()
        assert [p["legal_name"] for p in producers["items"]] == ["HTX Tam Quan"]
        assert (await client.get(f"/api/v1/products/{w['other']}", headers=auth)).status_code == 404


async def test_certificates_images_and_validation_errors(db, app_client, redis_url) -> None:
    w = await _seed()
    prod_user = await make_user("prod_a", "producer", producer_id=w["a"])
    token = (await create_token(prod_user, "t"))[1]
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        auth = {"authorization": f"Bearer {token}"}
        pid = w["first"]
        cert = await client.post(
            f"/api/v1/products/{pid}/certificates",
            headers=auth,
            json={
                "stars": 4,
                "decision_number": "12/QĐ-UBND",
                "issued_on": "2025-01-31",
                "validity_months": 36,
            },
        )
        assert cert.status_code == 201 and cert.json()["expires_on"] == "2028-01-31"
        assert (await client.get(f"/api/v1/products/{pid}", headers=auth)).json()["stars"] == 4
        wrong = await client.post(f"/api/v1/products/{pid}/certificates", headers=auth, json={"stars": 6})
        assert wrong.status_code == 422 and wrong.json()["error"]["fields"][0]["field"] == "stars"
        image = await client.post(
            f"/api/v1/products/{pid}/images",
            headers=auth,
            files={"file": ("x.jpg", jpeg(600, 600), "image/jpeg")},
        )
        assert image.status_code == 201 and image.json()["status"] == "pending"
        junk = await client.post(
            f"/api/v1/products/{pid}/images",
            headers=auth,
            files={"file": ("x.jpg", b"GIF89a<script>alert(1)</script>", "image/jpeg")},
        )
        assert junk.status_code == 422 and junk.json()["error"]["message_vi"]
        dup = await client.post(
            "/api/v1/products", headers=auth, json={"name": "Trùng", "sku": "A1", "draft": True}
        )
        assert dup.status_code == 422 and dup.json()["error"]["fields"][0]["code"] == "sku_taken"
        other = await client.post(
            "/api/v1/products", headers=auth, json={"name": "x", "producer_id": w["b"], "draft": True}
        )
        assert other.status_code == 404
        readiness = (await client.get(f"/api/v1/products/{pid}/readiness", headers=auth)).json()
        assert [r["marketplace"] for r in readiness] == ["shopee", "lazada", "tiktok", "tiki"]
        assert "photo" in readiness[0]["missing"]
    assert await Product.count().where(Product.name == "Trùng") == 0


async def test_openapi_documents_the_api_with_examples_and_errors(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/products",
        "/api/v1/products/{product_id}",
        "/api/v1/products/{product_id}/images",
        "/api/v1/products/{product_id}/certificates",
        "/api/v1/producers",
        "/api/v1/listings",
        "/api/v1/tokens",
    ):
        assert path in paths, path
    create = paths["/api/v1/products"]["post"]
    assert "422" in create["responses"] and "404" in create["responses"]
    body = create["requestBody"]["content"]["application/json"]
    assert "150.000" in str(body.get("examples", body))
    assert (
        "multipart/form-data"
        in paths["/api/v1/products/{product_id}/images"]["post"]["requestBody"]["content"]
    )
    assert not any(p.startswith("/products") or p.startswith("/login") for p in paths)  # pages stay out
