"""Which marketplace endpoints and app credentials this process talks to.

Embedded default: the sandbox marketplace, whose app secrets are derived from OCOP_SECRET_KEY so
the serve process (which runs the sandbox) and any worker agree without sharing a file.
Production: the real hosts, with our partner-app credentials from OCOP_MARKETPLACES_FILE.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field

import httpx

from connectors.base import AppCredentials, MarketplaceClient
from connectors.http import Limits, RedisRateLimiter, SharedHttp
from connectors.registry import get_client
from ocop.marketplaces import CODES
from ocop.settings import Settings

# The sandbox's public app keys (the secrets are derived, see sandbox_apps).
SANDBOX_APP_KEYS = {"shopee": "2001887", "lazada": "120001", "tiktok": "6a1b2c3d4e5f", "tiki": "tiki-client-1"}


class MarketplaceConfigError(ValueError):
    pass


def callback_url(settings: Settings, marketplace: str) -> str:
    return f"{settings.base_url.rstrip('/')}/shops/callback/{marketplace}"


def push_url(settings: Settings, marketplace: str) -> str:
    """The push (webhook) URL to register with the marketplace (``ocop.marketplace.pushes``). Shopee
    signs exactly this URL, so it is the public one (``OCOP_BASE_URL``), not whatever address a
    request reached us on."""
    return f"{settings.base_url.rstrip('/')}/push/{marketplace}"


def sandbox_apps(settings: Settings) -> dict[str, AppCredentials]:
    secret = settings.resolved_secret_key().encode()
    apps = {}
    for market, key in SANDBOX_APP_KEYS.items():
        derived = hmac.new(secret, f"sandbox-app:{market}".encode(), hashlib.sha256).hexdigest()[:40]
        apps[market] = AppCredentials(marketplace=market, app_key=key, app_secret=derived,
                                      redirect_url=callback_url(settings, market))
    return apps


def sandbox_base_url(settings: Settings) -> str:
    return (settings.sandbox_url or f"http://127.0.0.1:{settings.sandbox_port}").rstrip("/")


@dataclass
class MarketplaceEnv:
    apps: dict[str, AppCredentials]
    base_urls: dict[str, str | None]
    http: SharedHttp
    _clients: dict[str, MarketplaceClient] = field(default_factory=dict)

    def client(self, marketplace: str) -> MarketplaceClient:
        if marketplace not in self.apps:
            raise MarketplaceConfigError(f"marketplace {marketplace!r} is not configured")
        if marketplace not in self._clients:
            self._clients[marketplace] = get_client(marketplace, self.apps[marketplace], self.http,
                                                    self.base_urls.get(marketplace))
        return self._clients[marketplace]

    async def aclose(self) -> None:
        await self.http.aclose()


def build_env(settings: Settings, *, redis: object | None = None, limits: dict[str, Limits] | None = None,
              apps: dict[str, AppCredentials] | None = None, sandbox_url: str | None = None,
              timeout_s: float = 10.0) -> MarketplaceEnv:
    """The environment for this process. ``redis`` enables the rate limit shared by all workers."""
    http = SharedHttp(client=httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=5.0),
                                               limits=httpx.Limits(max_connections=50)),
                      limiter=RedisRateLimiter(redis) if redis is not None else None,
                      limits=limits or {})
    if settings.sandbox:
        base = (sandbox_url or sandbox_base_url(settings)).rstrip("/")
        return MarketplaceEnv(apps=apps or sandbox_apps(settings),
                              base_urls={m: f"{base}/{m}" for m in CODES}, http=http)
    if settings.marketplaces_file is None:
        return MarketplaceEnv(apps=apps or {}, base_urls={}, http=http)
    raw = json.loads(settings.marketplaces_file.read_text(encoding="utf-8"))
    configured: dict[str, AppCredentials] = {}
    base_urls: dict[str, str | None] = {}
    for market, spec in raw.items():
        if market not in CODES:
            raise MarketplaceConfigError(f"unknown marketplace {market!r} in {settings.marketplaces_file}")
        configured[market] = AppCredentials(marketplace=market, app_key=str(spec["app_key"]),
                                            app_secret=str(spec["app_secret"]),
                                            redirect_url=callback_url(settings, market),
                                            extra={k: str(v) for k, v in spec.get("extra", {}).items()})
        base_urls[market] = spec.get("base_url")
    return MarketplaceEnv(apps=apps or configured, base_urls=base_urls, http=http)
