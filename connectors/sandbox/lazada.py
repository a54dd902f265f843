"""Lazada Open Platform, emulated on its real paths under ``/lazada``.

``/lazada/rest/<api>`` stands for both ``https://api.lazada.vn/rest`` and
``https://auth.lazada.com/rest``; ``/lazada/oauth/authorize`` for the seller
consent page at ``https://auth.lazada.com/oauth/authorize``.

Sources: Lazada Open Platform docs (open.lazada.com: "API calling process",
"Seller authorization introduction", product and order API pages) and the
official SDK ``lazop-sdk`` which sends POST parameters — common ones included —
in a form body (multipart with a file), GET parameters in the query, and reads
``code``/``type``/``message``/``request_id`` at the top level. Success is
``{"code": "0", "data": …, "request_id": …}``; errors are
``{"type": "ISV"|"ISP"|"SYSTEM", "code": …, "message": …, "request_id": …}``
answered with HTTP 200 (the sandbox answers its rate limit with HTTP 429 and
``Retry-After`` so the fault is visible at the transport too). Error codes used: ``IncompleteSignature``,
``IllegalAccessToken``, ``MissingParameter``, ``InvalidParameter``,
``ApiCallLimit``; ``InvalidAppKey``, ``InvalidTimestamp`` (±7200 s) and the
QC-status and product-status words are not confirmed in the docs (verify).
"""

from __future__ import annotations

import html
import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import MediaType, Request, Response, Router, route
from litestar.response import Redirect

from connectors.lazada import signing
from connectors.sandbox.consent import CONSENT_HEAD
from connectors.sandbox.spec import (
    ErrorAnswer,
    MarketplaceSpec,
    forced_expiry,
    marketplace_base_url,
    relative_path,
)
from connectors.sandbox.state import (
    CANCELLED, COMPLETED, DELIVERED, READY, RETURNED, SHIPPED, UNPAID, AuthResult, Item, Model, SandboxState,
    VariantLimits, VariantRefused, check_variation,
)

NAME = "lazada"
TIMESTAMP_TOLERANCE_MS = 7200 * 1000
VN = timezone(timedelta(hours=7))
ORDER_STATUS = {
    UNPAID: "unpaid", READY: "pending", SHIPPED: "shipped", DELIVERED: "delivered",
    COMPLETED: "confirmed", CANCELLED: "canceled", RETURNED: "returned",
}
ITEM_STATUS = {
    "reviewing": "Pending QC", "live": "Active", "rejected": "Rejected", "banned": "Suspended",
    "unlisted": "InActive", "deleted": "Deleted",
}
QC_STATUS = {"reviewing": "pending", "rejected": "rejected", "banned": "rejected"}
FILTERS = {
    "all": set(ITEM_STATUS) - {"deleted"}, "live": {"live"}, "inactive": {"unlisted"}, "deleted": {"deleted"},
    "pending": {"reviewing"}, "rejected": {"rejected", "banned"},
}


# Sale properties (``variation`` + ``Skus.Sku[].saleProp``). The limits and the error words are the
# sandbox's (unverified): Lazada documents neither in the pages at hand.
LIMITS = VariantLimits(max_tiers=2, max_options=50, max_models=100)
VARIANT_CODES = {"duplicate_sku": "SellerSkuDuplicate"}


class LazadaFail(Exception):
    def __init__(
        self, code: str, message: str, kind: str = "ISV", status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.kind, self.status, self.headers = code, message, kind, status, headers or {}


def _error_body(kind: str, code: str, message: str) -> bytes:
    return json.dumps({"type": kind, "code": code, "message": message, "request_id": secrets.token_hex(10)}).encode()


def rate_limited(retry_after: int) -> ErrorAnswer:
    body = _error_body("ISV", "ApiCallLimit", "The request has exceeded the allowed limit, please try again later")
    return 429, {"content-type": "application/json", "retry-after": str(retry_after)}, body


def server_error() -> ErrorAnswer:
    return 503, {"content-type": "application/json"}, _error_body("SYSTEM", "ServiceUnavailable", "Service temporarily unavailable")


def token_call(path: str) -> bool:
    return path.startswith("/rest/") and not path.startswith("/rest/auth/")


@dataclass
class Call:
    state: SandboxState
    request: Request[Any, Any, Any]
    api: str
    params: dict[str, str]
    app_key: str
    files: dict[str, bytes] = field(default_factory=dict)
    shop_id: str = ""

    def base_url(self) -> str:
        return marketplace_base_url(self.request, NAME)

    def need(self, name: str) -> str:
        value = self.params.get(name)
        if value in (None, ""):
            raise LazadaFail("MissingParameter", f"The input parameter \"{name}\" that is mandatory for processing this request is not supplied")
        return value  # type: ignore[return-value]


Handler = Callable[[Call], Awaitable[Any]]


async def _params(request: Request[Any, Any, Any]) -> tuple[dict[str, str], dict[str, bytes]]:
    """Query and body merged (lazop-sdk sends everything in the body on POST), files apart."""
    raw_qs = request.scope.get("query_string", b"").decode("utf-8")
    params = dict(parse_qsl(raw_qs, keep_blank_values=True))
    files: dict[str, bytes] = {}
    if request.method == "POST":
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            form = await request.form()
            for key, value in form.multi_items():
                if hasattr(value, "read"):
                    files[key] = await value.read()
                else:
                    params[key] = value
        else:
            body = (await request.body()).decode("utf-8")
            params.update(parse_qsl(body, keep_blank_values=True))
    return params, files


def _verify(state: SandboxState, request: Request[Any, Any, Any], api: str, params: dict[str, str], shop_level: bool) -> Call:
    for name in ("app_key", "timestamp", "sign"):
        if not params.get(name):
            raise LazadaFail("MissingParameter", f"The input parameter \"{name}\" that is mandatory for processing this request is not supplied")
    app_key = params["app_key"]
    secret = state.app_secret(NAME, app_key)
    if secret is None:
        raise LazadaFail("InvalidAppKey", "Specified app key is invalid")
    if params.get("sign_method", signing.SIGN_METHOD) != signing.SIGN_METHOD:
        raise LazadaFail("InvalidSignMethod", "Specified sign method is not supported")
    try:
        ts = int(params["timestamp"])
    except ValueError:
        raise LazadaFail("InvalidTimestamp", "Invalid timestamp") from None
    if abs(state.clock() * 1000 - ts) > TIMESTAMP_TOLERANCE_MS:
        raise LazadaFail("InvalidTimestamp", "The request timestamp is out of the allowed range")
    if not signing.verify(secret, api, {k: v for k, v in params.items() if k != "sign"}, params["sign"]):
        raise LazadaFail("IncompleteSignature", "The request signature does not conform to lazada standards")
    call = Call(state, request, api, params, app_key)
    if shop_level:
        token = params.get("access_token", "")
        result, rec = state.check_access(NAME, app_key, token, force_expire=forced_expiry(request))
        if result != AuthResult.OK or rec is None:
            raise LazadaFail("IllegalAccessToken", "The specified access token is invalid or expired")
        call.shop_id = rec.shop_id
    wait = state.take_quota(NAME, app_key, call.shop_id or None)
    if wait > 0:
        status, headers, _ = rate_limited(max(1, round(wait)))
        raise LazadaFail("ApiCallLimit", "The request has exceeded the allowed limit, please try again later",
                         status=status, headers=headers)
    return call


# ---------------------------------------------------------------------------- auth


def _token_answer(call: Call, access: str, refresh: str, shop_id: str) -> dict[str, Any]:
    shop = call.state.shop(NAME, shop_id)
    cfg = call.state.config
    return {
        "access_token": access, "refresh_token": refresh, "expires_in": cfg.access_token_ttl_s,
        "refresh_expires_in": cfg.refresh_token_ttl_s, "country": "vn", "account_platform": "seller_center",
        "account": f"seller{shop_id}@sandbox.local",
        "country_user_info": [{"country": "vn", "user_id": shop_id, "seller_id": shop_id,
                               "short_code": f"VN{shop_id[-4:]}", "shop_name": shop.name if shop else ""}],
        "code": "0", "request_id": secrets.token_hex(10),
    }


async def token_create(call: Call) -> dict[str, Any]:
    rec = call.state.redeem_code(NAME, call.app_key, call.need("code"))
    if rec is None:
        raise LazadaFail("InvalidCode", "Invalid authorization code")
    access, refresh = call.state.issue_tokens(NAME, call.app_key, rec.shop_id)
    return _token_answer(call, access, refresh, rec.shop_id)


async def token_refresh(call: Call) -> dict[str, Any]:
    rotated = call.state.rotate_refresh(NAME, call.app_key, call.need("refresh_token"))
    if rotated is None:
        raise LazadaFail("IllegalRefreshToken", "The specified refresh token is invalid or expired")
    access, refresh, shop_id = rotated
    return _token_answer(call, access, refresh, shop_id)


# ---------------------------------------------------------------------------- products


def _xml_to_obj(el: ET.Element) -> Any:
    children = list(el)
    if not children:
        return (el.text or "").strip()
    out: dict[str, Any] = {}
    for child in children:
        value = _xml_to_obj(child)
        if child.tag in out:
            if not isinstance(out[child.tag], list):
                out[child.tag] = [out[child.tag]]
            out[child.tag].append(value)
        else:
            out[child.tag] = value
    return out


def _as_list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def _payload(call: Call, name: str = "payload") -> dict[str, Any]:
    """The product document, XML (Lazada's samples) or JSON, as ``Request.Product``."""
    raw = call.need(name).strip()
    try:
        doc = {"Request": _xml_to_obj(ET.fromstring(raw))} if raw.startswith("<") else json.loads(raw)
    except (ET.ParseError, ValueError):
        raise LazadaFail("InvalidParameter", f"Invalid {name}: neither XML nor JSON") from None
    product = (doc.get("Request") or {}).get("Product") if isinstance(doc, dict) else None
    if not isinstance(product, dict):
        raise LazadaFail("InvalidParameter", f"Invalid {name}: Request.Product is missing")
    return product


def _skus(product: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _as_list((product.get("Skus") or {}).get("Sku")) if isinstance(s, dict)]


def _images(node: Any) -> list[str]:
    return [str(u) for u in _as_list((node or {}).get("Image")) if u]


async def image_upload(call: Call) -> dict[str, Any]:
    data = call.files.get("image")
    if not data:
        raise LazadaFail("MissingParameter", "The input parameter \"image\" that is mandatory for processing this request is not supplied")
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        raise LazadaFail("InvalidImageFormat", "Only JPG and PNG images are supported")
    if len(data) > 3 * 1024 * 1024:
        raise LazadaFail("ImageTooLarge", "Image size must not exceed 3 MB")
    rec = call.state.store_image(NAME, data, call.base_url())
    return {"image": {"url": rec.url, "hash_code": rec.sha256[:32]}}


def _num(value: Any, name: str, cast: type = float) -> Any:
    try:
        return cast(float(value)) if cast is int else cast(value)
    except (TypeError, ValueError):
        raise LazadaFail("InvalidParameter", f"Invalid {name}: {value!r}") from None


def _variation(call: Call, product: dict[str, Any], skus: list[dict[str, Any]],
               item: Item | None = None) -> tuple[list[tuple[str, list[str]]], list[Model]] | None:
    """The sale properties of a product document, checked; None for a product of one SKU. Existing
    SKUs (by SellerSku) keep their id; a SellerSku used by another product of the shop is refused."""
    node = product.get("variation") or {}
    if not isinstance(node, dict):
        raise LazadaFail("InvalidParameter", "Invalid variation")
    tiers = []
    for key in sorted(node):
        entry = node[key] if isinstance(node[key], dict) else {}
        tiers.append((str(entry.get("name", "")), [str(o) for o in _as_list((entry.get("options") or {}).get("option"))]))
    if not tiers and len(skus) <= 1 and not (skus and skus[0].get("saleProp")):
        return None
    if not tiers:
        raise LazadaFail("InvalidParameter", "variation is required when a product has several Skus")
    models = []
    for sku in skus:
        props = sku.get("saleProp") or {}
        if not isinstance(props, dict):
            raise LazadaFail("InvalidParameter", "Invalid saleProp")
        seller_sku = str(sku.get("SellerSku", ""))
        old = item.model_by_sku(seller_sku) if item else None
        values = tuple(str(props.get(name, "")) for name, _ in tiers)
        model = Model(old.model_id if old else call.state.next_id(), seller_sku, values,
                      _num(sku.get("price"), "price", int), _num(sku.get("quantity", 0), "quantity", int))
        models.append(model)
    try:
        check_variation(tiers, models, LIMITS, call.state.shop_skus(NAME, call.shop_id, besides=item.item_id if item else 0))
    except VariantRefused as exc:
        raise LazadaFail(VARIANT_CODES.get(exc.kind, "InvalidParameter"), exc.message) from None
    return tiers, models


async def product_create(call: Call) -> dict[str, Any]:
    product = _payload(call)
    attrs = product.get("Attributes") or {}
    skus = _skus(product)
    if not attrs.get("name") or not skus:
        raise LazadaFail("InvalidParameter", "Attributes.name and at least one Skus.Sku are required")
    sku = skus[0]
    if not all(s.get("SellerSku") for s in skus):
        raise LazadaFail("InvalidParameter", "SellerSku is required")
    variation = _variation(call, product, skus)
    images = _images(product.get("Images")) or _images(sku.get("Images"))
    if not images:
        raise LazadaFail("InvalidParameter", "At least one image is required")
    item = call.state.create_item(
        NAME, call.shop_id,
        seller_sku=str(sku["SellerSku"]), name=str(attrs["name"]), description=str(attrs.get("description", "")),
        price_vnd=_num(sku.get("price"), "price", int), stock=_num(sku.get("quantity", 0), "quantity", int),
        weight_g=int(round(_num(sku.get("package_weight", 0), "package_weight") * 1000)),
        dims_cm=(_num(sku.get("package_length", 0), "package_length", int), _num(sku.get("package_width", 0), "package_width", int),
                 _num(sku.get("package_height", 0), "package_height", int)),
        category_id=str(product.get("PrimaryCategory", "")), brand=str(attrs.get("brand", "")),
        images=images, attributes={k: str(v) for k, v in attrs.items() if k not in ("name", "description", "brand")},
    )
    if variation is not None:
        with call.state.lock:
            item.set_variation(*variation)
    return {"item_id": item.item_id, "sku_list": [{"seller_sku": s, "sku_id": i, "shop_sku": f"{item.item_id}_VNAMZ-{i}"}
                                                  for s, i in _sku_ids(item)]}


def _sku_ids(item: Item) -> list[tuple[str, int]]:
    """(SellerSku, SkuId) of every SKU of an item."""
    if item.models:
        return [(m.seller_sku, m.model_id) for m in item.models.values()]
    return [(item.seller_sku, item.item_id * 10 + 1)]


def _item(call: Call, item_id: Any) -> Item:
    try:
        iid = int(item_id)
    except (TypeError, ValueError):
        raise LazadaFail("InvalidParameter", f"Invalid ItemId: {item_id!r}") from None
    item = call.state.find_item(NAME, call.shop_id, iid)
    if item is None or item.status == "deleted":
        raise LazadaFail("ProductNotExist", f"Product {item_id} does not exist")
    return item


async def product_update(call: Call) -> dict[str, Any]:
    product = _payload(call)
    item = _item(call, product.get("ItemId"))
    attrs = product.get("Attributes") or {}
    skus = _skus(product)
    # A variation in the update replaces the SKUs: the ones left out are removed (the sandbox's
    # reading; Lazada also has /product/sku/remove). Checked before anything changes.
    variation = _variation(call, product, skus, item) if (product.get("variation") or item.models) else None
    with call.state.lock:
        if attrs.get("name"):
            item.name = str(attrs["name"])
        if "description" in attrs:
            item.description = str(attrs["description"])
        if attrs.get("brand"):
            item.brand = str(attrs["brand"])
        if product.get("PrimaryCategory"):
            item.category_id = str(product["PrimaryCategory"])
        images = _images(product.get("Images"))
        if images:
            item.images = images
        if variation is not None:
            item.set_variation(*variation)
        elif skus:
            sku = skus[0]
            if "price" in sku:
                item.price_vnd = _num(sku["price"], "price", int)
            if "quantity" in sku:
                item.stock = _num(sku["quantity"], "quantity", int)
            if "package_weight" in sku:
                item.weight_g = int(round(_num(sku["package_weight"], "package_weight") * 1000))
    call.state.resubmit(item)
    return {}


async def price_quantity_update(call: Call) -> dict[str, Any]:
    product = _payload(call)
    for sku in _skus(product):
        item = _item(call, sku.get("ItemId"))
        model = item.model_by_sku(str(sku.get("SellerSku", ""))) if item.models else None
        if (item.models and model is None) or (
                not item.models and sku.get("SellerSku") and str(sku["SellerSku"]) != item.seller_sku):
            raise LazadaFail("InvalidParameter", f"SellerSku {sku.get('SellerSku')} does not belong to item {item.item_id}")
        with call.state.lock:
            if "Price" in sku:
                price = _num(sku["Price"], "Price", int)
                if model is not None:
                    model.price_vnd = price
                else:
                    item.price_vnd = price
            if "Quantity" in sku:
                quantity = _num(sku["Quantity"], "Quantity", int)
                if quantity < 0:
                    raise LazadaFail("InvalidParameter", f"Invalid Quantity: {sku['Quantity']!r}")
                if model is not None:
                    model.stock = quantity
                else:
                    item.stock = quantity
            item.sync_totals()
            item.updated_at = call.state.clock()
    return {}


async def product_deactivate(call: Call) -> dict[str, Any]:
    product = _payload(call, "apiRequestBody")
    item = _item(call, product.get("ItemId"))
    with call.state.lock:
        item.status = "unlisted"
        item.updated_at = call.state.clock()
    return {}


def _product_doc(item: Item) -> dict[str, Any]:
    return {
        "item_id": item.item_id, "primary_category": int(item.category_id or 0), "status": ITEM_STATUS[item.status],
        "created_time": str(int(item.created_at * 1000)), "updated_time": str(int(item.updated_at * 1000)),
        "images": item.images,
        "attributes": {"name": item.name, "description": item.description, "brand": item.brand, **item.attributes},
        **({"variation": {f"Variation{n}": {"name": name, "customize": True, "options": {"option": options}}
                          for n, (name, options) in enumerate(item.tiers, start=1)}} if item.tiers else {}),
        "skus": [{"SellerSku": sku, "SkuId": sku_id,
                  "quantity": item.models[sku_id].stock if item.models else item.stock,
                  "price": f"{(item.models[sku_id].price_vnd if item.models else item.price_vnd):.2f}",
                  **({"saleProp": dict(zip((n for n, _ in item.tiers), item.models[sku_id].options))} if item.models else {}),
                  "package_weight": f"{item.weight_g / 1000:.3f}",
                  "package_length": str(item.dims_cm[0]), "package_width": str(item.dims_cm[1]),
                  "package_height": str(item.dims_cm[2]), "Status": "active" if item.status == "live" else "inactive"}
                 for sku, sku_id in _sku_ids(item)],
    }


async def products_get(call: Call) -> dict[str, Any]:
    flt = call.params.get("filter", "all")
    if flt not in FILTERS:
        raise LazadaFail("InvalidParameter", f"Invalid filter: {flt}")
    offset = _num(call.params.get("offset", 0), "offset", int)
    limit = _num(call.params.get("limit", 10), "limit", int)
    if not 1 <= limit <= 50:
        raise LazadaFail("InvalidParameter", "limit should be between 1 and 50")
    items = sorted((call.state.settle(i) for i in call.state.shop_items(NAME, call.shop_id).values()),
                   key=lambda i: i.item_id)
    items = [i for i in items if i.status in FILTERS[flt]]
    if call.params.get("sku_seller_list"):
        try:
            wanted = set(json.loads(call.params["sku_seller_list"]))
        except ValueError:
            raise LazadaFail("InvalidParameter", "sku_seller_list must be a JSON array") from None
        items = [i for i in items if wanted & set(i.skus())]
    page = items[offset: offset + limit]
    return {"total_products": len(items), "products": [_product_doc(i) for i in page]}


async def product_item_get(call: Call) -> dict[str, Any]:
    if call.params.get("item_id"):
        return _product_doc(_item(call, call.params["item_id"]))
    matches = call.state.items_by_sku(NAME, call.shop_id, call.need("seller_sku"))
    if not matches:
        raise LazadaFail("ProductNotExist", "Product does not exist")
    return _product_doc(sorted(matches, key=lambda i: i.item_id)[0])


async def qc_status_get(call: Call) -> list[dict[str, Any]]:
    try:
        skus = json.loads(call.need("seller_skus"))
    except ValueError:
        raise LazadaFail("InvalidParameter", "seller_skus must be a JSON array") from None
    out = []
    for sku in skus:
        for item in call.state.items_by_sku(NAME, call.shop_id, str(sku)):
            out.append({"SellerSKU": item.seller_sku, "item_id": item.item_id,
                        "Status": QC_STATUS.get(item.status, "approved"), "Reason": item.reason or ""})
    return out


def _category_data() -> dict[str, Any]:
    return json.loads(resources.files("connectors.sandbox").joinpath("data/lazada_categories.json").read_text("utf-8"))


async def category_tree_get(call: Call) -> list[dict[str, Any]]:
    return _category_data()["tree"]


async def category_attributes_get(call: Call) -> list[dict[str, Any]]:
    cat = call.need("primary_category_id")
    data = _category_data()
    leaves = {str(c["category_id"]) for top in data["tree"] for c in top.get("children", [])}
    if cat not in leaves:
        raise LazadaFail("InvalidCategory", f"Category {cat} is not a leaf category")
    return data["attributes"]["*"] + data["attributes"].get(cat, [])


# ---------------------------------------------------------------------------- orders


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, VN).strftime("%Y-%m-%d %H:%M:%S %z")


def _parse_iso(value: str, name: str) -> float:
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise LazadaFail("InvalidParameter", f"Invalid {name}: ISO 8601 expected") from None


def _order_doc(o: Any, now: float) -> dict[str, Any]:
    return {
        "order_id": int(o.order_id), "order_number": int(o.order_id), "created_at": _iso(o.created_at),
        "updated_at": _iso(o.updated_at(now)), "price": f"{o.total_vnd - o.shipping_fee_vnd:.2f}",
        "shipping_fee": f"{o.shipping_fee_vnd:.2f}", "statuses": [ORDER_STATUS[o.status_at(now)]],
        "items_count": sum(l.quantity for l in o.lines), "payment_method": "COD",
    }


async def orders_get(call: Call) -> dict[str, Any]:
    now = call.state.clock()
    created_after, update_after = call.params.get("created_after"), call.params.get("update_after")
    if not created_after and not update_after:
        raise LazadaFail("MissingParameter", "Either created_after or update_after is mandatory")
    offset = _num(call.params.get("offset", 0), "offset", int)
    limit = _num(call.params.get("limit", 100), "limit", int)
    if not 1 <= limit <= 100:
        raise LazadaFail("InvalidParameter", "limit should be between 1 and 100")
    orders = list(call.state.shop_orders(NAME, call.shop_id).values())
    if update_after:
        lo = _parse_iso(update_after, "update_after")
        hi = _parse_iso(call.params["update_before"], "update_before") if call.params.get("update_before") else now
        orders = [o for o in orders if lo < o.updated_at(now) <= hi]
        orders.sort(key=lambda o: (o.updated_at(now), o.order_id))
    else:
        lo = _parse_iso(created_after or "", "created_after")
        hi = _parse_iso(call.params["created_before"], "created_before") if call.params.get("created_before") else now
        orders = [o for o in orders if lo < o.created_at <= hi]
        orders.sort(key=lambda o: (o.created_at, o.order_id))
    page = orders[offset: offset + limit]
    return {"count": len(page), "countTotal": len(orders), "orders": [_order_doc(o, now) for o in page]}


def _order(call: Call, order_id: Any) -> Any:
    o = call.state.shop_orders(NAME, call.shop_id).get(str(order_id))
    if o is None:
        raise LazadaFail("OrderNotExist", f"Order {order_id} does not exist")
    return o


async def order_get(call: Call) -> dict[str, Any]:
    return _order_doc(_order(call, call.need("order_id")), call.state.clock())


def _order_items(o: Any, now: float) -> list[dict[str, Any]]:
    """Lazada lists one order item per unit bought."""
    status = ORDER_STATUS[o.status_at(now)]
    out = []
    n = 0
    for line in o.lines:
        for _ in range(line.quantity):
            n += 1
            out.append({"order_item_id": int(o.order_id) * 100 + n, "order_id": int(o.order_id), "sku": line.seller_sku,
                        "shop_sku": f"{line.item_id}_VNAMZ", "variation": line.model_name.replace(",", ", "),
                        **({"sku_id": line.model_id} if line.model_id else {}), "product_id": line.item_id, "name": line.name,
                        "item_price": f"{line.unit_price_vnd:.2f}", "paid_price": f"{line.unit_price_vnd:.2f}",
                        "currency": "VND", "status": status})
    return out


async def orders_items_get(call: Call) -> list[dict[str, Any]]:
    try:
        ids = json.loads(call.need("order_ids"))
    except ValueError:
        raise LazadaFail("InvalidParameter", "order_ids must be a JSON array") from None
    if not isinstance(ids, list) or len(ids) > 50:
        raise LazadaFail("InvalidParameter", "order_ids must be a JSON array of at most 50 ids")
    now = call.state.clock()
    return [{"order_id": int(o.order_id), "order_number": int(o.order_id), "order_items": _order_items(o, now)}
            for o in (_order(call, i) for i in ids)]


# ---------------------------------------------------------------------------- routing

ROUTES: dict[str, tuple[str, bool, Handler]] = {
    "/auth/token/create": ("*", False, token_create),
    "/auth/token/refresh": ("*", False, token_refresh),
    "/image/upload": ("POST", True, image_upload),
    "/product/create": ("POST", True, product_create),
    "/product/update": ("POST", True, product_update),
    "/product/price_quantity/update": ("POST", True, price_quantity_update),
    "/product/deactivate": ("POST", True, product_deactivate),
    "/products/get": ("GET", True, products_get),
    "/product/item/get": ("GET", True, product_item_get),
    "/product/qc/status/get": ("GET", True, qc_status_get),
    "/category/tree/get": ("GET", False, category_tree_get),
    "/category/attributes/get": ("GET", False, category_attributes_get),
    "/orders/get": ("GET", True, orders_get),
    "/order/get": ("GET", True, order_get),
    "/orders/items/get": ("GET", True, orders_items_get),
}


def _json(payload: Any, status: int = 200) -> Response[bytes]:
    return Response(json.dumps(payload, ensure_ascii=False).encode(), status_code=status, media_type=MediaType.JSON)


def router(state: SandboxState) -> Router:
    @route("/rest/{rest:path}", http_method=["GET", "POST"])
    async def api(request: Request[Any, Any, Any]) -> Response[bytes]:
        api_path = relative_path(request, NAME)[len("/rest"):]
        try:
            entry = ROUTES.get(api_path)
            if entry is None:
                raise LazadaFail("InvalidApiPath", f"The specified API path is invalid: {api_path}")
            method, shop_level, handler = entry
            if method != "*" and method != request.method:
                raise LazadaFail("InvalidHttpMethod", f"{api_path} must be called with {method}")
            params, files = await _params(request)
            call = _verify(state, request, api_path, params, shop_level)
            call.files = files
            result = await handler(call)
            if handler in (token_create, token_refresh):
                return _json(result)
            return _json({"code": "0", "data": result, "request_id": secrets.token_hex(10)})
        except LazadaFail as exc:
            return Response(_error_body(exc.kind, exc.code, exc.message), status_code=exc.status,
                            media_type=MediaType.JSON, headers=exc.headers)

    @route("/oauth/authorize", http_method=["GET"])
    async def authorize(request: Request[Any, Any, Any]) -> Response[bytes]:
        e = html.escape
        q = dict(parse_qsl(request.scope.get("query_string", b"").decode(), keep_blank_values=True))
        client_id, redirect = q.get("client_id", ""), q.get("redirect_uri", "")
        if q.get("response_type") != "code" or state.app_secret(NAME, client_id) is None or not redirect:
            return _json({"error": "invalid_request", "error_description": "response_type=code, a known client_id and redirect_uri are required"}, 400)
        options = "".join(
            f"<label><input type='radio' name='shop_id' value='{e(s.shop_id)}' required> {e(s.name)} ({e(s.shop_id)})</label><br>"
            for s in state.config.shops_of(NAME)
        )
        page = (
            f"<!doctype html><html lang='vi'><head><meta charset='utf-8'>{CONSENT_HEAD}"
            "<title>Lazada – Ủy quyền</title></head><body>"
            f"<h1>Ủy quyền cho ứng dụng {e(client_id)}</h1><p>Chọn shop để cấp quyền quản lý sản phẩm và đơn hàng.</p>"
            f"<form method='post' action='{e(marketplace_base_url(request, NAME))}/oauth/consent'>"
            f"<input type='hidden' name='client_id' value='{e(client_id)}'>"
            f"<input type='hidden' name='redirect_uri' value='{e(redirect)}'>"
            f"<input type='hidden' name='state' value='{e(q.get('state', ''))}'>{options}"
            "<button type='submit'>Đồng ý</button></form></body></html>"
        )
        return Response(page.encode(), status_code=200, media_type=MediaType.HTML)

    @route("/oauth/consent", http_method=["POST"])
    async def consent(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        client_id, shop_id, redirect = form.get("client_id", ""), form.get("shop_id", ""), form.get("redirect_uri", "")
        if state.app_secret(NAME, client_id) is None or state.shop(NAME, shop_id) is None or not redirect:
            return _json({"error": "invalid_request"}, 400)
        query = {"code": state.issue_code(NAME, client_id, shop_id)}
        if form.get("state"):
            query["state"] = form["state"]
        sep = "&" if "?" in redirect else "?"
        return Redirect(f"{redirect}{sep}{urlencode(query)}", status_code=302)

    return Router("/", route_handlers=[api, authorize, consent])


SPEC = MarketplaceSpec(
    name=NAME, api_prefixes=("/rest/",), router=router, rate_limited=rate_limited,
    server_error=server_error, token_call=token_call,
)
