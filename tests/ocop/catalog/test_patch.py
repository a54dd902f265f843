"""``PATCH /api/v1/products/{id}`` changes only what it is sent, and the API and the product form
read the same values into the same field errors."""

from __future__ import annotations

from typing import Any

from ocop.accounts.tokens import create_token
from ocop.catalog.forms import check_product_form
from ocop.catalog.tables import Product
from ocop.domain.text import fold
from tests.ocop.web.support import audited_changes, make_producer, make_user

STORED = {
    "sku": "BT-01",
    "name": "Bánh tráng nước dừa",
    "ocop_group": 1,
    "sub_group": "1.1",
    "description": "Bánh tráng truyền thống",
    "unit": "túi",
    "net_quantity": "500 g",
    "price_vnd": 150_000,
    "weight_g": 500,
    "length_mm": 200,
    "width_mm": 150,
    "height_mm": 50,
    "stock": 40,
    "shelf_life_days": 180,
    "ingredients": "Gạo, dừa",
    "status": "active",
}


async def _seed() -> tuple[int, str]:
    producer = await make_producer("HTX Tam Quan", "4100259564")
    user = await make_user("tamquan", "producer", producer_id=producer)
    row = Product(producer=producer, name_folded=fold(STORED["name"]), **STORED)
    await row.save()
    return int(row.id), (await create_token(user, "t"))[1]


async def _stored(product_id: int) -> dict[str, Any]:
    row = await Product.select(*[getattr(Product, k) for k in STORED]).where(Product.id == product_id).first()
    return dict(row)


async def test_patch_changes_only_the_fields_sent_and_audits_them(db, app_client, redis_url) -> None:
    product_id, token = await _seed()
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        auth = {"authorization": f"Bearer {token}"}
        url = f"/api/v1/products/{product_id}"
        response = await client.patch(url, json={"price": "120.000"}, headers=auth)
        assert response.status_code == 200, response.text
        assert response.json()["price_vnd"] == 120_000 and response.json()["name"] == STORED["name"]
        assert await _stored(product_id) == {**STORED, "price_vnd": 120_000}
        assert await audited_changes("product.update", product_id) == [{"price_vnd": [150_000, 120_000]}]

        # a draft needs only its name, so the price may go; the product stays what it was otherwise
        response = await client.patch(
            f"/api/v1/products/{product_id}", json={"draft": True, "length_cm": "12,5"}, headers=auth
        )
        assert response.status_code == 200, response.text
        changed = {"price_vnd": 120_000, "length_mm": 125, "status": "draft"}
        assert await _stored(product_id) == {**STORED, **changed}


async def test_patch_null_empties_a_field(db, app_client, redis_url) -> None:
    product_id, token = await _seed()
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        auth = {"authorization": f"Bearer {token}"}
        response = await client.patch(
            f"/api/v1/products/{product_id}",
            json={"weight": None, "shelf_life_days": None, "ingredients": ""},
            headers=auth,
        )
        assert response.status_code == 200, response.text
        assert response.json()["weight_g"] is None
        emptied = {"weight_g": None, "shelf_life_days": None, "ingredients": ""}
        assert await _stored(product_id) == {**STORED, **emptied}
        assert await audited_changes("product.update", product_id) == [
            {"weight_g": [500, None], "shelf_life_days": [180, None], "ingredients": ["Gạo, dừa", ""]}
        ]


async def test_patch_checks_the_product_as_changed_with_field_errors(db, app_client, redis_url) -> None:
    product_id, token = await _seed()
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        auth = {"authorization": f"Bearer {token}"}

        async def refused(body: dict[str, Any]) -> list[dict[str, str]]:
            response = await client.patch(f"/api/v1/products/{product_id}", json=body, headers=auth)
            assert response.status_code == 422, response.text
            return response.json()["error"]["fields"]  # type: ignore[no-any-return]

        bad_price = await refused({"price": "150.00"})
        assert [(f["field"], f["code"]) for f in bad_price] == [("price", "invalid_money")]
        assert bad_price[0]["message_vi"].startswith("Số tiền không hợp lệ")
        # an active product keeps needing its price and unit, whichever field the body empties
        assert [(f["field"], f["code"]) for f in await refused({"price": None, "unit": ""})] == [
            ("unit", "required"),
            ("price", "required"),
        ]
        assert [(f["field"], f["code"]) for f in await refused({"name": " ", "height_cm": "cao"})] == [
            ("height_cm", "invalid_dimension"),
            ("name", "required"),
        ]
        # a field the body does not have is refused, not silently ignored
        unknown = await client.patch(f"/api/v1/products/{product_id}", json={"price_vnd": 1}, headers=auth)
        assert unknown.status_code == 400 and "price_vnd" in unknown.text
        assert await _stored(product_id) == STORED
        assert await audited_changes("product.update", product_id) == []


FORM_AND_API = [
    # (form field, API field, value typed on the form, the same value as an API client sends it)
    ("price", "price", "150.00", "150.00"),
    ("price", "price", "-5000", -5000),
    ("weight", "weight", "nửa cân", "nửa cân"),
    ("length", "length_cm", "dài", "dài"),
    ("width", "width_cm", "-3", -3),
    ("stock", "stock", "1,5", "1,5"),
    ("shelf_life_days", "shelf_life_days", "sáu tháng", "sáu tháng"),
    ("ocop_group", "ocop_group", "9", 9),
    ("name", "name", "  ", "  "),
]
CERTIFICATE_FORM_AND_API = [
    ("cert_stars", "stars", "2", 2),
    ("cert_decision_number", "decision_number", "quyết định 12", "quyết định 12"),
    ("cert_validity_months", "validity_months", "0", 0),
]
VALID_FORM = {"name": "Bánh tráng", "ocop_group": "1", "unit": "túi", "price": "150.000"}
VALID_CERTIFICATE = {"cert_stars": "4", "cert_decision_number": "12/QĐ-UBND", "cert_issued_on": "15/03/2025"}


def _problems(errors: list[Any]) -> list[tuple[str, str, str]]:
    return [(e.code, e.message_vi, e.message_en) for e in errors]


async def test_the_form_and_the_api_give_the_same_error_for_the_same_value(db, app_client, redis_url) -> None:
    product_id, token = await _seed()
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        auth = {"authorization": f"Bearer {token}"}
        for form_field, api_field, typed, sent in FORM_AND_API:
            form = check_product_form({**VALID_FORM, form_field: typed}, draft=False)
            assert [e.field for e in form.errors] == [form_field], (form_field, form.errors)
            for method, url, body in (
                ("PATCH", f"/api/v1/products/{product_id}", {api_field: sent}),
                ("POST", "/api/v1/products", {"name": "Bánh tráng", "ocop_group": 1, "unit": "túi",
                                              "price": 150_000, api_field: sent}),
            ):
                response = await client.request(method, url, json=body, headers=auth)
                assert response.status_code == 422, (method, api_field, response.text)
                fields = response.json()["error"]["fields"]
                assert [f["field"] for f in fields] == [api_field], (method, fields)
                assert [(f["code"], f["message_vi"], f["message"]) for f in fields] == _problems(form.errors)
        for form_field, api_field, typed, sent in CERTIFICATE_FORM_AND_API:
            form = check_product_form({**VALID_FORM, **VALID_CERTIFICATE, form_field: typed}, draft=False)
            assert [e.field for e in form.errors] == [form_field], (form_field, form.errors)
            body = {"stars": 4, "decision_number": "12/QĐ-UBND", "issued_on": "2025-03-15", api_field: sent}
            url = f"/api/v1/products/{product_id}/certificates"
            response = await client.post(url, json=body, headers=auth)
            assert response.status_code == 422, (api_field, response.text)
            fields = response.json()["error"]["fields"]
            assert [f["field"] for f in fields] == [api_field], fields
            assert [(f["code"], f["message_vi"], f["message"]) for f in fields] == _problems(form.errors)
    assert await _stored(product_id) == STORED
    assert await Product.count() == 1
