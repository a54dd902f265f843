"""Variants on every marketplace, through each real client against the sandbox over HTTP: a 2 × 2
product published, read back per SKU, its prices and stocks changed partially, variants added,
removed and renamed; orders taking a variant's stock there; what each marketplace refuses."""

from __future__ import annotations

import time
from typing import Any

import pytest

from connectors.base import (
    ConnectorError,
    MarketplaceClient,
    PermanentError,
    ProductInput,
    ShopCredentials,
    SkuNumbers,
    VariantInput,
    VariationAttribute,
)
from connectors.http import SharedHttp
from connectors.registry import get_client
from connectors.sandbox.app import _overview_page
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.state import Model, SandboxState, VariantLimits, VariantRefused, check_variation
from tests.connectors.conftest import Sandbox
from tests.connectors.helpers import jpeg_bytes, product
from tests.connectors.lazada import test_client as lazada_tests
from tests.connectors.shopee import test_client as shopee_tests
from tests.connectors.tiki import conftest as tiki_conf
from tests.connectors.tiktok import conftest as tiktok_conf

MARKETS = ("shopee", "lazada", "tiktok", "tiki")
SHOPS = {"shopee": shopee_tests.SHOP, "lazada": lazada_tests.SHOP, "tiktok": tiktok_conf.SHOP, "tiki": tiki_conf.SHOP}
SIZE = VariationAttribute("Dung tích", ("250 ml", "500 ml"))
PACK = VariationAttribute("Quy cách", ("Hũ", "Hộp quà"))


async def connect(market: str, sandbox: Sandbox, http: SharedHttp) -> tuple[MarketplaceClient, ShopCredentials]:
    client = get_client(market, sandbox.app(market), http, sandbox.url(market))
    if market == "shopee":
        return client, (await shopee_tests.authorize(client)).shop()  # type: ignore[arg-type]
    if market == "lazada":
        return client, (await lazada_tests.authorize(client)).shop()  # type: ignore[arg-type]
    if market == "tiktok":
        return client, await tiktok_conf.authorize(client, sandbox)  # type: ignore[arg-type]
    return client, await tiki_conf.authorize(client, sandbox)  # type: ignore[arg-type]


def honey(base: str, image: str, **kw: Any) -> ProductInput:
    """Mật ong in 2 sizes × 2 packs: four SKUs with their own price and stock."""
    variants = tuple(
        VariantInput(f"{base}-{s}-{p}", (size, pack), price, stock)
        for s, (size, price) in enumerate((("250 ml", 120_000), ("500 ml", 210_000)))
        for p, (pack, stock) in enumerate((("Hũ", 7), ("Hộp quà", 3)))
    )
    values: dict[str, Any] = dict(name="Mật ong hoa cà phê Gia Lai nguyên chất", image_ids=(image,),
                                  price_vnd=120_000, stock=20, variation=(SIZE, PACK), variants=variants)
    values.update(kw)
    return product(base, **values)


async def upload(market: str, client: MarketplaceClient, shop: ShopCredentials, sandbox: Sandbox) -> str:
    if market == "tiki":  # Tiki takes pictures by URL
        return f"{sandbox.base_url}/_media/mat-ong.jpg"
    return (await client.upload_image(shop, jpeg_bytes())).image_id


async def start(market: str, sandbox: Sandbox, http: SharedHttp, tag: str
                ) -> tuple[MarketplaceClient, ShopCredentials, str, str]:
    """A connected shop, a photo on its marketplace and a fresh SKU base."""
    client, shop = await connect(market, sandbox, http)
    image = await upload(market, client, shop, sandbox)
    return client, shop, image, f"MO-{tag}-{market[:2].upper()}-{time.time_ns()}"


def shown(sandbox: Sandbox, market: str, key_sku: str) -> dict[str, tuple[int, int]]:
    (item,) = sandbox.state.items_by_sku(market, SHOPS[market], key_sku)
    return {m.seller_sku: (m.price_vnd, m.stock) for m in item.models.values()}


@pytest.mark.parametrize("market", MARKETS)
async def test_two_by_two_published_read_back_and_pushed_partially(
        market: str, sandbox_clean: Sandbox, http: SharedHttp) -> None:
    client, shop, image, base = await start(market, sandbox_clean, http, "PB")
    p = honey(base, image)
    ref = await client.create_item(shop, p)
    assert ref.seller_sku == p.key_sku
    found = await client.find_by_seller_sku(shop, p.key_sku)
    assert found is not None
    assert found.external_id == ref.external_id or market == "tiki"  # Tiki: the approved product's id
    (item,) = sandbox_clean.state.items_by_sku(market, SHOPS[market], p.key_sku)
    assert [(n, list(o)) for n, o in item.tiers] == [("Dung tích", ["250 ml", "500 ml"]), ("Quy cách", ["Hũ", "Hộp quà"])]
    assert {m.seller_sku: m.options for m in item.models.values()} == {v.seller_sku: v.options for v in p.variants}
    assert item.stock == 20

    external = found.external_id  # Tiki changes approved products only, by product id
    back = await client.item_skus(shop, external)
    assert sorted(back, key=lambda s: s.seller_sku) == sorted(p.sku_numbers(), key=lambda s: s.seller_sku)

    # partial: two SKUs change, the others keep what they show; no new review
    a, b = p.variants[0].seller_sku, p.variants[3].seller_sku
    sandbox_clean.state.request_log.clear()
    await client.update_skus(shop, external, [SkuNumbers(a, 125_000, 0), SkuNumbers(b, 199_000, 11)])
    now = shown(sandbox_clean, market, p.key_sku)
    assert now[a] == (125_000, 0) and now[b] == (199_000, 11)
    assert now[p.variants[1].seller_sku] == (120_000, 3)
    assert item.status == "live" or market == "tiki"
    calls = len([c for c in sandbox_clean.state.request_log if c[0] == market])
    assert calls <= (2 if market == "tiki" else 3)  # Tiki: one updateSku per SKU

    # an order on a variant lowers that variant's stock there; none beyond what it shows
    assert sandbox_clean.state.place_order(market, SHOPS[market], a) is None  # shows 0
    order = sandbox_clean.state.place_order(market, SHOPS[market], b, 4)
    assert order is not None and order.lines[0].seller_sku == b and order.lines[0].unit_price_vnd == 199_000
    assert shown(sandbox_clean, market, p.key_sku)[b] == (199_000, 7)
    assert sandbox_clean.state.cancel_order(market, SHOPS[market], order.order_id)
    assert shown(sandbox_clean, market, p.key_sku)[b] == (199_000, 11)


@pytest.mark.parametrize("market", MARKETS)
async def test_variant_added_removed_renamed_reaches_the_marketplace(
        market: str, sandbox_clean: Sandbox, http: SharedHttp) -> None:
    client, shop, image, base = await start(market, sandbox_clean, http, "ED")
    p = honey(base, image)
    ref = await client.create_item(shop, p)
    external = ref.external_id
    if market == "tiki":
        await client.item_status(shop, external)
        external = (await client.find_by_seller_sku(shop, p.key_sku)).external_id  # type: ignore[union-attr]
    # "500 ml" becomes "450 ml", the gift box of 250 ml is dropped, a 1 l jar is added
    size = VariationAttribute("Dung tích", ("250 ml", "450 ml", "1 l"))
    kept = [v for v in p.variants if v.options != ("250 ml", "Hộp quà")]
    variants = tuple(VariantInput(v.seller_sku, ("450 ml" if v.options[0] == "500 ml" else v.options[0], v.options[1]),
                                  v.price_vnd, v.stock) for v in kept) + (
        VariantInput(f"{base}-1L", ("1 l", "Hũ"), 390_000, 2),)
    edited = honey(base, image, variation=(size, PACK), variants=variants)
    await client.update_item(shop, external, edited)
    (item,) = sandbox_clean.state.items_by_sku(market, SHOPS[market], edited.key_sku)
    assert [(n, list(o)) for n, o in item.tiers] == [("Dung tích", ["250 ml", "450 ml", "1 l"]), ("Quy cách", ["Hũ", "Hộp quà"])]
    assert {m.seller_sku: m.options for m in item.models.values()} == {v.seller_sku: v.options for v in variants}
    assert sorted(await client.item_skus(shop, external), key=lambda s: s.seller_sku) == sorted(
        edited.sku_numbers(), key=lambda s: s.seller_sku)


@pytest.mark.parametrize("market", MARKETS)
async def test_marketplace_refuses_duplicate_skus_and_missing_options(
        market: str, sandbox_clean: Sandbox, http: SharedHttp) -> None:
    client, shop, image, base = await start(market, sandbox_clean, http, "BAD")
    twice = honey(base, image, variants=(VariantInput(f"{base}-X", ("250 ml", "Hũ"), 100_000, 1),
                                         VariantInput(f"{base}-X", ("500 ml", "Hũ"), 200_000, 1)))
    with pytest.raises(PermanentError):
        await client.create_item(shop, twice)
    missing = honey(base, image, variants=(VariantInput(f"{base}-Y", ("250 ml", ""), 100_000, 1),))
    with pytest.raises((ConnectorError, ValueError)):  # the sandbox's error, or our mapper's before sending
        await client.create_item(shop, missing)
    assert sandbox_clean.state.items_by_sku(market, SHOPS[market], f"{base}-X") == [] or market == "shopee"


async def test_shopee_answers_its_own_error_codes(sandbox_clean: Sandbox, http: SharedHttp) -> None:
    """Shopee refuses a third tier, an option index out of bounds and too many models with the codes
    of v2.product.init_tier_variation."""
    client, shop = await connect("shopee", sandbox_clean, http)
    image = await upload("shopee", client, shop, sandbox_clean)
    base = f"MO-SPERR-{time.time_ns()}"
    ref = await client.create_item(shop, product(base, image_ids=(image,)))
    item_id = int(ref.external_id)
    call = client._shop_call  # type: ignore[attr-defined]
    tiers = [{"name": n, "option_list": [{"option": "a"}]} for n in ("x", "y", "z")]
    with pytest.raises(PermanentError) as three:
        await call("POST", "/api/v2/product/init_tier_variation", shop, idempotent=True, body={
            "item_id": item_id, "tier_variation": tiers,
            "model": [{"tier_index": [0, 0, 0], "original_price": 1000, "model_sku": "m", "seller_stock": [{"stock": 1}]}]})
    assert three.value.message == "The level of tier-variation over 2."
    with pytest.raises(PermanentError) as bound:
        await call("POST", "/api/v2/product/init_tier_variation", shop, idempotent=True, body={
            "item_id": item_id, "tier_variation": tiers[:1],
            "model": [{"tier_index": [3], "original_price": 1000, "model_sku": "m", "seller_stock": [{"stock": 1}]}]})
    assert bound.value.code == "error_model_tier_index_bound"
    options = [{"option": f"o{n}"} for n in range(51)]
    with pytest.raises(PermanentError) as many:
        await call("POST", "/api/v2/product/init_tier_variation", shop, idempotent=True, body={
            "item_id": item_id, "tier_variation": [{"name": "x", "option_list": options}],
            "model": [{"tier_index": [0], "original_price": 1000, "model_sku": "m", "seller_stock": [{"stock": 1}]}]})
    assert many.value.code == "error_tier_opt_too_many"


def test_variation_rules_are_the_marketplaces() -> None:
    limits = VariantLimits(max_tiers=2, max_options=3, max_models=4)
    tiers = [("Dung tích", ["250 ml", "500 ml"])]

    def model(sku: str, *options: str) -> Model:
        return Model(1, sku, options, 1000, 1)

    check_variation(tiers, [model("A", "250 ml"), model("B", "500 ml")], limits)
    cases = {
        "too_many_tiers": ([("a", ["x"])] * 3, []),
        "too_many_options": ([("a", ["1", "2", "3", "4"])], []),
        "too_many_models": ([("a", ["1", "2", "3"]), ("b", ["1", "2"])],
                            [model(str(n), a, b) for n, (a, b) in enumerate([("1", "1"), ("1", "2"), ("2", "1"),
                                                                              ("2", "2"), ("3", "1")])]),
        "duplicate_sku": (tiers, [model("A", "250 ml"), model("A", "500 ml")]),
        "missing_value": (tiers, [model("A", "")]),
        "unknown_option": (tiers, [model("A", "1 l")]),
        "duplicate_combination": (tiers, [model("A", "250 ml"), model("B", "250 ml")]),
    }
    for kind, (t, models) in cases.items():
        with pytest.raises(VariantRefused) as refused:
            check_variation(t, models, limits)
        assert refused.value.kind == kind
    with pytest.raises(VariantRefused) as shop_wide:
        check_variation(tiers, [model("A", "250 ml")], limits, {"A"})
    assert shop_wide.value.kind == "duplicate_sku"


def test_generator_orders_variants_within_their_stock_and_overview_shows_them() -> None:
    """The order generator buys variant SKUs, never more than a variant shows; the overview page
    lists each variant with its stock and names the variant on the order (a sandbox of its own: the
    shared one's pages list other tests' orders)."""
    state = SandboxState(SandboxConfig.default(orders_per_hour=0.0, review_seconds=0.0))
    shop = "14701712"
    base = f"GEN-MO-{time.time_ns()}"
    item = state.create_item("shopee", shop, seller_sku=f"{base}-0", name="Mật ong rừng Kon Hà Nừng", description="d",
                             price_vnd=1, stock=0, weight_g=500, dims_cm=(8, 8, 12), category_id="100783",
                             brand="", images=["i"], attributes={})
    item.status = "live"
    models = [state.new_model(f"{base}-{n}", (size,), price, stock)
              for n, (size, price, stock) in enumerate((("250 ml", 120_000, 3), ("500 ml", 210_000, 2)))]
    item.set_variation([("Dung tích", ["250 ml", "500 ml"])], models)
    made = state.generate_orders("shopee", shop, 40, state.clock() - 60, state.clock())
    sold = {m.seller_sku: 0 for m in models}
    for order in made:
        for line in order.lines:
            if line.item_id == item.item_id:
                sold[line.seller_sku] += line.quantity
                assert line.model_id and line.model_name in ("250 ml", "500 ml")
    assert sold == {f"{base}-0": 3, f"{base}-1": 2}  # everything shown was bought, nothing more
    assert [m.stock for m in item.models.values()] == [0, 0] and item.stock == 0
    page = _overview_page(state)
    assert f"↳ {base}-1" in page
    assert "Dung tích: 500 ml" in page
    assert "(500 ml) ×" in page or "(250 ml) ×" in page
