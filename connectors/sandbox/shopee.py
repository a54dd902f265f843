"""Shopee Open Platform v2, emulated on its real paths under ``/shopee``.

Sources (copies of the Shopee developer guide in thiiz/shopee-js ``.docs/``):
"API calls" (common parameters, 5-minute timestamp window, signature base
strings, GET parameters in the URL, POST business parameters as a JSON body,
the ``request_id``/``error``/``message``/``response`` envelope), "Authorization
and Authentication" (``/api/v2/shop/auth_partner`` with ``redirect``; code →
``/api/v2/auth/token/get``; refresh → ``/api/v2/auth/access_token/get``; access
token 4 h, refresh token 30 days; token answers at the top level of the JSON).
Error codes used: ``error_sign`` ("Wrong sign."), ``invalid_acceess_token``
(Shopee's own spelling, widely handled by clients for expired tokens),
``error_auth``, ``error_param``, ``error_item_not_found``, ``error_server``;
the rate-limit code ``error_rate_limit`` and the HTTP statuses of errors are
not in the guide copies (verify).

The signature is checked over the raw query string exactly as Shopee does: the
signed path is ``/api/v2/...`` (the ``/shopee`` prefix is the base URL's).
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlencode

from litestar import MediaType, Request, Response, Router, route
from litestar.response import Redirect

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
from connectors.shopee import signing

NAME = "shopee"
MAX_ORDER_WINDOW_S = 15 * 86400  # get_order_list: time_to - time_from at most 15 days
ORDER_STATUS = {
    UNPAID: "UNPAID", READY: "READY_TO_SHIP", SHIPPED: "SHIPPED", DELIVERED: "TO_CONFIRM_RECEIVE",
    COMPLETED: "COMPLETED", CANCELLED: "CANCELLED", RETURNED: "TO_RETURN",
}
ITEM_STATUS = {
    "reviewing": "REVIEWING", "live": "NORMAL", "rejected": "BANNED", "banned": "BANNED",
    "unlisted": "UNLIST", "deleted": "SELLER_DELETE",
}
# Shopee has no "rejected" status: a listing failing QC is BANNED with a violation
# (v2.product.get_item_violation_info). The violation type tells the two apart.
VIOLATION_REJECTED = "LISTING_REJECTED"
VIOLATION_BANNED = "PROHIBITED_LISTING"


# v2.product.init_tier_variation: at most two tiers; "Count of tier_variation options should be
# under 50. Count of 2-level variations combinations should be under 50." (its error list).
LIMITS = VariantLimits(max_tiers=2, max_options=50, max_models=50)
# Rule broken -> (error, message) as v2.product.init_tier_variation / add_model answer it. Shopee's
# answer to a model_sku used twice in one item is not in the error list (unverified).
VARIANT_ERRORS = {
    "too_many_tiers": ("error_param", "The level of tier-variation over 2."),
    "too_many_options": ("error_tier_opt_too_many", "Count of tier_variation option is larger than 50."),
    "too_many_models": ("error_model_count_over_limit", "The count of model is too large. Should be under 50."),
    "unknown_option": ("error_model_tier_index_bound", "Invalid item iter_index."),
    "missing_value": ("error_model_nonempty_itemtier_empty_index", "Item tier_index is required."),
    "duplicate_combination": ("error_model_duplicate_tier_variation_index", "Item have duplicate tier_index."),
    "duplicate_option": ("error_model_duplicate_name", "Item tier_variation have duplicate name."),
}


class ShopeeFail(Exception):
    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers or {}


def _envelope(error: str = "", message: str = "", **top: Any) -> dict[str, Any]:
    return {"request_id": secrets.token_hex(16), "error": error, "message": message, **top}


def _error_answer(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> ErrorAnswer:
    body = json.dumps(_envelope(error, message)).encode()
    return status, {"content-type": "application/json", **(headers or {})}, body


def rate_limited(retry_after: int) -> ErrorAnswer:
    return _error_answer(
        429, "error_rate_limit", "Too many requests, please try again later.", {"retry-after": str(retry_after)}
    )


def server_error() -> ErrorAnswer:
    return _error_answer(500, "error_server", "System error, please try again later.")


def token_call(path: str) -> bool:
    return path.startswith("/api/v2/") and not path.startswith(
        ("/api/v2/auth/", "/api/v2/shop/auth_partner", "/api/v2/public/")
    )


@dataclass
class Call:
    state: SandboxState
    request: Request[Any, Any, Any]
    path: str
    query: dict[str, str]
    body: bytes
    partner_id: str
    shop_id: str = ""

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            raise ShopeeFail(400, "error_param", "Request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ShopeeFail(400, "error_param", "Request body must be a JSON object.")
        return data

    def base_url(self) -> str:
        return marketplace_base_url(self.request, NAME)


Handler = Callable[[Call], Awaitable[dict[str, Any]]]


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ShopeeFail(400, "error_param", f"Wrong parameter {name}.") from None


def _verify(state: SandboxState, request: Request[Any, Any, Any], path: str, *, shop_level: bool) -> Call:
    """Common parameters, timestamp window, app, signature, token — in Shopee's order."""
    raw_qs = request.scope.get("query_string", b"").decode("latin-1")
    query = {k: v[0] for k, v in parse_qs(raw_qs, keep_blank_values=True).items()}
    partner_id = query.get("partner_id", "")
    for name in ("partner_id", "timestamp", "sign"):
        if not query.get(name):
            raise ShopeeFail(403, "error_param", f"Missing required parameter: {name}.")
    secret = state.app_secret(NAME, partner_id)
    if secret is None:
        raise ShopeeFail(403, "error_auth", "Invalid partner_id.")
    ts = _int(query["timestamp"], "timestamp")
    if abs(state.clock() - ts) > signing.TIMESTAMP_TOLERANCE_S:
        raise ShopeeFail(403, "error_auth", "Invalid timestamp.")
    token = query.get("access_token", "") if shop_level else ""
    shop_id = query.get("shop_id", "") if shop_level else ""
    if shop_level and (not token or not shop_id):
        raise ShopeeFail(403, "error_param", "Missing required parameter: access_token or shop_id.")
    if not signing.verify(secret, partner_id, path, ts, query["sign"], token, shop_id):
        raise ShopeeFail(403, "error_sign", "Wrong sign.")
    if shop_level:
        result, rec = state.check_access(NAME, partner_id, token, force_expire=forced_expiry(request))
        if result != AuthResult.OK or rec is None:
            raise ShopeeFail(403, "invalid_acceess_token", "Invalid access_token.")
        if rec.shop_id != shop_id:
            raise ShopeeFail(403, "error_auth", "Invalid shop_id: the access_token belongs to another shop.")
    wait = state.take_quota(NAME, partner_id, shop_id or None)
    if wait > 0:
        status, headers, _ = rate_limited(max(1, round(wait)))
        raise ShopeeFail(status, "error_rate_limit", "Too many requests, please try again later.", headers)
    return Call(state, request, path, query, b"", partner_id, shop_id)


# ---------------------------------------------------------------------------- auth


async def consent_page(call: Call) -> Response[bytes]:
    """``/api/v2/shop/auth_partner``: the seller picks a shop and grants access."""
    redirect = call.query.get("redirect", "")
    if not redirect:
        raise ShopeeFail(400, "error_param", "Missing required parameter: redirect.")
    e = html.escape
    shops = call.state.config.shops_of(NAME)
    options = "".join(
        f"<label><input type='radio' name='shop_id' value='{e(s.shop_id)}' required> {e(s.name)} ({e(s.shop_id)})</label><br>"
        for s in shops
    )
    page = (
        f"<!doctype html><html lang='vi'><head><meta charset='utf-8'>{CONSENT_HEAD}<title>Shopee – Ủy quyền</title>"
        "</head><body>"
        f"<h1>Ủy quyền cho ứng dụng {e(call.partner_id)}</h1>"
        "<p>Ứng dụng này sẽ được quản lý sản phẩm và đơn hàng của shop bạn chọn.</p>"
        f"<form method='post' action='{e(call.base_url())}/_consent'>"
        f"<input type='hidden' name='partner_id' value='{e(call.partner_id)}'>"
        f"<input type='hidden' name='redirect' value='{e(redirect)}'>{options}"
        "<button type='submit'>Xác nhận ủy quyền</button></form></body></html>"
    )
    return Response(page.encode(), status_code=200, media_type=MediaType.HTML)


async def token_get(call: Call) -> dict[str, Any]:
    data = call.json()
    if str(data.get("partner_id", "")) != call.partner_id:
        raise ShopeeFail(403, "error_param", "partner_id in body does not match the URL.")
    rec = call.state.redeem_code(NAME, call.partner_id, str(data.get("code", "")))
    if rec is None or str(data.get("shop_id", "")) != rec.shop_id:
        raise ShopeeFail(403, "error_auth", "Invalid code.")
    access, refresh = call.state.issue_tokens(NAME, call.partner_id, rec.shop_id)
    return _token_answer(call, access, refresh, rec.shop_id)


async def access_token_get(call: Call) -> dict[str, Any]:
    data = call.json()
    rotated = call.state.rotate_refresh(NAME, call.partner_id, str(data.get("refresh_token", "")))
    if rotated is None:
        raise ShopeeFail(403, "error_auth", "Invalid refresh_token.")
    access, refresh, shop_id = rotated
    if str(data.get("shop_id", "")) != shop_id:
        raise ShopeeFail(403, "error_auth", "Invalid shop_id for this refresh_token.")
    return _token_answer(call, access, refresh, shop_id)


def _token_answer(call: Call, access: str, refresh: str, shop_id: str) -> dict[str, Any]:
    # Shopee answers the token calls at the top level, not under "response".
    return _envelope(
        access_token=access, refresh_token=refresh, expire_in=call.state.config.access_token_ttl_s,
        partner_id=int(call.partner_id), shop_id=int(shop_id), shop_id_list=[int(shop_id)],
        merchant_id_list=[],
    )


# ---------------------------------------------------------------------------- media and items


async def upload_image(call: Call) -> dict[str, Any]:
    form = await call.request.form()
    upload = form.get("image")
    if upload is None or not hasattr(upload, "read"):
        raise ShopeeFail(400, "error_param", "Missing image file (multipart field 'image').")
    data = await upload.read()
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        raise ShopeeFail(400, "error_invalid_image", "Image format must be JPG, JPEG or PNG.")
    if len(data) > 10 * 1024 * 1024:
        raise ShopeeFail(400, "error_invalid_image", "Image size must not exceed 10 MB.")
    rec = call.state.store_image(NAME, data, call.base_url())
    return {"image_info": {"image_id": rec.image_id, "image_url_list": [{"image_url_region": "VN", "image_url": rec.url}]}}


def _item_fields(data: dict[str, Any], state: SandboxState) -> dict[str, Any]:
    name = str(data.get("item_name", "")).strip()
    if not name:
        raise ShopeeFail(400, "error_param", "item_name is required.")
    price = data.get("original_price")
    if not isinstance(price, (int, float)) or price <= 0:
        raise ShopeeFail(400, "error_param", "original_price must be a positive number.")
    images = (data.get("image") or {}).get("image_id_list") or []
    if not images:
        raise ShopeeFail(400, "error_param", "image.image_id_list is required.")
    for image_id in images:
        if (NAME, image_id) not in state.images:
            raise ShopeeFail(400, "error_param", f"Invalid image_id: {image_id}.")
    stock_list = data.get("seller_stock") or [{"stock": 0}]
    dim = data.get("dimension") or {}
    brand = data.get("brand") or {}
    return dict(
        seller_sku=str(data.get("item_sku", "")),
        name=name,
        description=str(data.get("description", "")),
        price_vnd=int(price),
        stock=int(stock_list[0].get("stock", 0)),
        weight_g=int(round(float(data.get("weight", 0)) * 1000)),
        dims_cm=(int(dim.get("package_length", 0)), int(dim.get("package_width", 0)), int(dim.get("package_height", 0))),
        category_id=str(data.get("category_id", "")),
        brand=str(brand.get("original_brand_name", "")),
        images=list(images),
        attributes={str(a.get("attribute_id")): json.dumps(a.get("attribute_value_list")) for a in data.get("attribute_list") or []},
    )


async def add_item(call: Call) -> dict[str, Any]:
    data = call.json()
    fields = _item_fields(data, call.state)
    if not str(data.get("description", "")).strip():
        raise ShopeeFail(400, "error_param", "description is required.")
    item = call.state.create_item(NAME, call.shop_id, **fields)
    return {
        "item_id": item.item_id, "item_name": item.name, "item_sku": item.seller_sku,
        "item_status": ITEM_STATUS[item.status], "price_info": {"original_price": item.price_vnd, "currency": "VND"},
    }


def _item(call: Call, item_id: Any) -> Item:
    item = call.state.find_item(NAME, call.shop_id, _int(item_id, "item_id"))
    if item is None or item.status == "deleted":
        raise ShopeeFail(400, "error_item_not_found", f"Item {item_id} not found.")
    return item


async def update_item(call: Call) -> dict[str, Any]:
    data = call.json()
    item = _item(call, data.get("item_id"))
    with call.state.lock:
        if "item_name" in data:
            item.name = str(data["item_name"])
        if "description" in data:
            item.description = str(data["description"])
        if "item_sku" in data:
            item.seller_sku = str(data["item_sku"])
        if "weight" in data:
            item.weight_g = int(round(float(data["weight"]) * 1000))
        if "dimension" in data:
            d = data["dimension"]
            item.dims_cm = (int(d.get("package_length", 0)), int(d.get("package_width", 0)), int(d.get("package_height", 0)))
        if "image" in data:
            item.images = list(data["image"].get("image_id_list") or item.images)
        if "category_id" in data:
            item.category_id = str(data["category_id"])
    call.state.resubmit(item)
    return {"item_id": item.item_id, "item_name": item.name, "item_sku": item.seller_sku}


def _model_of(item: Item, model_id: Any) -> Model | None:
    """``model_id`` 0 addresses an item without variants; an item with variants needs a model's id."""
    try:
        mid = int(model_id or 0)
    except (TypeError, ValueError):
        return None
    if not item.models:
        return None if mid else Model(0, item.seller_sku, (), item.price_vnd, item.stock)
    return item.models.get(mid)


async def update_price(call: Call) -> dict[str, Any]:
    """Per model (``price_list[].model_id``); a model that is not the item's is a failure entry."""
    data = call.json()
    item = _item(call, data.get("item_id"))
    price_list = data.get("price_list") or []
    if not price_list:
        raise ShopeeFail(400, "error_param", "price_list is required.")
    success, failure = [], []
    with call.state.lock:
        for entry in price_list:
            price = entry.get("original_price")
            model = _model_of(item, entry.get("model_id"))
            if not isinstance(price, (int, float)) or price <= 0:
                raise ShopeeFail(400, "error_param", "original_price must be a positive number.")
            if model is None:
                failure.append({"model_id": entry.get("model_id"), "failed_reason": "model_id not found"})
                continue
            if model.model_id:
                model.price_vnd = int(price)
                item.sync_totals()
            else:
                item.price_vnd = int(price)
            success.append({"model_id": model.model_id, "original_price": int(price)})
        item.updated_at = call.state.clock()
    return {"success_list": success, "failure_list": failure}


async def update_stock(call: Call) -> dict[str, Any]:
    """Per model (``stock_list[].model_id``, ``seller_stock[0].stock``)."""
    data = call.json()
    item = _item(call, data.get("item_id"))
    stock_list = data.get("stock_list") or []
    if not stock_list:
        raise ShopeeFail(400, "error_param", "stock_list is required.")
    success, failure = [], []
    with call.state.lock:
        for entry in stock_list:
            seller_stock = entry.get("seller_stock") or [{}]
            stock = seller_stock[0].get("stock")
            if not isinstance(stock, int) or stock < 0:
                raise ShopeeFail(400, "error_param", "stock must be a non-negative integer.")
            model = _model_of(item, entry.get("model_id"))
            if model is None:
                failure.append({"model_id": entry.get("model_id"), "failed_reason": "model_id not found"})
                continue
            if model.model_id:
                model.stock = stock
                item.sync_totals()
            else:
                item.stock = stock
            success.append({"model_id": model.model_id, "stock": stock})
        item.updated_at = call.state.clock()
    return {"success_list": success, "failure_list": failure}


# ---------------------------------------------------------------------------- variations (tiers and models)


def _tiers(raw: Any) -> list[tuple[str, list[str]]]:
    if not isinstance(raw, list):
        raise ShopeeFail(400, "error_param", "tier_variation must be a list.")
    out = []
    for tier in raw:
        if not isinstance(tier, dict):
            raise ShopeeFail(400, "error_param", "tier_variation entries must be objects.")
        options = [str((o or {}).get("option", "")) for o in tier.get("option_list") or []]
        out.append((str(tier.get("name", "")), options))
    return out


def _tier_options(tiers: list[tuple[str, list[str]]], tier_index: Any) -> tuple[str, ...]:
    """A model's ``tier_index`` → its option values; out of bounds or short is refused as Shopee does."""
    if not isinstance(tier_index, list) or len(tier_index) != len(tiers):
        raise ShopeeFail(400, *VARIANT_ERRORS["missing_value"])
    values = []
    for (_, options), index in zip(tiers, tier_index):
        if not isinstance(index, int) or not 0 <= index < len(options):
            raise ShopeeFail(400, *VARIANT_ERRORS["unknown_option"])
        values.append(options[index])
    return tuple(values)


def _new_models(call: Call, item: Item, tiers: list[tuple[str, list[str]]], raw: Any) -> list[Model]:
    models = []
    for entry in raw or []:
        stock = ((entry.get("seller_stock") or [{}])[0]).get("stock", 0)
        price = entry.get("original_price")
        if not isinstance(price, (int, float)) or price <= 0:
            raise ShopeeFail(400, "error_invalid_price", "Invalid price, please use the correct format")
        models.append(call.state.new_model(str(entry.get("model_sku", "")), _tier_options(tiers, entry.get("tier_index")),
                                           int(price), int(stock)))
    return models


def _check(tiers: list[tuple[str, list[str]]], models: list[Model]) -> None:
    try:
        check_variation(tiers, models, LIMITS)
    except VariantRefused as exc:
        error, message = VARIANT_ERRORS.get(exc.kind, ("error_param", f"Wrong parameters, detail: {exc.message}"))
        raise ShopeeFail(400, error, message) from None


def _apply(call: Call, item: Item, tiers: list[tuple[str, list[str]]], models: list[Model]) -> None:
    """Check a new variation as Shopee does, then make it the item's."""
    _check(tiers, models)
    with call.state.lock:
        item.set_variation(tiers, models)
        item.updated_at = call.state.clock()


def _model_doc(item: Item, model: Model) -> dict[str, Any]:
    return {
        "model_id": model.model_id, "model_sku": model.seller_sku, "model_status": "MODEL_NORMAL",
        "tier_index": [opts.index(v) for (_, opts), v in zip(item.tiers, model.options)],
        "price_info": [{"currency": "VND", "original_price": model.price_vnd, "current_price": model.price_vnd}],
        "stock_info_v2": {"summary_info": {"total_available_stock": model.stock}, "seller_stock": [{"stock": model.stock}]},
    }


def _variation_doc(item: Item) -> dict[str, Any]:
    return {
        "item_id": item.item_id,
        "tier_variation": [{"name": n, "option_list": [{"option": o} for o in opts]} for n, opts in item.tiers],
        "model": [_model_doc(item, m) for m in sorted(item.models.values(), key=lambda m: m.model_id)],
    }


async def init_tier_variation(call: Call) -> dict[str, Any]:
    """Set the tier structure and its models at once (Shopee: an item without tiers gets them)."""
    data = call.json()
    item = _item(call, data.get("item_id"))
    tiers = _tiers(data.get("tier_variation"))
    if item.tiers:
        raise ShopeeFail(400, "error_param", "The level of tier-variation not change.")
    models = _new_models(call, item, tiers, data.get("model"))
    if not models:
        raise ShopeeFail(400, "error_param", "model is required.")
    _apply(call, item, tiers, models)
    return _variation_doc(item)


async def update_tier_variation(call: Call) -> dict[str, Any]:
    """Rename or add options (and re-index the existing models, ``model_list[].{model_id, tier_index}``);
    models not listed are deleted, as the guide says of a changed structure."""
    data = call.json()
    item = _item(call, data.get("item_id"))
    tiers = _tiers(data.get("tier_variation"))
    kept = []
    for entry in data.get("model_list") or []:
        model = item.models.get(int(entry.get("model_id") or 0))
        if model is None:
            raise ShopeeFail(400, "error_param", f"model_id {entry.get('model_id')} not found.")
        kept.append(Model(model.model_id, model.seller_sku, _tier_options(tiers, entry.get("tier_index")),
                          model.price_vnd, model.stock, model.image))
    _apply(call, item, tiers, kept)
    return _variation_doc(item)


async def add_model(call: Call) -> dict[str, Any]:
    data = call.json()
    item = _item(call, data.get("item_id"))
    if not item.tiers:
        raise ShopeeFail(400, "error_param", "Item has no tier_variation: call init_tier_variation first.")
    added = _new_models(call, item, item.tiers, data.get("model_list"))
    if not added:
        raise ShopeeFail(400, "error_param", "model_list is required.")
    models = [*item.models.values(), *added]
    _apply(call, item, item.tiers, models)
    return {"model": [_model_doc(item, m) for m in added]}


async def update_model(call: Call) -> dict[str, Any]:
    """Model fields other than price and stock (here: ``model_sku``)."""
    data = call.json()
    item = _item(call, data.get("item_id"))
    changed = []
    for entry in data.get("model") or []:
        model = item.models.get(int(entry.get("model_id") or 0))
        if model is None:
            raise ShopeeFail(400, "error_param", f"model_id {entry.get('model_id')} not found.")
        changed.append((model, str(entry.get("model_sku", model.seller_sku))))
    after = [Model(m.model_id, dict((c.model_id, s) for c, s in changed).get(m.model_id, m.seller_sku), m.options,
                   m.price_vnd, m.stock) for m in item.models.values()]
    _check(item.tiers, after)
    with call.state.lock:
        for model, sku in changed:
            model.seller_sku = sku
        item.updated_at = call.state.clock()
    return {}


async def delete_model(call: Call) -> dict[str, Any]:
    data = call.json()
    item = _item(call, data.get("item_id"))
    model_id = int(data.get("model_id") or 0)
    if model_id not in item.models:
        raise ShopeeFail(400, "error_param", f"model_id {model_id} not found.")
    if len(item.models) == 1:
        raise ShopeeFail(400, "error_param", "Can not delete the last model of an item with tier_variation.")
    _apply(call, item, item.tiers, [m for m in item.models.values() if m.model_id != model_id])
    return {}


async def get_model_list(call: Call) -> dict[str, Any]:
    item = _item(call, call.query.get("item_id"))
    return _variation_doc(item)


async def unlist_item(call: Call) -> dict[str, Any]:
    data = call.json()
    success, failure = [], []
    for entry in data.get("item_list") or []:
        try:
            item = _item(call, entry.get("item_id"))
        except ShopeeFail as exc:
            failure.append({"item_id": entry.get("item_id"), "failed_reason": exc.message})
            continue
        with call.state.lock:
            item.status = "unlisted" if entry.get("unlist", True) else "live"
            item.updated_at = call.state.clock()
        success.append({"item_id": item.item_id, "unlist": entry.get("unlist", True)})
    return {"success_list": success, "failure_list": failure}


def _items_of(call: Call) -> list[Item]:
    return [call.state.settle(i) for i in call.state.shop_items(NAME, call.shop_id).values() if i.status != "deleted"]


def _page(call: Call) -> tuple[int, int]:
    offset = _int(call.query.get("offset", "0") or 0, "offset")
    size = _int(call.query.get("page_size", "10"), "page_size")
    if not 1 <= size <= 100:
        raise ShopeeFail(400, "error_param", "page_size should be between 1 and 100.")
    return offset, size


async def get_item_list(call: Call) -> dict[str, Any]:
    offset, size = _page(call)
    raw = parse_qs(call.request.scope.get("query_string", b"").decode("latin-1"))
    wanted = set(raw.get("item_status", [])) or {"NORMAL"}
    items = sorted((i for i in _items_of(call) if ITEM_STATUS[i.status] in wanted), key=lambda i: i.item_id)
    page = items[offset: offset + size]
    more = offset + size < len(items)
    return {
        "item": [{"item_id": i.item_id, "item_status": ITEM_STATUS[i.status], "update_time": int(i.updated_at)} for i in page],
        "total_count": len(items), "has_next_page": more, "next_offset": offset + size if more else 0,
    }


async def search_item(call: Call) -> dict[str, Any]:
    offset, size = _page(call)
    sku = call.query.get("item_sku")
    name = call.query.get("item_name")
    statuses = set(parse_qs(call.request.scope.get("query_string", b"").decode("latin-1")).get("item_status", []))
    items = sorted(_items_of(call), key=lambda i: i.item_id)
    if sku is not None:  # matching model SKUs too is the sandbox's reading (unverified)
        items = [i for i in items if i.seller_sku == sku or i.model_by_sku(sku) is not None]
    if name:
        items = [i for i in items if name.lower() in i.name.lower()]
    if statuses:
        items = [i for i in items if ITEM_STATUS[i.status] in statuses]
    page = items[offset: offset + size]
    more = offset + size < len(items)
    return {"item_id_list": [i.item_id for i in page], "total_count": len(items), "next_offset": str(offset + size) if more else ""}


def _id_list(call: Call, name: str, limit: int) -> list[str]:
    ids = [x for x in call.query.get(name, "").replace("[", "").replace("]", "").replace(" ", "").split(",") if x]
    if not ids:
        raise ShopeeFail(400, "error_param", f"{name} is required.")
    if len(ids) > limit:
        raise ShopeeFail(400, "error_param", f"{name} should contain at most {limit} entries.")
    return ids


async def get_item_base_info(call: Call) -> dict[str, Any]:
    out = []
    for raw_id in _id_list(call, "item_id_list", 50):
        item = call.state.find_item(NAME, call.shop_id, _int(raw_id, "item_id_list"))
        if item is None:
            continue
        out.append({
            "item_id": item.item_id, "category_id": int(item.category_id or 0), "item_name": item.name,
            "description": item.description, "item_sku": item.seller_sku, "create_time": int(item.created_at),
            "update_time": int(item.updated_at), "item_status": ITEM_STATUS[item.status],
            "price_info": [{"currency": "VND", "original_price": item.price_vnd, "current_price": item.price_vnd}],
            "stock_info_v2": {"summary_info": {"total_available_stock": item.stock}, "seller_stock": [{"stock": item.stock}]},
            "weight": f"{item.weight_g / 1000:.3f}",
            "dimension": dict(zip(("package_length", "package_width", "package_height"), item.dims_cm)),
            "image": {"image_id_list": item.images},
            "brand": {"brand_id": 0, "original_brand_name": item.brand},
            "has_model": bool(item.models),
        })
    return {"item_list": out}


async def get_item_violation_info(call: Call) -> dict[str, Any]:
    out = []
    for raw_id in _id_list(call, "item_id_list", 50):
        item = call.state.find_item(NAME, call.shop_id, _int(raw_id, "item_id_list"))
        if item is None:
            continue
        violations = []
        if item.status in ("rejected", "banned"):
            violations.append({
                "violation_type": VIOLATION_REJECTED if item.status == "rejected" else VIOLATION_BANNED,
                "violation_reason": item.reason or "",
                "suggestion": "Edit the listing and submit it again.",
            })
        out.append({"item_id": item.item_id, "item_status": ITEM_STATUS[item.status], "violation_list": violations})
    return {"item_list": out}


def _category_data() -> dict[str, Any]:
    text = resources.files("connectors.sandbox").joinpath("data/shopee_categories.json").read_text("utf-8")
    return json.loads(text)


async def get_category(call: Call) -> dict[str, Any]:
    cats = _category_data()["categories"]
    return {"category_list": [
        {"category_id": c["category_id"], "parent_category_id": c["parent_category_id"],
         "original_category_name": c["name"], "display_category_name": c["name"], "has_children": c["has_children"]}
        for c in cats
    ]}


async def get_attributes(call: Call) -> dict[str, Any]:
    category_id = _int(call.query.get("category_id"), "category_id")
    data = _category_data()
    if not any(c["category_id"] == category_id and not c["has_children"] for c in data["categories"]):
        raise ShopeeFail(400, "error_param", "Invalid category_id: it must be a leaf category.")
    attrs = data["attributes"]["*"] + data["attributes"].get(str(category_id), [])
    return {"attribute_list": [
        {"attribute_id": a["attribute_id"], "original_attribute_name": a["name"], "display_attribute_name": a["name"],
         "is_mandatory": a["is_mandatory"], "input_type": a["input_type"],
         "attribute_value_list": [{"value_id": n + 1, "original_value_name": v} for n, v in enumerate(a["values"])]}
        for a in attrs
    ]}


# ---------------------------------------------------------------------------- orders


async def get_order_list(call: Call) -> dict[str, Any]:
    field = call.query.get("time_range_field", "")
    if field not in ("create_time", "update_time"):
        raise ShopeeFail(400, "error_param", "time_range_field should be create_time or update_time.")
    t_from = _int(call.query.get("time_from"), "time_from")
    t_to = _int(call.query.get("time_to"), "time_to")
    if t_to < t_from or t_to - t_from > MAX_ORDER_WINDOW_S:
        raise ShopeeFail(400, "error_param", "time_from and time_to should be within 15 days.")
    size = _int(call.query.get("page_size", "20"), "page_size")
    if not 1 <= size <= 100:
        raise ShopeeFail(400, "error_param", "page_size should be between 1 and 100.")
    cursor = call.query.get("cursor", "") or "0"
    start = _int(cursor, "cursor")
    now = call.state.clock()
    orders = call.state.shop_orders(NAME, call.shop_id).values()
    key = (lambda o: o.created_at) if field == "create_time" else (lambda o: o.updated_at(now))
    wanted = call.query.get("order_status")
    hits = sorted((o for o in orders if t_from <= key(o) <= t_to), key=lambda o: (key(o), o.order_id))
    if wanted:
        hits = [o for o in hits if ORDER_STATUS[o.status_at(now)] == wanted]
    page = hits[start: start + size]
    more = start + size < len(hits)
    with_status = "order_status" in call.query.get("response_optional_fields", "")
    return {
        "more": more, "next_cursor": str(start + size) if more else "",
        "order_list": [
            {"order_sn": o.order_id, **({"order_status": ORDER_STATUS[o.status_at(now)]} if with_status else {})}
            for o in page
        ],
    }


async def get_order_detail(call: Call) -> dict[str, Any]:
    now = call.state.clock()
    orders = call.state.shop_orders(NAME, call.shop_id)
    out = []
    for sn in _id_list(call, "order_sn_list", 50):
        o = orders.get(sn)
        if o is None:
            continue
        out.append({
            "order_sn": o.order_id, "region": "VN", "currency": "VND", "cod": False,
            "order_status": ORDER_STATUS[o.status_at(now)], "create_time": int(o.created_at),
            "update_time": int(o.updated_at(now)), "total_amount": o.total_vnd,
            "estimated_shipping_fee": o.shipping_fee_vnd,
            "item_list": [
                {"item_id": l.item_id, "item_name": l.name,
                 "item_sku": "" if l.model_id else l.seller_sku, "model_id": l.model_id,
                 "model_name": l.model_name, "model_sku": l.seller_sku if l.model_id else "",
                 "model_quantity_purchased": l.quantity,
                 "model_original_price": l.unit_price_vnd, "model_discounted_price": l.unit_price_vnd}
                for l in o.lines
            ],
        })
    return {"order_list": out}


# ---------------------------------------------------------------------------- routing

# path → (method, shop level?, handler)
ROUTES: dict[str, tuple[str, bool, Handler]] = {
    "/api/v2/auth/token/get": ("POST", False, token_get),
    "/api/v2/auth/access_token/get": ("POST", False, access_token_get),
    "/api/v2/media_space/upload_image": ("POST", False, upload_image),
    "/api/v2/product/add_item": ("POST", True, add_item),
    "/api/v2/product/update_item": ("POST", True, update_item),
    "/api/v2/product/update_price": ("POST", True, update_price),
    "/api/v2/product/update_stock": ("POST", True, update_stock),
    "/api/v2/product/unlist_item": ("POST", True, unlist_item),
    "/api/v2/product/init_tier_variation": ("POST", True, init_tier_variation),
    "/api/v2/product/update_tier_variation": ("POST", True, update_tier_variation),
    "/api/v2/product/add_model": ("POST", True, add_model),
    "/api/v2/product/update_model": ("POST", True, update_model),
    "/api/v2/product/delete_model": ("POST", True, delete_model),
    "/api/v2/product/get_model_list": ("GET", True, get_model_list),
    "/api/v2/product/get_item_list": ("GET", True, get_item_list),
    "/api/v2/product/search_item": ("GET", True, search_item),
    "/api/v2/product/get_item_base_info": ("GET", True, get_item_base_info),
    "/api/v2/product/get_item_violation_info": ("GET", True, get_item_violation_info),
    "/api/v2/product/get_category": ("GET", True, get_category),
    "/api/v2/product/get_attributes": ("GET", True, get_attributes),
    "/api/v2/order/get_order_list": ("GET", True, get_order_list),
    "/api/v2/order/get_order_detail": ("GET", True, get_order_detail),
}


def _json_response(payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(json.dumps(payload, ensure_ascii=False).encode(), status_code=status,
                    media_type=MediaType.JSON, headers=headers or {})


def router(state: SandboxState) -> Router:
    @route("/api/v2/{rest:path}", http_method=["GET", "POST"])
    async def api(request: Request[Any, Any, Any]) -> Response[bytes]:
        path = relative_path(request, NAME)
        try:
            if path == "/api/v2/shop/auth_partner" and request.method == "GET":
                return await consent_page(_verify(state, request, path, shop_level=False))
            entry = ROUTES.get(path)
            if entry is None or entry[0] != request.method:
                raise ShopeeFail(404, "error_not_found", f"Api not found: {request.method} {path}.")
            method, shop_level, handler = entry
            # upload_image is a public-signed call in some guide versions: accept either form.
            if path == "/api/v2/media_space/upload_image" and "access_token" in request.query_params:
                shop_level = True
            call = _verify(state, request, path, shop_level=shop_level)
            call.body = await request.body() if method == "POST" and handler is not upload_image else b""
            result = await handler(call)
            if handler in (token_get, access_token_get):
                return _json_response(result)
            return _json_response(_envelope(response=result))
        except ShopeeFail as exc:
            return _json_response(_envelope(exc.error, exc.message), exc.status, exc.headers)

    @route("/_consent", http_method=["POST"])
    async def consent(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        partner_id, shop_id, redirect = form.get("partner_id", ""), form.get("shop_id", ""), form.get("redirect", "")
        if state.app_secret(NAME, partner_id) is None or state.shop(NAME, shop_id) is None or not redirect:
            return _json_response(_envelope("error_param", "Invalid consent form."), 400)
        code = state.issue_code(NAME, partner_id, shop_id)
        sep = "&" if "?" in redirect else "?"
        return Redirect(f"{redirect}{sep}{urlencode({'code': code, 'shop_id': shop_id})}", status_code=302)

    return Router("/", route_handlers=[api, consent])


SPEC = MarketplaceSpec(
    name=NAME,
    api_prefixes=("/api/v2/",),
    router=router,
    rate_limited=rate_limited,
    server_error=server_error,
    token_call=token_call,
)
