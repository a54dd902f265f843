"""Variants through ``/api/v1/products``: typed ``variation`` and ``variants`` on create, read and
PATCH (which changes only what it is sent), the product's price and stock kept as the lowest
variant price and the sum of variant stocks, and field errors that point at ``variants[i].field``."""

from __future__ import annotations

from typing import Any

from ocop.accounts.tokens import create_token
from ocop.catalog.tables import Product, Variant
from ocop.domain.text import fold
from tests.ocop.web.support import audited_changes, make_producer, make_user

HONEY = {
    "name": "Mật ong hoa cà phê",
    "sku": "MO",
    "ocop_group": 1,
    "unit": "hũ",
    "variation": [
        {"name": "Dung tích", "options": ["250 ml", "500 ml"]},
        {"name": "Quy cách", "options": ["hũ", "hộp quà"]},
    ],
    "variants": [
        {"sku": "MO-250-HU", "option1": "250 ml", "option2": "hũ", "price": "120.000", "stock": 10,
         "weight": "0,4 kg", "length_cm": 8, "width_cm": 8, "height_cm": 12},
        {"sku": "MO-500-HU", "option1": "500 ml", "option2": "hũ", "price": "210.000", "stock": 5},
        {"sku": "MO-500-QUA", "option1": "500 ml", "option2": "hộp quà", "price": 260000, "stock": 2},
    ],
}


async def _producer() -> tuple[int, dict[str, str]]:
    producer = await make_producer("HTX Ong Chư Sê", "4100259564")
    user = await make_user("chuse", "producer", producer_id=producer)
    return producer, {"authorization": f"Bearer {(await create_token(user, 't'))[1]}"}


async def _variants(product_id: int) -> list[dict[str, Any]]:
    return list(await Variant.select(Variant.id, Variant.sku, Variant.option1, Variant.option2, Variant.price_vnd,
                                     Variant.stock).where(Variant.product == product_id).order_by(Variant.position))


async def test_create_read_and_patch_variants(db, app_client, redis_url) -> None:
    _, auth = await _producer()
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        response = await client.post("/api/v1/products", json=HONEY, headers=auth)
        assert response.status_code == 201, response.text
        body = response.json()
        product_id = body["id"]
        # the product's own price and stock follow from its variants
        assert (body["price_vnd"], body["stock"]) == (120_000, 17)
        assert body["variation"] == HONEY["variation"]
        assert [(v["sku"], v["option1"], v["option2"], v["price_vnd"], v["stock"]) for v in body["variants"]] == [
            ("MO-250-HU", "250 ml", "hũ", 120_000, 10),
            ("MO-500-HU", "500 ml", "hũ", 210_000, 5),
            ("MO-500-QUA", "500 ml", "hộp quà", 260_000, 2),
        ]
        first = body["variants"][0]
        assert (first["weight_g"], first["length_mm"], first["height_mm"]) == (400, 80, 120)

        read = (await client.get(f"/api/v1/products/{product_id}", headers=auth)).json()
        assert read["variants"] == body["variants"] and read["variation"] == body["variation"]
        listed = (await client.get("/api/v1/products", headers=auth)).json()["items"]
        assert [len(p["variants"]) for p in listed] == [3]

        # PATCH of the variants only: the name stays, ids stay for the SKUs sent again
        ids = [v["id"] for v in body["variants"]]
        changed = [dict(v) for v in HONEY["variants"][:2]]
        changed[0]["price"] = "100.000"
        changed[1]["stock"] = 9
        response = await client.patch(f"/api/v1/products/{product_id}", json={"variants": changed}, headers=auth)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["name"] == HONEY["name"] and body["variation"] == HONEY["variation"]
        assert [v["id"] for v in body["variants"]] == ids[:2]
        assert (body["price_vnd"], body["stock"]) == (100_000, 19)
        stored = await Product.select(Product.price_vnd, Product.stock).where(Product.id == product_id).first()
        assert stored == {"price_vnd": 100_000, "stock": 19}
        changes = (await audited_changes("product.update", product_id))[-1]
        assert changes["variant_prices"] == ["MO-250-HU"] and changes["variant_stock"] == ["MO-500-HU"]
        assert changes["variants"] == ["MO-500-QUA"]  # removed

        # PATCH of something else leaves the variants alone
        response = await client.patch(f"/api/v1/products/{product_id}", json={"description": "Mật ong nguyên chất"},
                                      headers=auth)
        assert response.status_code == 200, response.text
        assert [v["id"] for v in response.json()["variants"]] == ids[:2]

        # the price of a product with variants is set on its variants
        response = await client.patch(f"/api/v1/products/{product_id}", json={"price": "90.000"}, headers=auth)
        assert response.status_code == 422
        assert [(f["field"], f["code"]) for f in response.json()["error"]["fields"]] == [("price", "set_per_variant")]

        # back to one SKU: no attributes, no variants; the price and stock are the product's own again
        response = await client.patch(f"/api/v1/products/{product_id}",
                                      json={"variation": [], "variants": []}, headers=auth)
        assert response.status_code == 200, response.text
        assert response.json()["variants"] == [] and await _variants(product_id) == []
        response = await client.patch(f"/api/v1/products/{product_id}", json={"price": "90.000"}, headers=auth)
        assert response.status_code == 200 and response.json()["price_vnd"] == 90_000


async def test_field_errors_point_at_the_variant_and_field(db, app_client, redis_url) -> None:
    producer, auth = await _producer()
    other = Product(producer=producer, sku="CF-01", name="Cà phê", name_folded=fold("Cà phê"), status="draft")
    await other.save()
    bad = {
        **HONEY,
        "variation": [{"name": "Dung tích của hũ mật", "options": ["250 ml", "250 ML", ""]}],
        "variants": [
            {"sku": "CF-01", "option1": "250 ml", "price": "120.000"},
            {"sku": "MO-X", "option1": "1 lít", "price": 0, "stock": -1},
            {"sku": "MO-Y", "option1": "250 ml", "option2": "hũ", "price": "abc"},
            {"option1": "250 ml", "price": 1000},
        ],
    }
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        response = await client.post("/api/v1/products", json=bad, headers=auth)
        assert response.status_code == 422, response.text
        fields = {(f["field"], f["code"]) for f in response.json()["error"]["fields"]}
        assert fields == {
            ("variation[0].name", "attribute_name_too_long"),
            ("variation[0].options[1]", "duplicate_option"),
            ("variation[0].options[2]", "required"),
            ("variants[0].sku", "sku_taken"),
            ("variants[1].option1", "unknown_option"),
            ("variants[1].price", "price_not_positive"),
            ("variants[1].stock", "stock_negative"),
            ("variants[2].price", "invalid_money"),
            ("variants[2].option2", "unknown_option"),
            ("variants[2].option1", "duplicate_variant"),
            ("variants[3].sku", "required"),
            ("variants[3].option1", "duplicate_variant"),
        }
        by_field = {f["field"]: f for f in response.json()["error"]["fields"]}
        assert by_field["variants[0].sku"]["message_vi"] == "Mã SKU đã dùng cho sản phẩm khác (Cà phê)"
        assert by_field["variation[0].name"]["message"] == "Attribute name: at most 14 characters"
        assert await Product.count() == 1  # nothing saved

        # a field a variant does not have is refused, not ignored
        typo = {**HONEY, "variants": [{**HONEY["variants"][0], "colour": "đỏ"}]}
        response = await client.post("/api/v1/products", json=typo, headers=auth)
        assert response.status_code == 400, response.text
