"""The marketplaces this package speaks, in one list: code, display name and client class.

Every other list of marketplaces derives from :data:`MARKETPLACES` (the sandbox's emulations, and in
``ocop`` the registry that adds image profiles and readiness rules). Adding a marketplace starts here;
the checklist is in ``connectors/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.base import AppCredentials, MarketplaceClient
from connectors.http import SharedHttp
from connectors.lazada.client import LazadaClient
from connectors.shopee.client import ShopeeClient
from connectors.tiki.client import TikiClient
from connectors.tiktok.client import TikTokClient


@dataclass(frozen=True, slots=True)
class MarketplaceInfo:
    code: str
    """Stable key in URLs, tables and configuration."""
    name: str
    """Display name (a brand: the same in every language)."""
    client: type[MarketplaceClient]
    """Takes ``(app, http, base_url)``; ``base_url`` None means the production hosts."""


MARKETPLACES: dict[str, MarketplaceInfo] = {
    info.code: info
    for info in (
        MarketplaceInfo("shopee", "Shopee", ShopeeClient),
        MarketplaceInfo("lazada", "Lazada", LazadaClient),
        MarketplaceInfo("tiktok", "TikTok Shop", TikTokClient),
        MarketplaceInfo("tiki", "Tiki", TikiClient),
    )
}


def get_client(
    marketplace: str, app: AppCredentials, http: SharedHttp, base_url: str | None = None
) -> MarketplaceClient:
    """``base_url`` None → the marketplace's production hosts; the sandbox's is
    ``f"{sandbox}/{marketplace}"``. Nothing else differs between the two."""
    try:
        info = MARKETPLACES[marketplace]
    except KeyError:
        raise ValueError(f"unknown marketplace {marketplace!r}; known: {', '.join(MARKETPLACES)}") from None
    return info.client(app, http, base_url)  # type: ignore[call-arg]


def marketplaces() -> tuple[str, ...]:
    return tuple(MARKETPLACES)
