"""Shopee Open Platform v2 client.

Protocol facts and sources: see ``connectors/shopee/signing.py`` (signature,
5-minute timestamp window) and ``connectors/sandbox/shopee.py`` (paths, error
codes). Shopee guide "API calls": GET parameters go in the URL, POST business
parameters in a JSON body, common parameters always in the URL; "Authorization
and Authentication": authorize at ``/api/v2/shop/auth_partner?…&redirect=``,
code → ``/api/v2/auth/token/get``, refresh → ``/api/v2/auth/access_token/get``,
access token 4 hours, refresh token 30 days, the old refresh token stops working.
``get_order_list`` takes windows of at most 15 days with cursor pagination
(``more``/``next_cursor``, page_size ≤ 100); ``get_order_detail`` and
``get_item_base_info`` take at most 50 ids.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta, timezone
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
    ShopCredentials,
    SkuNumbers,
    TokenSet,
    UploadedImage,
    split_window,
)
from connectors.cache import CATALOG_CACHE
from connectors.http import SharedHttp, parse_retry_after
from connectors.shopee import mapper, signing

PRODUCTION_URL = "https://partner.shopeemobile.com"
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
AUTH_EXPIRED_CODES = {"invalid_acceess_token", "invalid_access_token", "error_access_token"}
RATE_LIMIT_CODES = {"error_rate_limit", "error_too_many_request"}


def classify(response: httpx.Response) -> ConnectorError | None:
    """Shopee's ``error`` field → typed outcome; 5xx without a usable body is left to SharedHttp."""
    try:
        body = response.json()
    except ValueError:
        if response.status_code < 400:
            return PermanentError(f"Shopee answered {response.status_code} with a body that is not JSON")
        return None
    if not isinstance(body, dict):
        return None
    code = str(body.get("error") or "")
    if not code:
        return None
    message = str(body.get("message") or code)
    request_id = str(body.get("request_id") or "")
    if code in AUTH_EXPIRED_CODES:
        return AuthExpiredError(message, code=code, request_id=request_id)
    if code in RATE_LIMIT_CODES or response.status_code == 429:
        return RateLimitedError(
            message, retry_after=parse_retry_after(response.headers.get("retry-after")), code=code,
            request_id=request_id,
        )
    if response.status_code >= 500:
        return None
    if code == "error_item_not_found":
        return NotFoundError(message, code=code, request_id=request_id)
    return PermanentError(message, code=code, request_id=request_id)


class ShopeeClient:
    marketplace = "shopee"
    max_order_window = timedelta(days=15)

    def __init__(self, app: AppCredentials, http: SharedHttp, base_url: str | None = None) -> None:
        self.app = app
        self.http = http
        self.base_url = (base_url or PRODUCTION_URL).rstrip("/")
        self.partner_id = int(app.app_key)
        self._host = self.base_url

    # ------------------------------------------------------------------ plumbing

    def _signed_url(self, path: str, shop: ShopCredentials | None, extra: dict[str, Any] | None = None) -> str:
        ts = int(time.time())
        params: dict[str, Any] = {"partner_id": self.partner_id, "timestamp": ts}
        if shop is None:
            params["sign"] = signing.sign(self.app.app_secret, self.partner_id, path, ts)
        else:
            params["access_token"] = shop.access_token
            params["shop_id"] = int(shop.shop_id)
            params["sign"] = signing.sign(
                self.app.app_secret, self.partner_id, path, ts, shop.access_token, int(shop.shop_id)
            )
        params.update(extra or {})
        return f"{self.base_url}{path}?{urlencode(params, doseq=True)}"

    async def _call(
        self,
        method: str,
        path: str,
        shop: ShopCredentials | None,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        idempotent: bool,
    ) -> dict[str, Any]:
        content = json.dumps(body, ensure_ascii=False).encode() if body is not None else None

        def build() -> httpx.Request:
            url = self._signed_url(path, shop, params)
            if files is not None:
                return self.http.client.build_request(method, url, files=files)
            headers = {"content-type": "application/json"} if content is not None else {}
            return self.http.client.build_request(method, url, content=content, headers=headers)

        response = await self.http.send(
            build, idempotent=idempotent, classify=classify, marketplace=self.marketplace,
            app_key=self.app.app_key, shop_id=shop.shop_id if shop else None,
        )
        data = response.json()
        return data  # type: ignore[no-any-return]

    async def _shop_call(self, method: str, path: str, shop: ShopCredentials, **kw: Any) -> dict[str, Any]:
        data = await self._call(method, path, shop, **kw)
        return data.get("response") or {}

    # ------------------------------------------------------------------ authorization

    def authorize_url(self, redirect_url: str, state: str = "") -> str:
        """The link to send the seller to. Signed now: Shopee refuses it after 5 minutes."""
        path = "/api/v2/shop/auth_partner"
        if state:
            redirect_url += ("&" if "?" in redirect_url else "?") + urlencode({"state": state})
        return self._signed_url(path, None, {"redirect": redirect_url})

    def _token_set(self, data: dict[str, Any], shop_id: str) -> TokenSet:
        now = datetime.now(timezone.utc)
        return TokenSet(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            access_expires_at=now + timedelta(seconds=int(data.get("expire_in", 4 * 3600))),
            refresh_expires_at=now + REFRESH_TOKEN_LIFETIME,
            shop_id=str(data.get("shop_id") or shop_id),
        )

    async def exchange_code(self, code: str, shop_id: str | None = None) -> TokenSet:
        if not shop_id:
            raise PermanentError("Shopee needs the shop_id that came back with the code")
        body = {"code": code, "shop_id": int(shop_id), "partner_id": self.partner_id}
        # A code is single-use: retrying after an unknown outcome cannot help, so not idempotent.
        data = await self._call("POST", "/api/v2/auth/token/get", None, body=body, idempotent=False)
        return self._token_set(data, shop_id)

    async def refresh_token(self, shop: ShopCredentials) -> TokenSet:
        body = {"refresh_token": shop.refresh_token, "shop_id": int(shop.shop_id), "partner_id": self.partner_id}
        data = await self._call("POST", "/api/v2/auth/access_token/get", None, body=body, idempotent=False)
        return self._token_set(data, shop.shop_id)

    # ------------------------------------------------------------------ media and items

    async def upload_image(
        self, shop: ShopCredentials, data: bytes, filename: str = "image.jpg", public_url: str = ""
    ) -> UploadedImage:
        mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        # Uploading the same bytes twice only leaves an unused copy in the media space: safe to retry.
        resp = await self._shop_call(
            "POST", "/api/v2/media_space/upload_image", shop, files={"image": (filename, data, mime)}, idempotent=True
        )
        info = resp.get("image_info") or {}
        urls = info.get("image_url_list") or [{}]
        return UploadedImage(image_id=str(info["image_id"]), url=str(urls[0].get("image_url", "")))

    async def create_item(self, shop: ShopCredentials, product: ProductInput) -> ItemRef:
        payload = mapper.add_item_payload(product)
        if product.variants:  # build the tiers before add_item refuses a wrong one halfway
            mapper.init_tier_variation_payload(0, product)
        resp = await self._shop_call("POST", "/api/v2/product/add_item", shop, body=payload, idempotent=False)
        status = str(resp.get("item_status", "REVIEWING"))
        if product.variants:
            # add_item makes an item without models; the tiers and their models come next. Should
            # this call fail, a retry adopts the item by its SKU and update_item sets them.
            await self._shop_call("POST", "/api/v2/product/init_tier_variation", shop,
                                  body=mapper.init_tier_variation_payload(int(resp["item_id"]), product), idempotent=True)
        return ItemRef(str(resp["item_id"]), product.key_sku, mapper.item_state(status, [])[0])

    async def update_item(self, shop: ShopCredentials, external_id: str, product: ProductInput) -> None:
        # Setting the same content twice is harmless: idempotent.
        payload = mapper.update_item_payload(int(external_id), product)
        await self._shop_call("POST", "/api/v2/product/update_item", shop, body=payload, idempotent=True)
        if product.variants:
            await self._sync_models(shop, int(external_id), product)
            await self.update_skus(shop, external_id, product.sku_numbers())
        else:
            await self.update_price_stock(shop, external_id, product.seller_sku, product.price_vnd, product.stock)

    async def _models(self, shop: ShopCredentials, item_id: int) -> dict[str, Any]:
        return await self._shop_call("GET", "/api/v2/product/get_model_list", shop, params={"item_id": item_id},
                                     idempotent=True)

    async def _sync_models(self, shop: ShopCredentials, item_id: int, product: ProductInput) -> None:
        """A variant added, removed or renamed: init_tier_variation when the item has no tiers yet,
        else update_tier_variation (names or options changed), update_model (a SKU renamed),
        delete_model and add_model."""
        doc = await self._models(shop, item_id)
        if not doc.get("tier_variation"):
            await self._shop_call("POST", "/api/v2/product/init_tier_variation", shop,
                                  body=mapper.init_tier_variation_payload(item_id, product), idempotent=True)
            return
        plan = mapper.model_plan(item_id, product, doc)
        if plan.restructure is not None:
            await self._shop_call("POST", "/api/v2/product/update_tier_variation", shop, body=plan.restructure,
                                  idempotent=True)
        if plan.renames:
            await self._shop_call("POST", "/api/v2/product/update_model", shop,
                                  body={"item_id": item_id, "model": plan.renames}, idempotent=True)
        for model_id in plan.deletes:
            await self._shop_call("POST", "/api/v2/product/delete_model", shop,
                                  body={"item_id": item_id, "model_id": model_id}, idempotent=True)
        if plan.adds:
            # Not idempotent: a retry after an unknown outcome re-plans from get_model_list instead.
            await self._shop_call("POST", "/api/v2/product/add_model", shop,
                                  body={"item_id": item_id, "model_list": plan.adds}, idempotent=False)

    async def update_skus(self, shop: ShopCredentials, external_id: str, skus: Sequence[SkuNumbers]) -> None:
        """One update_price and one update_stock carrying every model (model ids read first)."""
        item_id = int(external_id)
        doc = await self._models(shop, item_id)
        ids = {str(m.get("model_sku")): int(m["model_id"]) for m in doc.get("model") or []}
        if not ids and len(skus) == 1:  # an item without models
            ids = {skus[0].seller_sku: 0}
        missing = [s.seller_sku for s in skus if s.seller_sku not in ids]
        if missing:
            raise NotFoundError(f"Shopee item {external_id} has no model with SKU {', '.join(missing)}",
                                code="error_item_not_found")
        await self._shop_call(
            "POST", "/api/v2/product/update_price", shop, idempotent=True,
            body={"item_id": item_id, "price_list": [{"model_id": ids[s.seller_sku], "original_price": s.price_vnd}
                                                     for s in skus]})
        await self._shop_call(
            "POST", "/api/v2/product/update_stock", shop, idempotent=True,
            body={"item_id": item_id, "stock_list": [{"model_id": ids[s.seller_sku],
                                                      "seller_stock": [{"stock": max(s.stock, 0)}]} for s in skus]})

    async def item_skus(self, shop: ShopCredentials, external_id: str) -> list[SkuNumbers]:
        resp = await self._shop_call("GET", "/api/v2/product/get_item_base_info", shop,
                                     params={"item_id_list": external_id}, idempotent=True)
        items = resp.get("item_list") or []
        if not items:
            raise NotFoundError(f"Shopee item {external_id} not found", code="error_item_not_found")
        item = items[0]
        if item.get("has_model"):
            return [mapper.model_numbers(m) for m in (await self._models(shop, int(external_id))).get("model") or []]
        price = (item.get("price_info") or [{}])[0].get("original_price", 0)
        stock = ((item.get("stock_info_v2") or {}).get("summary_info") or {}).get("total_available_stock", 0)
        return [SkuNumbers(str(item.get("item_sku", "")), int(round(float(price))), int(stock))]

    async def update_price_stock(
        self, shop: ShopCredentials, external_id: str, seller_sku: str, price_vnd: int, stock: int
    ) -> None:
        item_id = int(external_id)
        await self._shop_call(
            "POST", "/api/v2/product/update_price", shop,
            body={"item_id": item_id, "price_list": [{"model_id": 0, "original_price": price_vnd}]}, idempotent=True,
        )
        await self._shop_call(
            "POST", "/api/v2/product/update_stock", shop,
            body={"item_id": item_id, "stock_list": [{"model_id": 0, "seller_stock": [{"stock": max(stock, 0)}]}]},
            idempotent=True,
        )

    async def unlist(self, shop: ShopCredentials, external_id: str, seller_sku: str = "") -> None:
        resp = await self._shop_call(
            "POST", "/api/v2/product/unlist_item", shop,
            body={"item_list": [{"item_id": int(external_id), "unlist": True}]}, idempotent=True,
        )
        failures = resp.get("failure_list") or []
        if failures:
            raise PermanentError(str(failures[0].get("failed_reason", "unlist failed")))

    async def item_status(self, shop: ShopCredentials, external_id: str) -> ItemStatus:
        resp = await self._shop_call(
            "GET", "/api/v2/product/get_item_base_info", shop, params={"item_id_list": external_id}, idempotent=True
        )
        items = resp.get("item_list") or []
        if not items:
            raise NotFoundError(f"Shopee item {external_id} not found", code="error_item_not_found")
        raw_status = str(items[0].get("item_status", ""))
        violations: list[dict[str, Any]] = []
        if raw_status == "BANNED":
            info = await self._shop_call(
                "GET", "/api/v2/product/get_item_violation_info", shop,
                params={"item_id_list": external_id}, idempotent=True,
            )
            for entry in info.get("item_list") or []:
                violations += entry.get("violation_list") or []
        state, reason = mapper.item_state(raw_status, violations)
        return ItemStatus(external_id, state, reason, raw_status)

    async def find_by_seller_sku(self, shop: ShopCredentials, seller_sku: str) -> ItemRef | None:
        """``search_item`` by ``item_sku``, confirmed by exact comparison (search may be fuzzy).
        The oldest match wins so every retry adopts the same item."""
        resp = await self._shop_call(
            "GET", "/api/v2/product/search_item", shop,
            params={"item_sku": seller_sku, "offset": 0, "page_size": 100}, idempotent=True,
        )
        ids = [str(i) for i in resp.get("item_id_list") or []]
        if not ids:
            return None
        info = await self._shop_call(
            "GET", "/api/v2/product/get_item_base_info", shop,
            params={"item_id_list": ",".join(ids[:50])}, idempotent=True,
        )
        exact = sorted(  # with variants the item's own SKU is the first variant's (mapper.add_item_payload)
            (i for i in info.get("item_list") or [] if str(i.get("item_sku")) == seller_sku),
            key=lambda i: int(i["item_id"]),
        )
        if not exact:
            return None
        first = exact[0]
        return ItemRef(str(first["item_id"]), seller_sku, mapper.item_state(str(first.get("item_status")), [])[0])

    # ------------------------------------------------------------------ orders

    async def orders_in_window(
        self, shop: ShopCredentials, since: datetime, until: datetime
    ) -> AsyncIterator[OrderRef]:
        """Orders whose update_time falls in [since, until], window by window, page by page.

        Shopee's bounds are inclusive, so an order updated on a window boundary is
        listed twice: yield each order once per call."""
        seen: set[str] = set()
        for start, end in split_window(since, until, self.max_order_window):
            cursor = ""
            while True:
                params = {
                    "time_range_field": "update_time", "time_from": int(start.timestamp()),
                    "time_to": int(end.timestamp()), "page_size": 100, "cursor": cursor,
                    "response_optional_fields": "order_status",
                }
                resp = await self._shop_call("GET", "/api/v2/order/get_order_list", shop, params=params, idempotent=True)
                for o in resp.get("order_list") or []:
                    if str(o["order_sn"]) not in seen:
                        seen.add(str(o["order_sn"]))
                        yield OrderRef(str(o["order_sn"]), None, str(o.get("order_status", "")))
                if not resp.get("more"):
                    break
                cursor = str(resp.get("next_cursor") or "")

    async def order_detail(self, shop: ShopCredentials, order_ids: Sequence[str]) -> list[MarketOrder]:
        out: list[MarketOrder] = []
        for i in range(0, len(order_ids), 50):
            chunk = order_ids[i: i + 50]
            resp = await self._shop_call(
                "GET", "/api/v2/order/get_order_detail", shop,
                params={"order_sn_list": ",".join(chunk), "response_optional_fields": "item_list,total_amount"},
                idempotent=True,
            )
            out += [mapper.order_from_detail(o) for o in resp.get("order_list") or []]
        return out

    # ------------------------------------------------------------------ categories

    async def category_tree(self, shop: ShopCredentials) -> list[Category]:
        """Cached for a day per marketplace host (``connectors.cache``)."""
        return await CATALOG_CACHE.get_or_load((self.marketplace, self._host, "tree"), lambda: self._category_tree(shop))

    async def _category_tree(self, shop: ShopCredentials) -> list[Category]:
        resp = await self._shop_call("GET", "/api/v2/product/get_category", shop, params={"language": "vi"}, idempotent=True)
        return [
            Category(
                str(c["category_id"]), str(c.get("display_category_name") or c.get("original_category_name")),
                str(c["parent_category_id"]) if c.get("parent_category_id") else None, not c.get("has_children"),
            )
            for c in resp.get("category_list") or []
        ]

    async def required_attributes(self, shop: ShopCredentials, category_id: str) -> list[AttributeSpec]:
        """Cached for a day per marketplace host and category."""
        return await CATALOG_CACHE.get_or_load(
            (self.marketplace, self._host, "attributes", category_id), lambda: self._required_attributes(shop, category_id)
        )

    async def _required_attributes(self, shop: ShopCredentials, category_id: str) -> list[AttributeSpec]:
        resp = await self._shop_call(
            "GET", "/api/v2/product/get_attributes", shop, params={"category_id": category_id, "language": "vi"},
            idempotent=True,
        )
        return [
            AttributeSpec(
                str(a["attribute_id"]), str(a.get("display_attribute_name") or a.get("original_attribute_name")),
                bool(a.get("is_mandatory")), str(a.get("input_type", "")),
                tuple(str(v.get("original_value_name")) for v in a.get("attribute_value_list") or []),
            )
            for a in resp.get("attribute_list") or []
            if a.get("is_mandatory")
        ]
