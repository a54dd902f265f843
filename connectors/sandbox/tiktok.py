"""TikTok Shop Partner API (202309, and the newer versions of ``VERSIONS``) emulation, mounted under
``/tiktok`` (and at the root of its own port, see ``connectors.sandbox.app.OwnPorts``).

Both TikTok hosts are served under the one prefix: the auth host
(``auth.tiktok-shops.com``: ``/oauth/authorize``, ``/api/v2/token/get``, ``/api/v2/token/refresh``)
and the API host (``open-api.tiktokglobalshop.com``: ``/authorization/…``, ``/product/202309/…``,
``/order/202309/…``, ``/logistics/202309/warehouses``). A client is given the same base URL for
both.

Checks, in the platform's order, with its error answers (codes from the Partner Center
"Common errors" page as mirrored by public SDK tests; messages from live answers quoted in
public issues):
- unknown ``app_key``, missing ``sign``, stale ``timestamp`` (± 5 min): HTTP 401/400,
  ``36009004`` with the documented message for each case;
- wrong ``sign``: HTTP 401, ``106001`` "Invalid credentials. The 'sign' query parameter is
  invalid." — computed over the path, the decoded query and the **raw body bytes as received**
  (multipart bodies excluded), never over re-serialised JSON;
- missing/unknown ``x-tts-access-token``: ``36009004``; expired: HTTP 401, ``105002``;
- ``shop_cipher`` required on shop calls and refused on image upload (``36009004``);
- rate limit: HTTP 429, ``36009002``; internal error: HTTP 500, ``36009003``.

Validation answers of the product API use numbers of TikTok's product families (``1201xxxx``,
``1205xxxx``); only ``12052024`` "Category is not final category" is a documented pair. The others
(and ``36009009`` for an unknown path) are the sandbox's picks: clients must treat any of them as
"permanent, read the message", which is what :mod:`connectors.tiktok.client` does.

Auth-host failures answer ``code`` ``36004004`` (unknown/used/expired auth code) and ``36004001``
(refresh token expired or spent), numbers reported by integrators of the live platform;
``36004002`` (bad app credentials) and ``36004003`` (bad grant type) are the sandbox's picks.

The authorization consent page (``GET /oauth/authorize?app_key=&state=``) lists the app's shops;
approving redirects to ``redirect_uri`` when the query has one (a sandbox convenience: on TikTok
the redirect URL is registered in Partner Center), else shows the code.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import MediaType, Request, Response, Router, route
from litestar.params import FromPath
from litestar.enums import HttpMethod

from connectors.sandbox.consent import CONSENT_HEAD
from connectors.sandbox.spec import (
    ErrorAnswer,
    MarketplaceSpec,
    forced_expiry,
    marketplace_base_url,
    relative_path,
)
from connectors.sandbox.state import (
    AuthResult, Item, Model, Order, SandboxState, VariantLimits, VariantRefused, check_variation,
)
from connectors.tiktok.signing import TIMESTAMP_TOLERANCE_S, is_multipart, verify_request

NAME = "tiktok"
API_PREFIXES = ("/authorization/", "/product/", "/order/", "/logistics/", "/api/v2/token/")
WAREHOUSE_ID = "7300000000000000001"
ORDER_IDS_MAX = 50
PAGE_SIZE_MAX = 100
TITLE_MIN, TITLE_MAX = 25, 255

#: The category tree the sandbox serves (leaves match ``connectors.tiktok.mapper``'s defaults).
CATEGORIES: tuple[tuple[str, str, str, bool], ...] = (
    ("7001", "0", "Thực phẩm & Đồ uống", False),
    ("700101", "7001", "Đặc sản địa phương", True),
    ("700102", "7001", "Đồ uống", True),
    ("7002", "0", "Sức khỏe", False),
    ("700201", "7002", "Thảo dược", True),
    ("7003", "0", "Thời trang", False),
    ("700301", "7003", "Vải & thổ cẩm", True),
    ("7004", "0", "Nhà cửa & Đời sống", False),
    ("700401", "7004", "Đồ thủ công mỹ nghệ", True),
    ("7005", "0", "Voucher & Dịch vụ", False),
    ("700501", "7005", "Dịch vụ du lịch", True),
)
ATTRIBUTES: tuple[dict[str, Any], ...] = (
    {
        "id": "100107",
        "name": "Xuất xứ",
        "type": "PRODUCT_PROPERTY",
        "is_required": True,
        "values": [{"id": "1", "name": "Việt Nam"}],
    },
    {"id": "100216", "name": "Hạn sử dụng", "type": "PRODUCT_PROPERTY", "is_required": False, "values": []},
)

ITEM_STATUS = {
    "reviewing": "PENDING",
    "live": "ACTIVATE",
    "rejected": "FAILED",
    "banned": "PLATFORM_DEACTIVATED",
    "unlisted": "SELLER_DEACTIVATED",
    "deleted": "DELETED",
}
# Returns live in TikTok's Return & Refund API, not in the order status.
ORDER_STATUS = {
    "unpaid": "UNPAID",
    "ready_to_ship": "AWAITING_SHIPMENT",
    "shipped": "IN_TRANSIT",
    "delivered": "DELIVERED",
    "completed": "COMPLETED",
    "cancelled": "CANCELLED",
    "returned": "COMPLETED",
}


def cipher_for(shop_id: str) -> str:
    """A stable opaque ``shop_cipher`` per shop (TikTok's look like ``ROW_…``)."""
    return (
        "ROW_" + base64.urlsafe_b64encode(hashlib.sha256(f"cipher:{shop_id}".encode()).digest()[:21]).decode()
    )


# Sales attributes: TikTok Shop allows 3 per product and at most 100 SKUs in most regions; we send at
# most 2. The error codes below are the sandbox's (unverified; TikTok answers 120522xx for SKU faults).
LIMITS = VariantLimits(max_tiers=3, max_options=100, max_models=100)
VARIANT_CODES = {"too_many_tiers": 12052217, "too_many_models": 12052218, "too_many_options": 12052218,
                 "duplicate_sku": 12052219, "duplicate_combination": 12052220, "missing_value": 12052221}


class TikTokError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _envelope(code: int, message: str, data: Any = None) -> bytes:
    body: dict[str, Any] = {"code": code, "message": message, "request_id": secrets.token_hex(17).upper()}
    if data is not None or code == 0:
        body["data"] = data if data is not None else {}
    return json.dumps(body, ensure_ascii=False).encode()


def _ok(data: Any) -> Response[bytes]:
    return Response(_envelope(0, "Success", data), status_code=200, media_type=MediaType.JSON)


def _err(e: TikTokError) -> Response[bytes]:
    return Response(_envelope(e.code, e.message), status_code=e.status, media_type=MediaType.JSON)


def rate_limited(retry_after: int) -> ErrorAnswer:
    return (
        429,
        {"content-type": "application/json", "retry-after": str(retry_after)},
        _envelope(
            36009002, "Too many requests. The request rate limit has been reached, please try again later."
        ),
    )


def server_error() -> ErrorAnswer:
    return (
        500,
        {"content-type": "application/json"},
        _envelope(36009003, "Internal error. Please try again later."),
    )


def token_call(path: str) -> bool:
    return not path.startswith("/api/v2/token/")


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if not raw.startswith("o:"):
            raise ValueError
        return int(raw[2:])
    except ValueError as exc:
        raise TikTokError(400, 36009004, "Invalid parameter. The `page_token` is invalid.") from exc


class Ctx:
    """One verified API request."""

    def __init__(
        self, state: SandboxState, app_key: str, shop_id: str | None, query: dict[str, str], body: bytes
    ) -> None:
        self.state, self.app_key, self.shop_id, self.query, self.body = state, app_key, shop_id, query, body

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise TikTokError(
                400, 36009004, "Invalid parameter. The request body is not valid JSON."
            ) from exc
        if not isinstance(data, dict):
            raise TikTokError(400, 36009004, "Invalid parameter. The request body must be an object.")
        return data


# ---------------------------------------------------------------------------- renderers


def _product_doc(state: SandboxState, item: Item) -> dict[str, Any]:
    state.settle(item)
    doc: dict[str, Any] = {
        "id": str(item.item_id),
        "title": item.name,
        "description": item.description,
        "status": ITEM_STATUS[item.status],
        "category_chains": [{"id": item.category_id, "is_leaf": True}],
        "main_images": [{"uri": uri, "urls": []} for uri in item.images],
        "package_weight": {"value": str(item.weight_g / 1000), "unit": "KILOGRAM"},
        "skus": _sku_docs(item),
        "create_time": int(item.created_at),
        "update_time": int(item.updated_at),
    }
    if item.status in ("rejected", "banned") and item.reason:
        doc["audit_failed_reasons"] = [{"position": "Product", "reasons": [item.reason], "suggestions": []}]
    return doc


def _sku_docs(item: Item) -> list[dict[str, Any]]:
    """One SKU object per variant (``sales_attributes`` naming its values), or the item's only SKU."""
    warehouse = str(item.raw.get("warehouse_id", WAREHOUSE_ID))

    def doc(sku_id: str, seller_sku: str, price: int, stock: int, attrs: list[dict[str, str]]) -> dict[str, Any]:
        return {
            "id": sku_id, "seller_sku": seller_sku,
            "price": {"currency": "VND", "sale_price": str(price), "tax_exclusive_price": str(price)},
            "inventory": [{"warehouse_id": warehouse, "quantity": stock}],
            "sales_attributes": attrs,
        }

    if not item.models:
        return [doc(str(item.raw.get("sku_id", "")), item.seller_sku, item.price_vnd, item.stock, [])]
    return [doc(str(m.model_id), m.seller_sku, m.price_vnd, m.stock,
                [{"name": name, "value_name": value} for (name, _), value in zip(item.tiers, m.options)])
            for m in item.models.values()]


def _sku_ids(item: Item) -> list[dict[str, Any]]:
    return [{"id": d["id"], "seller_sku": d["seller_sku"], "sales_attributes": d["sales_attributes"]}
            for d in _sku_docs(item)]


def _order_doc(order: Order, now: float) -> dict[str, Any]:
    line_items = []
    for n, line in enumerate(order.lines):
        for unit in range(line.quantity):  # 202309: one line item per unit
            line_items.append(
                {
                    "id": f"{order.order_id}{n:02d}{unit:02d}",
                    "product_id": str(line.item_id),
                    "product_name": line.name,
                    "seller_sku": line.seller_sku,
                    "sku_id": str(line.model_id) if line.model_id else f"{line.item_id}1",
                    "sku_name": line.model_name,
                    "sale_price": str(line.unit_price_vnd),
                    "original_price": str(line.unit_price_vnd),
                    "currency": "VND",
                }
            )
    subtotal = sum(line.quantity * line.unit_price_vnd for line in order.lines)
    return {
        "id": order.order_id,
        "status": ORDER_STATUS[order.status_at(now)],
        "create_time": int(order.created_at),
        "update_time": int(order.updated_at(now)),
        "payment": {
            "currency": "VND",
            "sub_total": str(subtotal),
            "shipping_fee": str(order.shipping_fee_vnd),
            "total_amount": str(order.total_vnd),
        },
        "line_items": line_items,
    }


# ---------------------------------------------------------------------------- product handlers


def _product_fields(state: SandboxState, ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    title = str(body.get("title") or "")
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise TikTokError(
            400, 12052009, f"Product title length must be between {TITLE_MIN} and {TITLE_MAX} characters."
        )
    leaves = {c[0] for c in CATEGORIES if c[3]}
    category = str(body.get("category_id") or "")
    if category not in leaves:
        raise TikTokError(400, 12052024, "Category is not final category")
    images = [str(i.get("uri", "")) for i in body.get("main_images") or []]
    if not images or len(images) > 9 or any((NAME, uri) not in state.images for uri in images):
        raise TikTokError(
            400, 12052226, "Invalid main_images: upload images first and use their uri (1 to 9)."
        )
    skus = body.get("skus") or []
    if not skus:
        raise TikTokError(400, 12052201, "Invalid SKU: at least one SKU is required.")
    for one in skus:
        amount = str((one.get("price") or {}).get("amount") or "")
        if (not one.get("seller_sku") or not re.fullmatch(r"\d+", amount)
                or (one.get("price") or {}).get("currency") != "VND"):
            raise TikTokError(400, 12052201, "Invalid SKU: seller_sku and a VND price amount are required.")
    sku = skus[0]
    seller_sku = str(sku.get("seller_sku") or "")
    price = str((sku.get("price") or {}).get("amount") or "")
    inventory = sku.get("inventory") or [{}]
    weight = (body.get("package_weight") or {}).get("value") or "0"
    dims = body.get("package_dimensions") or {}
    return {
        "seller_sku": seller_sku,
        "name": title,
        "description": str(body.get("description") or ""),
        "price_vnd": int(price),
        "stock": int(inventory[0].get("quantity") or 0),
        "weight_g": int(round(float(weight) * 1000)),
        "dims_cm": (int(dims.get("length") or 0), int(dims.get("width") or 0), int(dims.get("height") or 0)),
        "category_id": category,
        "brand": str(body.get("brand_id") or ""),
        "images": images,
        "attributes": {
            str(a.get("id")): str((a.get("values") or [{}])[0].get("name", ""))
            for a in body.get("product_attributes") or []
        },
    }


def _variation(ctx: Ctx, body: dict[str, Any], item: Item | None = None) -> tuple[list[tuple[str, list[str]]], list[Model]] | None:
    """``skus[].sales_attributes[{name, value_name}]`` → attributes (in order of first appearance)
    and variants, checked; None for a product of one SKU without sales attributes. A SKU keeps its
    id across edits by seller SKU."""
    skus = body.get("skus") or []
    if len(skus) == 1 and not skus[0].get("sales_attributes"):
        return None
    tiers: dict[str, list[str]] = {}
    for one in skus:
        for attr in one.get("sales_attributes") or []:
            options = tiers.setdefault(str(attr.get("name") or ""), [])
            if str(attr.get("value_name") or "") not in options:
                options.append(str(attr.get("value_name") or ""))
    tier_list = list(tiers.items())
    models = []
    for one in skus:
        values = {str(a.get("name") or ""): str(a.get("value_name") or "") for a in one.get("sales_attributes") or []}
        seller_sku = str(one.get("seller_sku") or "")
        old = item.model_by_sku(seller_sku) if item else None
        stock = ((one.get("inventory") or [{}])[0]).get("quantity") or 0
        models.append(Model(old.model_id if old else ctx.state.next_id(), seller_sku,
                            tuple(values.get(name, "") for name, _ in tier_list),
                            int((one.get("price") or {}).get("amount") or 0), int(stock)))
    try:
        check_variation(tier_list, models, LIMITS)
    except VariantRefused as exc:
        raise TikTokError(400, VARIANT_CODES.get(exc.kind, 12052201), exc.message) from None
    return tier_list, models


def _item(ctx: Ctx, product_id: str) -> Item:
    item = ctx.state.find_item(NAME, ctx.shop_id or "", int(product_id)) if product_id.isdigit() else None
    if item is None or item.status == "deleted":
        raise TikTokError(404, 12052048, "Product does not exist.")
    return item


def create_product(ctx: Ctx) -> Any:
    fields = _product_fields(ctx.state, ctx, ctx.json())
    variation = _variation(ctx, ctx.json())
    warehouse = str(((ctx.json()["skus"][0].get("inventory") or [{}])[0]).get("warehouse_id") or WAREHOUSE_ID)
    item = ctx.state.create_item(NAME, ctx.shop_id or "", **fields)
    item.raw.update(sku_id=str(ctx.state.next_id()), warehouse_id=warehouse)
    if variation is not None:
        with ctx.state.lock:
            item.set_variation(*variation)
    return {"product_id": str(item.item_id), "skus": _sku_ids(item), "warnings": []}


def edit_product(ctx: Ctx, product_id: str) -> Any:
    item = _item(ctx, product_id)
    fields = _product_fields(ctx.state, ctx, ctx.json())
    variation = _variation(ctx, ctx.json(), item)  # the edit's SKUs replace the product's
    with ctx.state.lock:
        for key, value in fields.items():
            setattr(item, key, value)
        if variation is not None:
            item.set_variation(*variation)
        else:
            item.tiers, item.models = [], {}
    ctx.state.resubmit(item)
    return {"product_id": str(item.item_id), "skus": _sku_ids(item), "warnings": []}


def _sku_updates(ctx: Ctx, item: Item) -> list[tuple[dict[str, Any], Model | None]]:
    skus = ctx.json().get("skus") or []
    out = []
    for sku in skus:
        sku_id = str(sku.get("id"))
        model = item.models.get(int(sku_id)) if item.models and sku_id.isdigit() else None
        if (item.models and model is None) or (not item.models and sku_id != item.raw.get("sku_id")):
            raise TikTokError(400, 12052201, "SKU does not belong to the product.")
        out.append((sku, model))
    if not out:
        raise TikTokError(400, 12052201, "SKU does not belong to the product.")
    return out


def update_inventory(ctx: Ctx, product_id: str) -> Any:
    item = _item(ctx, product_id)
    for sku, model in _sku_updates(ctx, item):
        quantity = ((sku.get("inventory") or [{}])[0]).get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise TikTokError(400, 12052230, "inventory quantity must be a non-negative integer.")  # code unverified
        with ctx.state.lock:
            if model is not None:
                model.stock = quantity
                item.sync_totals()
            else:
                item.stock = quantity
            item.updated_at = ctx.state.clock()
    return {}


def update_price(ctx: Ctx, product_id: str) -> Any:
    item = _item(ctx, product_id)
    for sku, model in _sku_updates(ctx, item):
        amount = str((sku.get("price") or {}).get("amount") or "")
        if not amount.isdigit():
            raise TikTokError(400, 12052201, "Invalid price amount.")
        with ctx.state.lock:
            if model is not None:
                model.price_vnd = int(amount)
                item.sync_totals()
            else:
                item.price_vnd = int(amount)
            item.updated_at = ctx.state.clock()
    return {}


def deactivate(ctx: Ctx) -> Any:
    errors = []
    for pid in ctx.json().get("product_ids") or []:
        try:
            item = _item(ctx, str(pid))
        except TikTokError as e:
            errors.append({"code": e.code, "message": e.message, "detail": {"product_id": str(pid)}})
            continue
        with ctx.state.lock:
            item.status, item.reason, item.updated_at = "unlisted", None, ctx.state.clock()
    return {"errors": errors}


def get_product(ctx: Ctx, product_id: str) -> Any:
    return _product_doc(ctx.state, _item(ctx, product_id))


def _page_size(ctx: Ctx) -> int:
    raw = ctx.query.get("page_size", "")
    if not raw.isdigit() or not 1 <= int(raw) <= PAGE_SIZE_MAX:
        raise TikTokError(
            400, 36009004, f"Invalid parameter. `page_size` must be between 1 and {PAGE_SIZE_MAX}."
        )
    return int(raw)


def search_products(ctx: Ctx) -> Any:
    size, offset = _page_size(ctx), _offset(ctx.query.get("page_token"))
    body = ctx.json()
    skus = set(body.get("seller_skus") or [])
    status = body.get("status")
    items = [ctx.state.settle(i) for i in ctx.state.shop_items(NAME, ctx.shop_id or "").values()]
    found = [
        i
        for i in sorted(items, key=lambda i: i.item_id)
        if i.status != "deleted"
        and (not skus or bool(skus & set(i.skus())))
        and (not status or status == "ALL" or ITEM_STATUS[i.status] == status)
    ]
    page = found[offset : offset + size]
    docs = [
        {
            k: v
            for k, v in _product_doc(ctx.state, i).items()
            if k in ("id", "title", "status", "skus", "create_time", "update_time")
        }
        for i in page
    ]
    nxt = _page_token(offset + size) if offset + size < len(found) else ""
    return {"products": docs, "total_count": len(found), "next_page_token": nxt}


def categories(ctx: Ctx) -> Any:
    return {
        "categories": [
            {
                "id": cid,
                "parent_id": parent,
                "local_name": name,
                "is_leaf": leaf,
                "permission_statuses": ["AVAILABLE"],
            }
            for cid, parent, name, leaf in CATEGORIES
        ]
    }


def category_attributes(ctx: Ctx, category_id: str) -> Any:
    if category_id not in {c[0] for c in CATEGORIES if c[3]}:
        raise TikTokError(400, 12052024, "Category is not final category")
    return {"attributes": list(ATTRIBUTES)}


def warehouses(ctx: Ctx) -> Any:
    return {
        "warehouses": [
            {
                "id": WAREHOUSE_ID,
                "name": "Kho mặc định",
                "effect_status": "ENABLED",
                "type": "SALES_WAREHOUSE",
                "is_default": True,
            }
        ]
    }


def authorized_shops(ctx: Ctx) -> Any:
    shop = ctx.state.shop(NAME, ctx.shop_id or "")
    assert shop is not None
    return {
        "shops": [
            {
                "id": shop.shop_id,
                "name": shop.name,
                "region": shop.region,
                "seller_type": "LOCAL",
                "cipher": cipher_for(shop.shop_id),
                "code": f"VN{shop.shop_id}",
            }
        ]
    }


# ---------------------------------------------------------------------------- orders


def _int_field(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int):
        raise TikTokError(400, 36009004, f"Invalid parameter. `{name}` must be a Unix timestamp in seconds.")
    return value


def search_orders(ctx: Ctx) -> Any:
    size, offset = _page_size(ctx), _offset(ctx.query.get("page_token"))
    body = ctx.json()
    bounds = {
        k: _int_field(body, k)
        for k in ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt")
    }
    now = ctx.state.clock()
    orders = list(ctx.state.shop_orders(NAME, ctx.shop_id or "").values())

    def keep(o: Order) -> bool:
        created, updated = o.created_at, o.updated_at(now)
        if created > now:
            return False
        checks = (
            (bounds["create_time_ge"], created, True),
            (bounds["create_time_lt"], created, False),
            (bounds["update_time_ge"], updated, True),
            (bounds["update_time_lt"], updated, False),
        )
        return all(b is None or (v >= b if ge else v < b) for b, v, ge in checks)

    found = sorted((o for o in orders if keep(o)), key=lambda o: (o.created_at, o.order_id))
    page = found[offset : offset + size]
    nxt = _page_token(offset + size) if offset + size < len(found) else ""
    return {"orders": [_order_doc(o, now) for o in page], "total_count": len(found), "next_page_token": nxt}


def get_orders(ctx: Ctx) -> Any:
    ids = [i for i in ctx.query.get("ids", "").split(",") if i]
    if not ids or len(ids) > ORDER_IDS_MAX:
        raise TikTokError(
            400, 36009004, f"Invalid parameter. `ids` must hold 1 to {ORDER_IDS_MAX} order ids."
        )
    now = ctx.state.clock()
    orders = ctx.state.shop_orders(NAME, ctx.shop_id or "")
    return {
        "orders": [_order_doc(orders[i], now) for i in ids if i in orders and orders[i].created_at <= now]
    }


# ---------------------------------------------------------------------------- routing

Handler = Callable[..., Any]

#: API versions accepted per call: 202309, in which our client speaks, and the later versions of the
#: same call that TikTok's current SDKs (generated from its API reference) send: product search
#: 202502, product edit 202509, order detail 202507. The sandbox answers each with the fields it
#: keeps, which the newer versions also carry; calls without a newer version accept 202309 only.
VERSIONS: dict[str, str] = {
    "search": "202309|202502",
    "edit": "202309|202509",
    "order_detail": "202309|202507",
}
ROUTES: tuple[tuple[str, re.Pattern[str], Handler, bool], ...] = tuple(
    (method, re.compile(pattern.format(**VERSIONS) + r"\Z"), handler, needs_cipher)
    for method, pattern, handler, needs_cipher in (
        ("GET", r"/authorization/202309/shops", authorized_shops, False),
        ("GET", r"/logistics/202309/warehouses", warehouses, True),
        ("POST", r"/product/202309/products", create_product, True),
        ("POST", r"/product/(?:{search})/products/search", search_products, True),
        ("POST", r"/product/202309/products/deactivate", deactivate, True),
        ("GET", r"/product/202309/products/(\d+)", get_product, True),
        ("PUT", r"/product/(?:{edit})/products/(\d+)", edit_product, True),
        ("POST", r"/product/202309/products/(\d+)/inventory/update", update_inventory, True),
        ("POST", r"/product/202309/products/(\d+)/prices/update", update_price, True),
        ("GET", r"/product/202309/categories", categories, True),
        ("GET", r"/product/202309/categories/(\d+)/attributes", category_attributes, True),
        ("POST", r"/order/202309/orders/search", search_orders, True),
        ("GET", r"/order/(?:{order_detail})/orders", get_orders, True),
    )
)


def _verify(
    state: SandboxState,
    request: Request[Any, Any, Any],
    path: str,
    query: dict[str, str],
    body: bytes,
    now: float,
) -> str:
    """Common parameters and signature; returns the app key."""
    app_key = query.get("app_key", "")
    secret = state.app_secret(NAME, app_key)
    if secret is None:
        raise TikTokError(400, 36009004, "Invalid credentials. Invalid `app_key` query parameter.")
    sign = query.get("sign")
    if not sign:
        raise TikTokError(
            401,
            36009004,
            "Missing credentials. The request does not include a required signature in the query.",
        )
    ts = query.get("timestamp", "")
    if not ts.isdigit() or abs(now - int(ts)) > TIMESTAMP_TOLERANCE_S:
        raise TikTokError(
            400,
            36009004,
            "Invalid timestamp. The value of the `timestamp` query parameter must not be earlier than "
            "5 minutes before the current time.",
        )
    if not verify_request(
        secret, path, query, body, content_type=request.headers.get("content-type"), signature=sign
    ):
        raise TikTokError(401, 106001, "Invalid credentials. The 'sign' query parameter is invalid.")
    return app_key


async def _api(state: SandboxState, request: Request[Any, Any, Any]) -> Response[bytes]:
    path = relative_path(request, NAME)
    query = dict(parse_qsl(request.scope.get("query_string", b"").decode(), keep_blank_values=True))
    multipart = is_multipart(request.headers.get("content-type"))
    body = b"" if multipart else await request.body()
    try:
        app_key = _verify(state, request, path, query, body, state.clock())
        if path == "/product/202309/images/upload":
            if "shop_cipher" in query:
                raise TikTokError(
                    400,
                    36009004,
                    "Unexpected identifier. The `shop_cipher` query parameter is not required "
                    "for this request.",
                )
            shop_id = _check_token(state, request, app_key)
            return _ok(await _upload(state, request, shop_id))
        for method, pattern, handler, needs_cipher in ROUTES:
            m = pattern.match(path)
            if m is None or method != request.method:
                continue
            shop_id = _check_token(state, request, app_key)
            if needs_cipher and query.get("shop_cipher") != cipher_for(shop_id):
                raise TikTokError(
                    400, 36009004, "Invalid identifier. The `shop_cipher` query parameter is invalid."
                )
            return _ok(handler(Ctx(state, app_key, shop_id, query, body), *m.groups()))
        raise TikTokError(404, 36009009, "Invalid path. The requested API path does not exist.")
    except TikTokError as e:
        return _err(e)


def _check_token(state: SandboxState, request: Request[Any, Any, Any], app_key: str) -> str:
    token = request.headers.get("x-tts-access-token", "")
    result, rec = state.check_access(NAME, app_key, token, force_expire=forced_expiry(request))
    if result == AuthResult.INVALID or rec is None:
        raise TikTokError(401, 36009004, "Invalid credentials. The `x-tts-access-token` header is invalid.")
    if result == AuthResult.EXPIRED:
        raise TikTokError(
            401, 105002, "Expired credentials. The access token has expired, please refresh it."
        )
    return rec.shop_id


async def _upload(state: SandboxState, request: Request[Any, Any, Any], shop_id: str) -> dict[str, Any]:
    form = await request.form()
    upload = form.get("data")
    if upload is None or not hasattr(upload, "read"):
        raise TikTokError(
            400, 36009004, "Invalid parameter. The multipart field `data` (image file) is required."
        )
    data = await upload.read()
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            fmt = (img.format or "").upper()
    except Exception as exc:  # Pillow raises many kinds on garbage
        raise TikTokError(400, 12019004, "Invalid image. The file is not a JPG, PNG or WEBP image.") from exc
    if fmt not in ("JPEG", "PNG", "WEBP") or len(data) > 5 * 1024 * 1024:
        raise TikTokError(400, 12019004, "Invalid image. Only JPG, PNG or WEBP up to 5 MB are accepted.")
    if width < 300 or height < 300:
        raise TikTokError(400, 12019005, "Invalid image. The image must be at least 300x300 pixels.")
    rec = state.store_image(NAME, data, marketplace_base_url(request, NAME))
    return {
        "uri": rec.image_id,
        "url": rec.url,
        "width": width,
        "height": height,
        "use_case": str(form.get("use_case") or "MAIN_IMAGE"),
    }


# ---------------------------------------------------------------------------- auth host


def _token_answer(state: SandboxState, access: str, refresh: str, shop_id: str) -> dict[str, Any]:
    now = int(state.clock())
    shop = state.shop(NAME, shop_id)
    return {
        "access_token": access,
        "access_token_expire_in": now + state.config.access_token_ttl_s,
        "refresh_token": refresh,
        "refresh_token_expire_in": now + state.config.refresh_token_ttl_s,
        "open_id": f"open-{shop_id}",
        "seller_name": shop.name if shop else "",
        "seller_base_region": "VN",
        "user_type": 0,
        "granted_scopes": ["seller.product.basic", "seller.order.info", "seller.authorization.info"],
    }


def _token(state: SandboxState, request: Request[Any, Any, Any], grant: str) -> Response[bytes]:
    q = dict(parse_qsl(request.scope.get("query_string", b"").decode(), keep_blank_values=True))
    app_key = q.get("app_key", "")
    if state.app_secret(NAME, app_key) is None or state.app_secret(NAME, app_key) != q.get("app_secret"):
        return _err(TikTokError(200, 36004002, "Invalid app_key or app_secret."))
    if q.get("grant_type") != grant:
        return _err(TikTokError(200, 36004003, f"Invalid grant_type, expected {grant}."))
    if grant == "authorized_code":
        rec = state.redeem_code(NAME, app_key, q.get("auth_code", ""))
        if rec is None:
            return _err(TikTokError(200, 36004004, "Invalid auth_code: it is unknown, used or expired."))
        access, refresh = state.issue_tokens(NAME, app_key, rec.shop_id)
        return _ok(_token_answer(state, access, refresh, rec.shop_id))
    rotated = state.rotate_refresh(NAME, app_key, q.get("refresh_token", ""))
    if rotated is None:
        return _err(TikTokError(200, 36004001, "Invalid refresh_token: it is unknown, used or has expired."))
    access, refresh, shop_id = rotated
    return _ok(_token_answer(state, access, refresh, shop_id))


def _consent_page(state: SandboxState, q: dict[str, str]) -> str:
    e = html.escape
    shops = state.config.shops_of(NAME)
    rows = "".join(
        f"<form method='post'><input type='hidden' name='shop_id' value='{e(s.shop_id)}'>"
        f"<input type='hidden' name='query' value='{e(urlencode(q))}'>"
        f"<button>Ủy quyền cho {e(s.name)} ({e(s.shop_id)})</button></form>"
        for s in shops
    )
    return (
        f"<!doctype html><html lang='vi'><head><meta charset='utf-8'>{CONSENT_HEAD}"
        "<title>TikTok Shop – Ủy quyền</title></head>"
        f"<body><h1>Ủy quyền ứng dụng {e(q.get('app_key', ''))}</h1>"
        "<p>Chọn cửa hàng cho phép ứng dụng quản lý sản phẩm và đơn hàng.</p>" + rows + "</body></html>"
    )


def router(state: SandboxState) -> Router:
    @route("/oauth/authorize", http_method=[HttpMethod.GET, HttpMethod.POST], media_type=MediaType.HTML)
    async def authorize(request: Request[Any, Any, Any]) -> Response[Any]:
        if request.method == "GET":
            q = dict(request.query_params)
            if state.app_secret(NAME, q.get("app_key", "")) is None:
                return Response("<p>Unknown app_key</p>", status_code=400, media_type=MediaType.HTML)
            return Response(_consent_page(state, q), status_code=200, media_type=MediaType.HTML)
        form = await request.form()
        q = dict(parse_qsl(str(form.get("query", ""))))
        shop_id = str(form.get("shop_id", ""))
        if state.shop(NAME, shop_id) is None or state.app_secret(NAME, q.get("app_key", "")) is None:
            return Response("<p>Unknown shop or app</p>", status_code=400, media_type=MediaType.HTML)
        code = state.issue_code(NAME, q["app_key"], shop_id)
        back = {
            "code": code,
            "state": q.get("state", ""),
            "app_key": q["app_key"],
            "locale": "vi-VN",
            "shop_region": "VN",
        }
        if q.get("redirect_uri"):
            sep = "&" if "?" in q["redirect_uri"] else "?"
            return Response(
                "", status_code=302, headers={"location": q["redirect_uri"] + sep + urlencode(back)}
            )
        return Response(
            f"<p>Mã ủy quyền (auth code): <code id='code'>{html.escape(code)}</code></p>",
            status_code=200,
            media_type=MediaType.HTML,
        )

    @route("/api/v2/token/get", http_method=[HttpMethod.GET])
    async def token_get(request: Request[Any, Any, Any]) -> Response[bytes]:
        return _token(state, request, "authorized_code")

    @route("/api/v2/token/refresh", http_method=[HttpMethod.GET])
    async def token_refresh(request: Request[Any, Any, Any]) -> Response[bytes]:
        return _token(state, request, "refresh_token")

    @route(
        [
            "/authorization/{rest:path}",
            "/product/{rest:path}",
            "/order/{rest:path}",
            "/logistics/{rest:path}",
        ],
        http_method=[HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT],
    )
    async def api(request: Request[Any, Any, Any], rest: FromPath[str]) -> Response[bytes]:
        return await _api(state, request)

    return Router("/", route_handlers=[authorize, token_get, token_refresh, api])


SPEC = MarketplaceSpec(
    name=NAME,
    api_prefixes=API_PREFIXES,
    router=router,
    rate_limited=rate_limited,
    server_error=server_error,
    token_call=token_call,
)
