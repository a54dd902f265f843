"""Pure mapping between our values and Lazada Open Platform documents.

Sources: Lazada Open Platform API docs for ``/product/create`` (a ``payload``
holding ``Request.Product`` with ``PrimaryCategory``, ``Images.Image[]`` (URLs
from ``/image/upload``), ``Attributes`` (name, description, brand) and
``Skus.Sku[]`` with ``SellerSku``, ``quantity``, ``price``, ``package_weight``
in kg and ``package_length/width/height`` in cm), ``/product/price_quantity/update``
(``Skus.Sku[]`` with ``ItemId``, ``SellerSku``, ``Price``, ``Quantity``),
``/orders/get`` and ``/orders/items/get`` (one order item per unit; amounts are
decimal strings). Lazada's seller guide: product names up to 255 characters,
brand "No Brand" for unbranded goods, up to 8 images.

Variants: one ``Skus.Sku`` per variant, each naming its values in ``saleProp``
(``{"<attribute>": "<value>"}``), and the attributes with their options in the
product's ``variation`` node (``Variation1``…: ``name``, ``hasImage``,
``customize``, ``options.option[]``), the shape of Lazada's CreateProduct for
custom sale properties. Unverified: whether a category requires its own
sale-property keys (e.g. ``color_family``) instead of custom names, and the
per-product limits the sandbox applies (2 attributes, 50 options, 100 SKUs).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

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

NAME_MAX = 255
DESCRIPTION_MAX = 25_000
MAX_IMAGES = 8
NO_BRAND = "No Brand"
TITLE_FORBIDDEN = "<>{}|^`~"

ORDER_STATE: dict[str, OrderState] = {
    "unpaid": "unpaid",
    "pending": "ready_to_ship",
    "packed": "ready_to_ship",
    "repacked": "ready_to_ship",
    "ready_to_ship": "ready_to_ship",
    "ready_to_ship_pending": "ready_to_ship",
    "shipped": "shipped",
    "delivered": "delivered",
    "confirmed": "completed",
    "canceled": "cancelled",
    "failed": "cancelled",
    "shipped_back": "returned",
    "returned": "returned",
}
ITEM_STATE: dict[str, ItemState] = {
    "active": "live",
    "pending qc": "in_review",
    "pending": "in_review",
    "rejected": "rejected",
    "suspended": "banned",
    "inactive": "unlisted",
    "deleted": "deleted",
}


class MappingError(ValueError):
    """Our product cannot become a valid Lazada product."""


@cache
def category_defaults() -> dict[str, Any]:
    return json.loads(resources.files("connectors.lazada").joinpath("ocop_categories.json").read_text("utf-8"))  # type: ignore[no-any-return]


def item_name(product: ProductInput) -> str:
    return truncate_words(clean_text(product.name, single_line=True, forbidden=TITLE_FORBIDDEN), NAME_MAX)


def description(product: ProductInput) -> str:
    return description_with_ocop(product, limit=DESCRIPTION_MAX)


def category_id(product: ProductInput) -> str:
    if product.category_id:
        return product.category_id
    try:
        return str(category_defaults()["by_group"][str(product.ocop_group)])
    except KeyError:
        raise MappingError(f"no default Lazada category for OCOP group {product.ocop_group}") from None


def _sku(product: ProductInput, variant: VariantInput | None = None) -> dict[str, Any]:
    sku: dict[str, Any] = {
        "SellerSku": variant.seller_sku if variant else product.seller_sku,
        "quantity": max(variant.stock if variant else product.stock, 0),
        "price": variant.price_vnd if variant else product.price_vnd,
        "package_weight": round(((variant.weight_g if variant else 0) or product.weight_g) / 1000, 3),
        "package_length": max(product.length_cm, 1),
        "package_width": max(product.width_cm, 1),
        "package_height": max(product.height_cm, 1),
    }
    if variant is not None:
        sku["saleProp"] = {a.name: value for a, value in zip(product.variation, variant.options, strict=True)}
        if variant.image_id:
            sku["Images"] = {"Image": [variant.image_id]}
    return sku


def variation_node(product: ProductInput) -> dict[str, Any]:
    return {
        f"Variation{n}": {"name": a.name, "hasImage": n == 1 and any(v.image_id for v in product.variants),
                          "customize": True, "options": {"option": list(a.options)}}
        for n, a in enumerate(product.variation, start=1)
    }


def product_document(product: ProductInput, item_id: str | None = None) -> dict[str, Any]:
    """``{"Request": {"Product": …}}`` for /product/create (and /product/update with ItemId)."""
    if product.price_vnd <= 0:
        raise MappingError("price must be positive")
    if not product.image_ids:
        raise MappingError("at least one uploaded image URL is required")
    if product.weight_g <= 0:
        raise MappingError("weight is required")
    doc: dict[str, Any] = OrderedDict()
    if item_id:
        doc["ItemId"] = item_id
    doc["PrimaryCategory"] = category_id(product)
    doc["Images"] = {"Image": list(product.image_ids[:MAX_IMAGES])}
    doc["Attributes"] = {
        "name": item_name(product),
        "description": description(product),
        "brand": product.brand or NO_BRAND,
        **product.attributes,
    }
    if product.variants:
        doc["variation"] = variation_node(product)
        doc["Skus"] = {"Sku": [_sku(product, v) for v in product.variants]}
    else:
        doc["Skus"] = {"Sku": [_sku(product)]}
    return {"Request": {"Product": doc}}


def price_quantity_document(item_id: str, seller_sku: str, price_vnd: int, stock: int) -> dict[str, Any]:
    return skus_price_quantity_document(item_id, [SkuNumbers(seller_sku, price_vnd, stock)])


def skus_price_quantity_document(item_id: str, skus: Sequence[SkuNumbers]) -> dict[str, Any]:
    """/product/price_quantity/update: every SKU of the item in one call."""
    return {"Request": {"Product": {"Skus": {"Sku": [
        {"ItemId": item_id, "SellerSku": s.seller_sku, "Price": s.price_vnd, "Quantity": max(s.stock, 0)} for s in skus
    ]}}}}


def sku_numbers(doc: dict[str, Any]) -> list[SkuNumbers]:
    """``/product/item/get`` → what each SKU shows."""
    return [SkuNumbers(str(s.get("SellerSku", "")), _vnd(s.get("price")), int(s.get("quantity", 0)))
            for s in doc.get("skus") or []]


def deactivate_document(item_id: str, seller_sku: str) -> dict[str, Any]:
    skus = {"SellerSku": [seller_sku]} if seller_sku else {}
    return {"Request": {"Product": {"ItemId": item_id, "Skus": skus}}}


def item_state(status: str, qc_status: str = "", reason: str = "") -> tuple[ItemState, str | None]:
    if qc_status.lower() == "rejected" and status.lower() != "suspended":
        return "rejected", reason or None
    state = ITEM_STATE.get(status.lower(), "in_review")
    return state, (reason or None) if state in ("rejected", "banned") else None


def _vnd(value: Any) -> int:
    return int(round(float(value or 0)))


def order_from_documents(order: dict[str, Any], items: list[dict[str, Any]]) -> MarketOrder:
    """``/order/get`` + its ``/orders/items/get`` entries → one order; units grouped into lines by SKU."""
    lines: "OrderedDict[str, list[dict[str, Any]]]" = OrderedDict()
    for it in items:
        lines.setdefault(str(it.get("sku", "")), []).append(it)
    out_lines = tuple(
        OrderLine(
            seller_sku=sku,
            external_item_id=str(units[0].get("product_id", "")),
            name=str(units[0].get("name", "")),
            quantity=len(units),
            unit_price_vnd=_vnd(units[0].get("paid_price", units[0].get("item_price"))),
            total_vnd=sum(_vnd(u.get("paid_price", u.get("item_price"))) for u in units),
        )
        for sku, units in lines.items()
    )
    statuses = order.get("statuses") or [""]
    raw = str(statuses[0])
    return MarketOrder(
        order_id=str(order["order_id"]),
        status=ORDER_STATE.get(raw, "unpaid"),
        raw_status=raw,
        created_at=datetime.strptime(order["created_at"], "%Y-%m-%d %H:%M:%S %z"),
        updated_at=datetime.strptime(order["updated_at"], "%Y-%m-%d %H:%M:%S %z"),
        total_vnd=_vnd(order.get("price")) + _vnd(order.get("shipping_fee")),
        lines=out_lines,
    )
