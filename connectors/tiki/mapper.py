"""Pure mapping between our values and Tiki Open API (seller) documents.

Where each rule comes from (open.tiki.vn/docs/docs/current/…; "verified" = read in those pages,
"unverified" = inferred from public integrations or not found):
- Product *requests* (guides/products/create-new-product-request, manage-product-request,
  tracking-product-request): ``POST /integration/v2.1/requests`` answers ``{track_id, state}``;
  states flow ``queuing → processing → md_waiting_approve → bot_waiting_approve →
  awaiting_approve → approved`` or ``rejected`` (with reasons; a rejected request cannot be
  updated, a new one must be made) or ``deleted``. An approved request becomes a product that is
  **inactive** until the seller activates it. (verified)
- Request body fields ``category_id, name, description, attributes{…}, image, images,
  option_attributes, variants[{sku, price, inventory_type, seller_warehouse,
  warehouse_stocks, image}], certificate_files`` — verified only through public integrations
  posting to that path (the API reference table was not readable); the ``variants[].sku`` is the
  seller's own SKU, which Tiki stores as ``original_sku`` (verified in the request-detail sample).
- Price/stock/active per SKU: ``PUT /integration/v2/products/updateSku`` with ``original_sku``
  (or ``product_id``), ``price``, ``active`` (1/0), ``seller_warehouse`` and
  ``warehouse_quantities[{warehouse_id, qty_available}]``; approved automatically. (verified)
- Order v2 payload (guides/tiki-theory-v2/order-v2, order-item-v2): ``code``, ``status``,
  ``created_at``/``updated_at`` as ``yyyy-MM-dd HH:mm:ss``, ``invoice.grand_total``,
  ``items[{product{…}, invoice{price, quantity, subtotal, row_total}}]``. (verified)
  The time zone of those stamps is not stated: read as Vietnam time (UTC+7). (unverified)
  The seller SKU of an item is read from ``product.seller_product_code`` then ``product.sku``.
  (unverified)
- Order statuses used below are those named in the order guides (``waiting_payment,
  processing, queueing, …, canceled, complete, returned``); the list is not exhaustive and an
  unknown one is refused, not guessed. (partly verified)
- Name length limit: not found; we cap at 255 characters. (unverified)
- Variants: a configurable product names its attributes in ``option_attributes`` (at most two)
  and each ``variants[]`` entry its values in ``option1``/``option2``, with its own ``sku``,
  ``price``, ``warehouse_stocks`` and ``image``; each variant's SKU then takes ``updateSku`` on its
  own. The ``option1``/``option2`` field names and resending all variants with an info update
  come from public integrations, not from the API reference. (unverified)
- ``meta_data.is_auto_turn_on`` (activate the product once approved): not found in the pages
  read; without it an approved product waits for ``updateSku`` ``active=1``. (unverified)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
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
)
from connectors.text import ocop_description_html, one_line

VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
NAME_MAX = 255
NO_BRAND = "No Brand"
INVENTORY_TYPE = "dropship"

#: Default OCOP group → Tiki category id (editable by admins in ``ocop``; a product's own
#: ``category_id`` wins). Ids are the sandbox tree's leaves; map to the real tree once.
DEFAULT_CATEGORY_BY_GROUP: dict[int, int] = {1: 4421, 2: 4422, 3: 4431, 4: 4441, 5: 4451, 6: 4461}

REQUEST_STATE: dict[str, ItemState] = {
    "queuing": "in_review",
    "processing": "in_review",
    "md_waiting_approve": "in_review",
    "bot_waiting_approve": "in_review",
    "awaiting_approve": "in_review",
    "approved": "unlisted",  # an approved request is an inactive product until activated
    "rejected": "rejected",
    "deleted": "deleted",
}

ORDER_STATE: dict[str, OrderState] = {
    "waiting_payment": "unpaid",
    "processing": "unpaid",
    "queueing": "ready_to_ship",
    "picking": "ready_to_ship",
    "packaging": "ready_to_ship",
    "finished_packing": "ready_to_ship",
    "ready_to_ship": "ready_to_ship",
    "handover_to_partner": "shipped",
    "shipping": "shipped",
    "successful_delivery": "delivered",
    "delivered": "delivered",
    "complete": "completed",
    "closed": "completed",
    "canceled": "cancelled",
    "returned": "returned",
}

def fmt_time(moment: datetime) -> str:
    """Our aware UTC time → Tiki's ``yyyy-MM-dd HH:mm:ss`` in Vietnam time."""
    return moment.astimezone(VN_TZ).strftime(TIME_FORMAT)


def fmt_time_epoch(epoch: float) -> str:
    """Unix seconds → Tiki's local ``yyyy-MM-dd HH:mm:ss``."""
    return fmt_time(datetime.fromtimestamp(epoch, UTC))


def parse_time(text: str) -> datetime:
    """Tiki's local ``yyyy-MM-dd HH:mm:ss`` → aware UTC."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=VN_TZ).astimezone(UTC)


def description_html(product: ProductInput) -> str:
    return ocop_description_html(product)


def request_body(product: ProductInput, *, warehouse_id: int) -> dict[str, Any]:
    """``POST /integration/v2.1/requests`` body: one simple product, one variant, our SKU."""
    if product.price_vnd <= 0:
        raise PermanentError("price must be positive", code="mapping")
    if not product.image_ids:
        raise PermanentError("Tiki needs at least one image URL", code="mapping")
    category = product.category_id or DEFAULT_CATEGORY_BY_GROUP.get(product.ocop_group)
    if category is None:
        raise PermanentError(f"no Tiki category for OCOP group {product.ocop_group}", code="mapping")
    name = one_line(product.name)[:NAME_MAX].rstrip()
    if not name:
        raise PermanentError("empty product name", code="mapping")
    attributes: dict[str, Any] = {
        "brand": one_line(product.brand) if product.brand else NO_BRAND,
        "origin": "Việt Nam",
        "bulky": 0,
        "product_weight_kg": float(Decimal(product.weight_g) / 1000),
        "product_length": product.length_cm,
        "product_width": product.width_cm,
        "product_height": product.height_cm,
    }
    attributes.update({k: one_line(v) for k, v in sorted(product.attributes.items())})
    main, *others = product.image_ids
    return {
        "category_id": int(category),
        "name": name,
        "description": description_html(product),
        "market_price": product.price_vnd,
        "attributes": attributes,
        "image": main,
        "images": list(others),
        "option_attributes": [a.name for a in product.variation],
        "variants": [
            {
                "sku": product.seller_sku,
                "price": product.price_vnd,
                "inventory_type": INVENTORY_TYPE,
                "seller_warehouse": str(warehouse_id),
                "warehouse_stocks": [{"warehouseId": warehouse_id, "qtyAvailable": max(0, product.stock)}],
                "image": main,
            }
        ] if not product.variants else [
            {
                "sku": v.seller_sku,
                **{f"option{n}": value for n, value in enumerate(v.options, start=1)},
                "price": v.price_vnd,
                "inventory_type": INVENTORY_TYPE,
                "seller_warehouse": str(warehouse_id),
                "warehouse_stocks": [{"warehouseId": warehouse_id, "qtyAvailable": max(0, v.stock)}],
                "image": v.image_id or main,
            }
            for v in product.variants
        ],
        # Sell as soon as Tiki approves (otherwise an approved product stays inactive).
        "meta_data": {"is_auto_turn_on": True},
    }


def update_info_body(product_id: str, product: ProductInput) -> dict[str, Any]:
    """Content update (name, description, images, attributes) of an approved product; Tiki
    reviews it like a new request. The path it is posted to is unverified (see the client)."""
    body = request_body(product, warehouse_id=0)
    return {
        "product_id": int(product_id),
        "name": body["name"],
        "description": body["description"],
        "image": body["image"],
        "images": body["images"],
        "attributes": body["attributes"],
        **({"option_attributes": body["option_attributes"], "variants": body["variants"]} if product.variants else {}),
    }


def sku_numbers(product: Mapping[str, Any]) -> list[SkuNumbers]:
    """A product document → what each SKU shows (a configurable product's ``variants``)."""
    def qty(doc: Mapping[str, Any]) -> int:
        return sum(int(w.get("qty_available") or 0)
                   for w in (doc.get("inventory") or {}).get("warehouse_quantities") or [])
    rows = product.get("variants") or [product]
    return [SkuNumbers(str(r.get("original_sku") or ""), _vnd(r.get("price")), qty(r)) for r in rows]


def update_sku_body(
    seller_sku: str,
    *,
    price_vnd: int | None = None,
    stock: int | None = None,
    active: bool | None = None,
    warehouse_id: int | None = None,
) -> dict[str, Any]:
    """``PUT /integration/v2/products/updateSku`` body keyed by ``original_sku``."""
    body: dict[str, Any] = {"original_sku": seller_sku}
    if price_vnd is not None:
        body["price"] = price_vnd
    if active is not None:
        body["active"] = 1 if active else 0
    if stock is not None:
        if warehouse_id is None:
            raise ValueError("a stock update needs the seller warehouse")
        body["seller_warehouse"] = str(warehouse_id)
        body["warehouse_quantities"] = [{"warehouse_id": warehouse_id, "qty_available": max(0, stock)}]
    return body


def reasons_text(reasons: Any) -> str | None:
    """Tiki gives ``reasons`` as null, a string or a list of strings/objects."""
    if not reasons:
        return None
    if isinstance(reasons, str):
        return reasons
    parts = []
    for r in reasons:
        if isinstance(r, Mapping):
            parts.append(str(r.get("reason") or r.get("message") or r.get("name") or ""))
        else:
            parts.append(str(r))
    return "; ".join(p for p in parts if p) or None


def request_status(tracking: Mapping[str, Any], external_id: str) -> ItemStatus:
    """Tracking / request detail → our status (approved = inactive product until activated)."""
    raw = str(tracking.get("state", ""))
    state = REQUEST_STATE.get(raw)
    if state is None:
        raise PermanentError(f"unknown Tiki request state {raw!r}", code="mapping")
    reason = reasons_text(tracking.get("reasons") or tracking.get("reason"))
    return ItemStatus(
        external_id=external_id, state=state, reason=reason if state == "rejected" else None, raw_status=raw
    )


def product_status(product: Mapping[str, Any]) -> ItemStatus:
    """An approved product → live when active, else unlisted."""
    active = str(product.get("active", "0")) == "1"
    return ItemStatus(
        external_id=str(product["product_id"] if "product_id" in product else product["id"]),
        state="live" if active else "unlisted",
        raw_status=f"active={1 if active else 0}",
    )


def _vnd(value: Any) -> int:
    try:
        return int(Decimal(str(value if value is not None else "0")).to_integral_value())
    except InvalidOperation as exc:
        raise PermanentError(f"not an amount: {value!r}", code="mapping") from exc


def order_ref(order: Mapping[str, Any]) -> OrderRef:
    return OrderRef(
        order_id=str(order["code"]),
        updated_at=parse_time(order["updated_at"]) if order.get("updated_at") else None,
        raw_status=str(order.get("status", "")),
    )


def order_from_tiki(order: Mapping[str, Any]) -> MarketOrder:
    raw = str(order.get("status", ""))
    status = ORDER_STATE.get(raw)
    if status is None:
        raise PermanentError(f"unknown Tiki order status {raw!r}", code="mapping")
    lines = []
    for item in order.get("items") or []:
        product = item.get("product") or {}
        inv = item.get("invoice") or {}
        qty = int(inv.get("quantity") or 1)
        lines.append(
            OrderLine(
                seller_sku=str(product.get("seller_product_code") or product.get("sku") or ""),
                external_item_id=str(product.get("id") or ""),
                name=one_line(str(product.get("name") or "")),
                quantity=qty,
                unit_price_vnd=_vnd(inv.get("price")),
                total_vnd=_vnd(
                    inv.get("subtotal") if inv.get("subtotal") is not None else _vnd(inv.get("price")) * qty
                ),
            )
        )
    created = parse_time(order["created_at"])
    return MarketOrder(
        order_id=str(order["code"]),
        status=status,
        raw_status=raw,
        created_at=created,
        updated_at=parse_time(order["updated_at"]) if order.get("updated_at") else created,
        total_vnd=_vnd((order.get("invoice") or {}).get("grand_total")),
        lines=tuple(lines),
    )


def categories(items: list[Mapping[str, Any]]) -> list[Category]:
    """``GET /integration/v2/categories`` items ``{id, name, parent_id, is_primary}``;
    ``is_primary`` marks a leaf a product may be created in (unverified)."""
    return [
        Category(
            category_id=str(c["id"]),
            name=one_line(str(c.get("name") or "")),
            parent_id=str(c["parent_id"]) if c.get("parent_id") else None,
            leaf=bool(c.get("is_primary")),
        )
        for c in items
    ]


def attributes(items: list[Mapping[str, Any]]) -> list[AttributeSpec]:
    """``GET /integration/v2/categories/{id}/attributes`` items ``{id, code, display_name,
    is_required, input_type}`` (field names unverified)."""
    return [
        AttributeSpec(
            attribute_id=str(a.get("code") or a["id"]),
            name=one_line(str(a.get("display_name") or a.get("name") or "")),
            required=bool(a.get("is_required")),
            input_type=str(a.get("input_type") or "text"),
        )
        for a in items
    ]
