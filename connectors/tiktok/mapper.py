"""Pure mapping between our values and TikTok Shop Partner API (202309) documents.

Sources (TikTok Shop Partner Center API reference, 202309 versions; field lists cross-checked
against the generated type definitions of the public ``tiktok-partner-api`` and
``tiktokshop-php`` projects):
- Create/Edit Product (``POST /product/202309/products``, ``PUT .../products/{id}``):
  ``title``, ``description`` (HTML; only ``p img ul ol li br strong b i em u``; at most
  10 000 characters), ``category_id``, ``brand_id`` (optional: leaving it out is TikTok's
  "No brand"), ``main_images[].uri`` (the ``uri`` returned by image upload; at most 9),
  ``package_weight {value, unit: KILOGRAM}``, ``package_dimensions {length, width, height,
  unit: CENTIMETER}`` (values are strings), ``product_attributes[{id, values[{name}]}]``,
  ``skus[{seller_sku, price {amount, currency}, inventory[{warehouse_id, quantity}]}]``.
- Title length: 25–255 characters for most regions (a public integration refuses titles under
  25; the 255 maximum is the documented limit) — verify the VN minimum in Partner Center.
- Product status (Get Product / Search Products): ``DRAFT, PENDING, FAILED, ACTIVATE,
  SELLER_DEACTIVATED, PLATFORM_DEACTIVATED, FREEZE, DELETED``; a failed audit carries
  ``audit_failed_reasons[{position, reasons[], suggestions[]}]``.
- Order (Search Orders / Get Order Detail): ``id``, ``status`` (``UNPAID, ON_HOLD,
  AWAITING_SHIPMENT, PARTIALLY_SHIPPING, AWAITING_COLLECTION, IN_TRANSIT, DELIVERED,
  COMPLETED, CANCELLED``), ``create_time``/``update_time`` (Unix seconds),
  ``payment.total_amount`` (decimal string), ``line_items[]`` with ``seller_sku``,
  ``product_id``, ``product_name``, ``sale_price``. In 202309 a line item is one unit: we
  group equal SKUs into one line with a quantity.

- Variants: one ``skus[]`` entry per variant, each with its ``seller_sku``, ``price``,
  ``inventory`` and ``sales_attributes[{name, value_name, sku_img{uri}}]`` (custom attributes by
  name, as Create Product takes them when no ``id`` of the category's built-in sales attributes
  is given; whether a VN category insists on built-in ids is unverified). Inventory and prices
  updates take many ``skus[{id, ...}]`` in one call.

Not expressible: TikTok reports returns through the Return & Refund API, not as an order
status, so :func:`order_from_tiktok` never yields ``returned``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.base import (
    AttributeSpec,
    Category,
    ItemState,
    ItemStatus,
    MarketOrder,
    OrderLine,
    OrderRef,
    OrderState,
    PermanentError,
    ProductInput,
    SkuNumbers,
    VariantInput,
)
from connectors.text import ocop_description_html, one_line

CURRENCY = "VND"
TITLE_MIN = 25
TITLE_MAX = 255
DESCRIPTION_MAX = 10_000
MAX_IMAGES = 9

#: Default OCOP group → TikTok category (editable by admins in ``ocop``; a product's own
#: ``category_id`` wins). The ids are the leaves of the sandbox's tree: production shops must
#: map them to their real tree once, from :meth:`category_tree`.
DEFAULT_CATEGORY_BY_GROUP: dict[int, str] = {
    1: "700101",  # Thực phẩm → Food & Beverages / Local specialties
    2: "700102",  # Đồ uống → Food & Beverages / Drinks
    3: "700201",  # Thảo dược → Health / Herbal products
    4: "700301",  # Vải và may mặc → Textiles & clothing
    5: "700401",  # Lưu niệm – nội thất – trang trí → Home & handicraft
    6: "700501",  # Dịch vụ du lịch → Vouchers & services
}

PRODUCT_STATE: dict[str, ItemState] = {
    "DRAFT": "unlisted",
    "PENDING": "in_review",
    "FAILED": "rejected",
    "ACTIVATE": "live",
    "SELLER_DEACTIVATED": "unlisted",
    "PLATFORM_DEACTIVATED": "banned",
    "FREEZE": "banned",
    "DELETED": "deleted",
}

ORDER_STATE: dict[str, OrderState] = {
    "UNPAID": "unpaid",
    "ON_HOLD": "ready_to_ship",
    "AWAITING_SHIPMENT": "ready_to_ship",
    "PARTIALLY_SHIPPING": "ready_to_ship",
    "AWAITING_COLLECTION": "ready_to_ship",
    "IN_TRANSIT": "shipped",
    "DELIVERED": "delivered",
    "COMPLETED": "completed",
    "CANCELLED": "cancelled",
}

def stars_label(stars: int) -> str:
    return f"OCOP {stars} sao"


def title(product: ProductInput) -> str:
    """Title within 25–255 characters; short names get the (true) OCOP star label appended."""
    name = one_line(product.name)
    if len(name) < TITLE_MIN:
        name = f"{name} - Sản phẩm {stars_label(product.ocop_stars)}"
    if product.unit and len(name) < TITLE_MIN:
        name = f"{name} ({one_line(product.unit)})"
    if len(name) < TITLE_MIN:
        raise PermanentError(f"title too short for TikTok Shop (min {TITLE_MIN}): {name!r}", code="mapping")
    return name[:TITLE_MAX].rstrip()


def description_html(product: ProductInput) -> str:
    """Allowed-tag HTML: the OCOP rank and certificate first, then the producer's text."""
    return ocop_description_html(product, limit=DESCRIPTION_MAX)


def _decimal_str(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def product_payload(product: ProductInput, *, warehouse_id: str) -> dict[str, Any]:
    """Create/Edit Product body. Seller SKU rides on the only SKU: our stable key."""
    if product.price_vnd <= 0:
        raise PermanentError("price must be positive", code="mapping")
    if not product.image_ids:
        raise PermanentError("TikTok Shop needs at least one main image", code="mapping")
    category_id = product.category_id or DEFAULT_CATEGORY_BY_GROUP.get(product.ocop_group)
    if category_id is None:
        raise PermanentError(f"no TikTok category for OCOP group {product.ocop_group}", code="mapping")
    body: dict[str, Any] = {
        "title": title(product),
        "description": description_html(product),
        "category_id": category_id,
        "main_images": [{"uri": uri} for uri in product.image_ids[:MAX_IMAGES]],
        "package_weight": {"value": _decimal_str(Decimal(product.weight_g) / 1000), "unit": "KILOGRAM"},
        "package_dimensions": {
            "length": str(product.length_cm),
            "width": str(product.width_cm),
            "height": str(product.height_cm),
            "unit": "CENTIMETER",
        },
        "skus": [
            {
                "seller_sku": product.seller_sku,
                "price": {"amount": str(product.price_vnd), "currency": CURRENCY},
                "inventory": [{"warehouse_id": warehouse_id, "quantity": max(0, product.stock)}],
            }
        ] if not product.variants else [_variant_sku(product, v, warehouse_id) for v in product.variants],
    }
    if product.brand and product.brand.strip().lower() not in {"no brand", "không thương hiệu"}:
        body["brand_id"] = product.brand
    if product.attributes:
        body["product_attributes"] = [
            {"id": attr_id, "values": [{"name": one_line(value)}]}
            for attr_id, value in sorted(product.attributes.items())
        ]
    return body


def _variant_sku(product: ProductInput, variant: VariantInput, warehouse_id: str) -> dict[str, Any]:
    attributes = []
    for level, (attribute, value) in enumerate(zip(product.variation, variant.options, strict=True)):
        entry: dict[str, Any] = {"name": attribute.name, "value_name": value}
        if level == 0 and variant.image_id:
            entry["sku_img"] = {"uri": variant.image_id}
        attributes.append(entry)
    return {
        "seller_sku": variant.seller_sku,
        "price": {"amount": str(variant.price_vnd), "currency": CURRENCY},
        "inventory": [{"warehouse_id": warehouse_id, "quantity": max(0, variant.stock)}],
        "sales_attributes": attributes,
    }


def prices_update_body(skus: list[tuple[str, int]]) -> dict[str, Any]:
    """``POST /product/202309/products/{id}/prices/update`` for several SKUs: ``(sku id, price)``."""
    return {"skus": [{"id": sku_id, "price": {"amount": str(price), "currency": CURRENCY}} for sku_id, price in skus]}


def inventories_update_body(skus: list[tuple[str, str, int]]) -> dict[str, Any]:
    """``POST /product/202309/products/{id}/inventory/update`` for several SKUs: ``(sku id, warehouse, stock)``."""
    return {"skus": [{"id": sku_id, "inventory": [{"warehouse_id": warehouse, "quantity": max(0, stock)}]}
                     for sku_id, warehouse, stock in skus]}


def sku_numbers(data: Mapping[str, Any]) -> list[SkuNumbers]:
    """Get Product → what each SKU shows (its sale price, and its stock summed over warehouses)."""
    out = []
    for sku in data.get("skus") or []:
        price = (sku.get("price") or {}).get("sale_price") or (sku.get("price") or {}).get("amount") or 0
        out.append(SkuNumbers(str(sku.get("seller_sku") or ""), _vnd(price),
                              sum(int(i.get("quantity") or 0) for i in sku.get("inventory") or [])))
    return out


def price_update_body(sku_id: str, price_vnd: int) -> dict[str, Any]:
    """``POST /product/202309/products/{id}/prices/update`` body."""
    return {"skus": [{"id": sku_id, "price": {"amount": str(price_vnd), "currency": CURRENCY}}]}


def inventory_update_body(sku_id: str, warehouse_id: str, stock: int) -> dict[str, Any]:
    """``POST /product/202309/products/{id}/inventory/update`` body."""
    return {
        "skus": [{"id": sku_id, "inventory": [{"warehouse_id": warehouse_id, "quantity": max(0, stock)}]}]
    }


def audit_reason(data: Mapping[str, Any]) -> str | None:
    """Human text of ``audit_failed_reasons``: ``position: reason; reason``."""
    parts: list[str] = []
    for entry in data.get("audit_failed_reasons") or []:
        reasons = "; ".join(str(r) for r in entry.get("reasons") or [])
        if not reasons:
            continue
        position = entry.get("position")
        parts.append(f"{position}: {reasons}" if position else reasons)
    return " | ".join(parts) or None


def item_status(data: Mapping[str, Any]) -> ItemStatus:
    """Get Product ``data`` → our status (reason only when the audit failed)."""
    raw = str(data.get("status", ""))
    state = PRODUCT_STATE.get(raw)
    if state is None:
        raise PermanentError(f"unknown TikTok product status {raw!r}", code="mapping")
    return ItemStatus(
        external_id=str(data.get("id", "")),
        state=state,
        reason=audit_reason(data) if state in ("rejected", "banned") else None,
        raw_status=raw,
    )


def sku_for_seller_sku(data: Mapping[str, Any], seller_sku: str) -> Mapping[str, Any] | None:
    """The SKU object of a product that carries ``seller_sku``."""
    for sku in data.get("skus") or []:
        if isinstance(sku, Mapping) and sku.get("seller_sku") == seller_sku:
            return sku
    return None


def _vnd(value: Any) -> int:
    try:
        return int(Decimal(str(value or "0")).to_integral_value())
    except InvalidOperation as exc:
        raise PermanentError(f"not an amount: {value!r}", code="mapping") from exc


def _ts(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


def order_ref(order: Mapping[str, Any]) -> OrderRef:
    return OrderRef(
        order_id=str(order["id"]),
        updated_at=_ts(order["update_time"]) if order.get("update_time") else None,
        raw_status=str(order.get("status", "")),
    )


def order_from_tiktok(order: Mapping[str, Any]) -> MarketOrder:
    """One order of Get Order Detail → our order; unit line items grouped per SKU."""
    raw = str(order.get("status", ""))
    status = ORDER_STATE.get(raw)
    if status is None:
        raise PermanentError(f"unknown TikTok order status {raw!r}", code="mapping")
    grouped: dict[str, dict[str, Any]] = {}
    for item in order.get("line_items") or []:
        key = str(item.get("seller_sku") or item.get("sku_id") or "")
        line = grouped.setdefault(
            key,
            {
                "seller_sku": str(item.get("seller_sku") or ""),
                "external_item_id": str(item.get("product_id") or ""),
                "name": one_line(str(item.get("product_name") or "")),
                "quantity": 0,
                "unit_price_vnd": _vnd(item.get("sale_price")),
                "total_vnd": 0,
            },
        )
        line["quantity"] += int(item.get("quantity") or 1)
        line["total_vnd"] += _vnd(item.get("sale_price")) * int(item.get("quantity") or 1)
    payment = order.get("payment") or {}
    return MarketOrder(
        order_id=str(order["id"]),
        status=status,
        raw_status=raw,
        created_at=_ts(order["create_time"]),
        updated_at=_ts(order.get("update_time") or order["create_time"]),
        total_vnd=_vnd(payment.get("total_amount")),
        lines=tuple(OrderLine(**line) for line in grouped.values()),
    )


def categories(data: Mapping[str, Any]) -> list[Category]:
    """Get Categories ``data.categories[{id, parent_id, local_name, is_leaf}]``."""
    out = []
    for c in data.get("categories") or []:
        parent = str(c.get("parent_id") or "")
        out.append(
            Category(
                category_id=str(c["id"]),
                name=one_line(str(c.get("local_name") or "")),
                parent_id=parent if parent not in ("", "0") else None,
                leaf=bool(c.get("is_leaf")),
            )
        )
    return out


def attributes(data: Mapping[str, Any]) -> list[AttributeSpec]:
    """Get Attributes ``data.attributes[{id, name, type, is_required, values[{name}]}]``.

    The field list says ``is_required``; the page's example JSON spells it ``is_requried``
    (noted by other integrators too), so both are read.
    """
    out = []
    for a in data.get("attributes") or []:
        required = bool(a.get("is_required", a.get("is_requried", False)))
        out.append(
            AttributeSpec(
                attribute_id=str(a["id"]),
                name=one_line(str(a.get("name") or "")),
                required=required,
                input_type=str(a.get("type") or "text"),
                options=tuple(one_line(str(v.get("name") or "")) for v in a.get("values") or []),
            )
        )
    return out
