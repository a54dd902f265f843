"""Every object endpoint × every kind of caller, asserting the exact status.

Callers: anonymous, producer A (owner), producer B, staff whose area holds A, staff of another
province, admin. A wrong object answers 404 (no existence leak); a wrong role 403; nobody signed
in: 401 for the API and for form posts, a redirect to the login page for page views.
"""

from __future__ import annotations

import httpx
import pytest

from ocop.accounts.tokens import create_token
from ocop.catalog.jobs import normalize_image_row
from ocop.storage import media_store
from ocop.catalog.tables import Certificate, Image, Product
from ocop.domain.text import fold
from ocop.marketplace.tables import Listing, Shop
from ocop.producers.tables import Producer
from tests.ocop.web.support import GIA_LAI, HA_NOI, csrf, jpeg, login, make_producer, make_user

ACTORS = ("anon", "prod_a", "prod_b", "staff_in", "staff_out", "admin")

OWNER_ONLY_READ = dict(anon=401, prod_a=200, prod_b=404, staff_in=200, staff_out=404, admin=200)
PAGE_READ = {**OWNER_ONLY_READ, "anon": 303}


async def _world(app: object) -> dict[str, int]:
    a = await make_producer("HTX Bánh tráng Tam Quan", "4100259564", GIA_LAI)
    b = await make_producer("HTX Chè Thái Nguyên", "0100109106", HA_NOI)
    users = {
        "prod_a": await make_user("prod_a", "producer", producer_id=a),
        "prod_b": await make_user("prod_b", "producer", producer_id=b),
        "staff_in": await make_user("staff_in", "staff", province=GIA_LAI),
        "staff_out": await make_user("staff_out", "staff", province=HA_NOI),
        "admin": await make_user("admin", "admin"),
    }
    store = media_store(app.state.settings)  # type: ignore[attr-defined]
    product = Product(producer=a, sku="BT-01", name="Bánh tráng", name_folded=fold("Bánh tráng"), stock=3)
    await product.save()
    scan = await store.put(b"%PDF-1.4 scan of the decision")
    await Certificate.insert(
        Certificate(product=product.id, stars=4, decision_number="1/QĐ-UBND", scan_key=scan)
    )
    image = Image(product=product.id, original_key=await store.put(jpeg(600, 600)), position=0)
    await image.save()
    await normalize_image_row(store, int(image.id))
    shop = Shop(producer=a, marketplace="shopee", external_shop_id="123")
    await shop.save()
    listing = Listing(product=product.id, shop=shop.id, seller_sku="BT-01")
    await listing.save()
    commune = (await Producer.select(Producer.commune_code).where(Producer.id == a).first())["commune_code"]
    return {
        "a": a,
        "b": b,
        "commune": commune,
        "product": int(product.id),
        "image": int(image.id),
        "listing": int(listing.id),
        "user_a": users["prod_a"],
        **{f"uid_{k}": v for k, v in users.items()},
    }


@pytest.mark.slow
async def test_authorization_matrix(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (app, base):
        w = await _world(app)
        transport = base._transport
        clients: dict[str, httpx.AsyncClient] = {}
        tokens: dict[str, str] = {}
        for actor in ACTORS:
            clients[actor] = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            if actor != "anon":
                await login(clients[actor], actor)
                tokens[actor] = (await create_token(w[f"uid_{actor}"], "matrix"))[1]
        csrf_tokens = {actor: await csrf(c, "/") for actor, c in clients.items()}
        p, img, lst = w["product"], w["image"], w["listing"]
        product_body = {"name": "Bánh tráng mè", "sku": "BT-01", "price": "150.000", "draft": True}
        producer_body = {
            "kind": "htx",
            "legal_name": "HTX Bánh tráng Tam Quan",
            "tax_code": "4100259564",
            "phone": "0912345678",
            "province_code": GIA_LAI,
            "commune_code": w["commune"],
        }
        cert_body = {"stars": 4, "decision_number": "2/QĐ-UBND", "issued_on": "2025-03-15"}

        api = [  # (method, path, kwargs, expected by actor)
            ("GET", f"/api/v1/producers/{w['a']}", {}, OWNER_ONLY_READ),
            ("PATCH", f"/api/v1/producers/{w['a']}", {"json": producer_body}, OWNER_ONLY_READ),
            ("GET", f"/api/v1/products/{p}", {}, OWNER_ONLY_READ),
            ("PATCH", f"/api/v1/products/{p}", {"json": product_body}, OWNER_ONLY_READ),
            ("GET", f"/api/v1/products/{p}/readiness", {}, OWNER_ONLY_READ),
            ("GET", f"/api/v1/products/{p}/certificates", {}, OWNER_ONLY_READ),
            (
                "POST",
                f"/api/v1/products/{p}/certificates",
                {"json": cert_body},
                {**OWNER_ONLY_READ, "prod_a": 201, "staff_in": 201, "admin": 201},
            ),
            ("GET", f"/api/v1/products/{p}/images", {}, OWNER_ONLY_READ),
            (
                "POST",
                f"/api/v1/products/{p}/images",
                {"files": {"file": ("p.jpg", jpeg(400, 400), "image/jpeg")}},
                {**OWNER_ONLY_READ, "prod_a": 201, "staff_in": 201, "admin": 201},
            ),
            ("GET", f"/api/v1/listings/{lst}", {}, OWNER_ONLY_READ),
        ]
        pages = [
            ("GET", f"/producers/{w['a']}", {}, PAGE_READ),
            ("GET", f"/producers/{w['a']}/edit", {}, PAGE_READ),
            ("GET", f"/products/{p}", {}, PAGE_READ),
            ("GET", f"/products/{p}/edit", {}, PAGE_READ),
            ("GET", f"/products/{p}/photos", {}, PAGE_READ),
            ("GET", f"/images/{img}/web_thumb", {}, PAGE_READ),
            ("GET", f"/products/{p}/certificate-scan", {}, PAGE_READ),
            (
                "POST",
                f"/products/{p}/photos/{img}/up",
                {},
                {**OWNER_ONLY_READ, "prod_a": 303, "staff_in": 303, "admin": 303},
            ),
            (
                "POST",
                f"/products/{p}/edit",
                {"data": {"name": "Bánh tráng", "action": "draft"}},
                {**OWNER_ONLY_READ, "prod_a": 303, "staff_in": 303, "admin": 303},
            ),
            (
                "GET",
                "/staff",
                {},
                dict(anon=303, prod_a=403, prod_b=403, staff_in=200, staff_out=200, admin=200),
            ),
            (
                "GET",
                "/admin/users",
                {},
                dict(anon=303, prod_a=403, prod_b=403, staff_in=403, staff_out=403, admin=200),
            ),
            (
                "POST",
                "/staff/act-as",
                {"data": {"producer_id": str(w["a"])}},
                dict(anon=401, prod_a=403, prod_b=403, staff_in=303, staff_out=404, admin=303),
            ),
            (
                "POST",
                f"/admin/users/{w['user_a']}/reset-link",
                {},
                dict(anon=401, prod_a=403, prod_b=403, staff_in=200, staff_out=404, admin=200),
            ),
        ]
        failures = []
        for method, path, kwargs, expected in api:
            for actor in ACTORS:
                headers = {"authorization": f"Bearer {tokens[actor]}"} if actor != "anon" else {}
                anon_client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
                async with anon_client:  # tokens, not cookies: a fresh client per call
                    got = (await anon_client.request(method, path, headers=headers, **kwargs)).status_code
                if got != expected[actor]:
                    failures.append(f"API {method} {path} as {actor}: {got} != {expected[actor]}")
        for method, path, kwargs, expected in pages:
            for actor in ACTORS:
                headers = {"accept": "text/html"}
                if method == "POST":
                    headers["x-csrftoken"] = csrf_tokens[actor]
                got = (await clients[actor].request(method, path, headers=headers, **kwargs)).status_code
                if got != expected[actor]:
                    failures.append(f"page {method} {path} as {actor}: {got} != {expected[actor]}")
        for c in clients.values():
            await c.aclose()
        assert not failures, "\n".join(failures)


async def test_api_session_writes_need_the_csrf_header_and_tokens_can_be_revoked(
    db, app_client, redis_url
) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        a = await make_producer("HTX A", "4100259564")
        await make_user("prod_a", "producer", producer_id=a)
        await login(client, "prod_a")
        body = {
            "name": "Mật ong bạc hà",
            "price": "250.000đ",
            "weight": "0,5 kg",
            "ocop_group": 1,
            "unit": "hũ",
        }
        assert (await client.post("/api/v1/products", json=body)).status_code == 403
        made = await client.post(
            "/api/v1/products", json=body, headers={"x-csrftoken": client.cookies.get("csrftoken", "")}
        )
        assert made.status_code == 201, made.text
        assert made.json()["price_vnd"] == 250_000 and made.json()["weight_g"] == 500
        created = await client.post(
            "/api/v1/tokens",
            json={"name": "script"},
            headers={"x-csrftoken": client.cookies.get("csrftoken", "")},
        )
        token = created.json()["token"]
        listed = (await client.get("/api/v1/tokens")).json()
        assert [t["name"] for t in listed] == ["script"] and "token" not in listed[0]
        async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as script:
            auth = {"authorization": f"Bearer {token}"}
            assert (await script.get("/api/v1/products", headers=auth)).json()["total"] == 1
            assert (
                await script.post("/api/v1/products", json={"name": "x", "price": "1.5"}, headers=auth)
            ).json()["error"]["fields"][0]["field"] == "price"
            revoke = await client.delete(
                f"/api/v1/tokens/{created.json()['id']}",
                headers={"x-csrftoken": client.cookies.get("csrftoken", "")},
            )
            assert revoke.status_code == 204
            assert (await script.get("/api/v1/products", headers=auth)).status_code == 401
