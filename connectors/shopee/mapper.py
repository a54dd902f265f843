"""Pure mapping between our values and Shopee Open Platform v2 documents.

Sources: Shopee developer guide "Creating product" / "Product base info
management" (copies in thiiz/shopee-js .docs/): ``v2.product.add_item`` fields
(item_name, description, original_price, seller_stock[].stock, weight in kg,
dimension.package_length/width/height in cm, category_id, attribute_list,
brand{brand_id, original_brand_name} with brand_id 0 = "No brand",
image.image_id_list, logistic_info[], item_sku); the item_status enum NORMAL,
BANNED, UNLIST, SELLER_DELETE, SHOPEE_DELETE, REVIEWING; order statuses UNPAID,
READY_TO_SHIP, PROCESSED, SHIPPED, TO_CONFIRM_RECEIVE, IN_CANCEL, CANCELLED,
TO_RETURN, COMPLETED (guide "Order Management").
Limits: Shopee VN product names 10–120 characters and descriptions up to 3000
characters (Seller Centre listing rules; verify per category), at most 9 images.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from typing import Any

import msgspec

from connectors.base import (
    ItemState,
    MarketOrder,
    OrderLine,
    OrderState,
    ProductInput,
    SkuNumbers,
    VariantInput,
)
from connectors.text import clean_text, description_with_ocop, truncate_words

NAME_MAX = 120
NAME_MIN = 10
DESCRIPTION_MAX = 3000
MAX_IMAGES = 9
NO_BRAND = {"brand_id": 0, "original_brand_name": "No brand"}
# Characters Shopee strips from or refuses in titles (markup and list/pipe separators).
TITLE_FORBIDDEN = "<>{}|^`~*#"

ORDER_STATE: dict[str, OrderState] = {
    "UNPAID": "unpaid",
    "READY_TO_SHIP": "ready_to_ship",
    "PROCESSED": "ready_to_ship",
    "RETRY_SHIP": "ready_to_ship",
    "INVOICE_PENDING": "ready_to_ship",
    "SHIPPED": "shipped",
    "TO_CONFIRM_RECEIVE": "delivered",
    "COMPLETED": "completed",
    "IN_CANCEL": "cancelled",
    "CANCELLED": "cancelled",
    "TO_RETURN": "returned",
}


@cache
def category_defaults() -> dict[str, Any]:
    """The default OCOP-group → category mapping (data file next to this module)."""
    text = resources.files("connectors.shopee").joinpath("ocop_categories.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


class MappingError(ValueError):
    """Our product cannot become a valid Shopee item (caller shows it to the producer)."""


def item_name(product: ProductInput) -> str:
    name = truncate_words(clean_text(product.name, single_line=True, forbidden=TITLE_FORBIDDEN), NAME_MAX)
    if len(name) < NAME_MIN:
        # Short names are common for OCOP products ("Nem chợ Huyện"): add the star rank.
        name = truncate_words(f"{name} – OCOP {product.ocop_stars} sao", NAME_MAX)
    return name


def description(product: ProductInput) -> str:
    return description_with_ocop(product, limit=DESCRIPTION_MAX)


def category_id(product: ProductInput) -> int:
    if product.category_id:
        return int(product.category_id)
    try:
        return int(category_defaults()["by_group"][str(product.ocop_group)])
    except KeyError:
        raise MappingError(f"no default Shopee category for OCOP group {product.ocop_group}") from None


def attribute_list(product: ProductInput) -> list[dict[str, Any]]:
    values = {**category_defaults()["default_attributes"], **product.attributes}
    return [
        {"attribute_id": int(attr_id), "attribute_value_list": [{"value_id": 0, "original_value_name": value}]}
        for attr_id, value in sorted(values.items())
    ]


def add_item_payload(product: ProductInput) -> dict[str, Any]:
    if product.price_vnd <= 0:
        raise MappingError("price must be positive")
    if not product.image_ids:
        raise MappingError("at least one uploaded image is required")
    if product.weight_g <= 0:
        raise MappingError("weight is required")
    return {
        "item_name": item_name(product),
        "description": description(product),
        # With variants the item's own SKU is the first variant's: a retry finds the item by it even
        # when the item was created and its models were not (search_item looks at item_sku).
        "item_sku": product.key_sku,
        "original_price": min((v.price_vnd for v in product.variants), default=product.price_vnd),
        "seller_stock": [{"stock": max(sum(v.stock for v in product.variants) if product.variants else product.stock, 0)}],
        "weight": round(product.weight_g / 1000, 3),
        "dimension": {
            "package_length": max(product.length_cm, 1),
            "package_width": max(product.width_cm, 1),
            "package_height": max(product.height_cm, 1),
        },
        "category_id": category_id(product),
        "attribute_list": attribute_list(product),
        "brand": {"brand_id": 0, "original_brand_name": product.brand} if product.brand else dict(NO_BRAND),
        "image": {"image_id_list": list(product.image_ids[:MAX_IMAGES])},
        "logistic_info": [{"logistic_id": lid, "enabled": True} for lid in category_defaults()["logistic_ids"]],
        "condition": "NEW",
        "item_status": "NORMAL",
    }


def update_item_payload(item_id: int, product: ProductInput) -> dict[str, Any]:
    """Content fields only: price and stock have their own calls (update_price/update_stock)."""
    full = add_item_payload(product)
    keep = ("item_name", "description", "item_sku", "weight", "dimension", "category_id", "attribute_list", "brand", "image")
    return {"item_id": item_id, **{k: full[k] for k in keep}}


# ----------------------------------------------------------------------------- variations
# v2.product.init_tier_variation {item_id, tier_variation[{name, option_list[{option, image{image_id}}]}],
# model[{tier_index[], original_price, model_sku, seller_stock[{stock}]}]}; v2.product.add_model
# {item_id, model_list[...same...]}; v2.product.update_tier_variation {item_id, tier_variation,
# model_list[{model_id, tier_index}]}; v2.product.update_model {item_id, model[{model_id, model_sku}]};
# v2.product.delete_model {item_id, model_id}; v2.product.get_model_list ?item_id → {tier_variation,
# model[{model_id, model_sku, tier_index, price_info[{original_price}], stock_info_v2{seller_stock[{stock}]}}]}
# (Shopee Open Platform v2 product API pages). Images per option only on the first tier.


def tier_variation(product: ProductInput) -> list[dict[str, Any]]:
    images: dict[str, str] = {}
    for variant in product.variants:  # the first variant of an option with a photo gives the option's photo
        if variant.image_id and variant.options:
            images.setdefault(variant.options[0], variant.image_id)
    out = []
    for level, attribute in enumerate(product.variation):
        options = []
        for option in attribute.options:
            entry: dict[str, Any] = {"option": option}
            if level == 0 and option in images:
                entry["image"] = {"image_id": images[option]}
            options.append(entry)
        out.append({"name": attribute.name, "option_list": options})
    return out


def tier_index(product: ProductInput, variant: VariantInput) -> list[int]:
    try:
        return [attr.options.index(value) for attr, value in zip(product.variation, variant.options, strict=True)]
    except ValueError:
        raise MappingError(f"variant {variant.seller_sku}: an option is not one of its attribute's options") from None


def model_entry(product: ProductInput, variant: VariantInput) -> dict[str, Any]:
    return {"tier_index": tier_index(product, variant), "original_price": variant.price_vnd,
            "model_sku": variant.seller_sku, "seller_stock": [{"stock": max(variant.stock, 0)}]}


def init_tier_variation_payload(item_id: int, product: ProductInput) -> dict[str, Any]:
    return {"item_id": item_id, "tier_variation": tier_variation(product),
            "model": [model_entry(product, v) for v in product.variants]}


def tiers_of(doc: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    return [(str(t.get("name", "")), tuple(str(o.get("option", "")) for o in t.get("option_list") or []))
            for t in doc.get("tier_variation") or []]


def model_options(doc: dict[str, Any], model: dict[str, Any]) -> tuple[str, ...]:
    tiers = tiers_of(doc)
    return tuple(tiers[i][1][j] for i, j in enumerate(model.get("tier_index") or []) if i < len(tiers))


def model_numbers(model: dict[str, Any]) -> SkuNumbers:
    price = (model.get("price_info") or [{}])[0].get("original_price", 0)
    stock_info = model.get("stock_info_v2") or {}
    stock = (stock_info.get("summary_info") or {}).get("total_available_stock")
    if stock is None:
        stock = sum(int(s.get("stock", 0)) for s in stock_info.get("seller_stock") or [])
    return SkuNumbers(str(model.get("model_sku", "")), int(round(float(price))), int(stock))


class ModelPlan(msgspec.Struct, frozen=True):
    """How to bring an item's models to our variants: which calls, with what."""

    restructure: dict[str, Any] | None  # an update_tier_variation body (names/options changed)
    renames: list[dict[str, Any]]  # update_model entries {model_id, model_sku}
    deletes: list[int]
    adds: list[dict[str, Any]]  # add_model entries


def model_plan(item_id: int, product: ProductInput, doc: dict[str, Any]) -> ModelPlan:
    """Existing models are matched to our variants by seller SKU, then by option values (a
    renamed SKU keeps its model and its sales history); the rest are added or deleted."""
    models = list(doc.get("model") or [])
    by_sku = {str(m.get("model_sku")): m for m in models}
    by_options = {model_options(doc, m): m for m in models}
    matched: dict[int, VariantInput] = {}
    for variant in product.variants:
        model = by_sku.get(variant.seller_sku) or by_options.get(variant.options)
        if model is not None and int(model["model_id"]) not in matched:
            matched[int(model["model_id"])] = variant
    renames = [{"model_id": mid, "model_sku": v.seller_sku} for mid, v in matched.items()
               if str(next(m for m in models if int(m["model_id"]) == mid).get("model_sku")) != v.seller_sku]
    deletes = [int(m["model_id"]) for m in models if int(m["model_id"]) not in matched]
    matched_skus = {v.seller_sku for v in matched.values()}
    adds = [model_entry(product, v) for v in product.variants if v.seller_sku not in matched_skus]
    wanted_tiers = [(a.name, tuple(a.options)) for a in product.variation]
    moved = any(model_options(doc, next(m for m in models if int(m["model_id"]) == mid)) != v.options
                for mid, v in matched.items())
    restructure = None
    if wanted_tiers != tiers_of(doc) or moved:
        restructure = {"item_id": item_id, "tier_variation": tier_variation(product),
                       "model_list": [{"model_id": mid, "tier_index": tier_index(product, v)} for mid, v in matched.items()]}
        deletes = []  # models left out of the new structure go with it
    return ModelPlan(restructure, renames, deletes, adds)


def item_state(item_status: str, violations: list[dict[str, Any]]) -> tuple[ItemState, str | None]:
    """Shopee has no "rejected": a listing failing QC is BANNED with a violation saying so."""
    reason = "; ".join(v.get("violation_reason", "") for v in violations if v.get("violation_reason")) or None
    if item_status == "NORMAL":
        return "live", None
    if item_status == "REVIEWING":
        return "in_review", None
    if item_status == "UNLIST":
        return "unlisted", None
    if item_status in ("SELLER_DELETE", "SHOPEE_DELETE", "DELETED"):
        return "deleted", reason
    if item_status == "BANNED":
        rejected = any("REJECT" in str(v.get("violation_type", "")).upper() for v in violations)
        return ("rejected" if rejected else "banned"), reason
    return "in_review", None


def _ts(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), timezone.utc)


def order_from_detail(raw: dict[str, Any]) -> MarketOrder:
    """One ``get_order_detail`` entry; amounts are VND integers (Shopee VN has no decimals)."""
    lines = tuple(
        OrderLine(
            seller_sku=str(it.get("model_sku") or it.get("item_sku") or ""),
            external_item_id=str(it["item_id"]),
            name=str(it.get("item_name", "")),
            quantity=int(it.get("model_quantity_purchased", 0)),
            unit_price_vnd=int(round(float(it.get("model_discounted_price", it.get("model_original_price", 0))))),
            total_vnd=int(round(float(it.get("model_discounted_price", 0)))) * int(it.get("model_quantity_purchased", 0)),
        )
        for it in raw.get("item_list", [])
    )
    status = str(raw.get("order_status", ""))
    return MarketOrder(
        order_id=str(raw["order_sn"]),
        status=ORDER_STATE.get(status, "unpaid"),
        raw_status=status,
        created_at=_ts(raw.get("create_time", 0)),
        updated_at=_ts(raw.get("update_time", raw.get("create_time", 0))),
        total_vnd=int(round(float(raw.get("total_amount", 0)))),
        lines=lines,
    )
