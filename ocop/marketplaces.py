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
class VariantRules:
    """What a marketplace accepts of a product's variants (``ocop.catalog.readiness`` names what is
    not met). ``ocop.catalog.variants`` already holds every product to the narrowest of these; a
    marketplace's own rule matters where it is narrower still (TikTok Shop's 50-character seller
    SKU) or adds a condition (per-SKU package size). ``unverified`` names the numbers taken from
    seller-centre help rather than the published API reference, to be checked against a live shop."""

    max_attributes: int
    max_variants: int
    name_max: int
    option_max: int
    sku_max: int
    images_on_first_attribute: bool
    """Variant photos belong to the options of the first attribute (Shopee's ``tier_variation``
    images, TikTok Shop's one image-carrying sales attribute): variants sharing a first option
    must share their photo."""
    unverified: tuple[str, ...] = ()


# Shopee v2.product.init_tier_variation: at most 2 tiers, options "under 20" characters, model
# count at most 50, model_sku at most 100 characters, option images only on the first tier. The
# 14-character tier name is Shopee seller centre's limit (the API only answers
# error_tier_var_name_too_long). TikTok Shop /product/202309/products: sales attribute names 1–20
# characters, values at most 50, at most 3 attributes, at most 300 SKUs outside the US and UK,
# seller_sku at most 50 characters, one attribute carries SKU images. Lazada's sale properties and
# Tiki's option1/option2 variants: limits not in their public API references, taken as Shopee's.
VARIANT_RULES: dict[str, VariantRules] = {
    "shopee": VariantRules(2, 50, 14, 20, 100, True, unverified=("name_max",)),
    "lazada": VariantRules(2, 50, 14, 20, 200, False,
                           unverified=("max_attributes", "max_variants", "name_max", "option_max", "sku_max")),
    "tiktok": VariantRules(3, 300, 20, 50, 50, True),
    "tiki": VariantRules(2, 50, 14, 20, 64, False,
                         unverified=("max_attributes", "max_variants", "name_max", "option_max", "sku_max")),
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
    variants: VariantRules


MARKETPLACES: dict[str, Marketplace] = {
    code: Marketplace(code, info.name, info.client, PROFILES[code], _REQUIRED[code], VARIANT_RULES[code])
    for code, info in CONNECTORS.items()
}
CODES: tuple[str, ...] = tuple(MARKETPLACES)
NAMES: dict[str, str] = {code: m.name for code, m in MARKETPLACES.items()}


def name_of(code: str | None, unknown: str = "") -> str:
    """Display name of a marketplace code; an unknown code is shown as it is."""
    return NAMES.get(code or "", code or unknown)
