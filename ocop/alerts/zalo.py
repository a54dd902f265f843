"""Sending alerts through Zalo ZNS: which Official Account (the real one, or the sandbox's Zalo
emulation with credentials derived from the secret key), and its tokens, kept encrypted in the
database because Zalo's refresh tokens are single use."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import AuthExpiredError, PermanentError
from connectors.sandbox.config import ZaloAppConfig
from connectors.zalo.client import Sent, ZnsClient
from ocop.alerts.kinds import sandbox_templates
from ocop.alerts.tables import ZaloOaToken
from ocop.marketplace.apps import sandbox_base_url
from ocop.marketplace.crypto import TokenCipher
from ocop.settings import Settings

SANDBOX_APP_ID = "3910000000000000001"
REFRESH_AHEAD = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ZaloAccount:
    app_id: str
    secret_key: str
    refresh_token: str
    api_url: str
    oauth_url: str


def _derived(settings: Settings, purpose: str) -> str:
    return hmac.new(settings.resolved_secret_key().encode(), f"sandbox-zalo:{purpose}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def sandbox_app(settings: Settings) -> ZaloAppConfig:
    """The Official Account the sandbox's Zalo emulation serves for this service: the same
    derived credentials on both sides, and our templates registered."""
    return ZaloAppConfig(app_id=SANDBOX_APP_ID, secret_key=_derived(settings, "secret"),
                         refresh_token=_derived(settings, "refresh"), templates=sandbox_templates(settings))


def account(settings: Settings) -> ZaloAccount | None:
    """The configured Official Account (``OCOP_ZALO_*``), else the sandbox's, else None (no Zalo)."""
    if settings.zalo_app_id:
        return ZaloAccount(settings.zalo_app_id, settings.zalo_secret_key, settings.zalo_refresh_token,
                           settings.zalo_api_url, settings.zalo_oauth_url)
    if settings.sandbox:
        base = f"{sandbox_base_url(settings)}/zalo"
        app = sandbox_app(settings)
        return ZaloAccount(app.app_id, app.secret_key, app.refresh_token, f"{base}/business", f"{base}/oauth")
    return None


class ZaloSender:
    """Sends one template message, refreshing the OA token ahead of expiry or when Zalo refuses it
    (-124). Refreshes are serialised (a Redis lock across workers) because the refresh token is
    single use: two workers refreshing at once would leave one of them with a dead token."""

    def __init__(self, acct: ZaloAccount, cipher: TokenCipher, redis: Any | None = None,
                 timeout_s: float = 10.0) -> None:
        self.account = acct
        self.cipher = cipher
        self.redis = redis
        self.client = ZnsClient(app_id=acct.app_id, secret_key=acct.secret_key, api_url=acct.api_url,
                                oauth_url=acct.oauth_url, timeout_s=timeout_s)

    async def aclose(self) -> None:
        await self.client.aclose()

    @contextlib.asynccontextmanager
    async def _lock(self) -> AsyncIterator[None]:
        if self.redis is None:
            yield
            return
        async with self.redis.lock(f"ocop:zalo-refresh:{self.account.app_id}", timeout=30, blocking_timeout=30):
            yield

    async def _row(self) -> ZaloOaToken | None:
        return await ZaloOaToken.objects().where(ZaloOaToken.app_id == self.account.app_id).first()

    async def access_token(self, *, stale: str = "") -> str:
        """A usable access token; ``stale`` is one Zalo just refused (refresh unless another
        worker already did)."""
        row = await self._row()
        now = datetime.now(UTC)
        if row is not None and row.access_token_enc and row.access_expires_at and \
                row.access_expires_at - REFRESH_AHEAD > now:
            token = self.cipher.decrypt(row.access_token_enc)
            if token != stale:
                return token
        async with self._lock():
            row = await self._row()
            if row is not None and row.access_token_enc and row.access_expires_at and \
                    row.access_expires_at - REFRESH_AHEAD > now:
                token = self.cipher.decrypt(row.access_token_enc)
                if token != stale:
                    return token
            stored = self.cipher.decrypt(row.refresh_token_enc) if row is not None and row.refresh_token_enc else ""
            tokens = None
            for candidate in dict.fromkeys(t for t in (stored, self.account.refresh_token) if t):
                # The stored (latest rotated) token first; the configured one after it, for an
                # operator who pasted a new token, or a sandbox that started afresh.
                try:
                    tokens = await self.client.refresh(candidate)
                    break
                except PermanentError:
                    continue
            if tokens is None:
                raise AuthExpiredError("Zalo OAuth refused every refresh token we hold")
            row = row or ZaloOaToken(app_id=self.account.app_id)
            row.access_token_enc = self.cipher.encrypt(tokens.access_token)
            row.refresh_token_enc = self.cipher.encrypt(tokens.refresh_token)
            row.access_expires_at = tokens.access_expires_at
            row.updated_at = now
            await row.save()
            return tokens.access_token

    async def send(self, *, phone: str, template_id: str, data: dict[str, str], tracking_id: str) -> Sent:
        token = await self.access_token()
        try:
            return await self.client.send_template(token, phone=phone, template_id=template_id, template_data=data,
                                                   tracking_id=tracking_id)
        except AuthExpiredError:
            token = await self.access_token(stale=token)
            return await self.client.send_template(token, phone=phone, template_id=template_id, template_data=data,
                                                   tracking_id=tracking_id)
