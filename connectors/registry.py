"""Pick the client for a marketplace: the one entry point ``ocop`` calls.

Clients are imported lazily so a marketplace whose module is being worked on
does not break the others.
"""

from __future__ import annotations

import importlib

from connectors.base import AppCredentials, MarketplaceClient
from connectors.http import SharedHttp

# marketplace → "module:ClassName"; each class takes (app, http, base_url).
_FACTORIES: dict[str, str] = {
    "shopee": "connectors.shopee.client:ShopeeClient",
    "lazada": "connectors.lazada.client:LazadaClient",
    "tiktok": "connectors.tiktok.client:TikTokClient",
    "tiki": "connectors.tiki.client:TikiClient",
}


def get_client(
    marketplace: str, app: AppCredentials, http: SharedHttp, base_url: str | None = None
) -> MarketplaceClient:
    """``base_url`` None → the marketplace's production hosts; the sandbox's is
    ``f"{sandbox}/{marketplace}"``. Nothing else differs between the two."""
    try:
        target = _FACTORIES[marketplace]
    except KeyError:
        raise ValueError(f"unknown marketplace {marketplace!r}; known: {', '.join(_FACTORIES)}") from None
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(app, http, base_url)  # type: ignore[no-any-return]


def marketplaces() -> tuple[str, ...]:
    return tuple(_FACTORIES)
