"""TikTok Shop Partner API client (202309 versions) behind ``connectors.base.MarketplaceClient``.

Protocol facts and where they come from:
- Hosts: API ``https://open-api.tiktokglobalshop.com``; auth ``https://auth.tiktok-shops.com``
  (``/oauth/authorize?app_key=&state=``, ``GET /api/v2/token/get?app_key&app_secret&auth_code
  &grant_type=authorized_code``, ``GET /api/v2/token/refresh?…&grant_type=refresh_token``; no
  signature on those). Token answer: ``access_token``, ``access_token_expire_in`` and
  ``refresh_token_expire_in`` as **Unix timestamps** (not durations), ``open_id``,
  ``seller_name`` — TikTok Shop "Authorization overview" (202309/202407) and the public
  tiktokshop-php / Go SDK types. Lifetimes are read from the answer, never assumed.
- Every API call: query ``app_key``, ``timestamp`` (seconds), ``sign`` (see
  :mod:`connectors.tiktok.signing`), ``shop_cipher`` on shop-level calls (not on
  ``/authorization/…`` nor image upload, which refuse it); header ``x-tts-access-token``;
  ``content-type: application/json`` — "Sign your API request" and "Common parameters".
- The JSON body is serialised **once** and the same bytes are signed and sent on every attempt
  (the platform signs the raw body).
- Answers ``{code, message, request_id, data}``; ``code`` 0 is success. Error families
  (Partner Center "Common errors", mirrored by public SDK tests): ``105xxx`` access token
  (``105002`` expired) → :class:`AuthExpiredError`; ``106001`` bad sign → permanent (our
  configuration is wrong); ``36009002`` rate limit → :class:`RateLimitedError`;
  ``36009003``/``36009007`` internal → retryable; ``36009004`` is overloaded and classified by
  its message (token header → auth expired, else permanent).
- Order search (``POST /order/202309/orders/search``): body ``update_time_ge/lt``, query
  ``page_size`` ≤ 100 and ``page_token``; answer ``orders``, ``next_page_token``. Detail:
  ``GET /order/202309/orders?ids=`` with at most 50 ids. TikTok documents no maximum window for
  the search; we cut windows to :data:`MAX_ORDER_WINDOW` to keep each cursor short.
- Products: see :mod:`connectors.tiktok.mapper`; the seller SKU is searched with
  ``POST /product/202309/products/search`` body ``seller_skus``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

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
    RetryableError,
    ShopCredentials,
    SkuNumbers,
    TokenSet,
    UploadedImage,
    split_window,
)
from connectors.http import SharedHttp, parse_retry_after
from connectors.tiktok import mapper
from connectors.tiktok.signing import sign_request

API_BASE = "https://open-api.tiktokglobalshop.com"
AUTH_BASE = "https://auth.tiktok-shops.com"
VERSION = "202309"
PAGE_SIZE = 100
ORDER_IDS_MAX = 50
MAX_ORDER_WINDOW = timedelta(days=15)
CACHE_TTL_S = 24 * 3600

AUTH_CODES_TOKEN = frozenset({105001, 105002, 105003, 105004})
RETRYABLE_CODES = frozenset({36009003, 36009007})
NOT_FOUND_CODES = frozenset({12052048})


def classify(response: httpx.Response, *, idempotent: bool) -> ConnectorError | None:
    """TikTok's body code first; None lets the shared layer map the HTTP status."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or "code" not in body:
        return None
    code = body.get("code")
    if code == 0:
        return None
    message = str(body.get("message") or "")
    request_id = str(body.get("request_id") or "")
    kw = {"code": str(code), "request_id": request_id}
    if code == 36009002 or response.status_code == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return RateLimitedError(f"TikTok rate limit: {message}", retry_after=retry_after, **kw)
    if code in AUTH_CODES_TOKEN or (
        code == 36009004 and "access" in message.lower() and "token" in message.lower()
    ):
        return AuthExpiredError(f"TikTok access token: {message}", **kw)
    if code in RETRYABLE_CODES:
        return RetryableError(f"TikTok internal error: {message}", outcome_unknown=not idempotent, **kw)
    if code in NOT_FOUND_CODES:
        return NotFoundError(f"TikTok: {message}", **kw)
    return PermanentError(f"TikTok error {code}: {message}", **kw)


def _epoch(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


class TikTokClient:
    """One TikTok Shop app. Shop credentials (with ``extra["shop_cipher"]``) are passed per call."""

    marketplace = "tiktok"
    max_order_window = MAX_ORDER_WINDOW

    def __init__(
        self,
        app: AppCredentials,
        http: SharedHttp,
        base_url: str | None = None,
        *,
        auth_base_url: str | None = None,
    ) -> None:
        """``base_url`` None → production hosts; otherwise (the sandbox) both hosts live there
        unless ``auth_base_url`` (or ``app.extra["auth_base_url"]``) says otherwise."""
        self.app = app
        self.http = http
        self.base_url = (base_url or API_BASE).rstrip("/")
        auth = auth_base_url or app.extra.get("auth_base_url") or (base_url if base_url else AUTH_BASE)
        self.auth_base_url = auth.rstrip("/")
        self._cache: dict[tuple[str, ...], tuple[float, Any]] = {}

    # ------------------------------------------------------------------ transport

    async def _call(
        self,
        method: str,
        path: str,
        shop: ShopCredentials | None,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        form: dict[str, str] | None = None,
        cipher: bool = True,
        idempotent: bool,
    ) -> Any:
        raw = (
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() if body is not None else b""
        )

        def build() -> httpx.Request:
            q = {"app_key": self.app.app_key, "timestamp": str(int(time.time())), **(query or {})}
            if shop is not None and cipher:
                q["shop_cipher"] = shop.extra.get("shop_cipher", "")
            headers = {"x-tts-access-token": shop.access_token} if shop is not None else {}
            if files is not None:
                q["sign"] = sign_request(self.app.app_secret, path, q, content_type="multipart/form-data")
                return self.http.client.build_request(
                    method, self.base_url + path, params=q, headers=headers, files=files, data=form
                )
            headers["content-type"] = "application/json"
            q["sign"] = sign_request(self.app.app_secret, path, q, raw, content_type="application/json")
            return self.http.client.build_request(
                method,
                self.base_url + path,
                params=q,
                headers=headers,
                content=raw if body is not None else None,
            )

        response = await self.http.send(
            build,
            idempotent=idempotent,
            classify=lambda r: classify(r, idempotent=idempotent),
            marketplace=self.marketplace,
            app_key=self.app.app_key,
            shop_id=shop.shop_id if shop else None,
        )
        return response.json().get("data") or {}

    async def _auth(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        query = {"app_key": self.app.app_key, "app_secret": self.app.app_secret, **params}
        response = await self.http.send(
            lambda: self.http.client.build_request("GET", self.auth_base_url + path, params=query),
            idempotent=False,  # a code / refresh token is single-use: never replayed blindly
            classify=lambda r: classify(r, idempotent=False),
            marketplace=self.marketplace,
            app_key=self.app.app_key,
        )
        return response.json().get("data") or {}

    # ------------------------------------------------------------------ authorization

    def authorize_url(self, redirect_url: str, state: str = "") -> str:
        """Seller consent link. TikTok sends the seller back to the redirect URL registered in
        Partner Center; ``redirect_uri`` is added for the sandbox, which has no registry."""
        params = {"app_key": self.app.app_key, "state": state}
        if redirect_url:
            params["redirect_uri"] = redirect_url
        return f"{self.auth_base_url}/oauth/authorize?{urlencode(params)}"

    async def _token_set(
        self, data: dict[str, Any], shop_id: str | None, extra: dict[str, str] | None
    ) -> TokenSet:
        try:
            access, refresh = str(data["access_token"]), str(data["refresh_token"])
            access_exp, refresh_exp = (
                _epoch(data["access_token_expire_in"]),
                _epoch(data["refresh_token_expire_in"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentError("TikTok token answer lacks tokens or expiries", code="token") from exc
        if extra is None:
            probe = ShopCredentials(shop_id="", access_token=access)
            shops = (
                await self._call(
                    "GET", f"/authorization/{VERSION}/shops", probe, cipher=False, idempotent=True
                )
            ).get("shops") or []
            chosen = next((s for s in shops if shop_id is None or str(s.get("id")) == shop_id), None)
            if chosen is None:
                raise PermanentError("the authorization covers no (matching) shop", code="shop")
            shop_id = str(chosen["id"])
            extra = {"shop_cipher": str(chosen.get("cipher", "")), "open_id": str(data.get("open_id", ""))}
            # The default warehouse rides along with the credentials: every create needs it.
            with_cipher = ShopCredentials(shop_id=shop_id, access_token=access, extra=extra)
            extra["warehouse_id"] = await self._warehouse(with_cipher)
        return TokenSet(
            access_token=access,
            refresh_token=refresh,
            access_expires_at=access_exp,
            refresh_expires_at=refresh_exp,
            shop_id=shop_id or "",
            extra=extra,
        )

    async def exchange_code(self, code: str, shop_id: str | None = None) -> TokenSet:
        data = await self._auth("/api/v2/token/get", {"auth_code": code, "grant_type": "authorized_code"})
        return await self._token_set(data, shop_id, None)

    async def refresh_token(self, shop: ShopCredentials) -> TokenSet:
        data = await self._auth(
            "/api/v2/token/refresh", {"refresh_token": shop.refresh_token, "grant_type": "refresh_token"}
        )
        return await self._token_set(data, shop.shop_id, dict(shop.extra))

    # ------------------------------------------------------------------ items

    async def upload_image(
        self, shop: ShopCredentials, data: bytes, filename: str = "image.jpg", public_url: str = ""
    ) -> UploadedImage:
        mime = (
            "image/png"
            if filename.lower().endswith(".png")
            else "image/webp"
            if filename.lower().endswith(".webp")
            else "image/jpeg"
        )
        out = await self._call(
            "POST",
            f"/product/{VERSION}/images/upload",
            shop,
            files={"data": (filename, data, mime)},
            form={"use_case": "MAIN_IMAGE"},
            cipher=False,
            idempotent=True,  # the same bytes upload to the same image again
        )
        return UploadedImage(image_id=str(out["uri"]), url=str(out.get("url", "")))

    async def _warehouse(self, shop: ShopCredentials) -> str:
        if shop.extra.get("warehouse_id"):
            return shop.extra["warehouse_id"]
        key = ("warehouse", shop.shop_id)
        cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            return str(cached[1])
        data = await self._call("GET", f"/logistics/{VERSION}/warehouses", shop, idempotent=True)
        sales = [w for w in data.get("warehouses") or [] if w.get("effect_status", "ENABLED") == "ENABLED"]
        if not sales:
            raise PermanentError("the shop has no enabled warehouse", code="warehouse")
        wid = str(next((w for w in sales if w.get("is_default")), sales[0])["id"])
        self._cache[key] = (time.monotonic() + CACHE_TTL_S, wid)
        return wid

    async def create_item(self, shop: ShopCredentials, product: ProductInput) -> ItemRef:
        body = mapper.product_payload(product, warehouse_id=await self._warehouse(shop))
        out = await self._call("POST", f"/product/{VERSION}/products", shop, body=body, idempotent=False)
        return ItemRef(external_id=str(out["product_id"]), seller_sku=product.key_sku, state="in_review")

    async def update_item(self, shop: ShopCredentials, external_id: str, product: ProductInput) -> None:
        body = mapper.product_payload(product, warehouse_id=await self._warehouse(shop))
        # A full replace with the same document is idempotent.
        await self._call(
            "PUT", f"/product/{VERSION}/products/{external_id}", shop, body=body, idempotent=True
        )

    async def _product(self, shop: ShopCredentials, external_id: str) -> dict[str, Any]:
        data = await self._call("GET", f"/product/{VERSION}/products/{external_id}", shop, idempotent=True)
        return dict(data)

    async def update_price_stock(
        self, shop: ShopCredentials, external_id: str, seller_sku: str, price_vnd: int, stock: int
    ) -> None:
        sku = mapper.sku_for_seller_sku(await self._product(shop, external_id), seller_sku)
        if sku is None:
            raise NotFoundError(f"product {external_id} has no SKU {seller_sku!r}", code="sku")
        warehouse = str(
            ((sku.get("inventory") or [{}])[0]).get("warehouse_id") or await self._warehouse(shop)
        )
        base = f"/product/{VERSION}/products/{external_id}"
        # Both set absolute values: replaying them is harmless.
        await self._call(
            "POST",
            f"{base}/inventory/update",
            shop,
            body=mapper.inventory_update_body(str(sku["id"]), warehouse, stock),
            idempotent=True,
        )
        await self._call(
            "POST",
            f"{base}/prices/update",
            shop,
            body=mapper.price_update_body(str(sku["id"]), price_vnd),
            idempotent=True,
        )

    async def update_skus(self, shop: ShopCredentials, external_id: str, skus: Sequence[SkuNumbers]) -> None:
        """One inventory update and one prices update carrying every SKU (ids read first)."""
        product = await self._product(shop, external_id)
        found = []
        for numbers in skus:
            sku = mapper.sku_for_seller_sku(product, numbers.seller_sku)
            if sku is None:
                raise NotFoundError(f"product {external_id} has no SKU {numbers.seller_sku!r}", code="sku")
            warehouse = str(((sku.get("inventory") or [{}])[0]).get("warehouse_id") or await self._warehouse(shop))
            found.append((str(sku["id"]), warehouse, numbers))
        base = f"/product/{VERSION}/products/{external_id}"
        await self._call("POST", f"{base}/inventory/update", shop, idempotent=True,
                         body=mapper.inventories_update_body([(i, w, n.stock) for i, w, n in found]))
        await self._call("POST", f"{base}/prices/update", shop, idempotent=True,
                         body=mapper.prices_update_body([(i, n.price_vnd) for i, _, n in found]))

    async def item_skus(self, shop: ShopCredentials, external_id: str) -> list[SkuNumbers]:
        return mapper.sku_numbers(await self._product(shop, external_id))

    async def unlist(self, shop: ShopCredentials, external_id: str, seller_sku: str = "") -> None:
        out = await self._call(
            "POST",
            f"/product/{VERSION}/products/deactivate",
            shop,
            body={"product_ids": [external_id]},
            idempotent=True,
        )
        errors = out.get("errors") or []
        if errors:
            first = errors[0]
            raise PermanentError(
                f"deactivate refused: {first.get('message')}", code=str(first.get("code", ""))
            )

    async def item_status(self, shop: ShopCredentials, external_id: str) -> ItemStatus:
        return mapper.item_status(await self._product(shop, external_id))

    async def find_by_seller_sku(self, shop: ShopCredentials, seller_sku: str) -> ItemRef | None:
        out = await self._call(
            "POST",
            f"/product/{VERSION}/products/search",
            shop,
            query={"page_size": "20"},
            body={"seller_skus": [seller_sku]},
            idempotent=True,
        )
        for product in out.get("products") or []:
            if product.get("status") == "DELETED" or mapper.sku_for_seller_sku(product, seller_sku) is None:
                continue
            return ItemRef(
                external_id=str(product["id"]),
                seller_sku=seller_sku,
                state=mapper.PRODUCT_STATE.get(str(product.get("status"))),
            )
        return None

    # ------------------------------------------------------------------ orders

    async def orders_in_window(
        self, shop: ShopCredentials, since: datetime, until: datetime
    ) -> AsyncIterator[OrderRef]:
        """Orders whose update time falls in ``[since, until)``, window by window, page by page."""
        for start, end in split_window(since, until, self.max_order_window):
            body = {"update_time_ge": int(start.timestamp()), "update_time_lt": int(end.timestamp())}
            token = ""
            while True:
                query = {"page_size": str(PAGE_SIZE)}
                if token:
                    query["page_token"] = token
                out = await self._call(
                    "POST", f"/order/{VERSION}/orders/search", shop, query=query, body=body, idempotent=True
                )
                for order in out.get("orders") or []:
                    yield mapper.order_ref(order)
                token = str(out.get("next_page_token") or "")
                if not token:
                    break

    async def order_detail(self, shop: ShopCredentials, order_ids: Sequence[str]) -> list[MarketOrder]:
        out: list[MarketOrder] = []
        ids = list(order_ids)
        for i in range(0, len(ids), ORDER_IDS_MAX):
            chunk = ids[i : i + ORDER_IDS_MAX]
            data = await self._call(
                "GET", f"/order/{VERSION}/orders", shop, query={"ids": ",".join(chunk)}, idempotent=True
            )
            out.extend(mapper.order_from_tiktok(o) for o in data.get("orders") or [])
        return out

    # ------------------------------------------------------------------ catalogue (cached)

    async def _cached(self, key: tuple[str, ...], fetch: Any) -> Any:
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        value = await fetch()
        self._cache[key] = (time.monotonic() + CACHE_TTL_S, value)
        return value

    async def category_tree(self, shop: ShopCredentials) -> list[Category]:
        async def fetch() -> list[Category]:
            return mapper.categories(
                await self._call("GET", f"/product/{VERSION}/categories", shop, idempotent=True)
            )

        return list(await self._cached(("categories", shop.shop_id), fetch))

    async def required_attributes(self, shop: ShopCredentials, category_id: str) -> list[AttributeSpec]:
        """Every attribute of the leaf category, with its ``required`` flag."""

        async def fetch() -> list[AttributeSpec]:
            data = await self._call(
                "GET", f"/product/{VERSION}/categories/{category_id}/attributes", shop, idempotent=True
            )
            return mapper.attributes(data)

        return list(await self._cached(("attributes", shop.shop_id, category_id), fetch))
