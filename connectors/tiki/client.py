"""Tiki Open API (seller) client behind ``connectors.base.MarketplaceClient``.

Facts (details and sources in :mod:`connectors.tiki.auth` and :mod:`connectors.tiki.mapper`):
- Host ``https://api.tiki.vn``; OAuth 2 token endpoint ``/sc/oauth2/token``; API calls under
  ``/integration/…`` with ``Authorization: Bearer``; no per-request signature. (verified)
- Items are created as *product requests* that Tiki reviews: :meth:`create_item` returns the
  ``track_id`` as the external id while the request is reviewed; once approved the product id
  takes over (``item_status`` and ``find_by_seller_sku`` accept both). (verified flow)
- Price/stock/activation per seller SKU: ``PUT /integration/v2/products/updateSku``. (verified)
- Orders: ``GET /integration/v2/orders?page&limit&updated_from_date&updated_to_date``
  (``yyyy-MM-dd HH:mm:ss``) → ``{data, paging{current_page, last_page}}``; detail
  ``GET /integration/v2/orders/{code}``. (filters and paging verified; limit maximum 100 and
  the inclusive upper bound are unverified — overlapping windows are harmless since orders
  upsert by code, and duplicates within one sweep are dropped here.)

Unverified paths (the product-API reference table names these operations without paths we
could read): ``GET /integration/v2/sellers/me/warehouses``; the ``original_sku`` filter of
``GET /integration/v2/products`` and ``GET /integration/v2/requests``;
``POST /integration/v2.1/requests/updateProductInfo`` ("Update product info … via update
product request"). ``upload_image`` is not an operation Tiki offers: a product request takes
public image URLs, so callers pass the media store's URLs as ``image_ids``.

Error answers: HTTP 401 → :class:`AuthExpiredError` (RFC 6750 ``invalid_token``); 429 →
:class:`RateLimitedError`; ``{"errors": [...]}`` 4xx → :class:`PermanentError` with the
messages; 404 → :class:`NotFoundError`; OAuth ``invalid_grant``/``invalid_client`` → permanent.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec

from connectors.base import (
    AppCredentials,
    AttributeSpec,
    AuthExpiredError,
    Category,
    ConnectorError,
    ItemRef,
    ItemStatus,
    MarketOrder,
    NotFoundError,
    OrderRef,
    PermanentError,
    ProductInput,
    RateLimitedError,
    ShopCredentials,
    SkuNumbers,
    TokenSet,
    UploadedImage,
    split_window,
)
from connectors.http import SharedHttp, parse_retry_after
from connectors.tiki import auth, mapper

BASE = "https://api.tiki.vn"
PAGE_LIMIT = 50
MAX_ORDER_WINDOW = timedelta(days=30)
CACHE_TTL_S = 24 * 3600


def classify(response: httpx.Response) -> ConnectorError | None:
    status = response.status_code
    if status < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if status == 429:
        return RateLimitedError(
            "Tiki rate limit", retry_after=parse_retry_after(response.headers.get("retry-after"))
        )
    if status == 401 and body.get("error") != "invalid_client":
        return AuthExpiredError(
            f"Tiki token: {body.get('error_description') or body.get('error') or 'unauthorized'}",
            code=str(body.get("error", "401")),
        )
    if body.get("error") in ("invalid_grant", "invalid_client", "unsupported_grant_type", "invalid_request"):
        return PermanentError(
            f"Tiki OAuth: {body.get('error_description') or body['error']}", code=str(body["error"])
        )
    if status >= 500:
        return None  # the shared layer maps 5xx by idempotency
    messages = body.get("errors") or [body.get("message") or body.get("error") or response.text[:200]]
    text = "; ".join(str(m) for m in messages)
    if status == 404:
        return NotFoundError(f"Tiki: {text}", code="404")
    return PermanentError(f"Tiki error {status}: {text}", code=str(status))


class TikiClient:
    """One Tiki app (``app_key`` = OAuth ``client_id``). Shop credentials are passed per call."""

    marketplace = "tiki"
    max_order_window = MAX_ORDER_WINDOW

    def __init__(self, app: AppCredentials, http: SharedHttp, base_url: str | None = None) -> None:
        self.app = app
        self.http = http
        self.base_url = (base_url or BASE).rstrip("/")
        self._cache: dict[tuple[str, ...], tuple[float, Any]] = {}

    # ------------------------------------------------------------------ transport

    async def _call(
        self,
        method: str,
        path: str,
        shop: ShopCredentials,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        idempotent: bool,
    ) -> Any:
        raw = msgspec.json.encode(body) if body is not None else None

        def build() -> httpx.Request:
            headers = {"authorization": f"Bearer {shop.access_token}"}
            if raw is not None:
                headers["content-type"] = "application/json"
            return self.http.client.build_request(
                method, self.base_url + path, params=params, headers=headers, content=raw
            )

        response = await self.http.send(
            build,
            idempotent=idempotent,
            classify=classify,
            marketplace=self.marketplace,
            app_key=self.app.app_key,
            shop_id=shop.shop_id,
        )
        return response.json()

    async def _token_call(self, form: dict[str, str]) -> auth.TikiTokenAnswer:
        header = auth.basic_auth_header(self.app.app_key, self.app.app_secret)
        response = await self.http.send(
            lambda: self.http.client.build_request(
                "POST", self.base_url + auth.TOKEN_PATH, data=form, headers={"authorization": header}
            ),
            idempotent=False,  # codes and refresh tokens are single-use
            classify=classify,
            marketplace=self.marketplace,
            app_key=self.app.app_key,
        )
        try:
            return msgspec.json.decode(response.content, type=auth.TikiTokenAnswer)
        except msgspec.ValidationError as exc:
            raise PermanentError(f"Tiki token answer not understood: {exc}", code="token") from exc

    # ------------------------------------------------------------------ authorization

    def authorize_url(self, redirect_url: str, state: str = "") -> str:
        return auth.authorize_url(
            self.base_url, self.app.app_key, redirect_url or self.app.redirect_url, state
        )

    async def _token_set(
        self, answer: auth.TikiTokenAnswer, shop_id: str | None, extra: dict[str, str] | None
    ) -> TokenSet:
        now = datetime.now(UTC)
        if extra is None or not shop_id:
            probe = ShopCredentials(shop_id="", access_token=answer.access_token)
            seller = await self._call("GET", "/integration/v2/sellers/me", probe, idempotent=True)
            shop_id = str(seller["id"])
            extra = {
                "warehouse_id": await self._warehouse(
                    ShopCredentials(shop_id=shop_id, access_token=answer.access_token)
                )
            }
        return TokenSet(
            access_token=answer.access_token,
            refresh_token=answer.refresh_token or "",
            access_expires_at=now + timedelta(seconds=answer.expires_in),
            refresh_expires_at=None,  # Tiki does not state the refresh token's lifetime
            shop_id=shop_id,
            extra=dict(extra),
        )

    async def exchange_code(self, code: str, shop_id: str | None = None) -> TokenSet:
        redirect = self.app.redirect_url
        answer = await self._token_call(auth.code_grant_form(code, redirect, self.app.app_key))
        return await self._token_set(answer, None, None)

    async def refresh_token(self, shop: ShopCredentials) -> TokenSet:
        """Refresh grant, or — for an in-house app without refresh token — the client-credentials grant."""
        form = (
            auth.refresh_grant_form(shop.refresh_token, self.app.app_key)
            if shop.refresh_token
            else auth.client_credentials_form()
        )
        answer = await self._token_call(form)
        return await self._token_set(answer, shop.shop_id, dict(shop.extra))

    # ------------------------------------------------------------------ items

    async def _warehouse(self, shop: ShopCredentials) -> str:
        if shop.extra.get("warehouse_id"):
            return shop.extra["warehouse_id"]
        data = await self._call("GET", "/integration/v2/sellers/me/warehouses", shop, idempotent=True)
        rows = data.get("data") or []
        if not rows:
            raise PermanentError("the seller has no warehouse", code="warehouse")
        return str(next((w for w in rows if w.get("is_default")), rows[0])["id"])

    async def upload_image(
        self, shop: ShopCredentials, data: bytes, filename: str = "image.jpg", public_url: str = ""
    ) -> UploadedImage:
        """Tiki has no media upload for product requests: it fetches each image from a public URL
        given in the request, so the "uploaded" image is that URL."""
        if not public_url:
            raise PermanentError("Tiki takes product images by public URL only: pass public_url",
                                 code="unsupported")
        return UploadedImage(image_id=public_url, url=public_url)

    async def create_item(self, shop: ShopCredentials, product: ProductInput) -> ItemRef:
        body = mapper.request_body(product, warehouse_id=int(await self._warehouse(shop)))
        out = await self._call("POST", "/integration/v2.1/requests", shop, body=body, idempotent=False)
        return ItemRef(external_id=str(out["track_id"]), seller_sku=product.key_sku, state="in_review")

    async def _product_id(self, shop: ShopCredentials, external_id: str) -> str:
        """A product id, following a track id to the approved product when needed."""
        if external_id.isdigit():
            return external_id
        tracking = await self._call("GET", f"/integration/v2/tracking/{external_id}", shop, idempotent=True)
        ids = tracking.get("product_ids") or []
        if tracking.get("state") != "approved" or not ids:
            raise PermanentError(
                f"request {external_id} is {tracking.get('state')}: Tiki only changes approved products",
                code="not_approved",
            )
        return str(ids[0])

    async def update_item(self, shop: ShopCredentials, external_id: str, product: ProductInput) -> None:
        """Content goes through Tiki's update-product request (reviewed); price and stock apply at once."""
        product_id = await self._product_id(shop, external_id)
        await self._call(
            "POST",
            "/integration/v2.1/requests/updateProductInfo",
            shop,
            body=mapper.update_info_body(product_id, product),
            idempotent=True,
        )
        await self.update_skus(shop, product_id, product.sku_numbers())

    async def update_price_stock(
        self, shop: ShopCredentials, external_id: str, seller_sku: str, price_vnd: int, stock: int
    ) -> None:
        body = mapper.update_sku_body(
            seller_sku, price_vnd=price_vnd, stock=stock, warehouse_id=int(await self._warehouse(shop))
        )
        await self._call("PUT", "/integration/v2/products/updateSku", shop, body=body, idempotent=True)

    async def update_skus(self, shop: ShopCredentials, external_id: str, skus: Sequence[SkuNumbers]) -> None:
        """``updateSku`` takes one SKU a call: one call per variant."""
        for sku in skus:
            await self.update_price_stock(shop, external_id, sku.seller_sku, sku.price_vnd, sku.stock)

    async def item_skus(self, shop: ShopCredentials, external_id: str) -> list[SkuNumbers]:
        product_id = await self._product_id(shop, external_id)
        return mapper.sku_numbers(await self._call("GET", f"/integration/v2/products/{product_id}", shop,
                                                   idempotent=True))

    async def unlist(self, shop: ShopCredentials, external_id: str, seller_sku: str = "") -> None:
        if not seller_sku:
            product = await self._call(
                "GET",
                f"/integration/v2/products/{await self._product_id(shop, external_id)}",
                shop,
                idempotent=True,
            )
            seller_sku = str(product["original_sku"])
        await self._call(
            "PUT",
            "/integration/v2/products/updateSku",
            shop,
            body=mapper.update_sku_body(seller_sku, active=False),
            idempotent=True,
        )

    async def item_status(self, shop: ShopCredentials, external_id: str) -> ItemStatus:
        if not external_id.isdigit():
            tracking = await self._call(
                "GET", f"/integration/v2/tracking/{external_id}", shop, idempotent=True
            )
            status = mapper.request_status(tracking, external_id)
            ids = tracking.get("product_ids") or []
            if tracking.get("state") != "approved" or not ids:
                return status
            external_id = str(ids[0])
        product = await self._call("GET", f"/integration/v2/products/{external_id}", shop, idempotent=True)
        return mapper.product_status(product)

    async def find_by_seller_sku(self, shop: ShopCredentials, seller_sku: str) -> ItemRef | None:
        """An approved product first; else the newest request for that SKU (in review or rejected)."""
        params = {"original_sku": seller_sku, "page": "1", "limit": "20"}
        products = await self._call("GET", "/integration/v2/products", shop, params=params, idempotent=True)
        for p in products.get("data") or []:
            if p.get("original_sku") == seller_sku:
                return ItemRef(
                    external_id=str(p["product_id"]),
                    seller_sku=seller_sku,
                    state=mapper.product_status(p).state,
                )
        requests = await self._call("GET", "/integration/v2/requests", shop, params=params, idempotent=True)
        for r in requests.get("data") or []:
            if r.get("track_id") and r.get("state") != "deleted":
                return ItemRef(
                    external_id=str(r["track_id"]),
                    seller_sku=seller_sku,
                    state=mapper.request_status(r, str(r["track_id"])).state,
                )
        return None

    # ------------------------------------------------------------------ orders

    async def orders_in_window(
        self, shop: ShopCredentials, since: datetime, until: datetime
    ) -> AsyncIterator[OrderRef]:
        seen: set[str] = set()
        for start, end in split_window(since, until, self.max_order_window):
            page = 1
            while True:
                params = {
                    "page": str(page),
                    "limit": str(PAGE_LIMIT),
                    "updated_from_date": mapper.fmt_time(start),
                    "updated_to_date": mapper.fmt_time(end),
                }
                out = await self._call("GET", "/integration/v2/orders", shop, params=params, idempotent=True)
                for order in out.get("data") or []:
                    ref = mapper.order_ref(order)
                    if ref.order_id not in seen:
                        seen.add(ref.order_id)
                        yield ref
                paging = out.get("paging") or {}
                if page >= int(paging.get("last_page") or 1):
                    break
                page += 1

    async def order_detail(self, shop: ShopCredentials, order_ids: Sequence[str]) -> list[MarketOrder]:
        out = []
        for code in order_ids:
            try:
                data = await self._call("GET", f"/integration/v2/orders/{code}", shop, idempotent=True)
            except NotFoundError:
                continue
            out.append(mapper.order_from_tiki(data))
        return out

    # ------------------------------------------------------------------ catalogue (cached)

    async def _cached(self, key: tuple[str, ...], path: str, shop: ShopCredentials) -> list[Any]:
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return list(hit[1])
        data = (await self._call("GET", path, shop, idempotent=True)).get("data") or []
        self._cache[key] = (time.monotonic() + CACHE_TTL_S, data)
        return list(data)

    async def category_tree(self, shop: ShopCredentials) -> list[Category]:
        return mapper.categories(await self._cached(("categories",), "/integration/v2/categories", shop))

    async def required_attributes(self, shop: ShopCredentials, category_id: str) -> list[AttributeSpec]:
        rows = await self._cached(
            ("attributes", category_id), f"/integration/v2/categories/{category_id}/attributes", shop
        )
        return mapper.attributes(rows)
