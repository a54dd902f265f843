"""Tiki Open API (seller) emulation, mounted under ``/tiki``.

Served paths (see :mod:`connectors.tiki.mapper` and :mod:`connectors.tiki.auth` for where each
comes from and which parts are unverified):
- OAuth 2: ``GET|POST /sc/oauth2/auth`` (consent page → redirect with ``code`` and ``state``),
  ``POST /sc/oauth2/token`` (form; client authenticated by HTTP Basic or ``client_secret`` in the
  body; grants ``authorization_code``, ``refresh_token``, ``client_credentials``). Errors are
  RFC 6749 §5.2 JSON (``invalid_client`` 401, ``invalid_grant`` 400, …). A refresh token is
  single-use (the answer carries a new one).
- API, ``Authorization: Bearer``: ``/integration/v2/sellers/me``,
  ``/integration/v2/sellers/me/warehouses``, ``/integration/v2/categories[/{id}/attributes]``,
  ``POST /integration/v2.1/requests`` → ``{track_id, state: queuing}``,
  ``GET /integration/v2/tracking/{track_id}``, ``GET /integration/v2/requests[/{request_id}]``,
  ``POST /integration/v2.1/requests/updateProductInfo``, ``GET /integration/v2/products[/{id}]``,
  ``PUT /integration/v2/products/updateSku``, ``GET /integration/v2/orders[/{code}]``.
- Errors: a bad or expired bearer token answers RFC 6750 (HTTP 401, ``WWW-Authenticate: Bearer
  error="invalid_token"``, JSON ``{error, error_description}``) — Tiki's own wording is not
  documented; validation errors ``{"errors": [...]}`` (what public integrations read after a
  failed request creation); rate limit HTTP 429 with ``Retry-After`` (Tiki states 100 requests
  per second per seller, tikivn/open-api-docs#150; the answer body is unverified).

Review: a request moves ``queuing → processing → … → approved`` or ``rejected`` with reasons
(the shared review queue decides); an approved product stays inactive unless the request asked
``meta_data.is_auto_turn_on`` or the seller activates it through ``updateSku``.
"""

from __future__ import annotations

import json
import math
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import MediaType, Request, Response, Router, route
from litestar.params import FromPath
from litestar.enums import HttpMethod

from connectors.sandbox.consent import CONSENT_HEAD
from connectors.sandbox.spec import ErrorAnswer, MarketplaceSpec, forced_expiry, relative_path
from connectors.sandbox.state import (
    AuthResult, Item, Model, Order, SandboxState, VariantLimits, VariantRefused, check_variation,
)
from connectors.tiki import mapper
from connectors.tiki.auth import parse_basic_auth

NAME = "tiki"
API_PREFIXES = ("/integration/", "/sc/oauth2/token")
WAREHOUSE_ID = 1034
# A configurable product: option1/option2 of ``option_attributes``. Tiki's own limits are not in
# the pages read (unverified): the sandbox takes 2 attributes, 50 options, 50 variants.
LIMITS = VariantLimits(max_tiers=2, max_options=50, max_models=50)
LIMIT_MAX = 100
CATEGORIES: tuple[tuple[int, int | None, str, bool], ...] = (
    (4420, None, "Bách hóa Online", False),
    (4421, 4420, "Đặc sản vùng miền", True),
    (4422, 4420, "Đồ uống", True),
    (4430, None, "Sức khỏe", False),
    (4431, 4430, "Thảo dược", True),
    (4440, None, "Thời trang", False),
    (4441, 4440, "Vải & thổ cẩm", True),
    (4450, None, "Nhà cửa - Đời sống", False),
    (4451, 4450, "Thủ công mỹ nghệ", True),
    (4460, None, "Voucher - Dịch vụ", False),
    (4461, 4460, "Du lịch", True),
)
ATTRIBUTES = (
    {"id": 1, "code": "brand", "display_name": "Thương hiệu", "is_required": True, "input_type": "text"},
    {"id": 2, "code": "origin", "display_name": "Xuất xứ", "is_required": True, "input_type": "text"},
    {
        "id": 3,
        "code": "expiry_time",
        "display_name": "Hạn sử dụng",
        "is_required": False,
        "input_type": "text",
    },
)
# Neutral order status → Tiki's words.
ORDER_STATUS = {
    "unpaid": "waiting_payment",
    "ready_to_ship": "queueing",
    "shipped": "shipping",
    "delivered": "successful_delivery",
    "completed": "complete",
    "cancelled": "canceled",
    "returned": "returned",
}
SCOPES = ("offline", "product", "order", "inventory")


class TikiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status, self.body, self.headers = status, body, headers or {}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        json.dumps(data, ensure_ascii=False).encode(),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers or {},
    )


def _invalid(message: str) -> TikiError:
    return TikiError(400, {"errors": [message]})


def rate_limited(retry_after: int) -> ErrorAnswer:
    body = json.dumps(
        {"error": "too_many_requests", "message": "Rate limit exceeded: 100 requests per second"}
    ).encode()
    return 429, {"content-type": "application/json", "retry-after": str(retry_after)}, body


def server_error() -> ErrorAnswer:
    return 500, {"content-type": "application/json"}, json.dumps({"error": "internal_server_error"}).encode()


def token_call(path: str) -> bool:
    return path.startswith("/integration/")


# ---------------------------------------------------------------------------- documents


def _settle(state: SandboxState, item: Item) -> Item:
    """Shared review, plus Tiki's rule: approval yields an *inactive* product unless auto-on."""
    state.settle(item)
    with state.lock:
        if item.status == "live" and not item.raw.get("approved_seen"):
            item.raw["approved_seen"] = True
            if not item.raw.get("auto_on"):
                item.status = "unlisted"
        if item.status in ("live", "unlisted", "banned"):
            item.raw["approved_seen"] = True
    return item


def _request_state(item: Item) -> str:
    if item.status == "reviewing":
        return "awaiting_approve"
    if item.status == "rejected":
        return "rejected"
    if item.status == "deleted":
        return "deleted"
    return "approved"


def _product_doc(item: Item) -> dict[str, Any]:
    variants = {}
    if item.models:  # a configurable product: its option attributes and one child per variant
        variants = {
            "option_attributes": [name for name, _ in item.tiers],
            "variants": [{"original_sku": m.seller_sku, "price": m.price_vnd,
                          **{f"option{n}": v for n, v in enumerate(m.options, start=1)},
                          "inventory": {"warehouse_quantities": [{"warehouse_id": WAREHOUSE_ID, "qty_available": m.stock}]}}
                         for m in item.models.values()],
        }
    return {**variants,
        "product_id": item.item_id,
        "sku": str(item.raw.get("tiki_sku")),
        "original_sku": item.seller_sku,
        "name": item.name,
        "active": 1 if item.status == "live" else 0,
        "price": item.price_vnd,
        "market_price": item.price_vnd,
        "inventory": {"warehouse_quantities": [{"warehouse_id": WAREHOUSE_ID, "qty_available": item.stock}]},
        "images": [{"url": u, "position": n} for n, u in enumerate(item.images)],
        "created_at": mapper.fmt_time_epoch(item.created_at),
        "updated_at": mapper.fmt_time_epoch(item.updated_at),
    }


def _request_doc(item: Item) -> dict[str, Any]:
    state = _request_state(item)
    approved = state == "approved"
    return {
        "request_id": str(item.raw["request_id"]),
        "track_id": str(item.raw["track_id"]),
        "state": state,
        "kind": "create_product",
        "created_at": mapper.fmt_time_epoch(item.created_at),
        "approved_at": mapper.fmt_time_epoch(item.updated_at) if approved else None,
        "reasons": [item.reason] if state == "rejected" and item.reason else None,
        "products": [_product_doc(item)] if approved else [],
    }


def _order_doc(order: Order, now: float) -> dict[str, Any]:
    items = [
        {
            "id": int(f"{n + 1}{order.order_id[-6:]}"),
            "product": {
                "id": line.item_id,
                "sku": f"TK{line.item_id}",
                "seller_product_code": line.seller_sku,
                "name": line.name,
            },
            "invoice": {
                "price": float(line.unit_price_vnd),
                "quantity": line.quantity,
                "subtotal": float(line.unit_price_vnd * line.quantity),
                "row_total": float(line.unit_price_vnd * line.quantity),
            },
        }
        for n, line in enumerate(order.lines)
    ]
    return {
        "code": order.order_id,
        "status": ORDER_STATUS[order.status_at(now)],
        "fulfillment_type": "dropship",
        "created_at": mapper.fmt_time_epoch(order.created_at),
        "updated_at": mapper.fmt_time_epoch(order.updated_at(now)),
        "invoice": {
            "subtotal": float(order.total_vnd - order.shipping_fee_vnd),
            "shipping_amount_after_discount": float(order.shipping_fee_vnd),
            "grand_total": float(order.total_vnd),
        },
        "items": items,
    }


def _paged(rows: list[Any], page: int, limit: int) -> dict[str, Any]:
    total = len(rows)
    start = (page - 1) * limit
    return {
        "data": rows[start : start + limit],
        "paging": {
            "total": total,
            "current_page": page,
            "per_page": limit,
            "from": start,
            "to": min(start + limit, total),
            "last_page": max(1, math.ceil(total / limit)),
        },
    }


def _page_args(q: dict[str, str]) -> tuple[int, int]:
    page, limit = q.get("page", "1"), q.get("limit", "20")
    if not page.isdigit() or int(page) < 1 or not limit.isdigit() or not 1 <= int(limit) <= LIMIT_MAX:
        raise _invalid(f"page must be ≥ 1 and limit between 1 and {LIMIT_MAX}")
    return int(page), int(limit)


def _time_arg(q: dict[str, str], name: str) -> float | None:
    if not q.get(name):
        return None
    try:
        return mapper.parse_time(q[name]).timestamp()
    except ValueError as exc:
        raise _invalid(f"{name} must be yyyy-MM-dd HH:mm:ss") from exc


# ---------------------------------------------------------------------------- API handlers


class Api:
    def __init__(self, state: SandboxState, shop_id: str, query: dict[str, str], body: bytes) -> None:
        self.state, self.shop_id, self.q, self.body = state, shop_id, query, body

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise _invalid("body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise _invalid("body must be a JSON object")
        return data

    def items(self) -> list[Item]:
        return [_settle(self.state, i) for i in self.state.shop_items(NAME, self.shop_id).values()]

    def by_track(self, track_id: str) -> Item:
        for item in self.items():
            if item.raw.get("track_id") == track_id:
                return item
        raise TikiError(404, {"errors": [f"track_id {track_id} not found"]})

    def by_product(self, product_id: str) -> Item:
        item = self.state.find_item(NAME, self.shop_id, int(product_id)) if product_id.isdigit() else None
        if item is None or _request_state(_settle(self.state, item)) != "approved":
            raise TikiError(404, {"errors": [f"product {product_id} not found"]})
        return item

    def seller(self) -> Any:
        shop = self.state.shop(NAME, self.shop_id)
        assert shop is not None
        return {
            "id": int(shop.shop_id),
            "name": shop.name,
            "active": 1,
            "operation_models": ["dropship"],
            "can_update_product": 1,
            "registration_status": "completed",
        }

    def warehouses(self) -> Any:
        return {"data": [{"id": WAREHOUSE_ID, "name": "Kho chính", "status": 1, "is_default": True}]}

    def categories(self) -> Any:
        return {
            "data": [{"id": c, "parent_id": p, "name": n, "is_primary": leaf} for c, p, n, leaf in CATEGORIES]
        }

    def category_attributes(self, category_id: str) -> Any:
        if int(category_id) not in {c[0] for c in CATEGORIES if c[3]}:
            raise TikiError(404, {"errors": [f"category {category_id} not found or not primary"]})
        return {"data": list(ATTRIBUTES)}

    def create_request(self) -> Any:
        body = self.json()
        errors = []
        if int(body.get("category_id") or 0) not in {c[0] for c in CATEGORIES if c[3]}:
            errors.append("category_id is not a primary category")
        name = str(body.get("name") or "")
        if not name:
            errors.append("name is required")
        variants = body.get("variants") or []
        options = [str(o) for o in body.get("option_attributes") or []]
        if not variants or not all(str(v.get("sku") or "") for v in variants):
            errors.append("at least one variant with a sku is required")
        elif len(variants) > 1 and not options:
            errors.append("option_attributes are required for several variants")
        if not str(body.get("image") or "").startswith(("http://", "https://")):
            errors.append("image must be a public image URL")
        attrs = body.get("attributes") or {}
        for a in ATTRIBUTES:
            if a["is_required"] and not attrs.get(a["code"]):
                errors.append(f"attribute {a['code']} is required")
        if errors:
            raise TikiError(400, {"errors": errors})
        variation = self._variation(options, variants)
        v = variants[0]
        stocks = v.get("warehouse_stocks") or [{}]
        item = self.state.create_item(
            NAME,
            self.shop_id,
            seller_sku=str(v["sku"]),
            name=name,
            description=str(body.get("description") or ""),
            price_vnd=int(v.get("price") or body.get("market_price") or 0),
            stock=int(stocks[0].get("qtyAvailable") or 0),
            weight_g=int(round(float(attrs.get("product_weight_kg") or 0) * 1000)),
            dims_cm=(
                int(attrs.get("product_length") or 0),
                int(attrs.get("product_width") or 0),
                int(attrs.get("product_height") or 0),
            ),
            category_id=str(body["category_id"]),
            brand=str(attrs.get("brand") or ""),
            images=[str(body["image"]), *[str(i) for i in body.get("images") or []]],
            attributes={k: str(val) for k, val in attrs.items()},
        )
        item.raw.update(
            track_id=secrets.token_hex(16),
            request_id=str(self.state.next_id()),
            tiki_sku=str(2_000_000_000_000 + item.item_id),
            auto_on=bool((body.get("meta_data") or {}).get("is_auto_turn_on")),
        )
        if variation is not None:
            with self.state.lock:
                item.set_variation(*variation)
        return {"track_id": item.raw["track_id"], "state": "queuing"}

    def _variation(self, options: list[str], variants: list[dict[str, Any]],
                   item: Item | None = None) -> tuple[list[tuple[str, list[str]]], list[Model]] | None:
        """``option_attributes`` + ``variants[].option1/option2`` → attributes and variants, checked
        (a seller SKU must be unique in the shop); None for a simple product."""
        if not options:
            return None
        tiers: list[tuple[str, list[str]]] = [(name, []) for name in options]
        for v in variants:
            for n, (_, values) in enumerate(tiers, start=1):
                value = str(v.get(f"option{n}") or "")
                if value and value not in values:
                    values.append(value)
        models = []
        for v in variants:
            old = item.model_by_sku(str(v["sku"])) if item else None
            stocks = v.get("warehouse_stocks") or [{}]
            models.append(Model(old.model_id if old else self.state.next_id(), str(v["sku"]),
                                tuple(str(v.get(f"option{n}") or "") for n in range(1, len(tiers) + 1)),
                                int(v.get("price") or 0), int(stocks[0].get("qtyAvailable") or 0)))
        try:
            check_variation(tiers, models, LIMITS, self.state.shop_skus(NAME, self.shop_id,
                                                                         besides=item.item_id if item else 0))
        except VariantRefused as exc:
            raise TikiError(400, {"errors": [exc.message]}) from None
        return tiers, models

    def tracking(self, track_id: str) -> Any:
        item = self.by_track(track_id)
        doc = _request_doc(item)
        return {
            "track_id": track_id,
            "state": doc["state"],
            "request_id": doc["request_id"],
            "reason": (doc["reasons"] or [None])[0],
            "reasons": doc["reasons"],
            "product_ids": [p["product_id"] for p in doc["products"]],
        }

    def requests(self) -> Any:
        page, limit = _page_args(self.q)
        sku = self.q.get("original_sku")
        rows = [
            _request_doc(i)
            for i in sorted(self.items(), key=lambda i: -i.created_at)
            if not sku or sku in i.skus()
        ]
        return _paged(rows, page, limit)

    def request(self, request_id: str) -> Any:
        for item in self.items():
            if item.raw.get("request_id") == request_id:
                return _request_doc(item)
        raise TikiError(404, {"errors": [f"request {request_id} not found"]})

    def update_info(self) -> Any:
        body = self.json()
        item = self.by_product(str(body.get("product_id") or ""))
        variation = None
        if body.get("variants"):  # a variant added, removed or renamed: the request carries them all
            variation = self._variation([str(o) for o in body.get("option_attributes") or []], body["variants"], item)
        with self.state.lock:
            if variation is not None:
                item.set_variation(*variation)
            if body.get("name"):
                item.name = str(body["name"])
            if body.get("description"):
                item.description = str(body["description"])
            if body.get("image"):
                item.images = [str(body["image"]), *[str(i) for i in body.get("images") or []]]
            if body.get("attributes"):
                item.attributes.update({k: str(v) for k, v in body["attributes"].items()})
            item.raw["auto_on"] = item.status == "live"  # content review keeps the on/off choice
            item.raw["approved_seen"] = False
        self.state.resubmit(item)
        track = secrets.token_hex(16)
        item.raw["track_id"] = track
        return {"track_id": track, "state": "queuing"}

    def products(self) -> Any:
        page, limit = _page_args(self.q)
        sku = self.q.get("original_sku")
        rows = [
            _product_doc(i)
            for i in sorted(self.items(), key=lambda i: -i.created_at)
            if _request_state(i) == "approved" and (not sku or sku in i.skus())
        ]
        return _paged(rows, page, limit)

    def product(self, product_id: str) -> Any:
        return _product_doc(self.by_product(product_id))

    def update_sku(self) -> Any:
        body = self.json()
        sku, pid = body.get("original_sku"), body.get("product_id")
        matches = [
            i
            for i in self.items()
            if _request_state(i) == "approved"
            and ((sku and sku in i.skus()) or (pid and i.item_id == int(pid)))
        ]
        if not matches:
            raise TikiError(404, {"errors": ["product not found by original_sku / product_id"]})
        item = matches[0]
        model = item.model_by_sku(str(sku)) if sku and item.models else None
        with self.state.lock:
            if body.get("price") is not None:
                if not isinstance(body["price"], int) or body["price"] <= 0:
                    raise _invalid("price must be a positive integer")
                if model is not None:
                    model.price_vnd = body["price"]
                else:
                    item.price_vnd = body["price"]
            for wq in body.get("warehouse_quantities") or []:
                qty = wq.get("qty_available")
                if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
                    raise _invalid("qty_available must be a non-negative integer")
                if model is not None:
                    model.stock = qty
                else:
                    item.stock = qty
            item.sync_totals()
            if body.get("active") is not None:
                if item.status in ("live", "unlisted"):
                    item.status = "live" if int(body["active"]) == 1 else "unlisted"
                elif item.status == "banned":
                    raise _invalid("a product locked by Tiki cannot be activated")
            item.updated_at = self.state.clock()
        return {"state": "approved", "product_id": item.item_id}

    def orders(self) -> Any:
        page, limit = _page_args(self.q)
        lo, hi = _time_arg(self.q, "updated_from_date"), _time_arg(self.q, "updated_to_date")
        now = self.state.clock()
        rows = sorted(
            (
                o
                for o in self.state.shop_orders(NAME, self.shop_id).values()
                if o.created_at <= now
                and (lo is None or o.updated_at(now) >= lo)
                and (hi is None or o.updated_at(now) <= hi)
            ),
            key=lambda o: (o.updated_at(now), o.order_id),
        )
        return _paged([_order_doc(o, now) for o in rows], page, limit)

    def order(self, code: str) -> Any:
        now = self.state.clock()
        order = self.state.shop_orders(NAME, self.shop_id).get(code)
        if order is None or order.created_at > now:
            raise TikiError(404, {"errors": [f"order {code} not found"]})
        return _order_doc(order, now)


ROUTES = (
    ("GET", "/integration/v2/sellers/me", "seller"),
    ("GET", "/integration/v2/sellers/me/warehouses", "warehouses"),
    ("GET", "/integration/v2/categories", "categories"),
    ("GET", "/integration/v2/categories/{}/attributes", "category_attributes"),
    ("POST", "/integration/v2.1/requests", "create_request"),
    ("POST", "/integration/v2.1/requests/updateProductInfo", "update_info"),
    ("GET", "/integration/v2/tracking/{}", "tracking"),
    ("GET", "/integration/v2/requests", "requests"),
    ("GET", "/integration/v2/requests/{}", "request"),
    ("GET", "/integration/v2/products", "products"),
    ("PUT", "/integration/v2/products/updateSku", "update_sku"),
    ("GET", "/integration/v2/products/{}", "product"),
    ("GET", "/integration/v2/orders", "orders"),
    ("GET", "/integration/v2/orders/{}", "order"),
)


def _match(method: str, path: str) -> tuple[str, list[str]] | None:
    parts = path.rstrip("/").split("/")
    for m, pattern, name in ROUTES:
        pp = pattern.split("/")
        if m != method or len(pp) != len(parts):
            continue
        args = []
        for want, got in zip(pp, parts, strict=True):
            if want == "{}":
                args.append(got)
            elif want != got:
                break
        else:
            return name, args
    return None


def _bearer_error(description: str) -> TikiError:
    return TikiError(
        401,
        {"error": "invalid_token", "error_description": description},
        {"www-authenticate": f'Bearer error="invalid_token", error_description="{description}"'},
    )


async def _api(state: SandboxState, request: Request[Any, Any, Any]) -> Response[bytes]:
    path = relative_path(request, NAME)
    query = dict(parse_qsl(request.scope.get("query_string", b"").decode(), keep_blank_values=True))
    body = await request.body()
    try:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _bearer_error("The request has no bearer access token")
        app_key = _token_app(state, token)
        result, rec = state.check_access(NAME, app_key, token, force_expire=forced_expiry(request))
        if result == AuthResult.EXPIRED:
            raise _bearer_error("The access token expired")
        if rec is None or result != AuthResult.OK:
            raise _bearer_error("The access token is invalid")
        found = _match(request.method, path)
        if found is None:
            raise TikiError(404, {"errors": [f"no route {request.method} {path}"]})
        name, args = found
        return _json(getattr(Api(state, rec.shop_id, query, body), name)(*args))
    except TikiError as e:
        return _json(e.body, e.status, e.headers)


def _token_app(state: SandboxState, token: str) -> str:
    rec = state.tokens.get(token)
    return rec.app_key if rec is not None and rec.marketplace == NAME else ""


# ---------------------------------------------------------------------------- OAuth 2


def _oauth_error(status: int, error: str, description: str) -> Response[bytes]:
    return _json({"error": error, "error_description": description}, status)


async def _token(state: SandboxState, request: Request[Any, Any, Any]) -> Response[bytes]:
    form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    basic = parse_basic_auth(request.headers.get("authorization", ""))
    client_id, secret = basic if basic else (form.get("client_id", ""), form.get("client_secret", ""))
    if not client_id or state.app_secret(NAME, client_id) != secret:
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    grant = form.get("grant_type")
    if grant == "authorization_code":
        rec = state.redeem_code(NAME, client_id, form.get("code", ""))
        if rec is None:
            return _oauth_error(400, "invalid_grant", "The authorization code is invalid, used or expired")
        access, refresh = state.issue_tokens(NAME, client_id, rec.shop_id)
    elif grant == "refresh_token":
        rotated = state.rotate_refresh(NAME, client_id, form.get("refresh_token", ""))
        if rotated is None:
            return _oauth_error(400, "invalid_grant", "The refresh token is invalid, used or expired")
        access, refresh, _ = rotated
    elif grant == "client_credentials":
        # In-house app: the sandbox binds it to the first Tiki shop; no refresh token.
        shop = state.config.shops_of(NAME)[0]
        access, _ = state.issue_tokens(NAME, client_id, shop.shop_id)
        return _json(
            {
                "access_token": access,
                "expires_in": state.config.access_token_ttl_s,
                "scope": " ".join(SCOPES[1:]),
                "token_type": "bearer",
            }
        )
    else:
        return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")
    return _json(
        {
            "access_token": access,
            "expires_in": state.config.access_token_ttl_s,
            "refresh_token": refresh,
            "scope": " ".join(SCOPES),
            "token_type": "bearer",
        }
    )


def router(state: SandboxState) -> Router:
    @route("/sc/oauth2/auth", http_method=[HttpMethod.GET, HttpMethod.POST])
    async def authorize(request: Request[Any, Any, Any]) -> Response[Any]:
        import html

        if request.method == "GET":
            q = dict(request.query_params)
            if q.get("response_type") != "code" or state.app_secret(NAME, q.get("client_id", "")) is None:
                return Response(
                    "<p>invalid_request: unknown client_id or response_type</p>",
                    status_code=400,
                    media_type=MediaType.HTML,
                )
            e = html.escape
            rows = "".join(
                f"<form method='post'><input type='hidden' name='shop_id' value='{e(s.shop_id)}'>"
                f"<input type='hidden' name='query' value='{e(urlencode(q))}'>"
                f"<button>Cho phép {e(s.name)} ({e(s.shop_id)})</button></form>"
                for s in state.config.shops_of(NAME)
            )
            page = (
                f"<!doctype html><html lang='vi'><head><meta charset='utf-8'>{CONSENT_HEAD}<title>Tiki – Ủy quyền</title>"
                f"</head><body><h1>Ứng dụng {e(q['client_id'])} xin quyền: {e(q.get('scope', ''))}</h1>{rows}"
                "</body></html>"
            )
            return Response(page, status_code=200, media_type=MediaType.HTML)
        form = await request.form()
        q = dict(parse_qsl(str(form.get("query", ""))))
        shop_id = str(form.get("shop_id", ""))
        if state.shop(NAME, shop_id) is None or not q.get("redirect_uri"):
            return Response("<p>invalid_request</p>", status_code=400, media_type=MediaType.HTML)
        code = state.issue_code(NAME, q["client_id"], shop_id)
        sep = "&" if "?" in q["redirect_uri"] else "?"
        back = urlencode({"code": code, "state": q.get("state", ""), "scope": q.get("scope", "")})
        return Response("", status_code=302, headers={"location": q["redirect_uri"] + sep + back})

    @route("/sc/oauth2/token", http_method=[HttpMethod.POST])
    async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
        return await _token(state, request)

    @route("/integration/{rest:path}", http_method=[HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT])
    async def api(request: Request[Any, Any, Any], rest: FromPath[str]) -> Response[bytes]:
        return await _api(state, request)

    return Router("/", route_handlers=[authorize, token, api])


SPEC = MarketplaceSpec(
    name=NAME,
    api_prefixes=API_PREFIXES,
    router=router,
    rate_limited=rate_limited,
    server_error=server_error,
    token_call=token_call,
)
