"""What marketplace jobs need at run time, built once per worker (and once for the web app)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from redis.exceptions import RedisError

from connectors.base import AuthExpiredError, RetryableError, ShopCredentials

from ocop.marketplace.apps import MarketplaceEnv, build_env
from ocop.marketplace.crypto import TokenCipher
from ocop.settings import Settings

T = TypeVar("T")
MAX_REFRESHES = 3
REFRESH_LOCK_S = 10.0
"""How long the per-shop refresh lock lives without its holder renewing it. A worker killed while
refreshing leaves the lock behind, and the marketplace has already rotated the refresh token it
presented: the next holder must present that old token again soon, while the marketplace still
answers it with the new pair (the sandbox's reuse window is 60 s; real marketplaces' windows, if
any, are unverified). A lock lasting as long as the longest refresh call (60 s before) made the
next refresh come too late, the shop was marked "needs reconnecting" and every listing still to
publish on it failed: the live holder renews the lock instead (:func:`_renewed_lock`)."""
REFRESH_WAIT_S = 60.0
"""How long a worker waits for another's refresh of the same shop before trying later."""


@dataclass
class MarketRuntime:
    settings: Settings
    env: MarketplaceEnv
    cipher: TokenCipher
    redis: Any | None = None
    _local_locks: dict[int, asyncio.Lock] = field(default_factory=dict)

    async def aclose(self) -> None:
        await self.env.aclose()

    @contextlib.asynccontextmanager
    async def _shop_lock(self, shop_id: int) -> AsyncIterator[None]:
        if self.redis is None:
            async with self._local_locks.setdefault(shop_id, asyncio.Lock()):
                yield
            return
        async with _renewed_lock(self.redis, f"ocop:shop-refresh:{shop_id}"):
            yield

    async def with_fresh_token(self, shop: Any, op: Callable[[ShopCredentials], Awaitable[T]]) -> T:
        """Run ``op`` with the shop's credentials; on "token expired", refresh (serialised per shop,
        :meth:`refresh_shop`) and run it again. The one refresh-and-retry of the service: publishing,
        status and order sync all go through it.

        Raises ``AuthExpiredError`` only when the refresh itself is refused (the shop then needs
        reconnecting). A token refused again right after a successful refresh is a passing state:
        after ``MAX_REFRESHES`` such rounds it becomes a ``RetryableError``, to be tried later."""
        from ocop.marketplace import shops

        for _ in range(MAX_REFRESHES + 1):
            try:
                return await op(shops.credentials(shop, self.cipher))
            except AuthExpiredError as exc:
                expired = exc
                if not await self.refresh_shop(shop):
                    raise
        raise RetryableError(f"access token refused again after refreshing: {expired.message}") from expired

    async def refresh_shop(self, shop: Any) -> bool:
        """Refresh a shop's tokens once, whoever asks. Refresh tokens rotate, so two workers
        refreshing at the same time would make the loser's refresh token invalid and wrongly mark
        the shop "needs reconnecting": the refresh is serialised per shop (a Redis lock shared by
        all workers), and whoever waited re-reads the tokens the winner stored instead."""
        from ocop.marketplace import shops
        from ocop.marketplace.tables import Shop

        seen = shop.access_token_enc
        async with self._shop_lock(shop.id):
            fresh = await Shop.objects().where(Shop.id == shop.id).first()
            if fresh is not None and (fresh.access_token_enc != seen or fresh.status != "connected"):
                for column in ("access_token_enc", "refresh_token_enc", "access_expires_at", "refresh_expires_at",
                               "status", "extra"):
                    setattr(shop, column, getattr(fresh, column))
                return bool(fresh.status == "connected")
            return await shops.refresh(self.env, self.cipher, shop)


@contextlib.asynccontextmanager
async def _renewed_lock(redis: Any, name: str) -> AsyncIterator[None]:
    """A Redis lock of :data:`REFRESH_LOCK_S`, renewed every third of it while held: a live
    holder keeps it however long the marketplace takes, a dead one's lapses within seconds. Not
    getting it within :data:`REFRESH_WAIT_S` is a passing state (``RetryableError``), not a crash."""
    lock = redis.lock(name, timeout=REFRESH_LOCK_S, blocking_timeout=REFRESH_WAIT_S)
    if not await lock.acquire():
        raise RetryableError("another worker is still refreshing this shop's access")

    async def renew() -> None:
        while True:
            await asyncio.sleep(REFRESH_LOCK_S / 3)
            with contextlib.suppress(RedisError):  # a blip: renew at the next beat
                await lock.reacquire()

    renewer = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        with contextlib.suppress(RedisError):  # lapsed meanwhile (LockError is one): nothing to free
            await lock.release()


def cipher_for(settings: Settings) -> TokenCipher:
    old = [s.strip() for s in settings.old_secret_keys.split(",") if s.strip()]
    return TokenCipher(settings.resolved_secret_key(), old)


def build_runtime(settings: Settings, *, redis: Any | None = None, **env_options: Any) -> MarketRuntime:
    return MarketRuntime(settings=settings, env=build_env(settings, redis=redis, **env_options),
                         cipher=cipher_for(settings), redis=redis)
