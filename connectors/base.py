"""The one protocol every marketplace client implements, and the plain values it speaks.

Why one protocol: the publishing and sync jobs in ``ocop`` must not know which
marketplace they talk to. Everything here is a plain
msgspec Struct or exception: ``connectors`` never imports ``ocop`` and the
values cross the package boundary unchanged.

Conventions
- Money is VND as ``int`` (VND has no minor unit).
- Times are timezone-aware ``datetime`` in UTC.
- The seller SKU is our stable listing key: every client can find an item by it
  again (``find_by_seller_sku``), which makes publishing idempotent across
  retries with an unknown outcome.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

import msgspec

Marketplace = Literal["shopee", "lazada", "tiktok", "tiki"]
ItemState = Literal["in_review", "live", "rejected", "banned", "unlisted", "deleted"]
OrderState = Literal[
    "unpaid", "ready_to_ship", "shipped", "delivered", "completed", "cancelled", "returned"
]


# --------------------------------------------------------------------------- credentials


class AppCredentials(msgspec.Struct, frozen=True):
    """Our partner app on one marketplace (Shopee partner_id/partner_key, Lazada app_key/app_secret...).

    ``redirect_url`` is where the marketplace sends the seller back after consent.
    ``repr`` hides the secret so it cannot leak through a log line or a traceback.
    """

    marketplace: str
    app_key: str
    app_secret: str
    redirect_url: str = ""
    extra: dict[str, str] = msgspec.field(default_factory=dict)

    def __repr__(self) -> str:
        return f"AppCredentials(marketplace={self.marketplace!r}, app_key={self.app_key!r}, app_secret=***)"


class ShopCredentials(msgspec.Struct, frozen=True):
    """One authorized shop: what a shop-level call needs.

    ``extra`` carries marketplace-specific identifiers that are not secrets
    (TikTok ``shop_cipher``, Lazada ``country``/``seller_id``).
    """

    shop_id: str
    access_token: str
    refresh_token: str = ""
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    extra: dict[str, str] = msgspec.field(default_factory=dict)

    def __repr__(self) -> str:
        return f"ShopCredentials(shop_id={self.shop_id!r}, access_token=***, refresh_token=***)"


class TokenSet(msgspec.Struct, frozen=True):
    """The answer of a code exchange or a refresh. Refresh tokens rotate: store the new one."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    shop_id: str
    extra: dict[str, str] = msgspec.field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"TokenSet(shop_id={self.shop_id!r}, access_expires_at={self.access_expires_at!r}, "
            "access_token=***, refresh_token=***)"
        )

    def shop(self) -> ShopCredentials:
        """The credentials shop-level calls take."""
        return ShopCredentials(
            shop_id=self.shop_id,
            access_token=self.access_token,
            refresh_token=self.refresh_token,
            access_expires_at=self.access_expires_at,
            refresh_expires_at=self.refresh_expires_at,
            extra=dict(self.extra),
        )


# --------------------------------------------------------------------------- our product


MAX_VARIATION_ATTRIBUTES = 2
"""Every marketplace takes at most two variation attributes we can rely on (Shopee's two tiers)."""


class VariationAttribute(msgspec.Struct, frozen=True):
    """One variation attribute of a product ("Dung tích": 250 ml, 500 ml), options in display order."""

    name: str
    options: tuple[str, ...]


class VariantInput(msgspec.Struct, frozen=True):
    """One variant (a Shopee model, a Lazada/TikTok/Tiki SKU). ``options`` holds one value per
    variation attribute, in the attributes' order; ``image_id`` is a marketplace image id from
    ``upload_image`` (empty: the product's main image stands for it)."""

    seller_sku: str
    options: tuple[str, ...]
    price_vnd: int
    stock: int
    weight_g: int = 0
    image_id: str = ""


class ProductInput(msgspec.Struct, frozen=True):
    """Our product as plain values: what every mapper takes.

    ``ocop_group`` is 1..6 (Decision 148/QĐ-TTg groups); ``category_id`` and
    ``attributes`` override the default category mapping when an admin set them.
    ``image_ids`` are marketplace image ids/urls returned by ``upload_image``,
    main image first.
    """

    seller_sku: str
    name: str
    description: str
    price_vnd: int
    stock: int
    weight_g: int
    length_cm: int
    width_cm: int
    height_cm: int
    ocop_stars: int
    certificate_number: str
    ocop_group: int
    image_ids: tuple[str, ...] = ()
    unit: str = ""
    brand: str | None = None
    certificate_issuer: str = ""
    category_id: str | None = None
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    variation: tuple[VariationAttribute, ...] = ()
    """0–2 attributes; empty: the product sells as one SKU (``seller_sku``, ``price_vnd``, ``stock``)."""
    variants: tuple[VariantInput, ...] = ()

    @property
    def key_sku(self) -> str:
        """The seller SKU an item is found again by (``find_by_seller_sku``): the first variant's
        when there are variants, since Lazada, TikTok Shop and Tiki know no SKU of the item itself."""
        return self.variants[0].seller_sku if self.variants else self.seller_sku

    def sku_numbers(self) -> tuple[SkuNumbers, ...]:
        """The price and stock of every SKU this product sells as."""
        if not self.variants:
            return (SkuNumbers(self.seller_sku, self.price_vnd, self.stock),)
        return tuple(SkuNumbers(v.seller_sku, v.price_vnd, v.stock) for v in self.variants)


class SkuNumbers(msgspec.Struct, frozen=True):
    """The price and stock of one SKU: what a partial push sends and what a read-back finds."""

    seller_sku: str
    price_vnd: int
    stock: int


# --------------------------------------------------------------------------- answers


class UploadedImage(msgspec.Struct, frozen=True):
    image_id: str
    url: str = ""


class ItemRef(msgspec.Struct, frozen=True):
    """An item on the marketplace, found or created."""

    external_id: str
    seller_sku: str
    state: ItemState | None = None


class ItemStatus(msgspec.Struct, frozen=True):
    external_id: str
    state: ItemState
    reason: str | None = None
    raw_status: str = ""


class OrderRef(msgspec.Struct, frozen=True):
    order_id: str
    updated_at: datetime | None = None
    raw_status: str = ""


class OrderLine(msgspec.Struct, frozen=True):
    seller_sku: str
    external_item_id: str
    name: str
    quantity: int
    unit_price_vnd: int
    total_vnd: int


class MarketOrder(msgspec.Struct, frozen=True):
    order_id: str
    status: OrderState
    raw_status: str
    created_at: datetime
    updated_at: datetime
    total_vnd: int
    lines: tuple[OrderLine, ...]


class Category(msgspec.Struct, frozen=True):
    category_id: str
    name: str
    parent_id: str | None
    leaf: bool


class AttributeSpec(msgspec.Struct, frozen=True):
    attribute_id: str
    name: str
    required: bool
    input_type: str = "text"
    options: tuple[str, ...] = ()


# --------------------------------------------------------------------------- typed outcomes


class ConnectorError(Exception):
    """Base of every outcome a client raises. ``code`` is the marketplace's own error code."""

    def __init__(self, message: str, *, code: str = "", request_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id


class RetryableError(ConnectorError):
    """Try again later. ``outcome_unknown`` means a write may have taken effect
    (timeout or dropped connection after sending): look the item up by seller SKU
    before creating it again."""

    def __init__(
        self, message: str, *, code: str = "", request_id: str = "", outcome_unknown: bool = False
    ) -> None:
        super().__init__(message, code=code, request_id=request_id)
        self.outcome_unknown = outcome_unknown


class RateLimitedError(RetryableError):
    """The marketplace (or our shared limiter) said slow down; wait ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float, code: str = "", request_id: str = "") -> None:
        super().__init__(message, code=code, request_id=request_id, outcome_unknown=False)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """The request is wrong and will stay wrong (validation, bad signature, unknown item)."""


class AuthExpiredError(ConnectorError):
    """The access token is expired or revoked: refresh it, then retry once."""


class NotFoundError(PermanentError):
    """The addressed item/order does not exist on the marketplace."""


# --------------------------------------------------------------------------- the protocol


@runtime_checkable
class MarketplaceClient(Protocol):
    """What ``ocop`` calls. One instance per (marketplace, app); shop credentials per call.

    Every method raises only ``ConnectorError`` subclasses for marketplace/transport
    failures. ``orders_in_window`` caps each request window to ``max_order_window``
    itself and follows the marketplace's pagination.
    """

    marketplace: str
    max_order_window: timedelta

    def authorize_url(self, redirect_url: str, state: str = "") -> str: ...

    async def exchange_code(self, code: str, shop_id: str | None = None) -> TokenSet: ...

    async def refresh_token(self, shop: ShopCredentials) -> TokenSet: ...

    async def upload_image(
        self, shop: ShopCredentials, data: bytes, filename: str = "image.jpg", public_url: str = ""
    ) -> UploadedImage:
        """``public_url``: where the same picture can be fetched; a marketplace that takes product
        images by URL instead of an upload (Tiki) answers with it and sends nothing."""
        ...

    async def create_item(self, shop: ShopCredentials, product: ProductInput) -> ItemRef: ...

    async def update_item(self, shop: ShopCredentials, external_id: str, product: ProductInput) -> None: ...

    async def update_price_stock(
        self, shop: ShopCredentials, external_id: str, seller_sku: str, price_vnd: int, stock: int
    ) -> None: ...

    async def update_skus(self, shop: ShopCredentials, external_id: str, skus: Sequence[SkuNumbers]) -> None:
        """Price and stock of several SKUs of one item through the partial endpoints, in as few
        calls as the marketplace allows (never a content update, so never a new review)."""
        ...

    async def item_skus(self, shop: ShopCredentials, external_id: str) -> list[SkuNumbers]:
        """What the marketplace shows now for each SKU of the item (price and stock)."""
        ...

    async def unlist(self, shop: ShopCredentials, external_id: str, seller_sku: str = "") -> None: ...

    async def item_status(self, shop: ShopCredentials, external_id: str) -> ItemStatus: ...

    async def find_by_seller_sku(self, shop: ShopCredentials, seller_sku: str) -> ItemRef | None: ...

    def orders_in_window(
        self, shop: ShopCredentials, since: datetime, until: datetime
    ) -> AsyncIterator[OrderRef]: ...

    async def order_detail(self, shop: ShopCredentials, order_ids: Sequence[str]) -> list[MarketOrder]: ...

    async def category_tree(self, shop: ShopCredentials) -> list[Category]: ...

    async def required_attributes(self, shop: ShopCredentials, category_id: str) -> list[AttributeSpec]: ...


def split_window(since: datetime, until: datetime, max_window: timedelta) -> list[tuple[datetime, datetime]]:
    """Cut ``[since, until)`` into consecutive windows no longer than the API allows.

    Shopee refuses ``get_order_list`` windows over 15 days, TikTok and Lazada have
    their own caps: callers ask for any range and the client splits it.
    """
    if until <= since:
        return []
    out: list[tuple[datetime, datetime]] = []
    start = since
    while start < until:
        end = min(start + max_window, until)
        out.append((start, end))
        start = end
    return out
