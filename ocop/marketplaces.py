"""The marketplaces ocop publishes to: one registry that every list, name, image profile and
readiness rule derives from.

``connectors.registry`` knows each marketplace's protocol client and ``media.profiles`` its photo
rules; neither knows the other, so this is where the two meet, with what ocop itself adds per
marketplace (the product fields its item-creation call requires). Forms, filters, the dashboard, the
shops page and readiness all read :data:`MARKETPLACES`; a test checks every marketplace of
``connectors`` has its profile, its sandbox emulation and its entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.base import MarketplaceClient
from connectors.registry import MARKETPLACES as CONNECTORS
from media.profiles import PROFILES, Profile

# Required fields follow each marketplace's item-creation call (shared reference, "marketplaces"):
# Shopee ``add_item`` (item_name, description, original_price, seller_stock, weight; dimensions are
# optional there), Lazada ``/product/create``, TikTok Shop ``/product/202309/products`` and Tiki's
# product request (name, description, price, stock, package weight and dimensions). Every listing also
# needs a valid OCOP certificate: that is the point of the service.
_WITH_DIMENSIONS = ("name", "description", "price_vnd", "weight_g", "dimensions", "stock", "certificate")
_REQUIRED: dict[str, tuple[str, ...]] = {
    "shopee": tuple(f for f in _WITH_DIMENSIONS if f != "dimensions"),
    "lazada": _WITH_DIMENSIONS,
    "tiktok": _WITH_DIMENSIONS,
    "tiki": _WITH_DIMENSIONS,
}


@dataclass(frozen=True, slots=True)
class Marketplace:
    code: str
    name: str
    client: type[MarketplaceClient]
    profile: Profile
    """The photo rules its renditions are made to (``media.profiles``)."""
    required: tuple[str, ...]
    """Product fields its item-creation call needs (``ocop.catalog.readiness`` names them)."""


MARKETPLACES: dict[str, Marketplace] = {
    code: Marketplace(code, info.name, info.client, PROFILES[code], _REQUIRED[code])
    for code, info in CONNECTORS.items()
}
CODES: tuple[str, ...] = tuple(MARKETPLACES)
NAMES: dict[str, str] = {code: m.name for code, m in MARKETPLACES.items()}


def name_of(code: str | None, unknown: str = "") -> str:
    """Display name of a marketplace code; an unknown code is shown as it is."""
    return NAMES.get(code or "", code or unknown)
