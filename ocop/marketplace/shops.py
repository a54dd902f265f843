"""Connecting a producer's marketplace shop: the real authorization redirect, the callback that
stores tokens encrypted, and refreshing them ahead of expiry.

The OAuth ``state`` is signed (HMAC with the secret key) and carries the producer, an expiry and
a random nonce, so a callback cannot attach a shop to someone else's account. The nonce binds the
state to the browser session that started the connection and makes it single-use
(``ocop.marketplace.oauth_state``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

from connectors.base import AuthExpiredError, ConnectorError, PermanentError, ShopCredentials, TokenSet
from ocop import db
from ocop.domain.errors import Refused
from ocop.events import outbox as alert_outbox
from ocop.marketplace.apps import MarketplaceEnv
from ocop.marketplace.crypto import TokenCipher
from ocop.marketplace.tables import Shop

STATE_TTL_S = 1800
REFRESH_AHEAD = timedelta(minutes=30)


class ShopConnectError(Refused):
    """A shop cannot be connected (bad state, refused code, shop taken)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_state(secret: str, producer_id: int, marketplace: str, now: float | None = None,
               nonce: str = "") -> str:
    body = _b64(json.dumps({"p": producer_id, "m": marketplace, "e": int((now or time.time()) + STATE_TTL_S),
                            "n": nonce}).encode())
    mac = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    return f"{body}.{mac}"


def verify_state(secret: str, state: str, marketplace: str, now: float | None = None) -> int:
    """The producer id inside a valid, unexpired state for this marketplace."""
    bad = ShopConnectError("bad_state", "The authorization link is invalid or expired; start again.",
                           "Liên kết ủy quyền không hợp lệ hoặc đã hết hạn, vui lòng thực hiện lại.")
    body, _, mac = state.partition(".")
    expected = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    if not body or not hmac.compare_digest(mac, expected):
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        raise bad from None
    if data.get("m") != marketplace or data.get("e", 0) < (now or time.time()):
        raise bad
    return int(data["p"])


def state_nonce(state: str) -> str:
    """The nonce inside a state already checked by :func:`verify_state` ("" for none)."""
    body = state.partition(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))).get("n") or "")


def authorize_url(env: MarketplaceEnv, secret: str, producer_id: int, marketplace: str,
                  nonce: str = "") -> str:
    client = env.client(marketplace)
    return client.authorize_url(env.apps[marketplace].redirect_url,
                                state=sign_state(secret, producer_id, marketplace, nonce=nonce))


def _extra(shop: Shop) -> dict[str, object]:
    """piccolo hands JSON columns back as text from ``objects()``."""
    return dict(db.json_value(shop.extra, {}))


def _apply_tokens(shop: Shop, tokens: TokenSet, cipher: TokenCipher) -> None:
    shop.access_token_enc = cipher.encrypt(tokens.access_token)
    shop.refresh_token_enc = cipher.encrypt(tokens.refresh_token)
    shop.access_expires_at = tokens.access_expires_at
    shop.refresh_expires_at = tokens.refresh_expires_at
    shop.extra = {**_extra(shop), **tokens.extra}
    shop.status = "connected"
    shop.updated_at = datetime.now(UTC)


async def complete_authorization(env: MarketplaceEnv, cipher: TokenCipher, secret: str, marketplace: str, *,
                                 code: str, state: str, shop_id: str | None = None) -> Shop:
    """Exchange the code and store (or re-connect) the shop for the producer named in ``state``."""
    producer_id = verify_state(secret, state, marketplace)
    try:
        tokens = await env.client(marketplace).exchange_code(code, shop_id)
    except ConnectorError as exc:
        raise ShopConnectError("exchange_failed", f"The marketplace refused the authorization: {exc.message}",
                               f"Sàn từ chối ủy quyền: {exc.message}") from exc
    existing = await Shop.objects().where((Shop.marketplace == marketplace)
                                          & (Shop.external_shop_id == tokens.shop_id)).first()
    if existing is not None and existing.producer != producer_id:
        raise ShopConnectError("shop_taken", "This shop is already connected to another producer.",
                               "Gian hàng này đã được kết nối với một chủ thể khác.")
    shop = existing or Shop(producer=producer_id, marketplace=marketplace, external_shop_id=tokens.shop_id)
    _apply_tokens(shop, tokens, cipher)
    shop.authorization_expires_at = None  # a new consent: the marketplace's expiry warning no longer holds
    await shop.save()
    return shop


def credentials(shop: Shop, cipher: TokenCipher) -> ShopCredentials:
    extra = _extra(shop)
    return ShopCredentials(shop_id=shop.external_shop_id, access_token=cipher.decrypt(shop.access_token_enc),
                           refresh_token=cipher.decrypt(shop.refresh_token_enc),
                           access_expires_at=shop.access_expires_at, refresh_expires_at=shop.refresh_expires_at,
                           extra={k: str(v) for k, v in extra.items()})


async def refresh(env: MarketplaceEnv, cipher: TokenCipher, shop: Shop) -> bool:
    """Refresh the shop's tokens (they rotate: the old refresh token stops working). A permanent
    refusal marks the shop "needs reconnecting"; a transient failure leaves it for the next run."""
    shop.extra = _extra(shop)
    try:
        tokens = await env.client(shop.marketplace).refresh_token(credentials(shop, cipher))
    except (PermanentError, AuthExpiredError) as exc:
        await mark_needs_reauth(shop, exc.message)
        return False
    _apply_tokens(shop, tokens, cipher)
    await shop.save()
    return True


async def mark_needs_reauth(shop: Shop, why: str) -> None:
    """The one place a shop becomes "needs reconnecting": its producer and the area's staff are
    alerted in the same transaction, once per time it happens (not on every failed attempt)."""
    now = datetime.now(UTC)
    engine = Shop._meta.db
    async with (contextlib.nullcontext() if engine.current_transaction.get() else db.write_transaction(engine)):
        changed = await Shop.update({Shop.status: "needs_reauth", Shop.updated_at: now}).where(
            (Shop.id == shop.id) & (Shop.status != "needs_reauth")).returning(Shop.id)
        if changed:
            await alert_outbox.record(alert_outbox.SHOP_REAUTH, shop.producer, shop=shop.id, at=now,
                                      payload={"marketplace": shop.marketplace, "shop_name": shop.name,
                                               "why": why[:500]})
    shop.status = "needs_reauth"
    shop.updated_at = now


def due_for_refresh(shop: Shop, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return shop.status == "connected" and (shop.access_expires_at is None
                                           or shop.access_expires_at - REFRESH_AHEAD <= now)
