"""The variants part of the product form over plain HTTP (no JavaScript): the ``op`` buttons build
the attributes and the grid without saving, saving checks every variant field in Vietnamese or
English, a renamed option is renamed on its variants, and the edit page shows what was saved."""

from __future__ import annotations

import re

from ocop.catalog.tables import Product, Variant
from tests.ocop.catalog.test_product_pages import FORM, _producer_client
from tests.ocop.web.support import post_form

BASE = {k: v for k, v in FORM.items() if k not in ("price", "stock")}


def _fields(html: str) -> dict[str, str]:
    """The form's text and hidden inputs as a browser would post them."""
    out = {}
    for tag in re.findall(r"<input [^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if name and (kind is None or kind.group(1) in ("text", "hidden")) and name.group(1) != "_csrf_token":
            value = re.search(r'value="([^"]*)"', tag)
            out[name.group(1)] = value.group(1) if value else ""
    return out


async def test_build_save_rename_and_edit_variants_without_javascript(db, app_client, redis_url) -> None:
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        await _producer_client(client)
        page = await post_form(client, "/products/new", {**BASE, "op": "add_attr"}, from_page="/products/new")
        assert page.status_code == 200 and 'name="attr0_name"' in page.text
        assert 'name="price"' not in page.text  # the price is now per variant
        form = {**BASE, **_fields(page.text), "attr0_name": "Dung tích", "attr0_opt0": "250 ml"}
        page = await post_form(client, "/products/new", {**form, "op": "add_attr"}, from_page="/products/new")
        form = {**BASE, **_fields(page.text), "attr0_opt1": "500 ml", "attr1_name": "Quy cách", "attr1_opt0": "hũ"}
        page = await post_form(client, "/products/new", {**form, "op": "gen"}, from_page="/products/new")
        fields = _fields(page.text)
        assert [(fields[f"v{k}_option1"], fields[f"v{k}_option2"], fields[f"v{k}_sku"]) for k in range(2)] == [
            ("250 ml", "hũ", "BT-01-250ML-HU"), ("500 ml", "hũ", "BT-01-500ML-HU")]
        assert "v2_sku" not in fields and await Product.count() == 0  # nothing saved yet

        # saving with faults: each is named at its field, nothing is saved, nothing typed is lost
        bad = {**BASE, **fields, "v0_price": "0", "v1_price": "abc", "v1_stock": "-2", "v1_sku": "BT-01-250ML-HU"}
        page = await post_form(client, "/products/new", bad, from_page="/products/new")
        assert page.status_code == 400
        errors = dict(re.findall(r'<p class="error" id="e-([^"]+)">([^<]+)</p>', page.text))
        assert errors == {
            "v0_price": "Giá bán phải lớn hơn 0",
            "v1_sku": "Mã SKU bị trùng với phân loại khác",
            "v1_price": "Số tiền không hợp lệ: abc (ví dụ: 150000, 150.000đ, 150k)",
            "v1_stock": "Tồn kho không được âm",
        }
        assert 'value="abc"' in page.text and await Product.count() == 0
        await post_form(client, "/lang", {"lang": "en", "next": "/products"}, from_page="/products")
        english = await post_form(client, "/products/new", bad, from_page="/products/new")
        await post_form(client, "/lang", {"lang": "vi", "next": "/products"}, from_page="/products")
        assert "Price must be more than 0" in english.text and "Stock cannot be negative" in english.text

        good = {**BASE, **fields, "v0_price": "120.000", "v0_stock": "10", "v0_weight": "400",
                "v1_price": "210000", "v1_stock": "5", "v1_length": "8", "v1_width": "8", "v1_height": "12,5"}
        saved = await post_form(client, "/products/new", good, from_page="/products/new")
        assert saved.status_code == 303, saved.text[:500]
        product = await Product.select().first()
        assert (product["price_vnd"], product["stock"]) == (120_000, 15)
        rows = await Variant.select().order_by(Variant.position)
        assert [(r["sku"], r["option1"], r["option2"], r["price_vnd"], r["stock"]) for r in rows] == [
            ("BT-01-250ML-HU", "250 ml", "hũ", 120_000, 10), ("BT-01-500ML-HU", "500 ml", "hũ", 210_000, 5)]
        assert (rows[0]["weight_g"], rows[1]["height_mm"]) == (400, 125)

        # the product page and list show the variants
        detail = await client.get(saved.headers["location"], headers={"accept": "text/html"})
        assert "250 ml / hũ" in detail.text and "BT-01-500ML-HU" in detail.text
        listing = await client.get("/products", headers={"accept": "text/html"})
        assert "2 phân loại" in listing.text and "120.000 ₫ – 210.000 ₫" in listing.text

        # the edit page shows them; renaming an option renames it on its variants (same rows)
        edit = await client.get(f"/products/{product['id']}/edit", headers={"accept": "text/html"})
        fields = _fields(edit.text)
        assert fields["v1_price"] == "210.000" and fields["v1_height"] == "12,5"
        renamed = {**BASE, **fields, "attr1_opt0": "hũ thủy tinh"}
        saved = await post_form(client, f"/products/{product['id']}/edit", renamed, from_page="/products/new")
        assert saved.status_code == 303, saved.text[:500]
        after = await Variant.select().order_by(Variant.position)
        assert [(r["id"], r["option2"], r["price_vnd"]) for r in after] == [
            (rows[0]["id"], "hũ thủy tinh", 120_000), (rows[1]["id"], "hũ thủy tinh", 210_000)]

        # moving an option down reorders the grid; emptying an option drops its variants
        edit = await client.get(f"/products/{product['id']}/edit", headers={"accept": "text/html"})
        moved = await post_form(client, f"/products/{product['id']}/edit",
                                {**BASE, **_fields(edit.text), "op": "opt_down:0:0"}, from_page="/products/new")
        fields = _fields(moved.text)
        assert (fields["attr0_opt0"], fields["v0_option1"]) == ("500 ml", "500 ml")
        dropped = {**BASE, **fields, "attr0_opt1": ""}
        saved = await post_form(client, f"/products/{product['id']}/edit", dropped, from_page="/products/new")
        assert saved.status_code == 303, saved.text[:500]
        assert [r["sku"] for r in await Variant.select(Variant.sku)] == ["BT-01-500ML-HU"]
        assert (await Product.select(Product.price_vnd, Product.stock).first()) == {"price_vnd": 210_000,
                                                                                    "stock": 5}
