"""What marketplace jobs need at run time, built once per worker (and once for the web app)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocop.marketplace.apps import MarketplaceEnv, build_env
from ocop.marketplace.crypto import TokenCipher
from ocop.settings import Settings


@dataclass
class MarketRuntime:
    settings: Settings
    env: MarketplaceEnv
    cipher: TokenCipher

    async def aclose(self) -> None:
        await self.env.aclose()


def cipher_for(settings: Settings) -> TokenCipher:
    old = [s.strip() for s in settings.old_secret_keys.split(",") if s.strip()]
    return TokenCipher(settings.resolved_secret_key(), old)


def build_runtime(settings: Settings, *, redis: Any | None = None, **env_options: Any) -> MarketRuntime:
    return MarketRuntime(settings=settings, env=build_env(settings, redis=redis, **env_options),
                         cipher=cipher_for(settings))
