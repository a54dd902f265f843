"""Lazada Open Platform client (Vietnam).

Sources: Lazada Open Platform docs (open.lazada.com) — "API calling process"
(common parameters ``app_key``, ``timestamp`` in ms, ``sign_method``,
``access_token``, ``sign``; see ``signing.py``), "Seller authorization"
(``https://auth.lazada.com/oauth/authorize?response_type=code&force_auth=true&redirect_uri=…&client_id=…``,
``/auth/token/create`` with ``code``, ``/auth/token/refresh`` with
``refresh_token``; the answer carries ``expires_in``, ``refresh_expires_in``
and ``country_user_info``), and the product/order API pages. Parameters travel
as the official SDK sends them: the query string on GET, a form body on POST
(multipart when a file is attached).

``/orders/get`` has no documented maximum window; we cap requests at 30 days
so a long backfill is read in bounded slices (verify).
"""

from __future__ import annotations

import json
import re
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
    RetryableError,
    ShopCredentials,
    SkuNumbers,
    TokenSet,
    UploadedImage,
    split_window,
)
from connectors.cache import CATALOG_CACHE
from connectors.http import SharedHttp, parse_retry_after
from connectors.lazada import mapper, signing

API_URL_VN = "https://api.lazada.vn/rest"
AUTH_URL = "https://auth.lazada.com/rest"
AUTHORIZE_URL = "https://auth.lazada.com/oauth/authorize"
VN = timezone(timedelta(hours=7))
AUTH_EXPIRED_CODES = {"IllegalAccessToken", "InvalidAccessToken", "AccessTokenExpired"}
RATE_LIMIT_CODES = {"ApiCallLimit", "AppCallLimit", "SellerCallLimit"}
NOT_FOUND_CODES = {"ProductNotExist", "OrderNotExist"}


def classify(response: httpx.Response) -> ConnectorError | None:
    """Lazada answers most errors with HTTP 200 and a non-"0" ``code``."""
    try:
        body = response.json()
    except ValueError:
        if response.status_code < 400:
            return PermanentError(f"Lazada answered {response.status_code} with a body that is not JSON")
        return None
    if not isinstance(body, dict):
        return None
    code = str(body.get("code", "0"))
    if code == "0":
        return None
    message = str(body.get("message") or code)
    request_id = str(body.get("request_id") or "")
    if code in AUTH_EXPIRED_CODES:
        return AuthExpiredError(message, code=code, request_id=request_id)
    if code in RATE_LIMIT_CODES or response.status_code == 429:
        ban = re.search(r"(\d+) seconds", message)
        retry_after = parse_retry_after(response.headers.get("retry-after"), float(ban.group(1)) if ban else 1.0)
        return RateLimitedError(message, retry_after=retry_after, code=code, request_id=request_id)
    if response.status_code >= 500:
        return None
    if body.get("type") in ("ISP", "SYSTEM"):
        return RetryableError(message, code=code, request_id=request_id, outcome_unknown=True)
    if code in NOT_FOUND_CODES:
        return NotFoundError(message, code=code, request_id=request_id)
    return PermanentError(message, code=code, request_id=request_id)


def _iso(moment: datetime) -> str:
    return moment.astimezone(VN).isoformat(timespec="seconds")


class LazadaClient:
    marketplace = "lazada"
    max_order_window = timedelta(days=30)

    def __init__(self, app: AppCredentials, http: SharedHttp, base_url: str | None = None) -> None:
        self.app = app
        self.http = http
        if base_url:
            root = base_url.rstrip("/")
            self.api_url, self.auth_url, self.authorize_endpoint = f"{root}/rest", f"{root}/rest", f"{root}/oauth/authorize"
        else:
            self.api_url, self.auth_url, self.authorize_endpoint = API_URL_VN, AUTH_URL, AUTHORIZE_URL
        self._host = self.api_url

    # ------------------------------------------------------------------ plumbing

    def _signed(self, api: str, params: dict[str, Any], token: str | None) -> dict[str, str]:
        signed = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v)
                  for k, v in params.items()}
        signed.update({"app_key": self.app.app_key, "sign_method": signing.SIGN_METHOD,
                       "timestamp": str(int(time.time() * 1000))})
        if token:
            signed["access_token"] = token
        signed["sign"] = signing.sign(self.app.app_secret, api, signed)
        return signed

    async def _call(
        self, method: str, api: str, params: dict[str, Any], shop: ShopCredentials | None, *,
        idempotent: bool, file: tuple[str, bytes, str] | None = None, root: str | None = None,
    ) -> dict[str, Any]:
        url = (root or self.api_url) + api

        def build() -> httpx.Request:
            signed = self._signed(api, params, shop.access_token if shop else None)
            if method == "GET":
                return self.http.client.build_request("GET", url, params=signed)
            if file is not None:
                return self.http.client.build_request("POST", url, data=signed, files={"image": file})
            return self.http.client.build_request(
                "POST", url, content=urlencode(signed).encode(),
                headers={"content-type": "application/x-www-form-urlencoded;charset=utf-8"},
            )

        response = await self.http.send(
            build, idempotent=idempotent, classify=classify, marketplace=self.marketplace,
            app_key=self.app.app_key, shop_id=shop.shop_id if shop else None,
        )
        return response.json()  # type: ignore[no-any-return]

    async def _data(self, method: str, api: str, params: dict[str, Any], shop: ShopCredentials, **kw: Any) -> Any:
        return (await self._call(method, api, params, shop, **kw)).get("data")

    # ------------------------------------------------------------------ authorization

    def authorize_url(self, redirect_url: str, state: str = "") -> str:
        query = {"response_type": "code", "force_auth": "true", "redirect_uri": redirect_url,
                 "client_id": self.app.app_key}
        if state:
            query["state"] = state
        return f"{self.authorize_endpoint}?{urlencode(query)}"

    @staticmethod
    def _token_set(data: dict[str, Any]) -> TokenSet:
        now = datetime.now(timezone.utc)
        info = (data.get("country_user_info") or [{}])[0]
        seller_id = str(info.get("seller_id") or info.get("user_id") or "")
        refresh_in = data.get("refresh_expires_in")
        return TokenSet(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            access_expires_at=now + timedelta(seconds=int(data.get("expires_in", 0))),
            refresh_expires_at=now + timedelta(seconds=int(refresh_in)) if refresh_in else None,
            shop_id=seller_id,
            extra={"country": str(data.get("country", "")), "seller_id": seller_id,
                   "account": str(data.get("account", ""))},
        )

    async def exchange_code(self, code: str, shop_id: str | None = None) -> TokenSet:
        data = await self._call("POST", "/auth/token/create", {"code": code}, None, idempotent=False, root=self.auth_url)
        return self._token_set(data)

    async def refresh_token(self, shop: ShopCredentials) -> TokenSet:
        data = await self._call(
            "POST", "/auth/token/refresh", {"refresh_token": shop.refresh_token}, None, idempotent=False, root=self.auth_url
        )
        return self._token_set(data)

    # ------------------------------------------------------------------ media and items

    async def upload_image(
        self, shop: ShopCredentials, data: bytes, filename: str = "image.jpg", public_url: str = ""
    ) -> UploadedImage:
        """The image id Lazada products take is the uploaded image's URL."""
        mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        out = await self._data("POST", "/image/upload", {}, shop, idempotent=True, file=(filename, data, mime))
        url = str(out["image"]["url"])
        return UploadedImage(image_id=url, url=url)

    async def create_item(self, shop: ShopCredentials, product: ProductInput) -> ItemRef:
        doc = mapper.product_document(product)
        out = await self._data("POST", "/product/create", {"payload": doc}, shop, idempotent=False)
        return ItemRef(str(out["item_id"]), product.key_sku, "in_review")

    async def update_item(self, shop: ShopCredentials, external_id: str, product: ProductInput) -> None:
        doc = mapper.product_document(product, item_id=external_id)
        await self._data("POST", "/product/update", {"payload": doc}, shop, idempotent=True)

    async def update_price_stock(
        self, shop: ShopCredentials, external_id: str, seller_sku: str, price_vnd: int, stock: int
    ) -> None:
        doc = mapper.price_quantity_document(external_id, seller_sku, price_vnd, stock)
        await self._data("POST", "/product/price_quantity/update", {"payload": doc}, shop, idempotent=True)

    async def update_skus(self, shop: ShopCredentials, external_id: str, skus: Sequence[SkuNumbers]) -> None:
        doc = mapper.skus_price_quantity_document(external_id, skus)
        await self._data("POST", "/product/price_quantity/update", {"payload": doc}, shop, idempotent=True)

    async def item_skus(self, shop: ShopCredentials, external_id: str) -> list[SkuNumbers]:
        doc = await self._data("GET", "/product/item/get", {"item_id": external_id}, shop, idempotent=True)
        return mapper.sku_numbers(doc)

    async def unlist(self, shop: ShopCredentials, external_id: str, seller_sku: str = "") -> None:
        doc = mapper.deactivate_document(external_id, seller_sku)
        await self._data("POST", "/product/deactivate", {"apiRequestBody": doc}, shop, idempotent=True)

    async def item_status(self, shop: ShopCredentials, external_id: str) -> ItemStatus:
        doc = await self._data("GET", "/product/item/get", {"item_id": external_id}, shop, idempotent=True)
        raw = str(doc.get("status", ""))
        state, _ = mapper.item_state(raw)
        reason = ""
        qc = ""
        if state in ("in_review", "rejected", "banned"):
            skus = [s.get("SellerSku") for s in doc.get("skus") or [] if s.get("SellerSku")]
            entries = await self._data("GET", "/product/qc/status/get", {"seller_skus": skus}, shop, idempotent=True)
            for entry in entries or []:
                if str(entry.get("item_id", external_id)) == external_id:
                    qc, reason = str(entry.get("Status", "")), str(entry.get("Reason", ""))
        state, why = mapper.item_state(raw, qc, reason)
        return ItemStatus(external_id, state, why, raw)

    async def find_by_seller_sku(self, shop: ShopCredentials, seller_sku: str) -> ItemRef | None:
        """``/products/get`` filtered by ``sku_seller_list``; the oldest match wins."""
        out = await self._data(
            "GET", "/products/get", {"filter": "all", "sku_seller_list": [seller_sku], "offset": 0, "limit": 50},
            shop, idempotent=True,
        )
        matches = sorted(
            (p for p in out.get("products") or []
             if any(s.get("SellerSku") == seller_sku for s in p.get("skus") or [])),
            key=lambda p: int(p["item_id"]),
        )
        if not matches:
            return None
        return ItemRef(str(matches[0]["item_id"]), seller_sku, mapper.item_state(str(matches[0].get("status", "")))[0])

    # ------------------------------------------------------------------ orders

    async def orders_in_window(
        self, shop: ShopCredentials, since: datetime, until: datetime
    ) -> AsyncIterator[OrderRef]:
        seen: set[str] = set()
        for start, end in split_window(since, until, self.max_order_window):
            offset = 0
            while True:
                params = {"update_after": _iso(start), "update_before": _iso(end), "sort_by": "updated_at",
                          "sort_direction": "ASC", "offset": offset, "limit": 100}
                out = await self._data("GET", "/orders/get", params, shop, idempotent=True)
                orders = out.get("orders") or []
                for o in orders:
                    oid = str(o["order_id"])
                    if oid not in seen:
                        seen.add(oid)
                        yield OrderRef(oid, datetime.strptime(o["updated_at"], "%Y-%m-%d %H:%M:%S %z"),
                                       str((o.get("statuses") or [""])[0]))
                offset += len(orders)
                if not orders or offset >= int(out.get("countTotal", 0)):
                    break

    async def order_detail(self, shop: ShopCredentials, order_ids: Sequence[str]) -> list[MarketOrder]:
        result: list[MarketOrder] = []
        for i in range(0, len(order_ids), 50):
            chunk = [int(x) for x in order_ids[i: i + 50]]
            items = await self._data("GET", "/orders/items/get", {"order_ids": chunk}, shop, idempotent=True)
            by_order = {str(e["order_id"]): e.get("order_items") or [] for e in items or []}
            for oid in chunk:
                order = await self._data("GET", "/order/get", {"order_id": oid}, shop, idempotent=True)
                result.append(mapper.order_from_documents(order, by_order.get(str(oid), [])))
        return result

    # ------------------------------------------------------------------ categories

    async def category_tree(self, shop: ShopCredentials) -> list[Category]:
        """Cached for a day per marketplace host (``connectors.cache``)."""
        return await CATALOG_CACHE.get_or_load((self.marketplace, self._host, "tree"), lambda: self._category_tree(shop))

    async def _category_tree(self, shop: ShopCredentials) -> list[Category]:
        tree = await self._data("GET", "/category/tree/get", {"language_code": "vi_VN"}, shop, idempotent=True)
        out: list[Category] = []

        def walk(nodes: list[dict[str, Any]], parent: str | None) -> None:
            for node in nodes:
                cid = str(node["category_id"])
                out.append(Category(cid, str(node.get("name", "")), parent, bool(node.get("leaf"))))
                walk(node.get("children") or [], cid)

        walk(tree or [], None)
        return out

    async def required_attributes(self, shop: ShopCredentials, category_id: str) -> list[AttributeSpec]:
        """Cached for a day per marketplace host and category."""
        return await CATALOG_CACHE.get_or_load(
            (self.marketplace, self._host, "attributes", category_id), lambda: self._required_attributes(shop, category_id)
        )

    async def _required_attributes(self, shop: ShopCredentials, category_id: str) -> list[AttributeSpec]:
        attrs = await self._data(
            "GET", "/category/attributes/get", {"primary_category_id": category_id, "language_code": "vi_VN"},
            shop, idempotent=True,
        )
        return [
            AttributeSpec(str(a.get("name")), str(a.get("label") or a.get("name")), True, str(a.get("input_type", "")),
                          tuple(str(o.get("name")) for o in a.get("options") or []))
            for a in attrs or []
            if int(a.get("is_mandatory", 0)) == 1
        ]
