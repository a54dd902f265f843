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

from connectors.base import ItemState, MarketOrder, OrderLine, OrderState, ProductInput
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
        "item_sku": product.seller_sku,
        "original_price": product.price_vnd,
        "seller_stock": [{"stock": max(product.stock, 0)}],
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
