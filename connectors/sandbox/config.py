"""Configuration of the sandbox marketplace: apps, shops, lifetimes, review and faults.

Defaults follow the real marketplaces (Shopee: access token 4 hours, refresh
token 30 days — Shopee Open Platform "API calls" and "Authorization and
Authentication" guides; Lazada: ``expires_in``/``refresh_expires_in`` in the
token answer, 7 and 30 days on most apps). Tests shorten them to seconds.
Secrets are random per start unless given, and printed by ``server.run``.
"""

from __future__ import annotations

import secrets

import msgspec

from connectors.registry import MARKETPLACES as _REGISTRY

MARKETPLACES: tuple[str, ...] = tuple(_REGISTRY)
"""Every marketplace of ``connectors.registry``; each has an emulation module of the same name here."""


class SandboxAppConfig(msgspec.Struct, frozen=True):
    marketplace: str
    app_key: str
    app_secret: str
    name: str = "ocop-sandbox"


class SandboxShopConfig(msgspec.Struct, frozen=True):
    marketplace: str
    shop_id: str
    name: str
    region: str = "VN"


class FaultConfig(msgspec.Struct):
    """Probabilities (0..1) per API request, for one marketplace or all ("*").

    ``timeout_after_write``: the write takes effect, then the answer is held for
    ``timeout_delay_s`` (longer than the client's read timeout).
    ``next``: faults forced on the next API requests, in order (deterministic tests).
    Kinds: "5xx", "timeout_after_write", "429", "drop", "expired_token".
    """

    p_5xx: float = 0.0
    p_timeout_after_write: float = 0.0
    p_429: float = 0.0
    p_drop: float = 0.0
    p_expired_token: float = 0.0
    retry_after_s: int = 1
    timeout_delay_s: float = 3.0
    next: list[str] = msgspec.field(default_factory=list)


FAULT_KINDS = ("5xx", "timeout_after_write", "429", "drop", "expired_token")

#: How each marketplace retries a push that was not acknowledged (seconds before each retry).
#: Lazada: 12 retries, 30 minutes apart (its push guide). Shopee says only that pushes are retried
#: at intervals depending on the push; TikTok Shop does not publish its schedule: both unverified.
PUSH_RETRY_DELAYS_S: dict[str, list[float]] = {
    "shopee": [300.0, 1800.0, 3600.0],
    "lazada": [1800.0] * 12,
    "tiktok": [60.0, 300.0, 1800.0],
}


class PushConfig(msgspec.Struct):
    """Where and how the sandbox pushes one marketplace's events (its app's callback URL).

    Faults, as shares (0..1) of the pushes sent: ``p_loss`` never sent; ``p_duplicate`` sent twice;
    ``p_delay`` held ``delay_s`` first; ``p_reorder`` held a random time up to ``2 × delay_s``, so
    later pushes overtake it; ``p_bad_signature`` a forged copy with a wrong signature is sent as well
    (the real one still goes). ``retry_delays_s`` empty = the marketplace's own schedule
    (:data:`PUSH_RETRY_DELAYS_S`)."""

    callback_url: str = ""
    p_loss: float = 0.0
    p_duplicate: float = 0.0
    p_delay: float = 0.0
    p_reorder: float = 0.0
    p_bad_signature: float = 0.0
    delay_s: float = 2.0
    retry_delays_s: list[float] = msgspec.field(default_factory=list)
    timeout_s: float = 5.0


class ZaloAppConfig(msgspec.Struct):
    """The Zalo Official Account the sandbox's ZNS emulation serves (``/zalo``): its app id and
    secret key, the refresh token it starts with (single use, rotated on every refresh, as Zalo
    OAuth v4 does) and the approved templates, each with the ``template_data`` keys it needs."""

    app_id: str = "3910000000000000001"
    secret_key: str = msgspec.field(default_factory=lambda: secrets.token_urlsafe(15))
    refresh_token: str = msgspec.field(default_factory=lambda: secrets.token_urlsafe(32))
    access_token_ttl_s: int = 90000
    templates: dict[str, list[str]] = msgspec.field(default_factory=dict)


class SandboxConfig(msgspec.Struct):
    apps: list[SandboxAppConfig] = msgspec.field(default_factory=list)
    shops: list[SandboxShopConfig] = msgspec.field(default_factory=list)
    access_token_ttl_s: int = 4 * 3600
    refresh_token_ttl_s: int = 30 * 86400
    code_ttl_s: int = 600
    refresh_reuse_grace_s: float = 0.0
    """Seconds an already-used refresh token still answers its (unused) successor pair; see
    ``SandboxState.rotate_refresh``. 0 = strict rotation."""
    review_seconds: float = 5.0
    rejection_share: float = 0.15
    orders_per_hour: float = 2.0
    order_history_hours: float = 48.0
    seed: int = 20261125
    # Real per-app and per-shop call quotas (0 = unlimited), answered in each marketplace's words.
    app_calls_per_s: float = 0.0
    shop_calls_per_s: float = 0.0
    faults: dict[str, FaultConfig] = msgspec.field(default_factory=dict)
    pushes: dict[str, PushConfig] = msgspec.field(default_factory=dict)
    """Push (webhook) settings per marketplace: its app's callback URL and push faults."""
    push_scan_s: float = 0.25
    """How often the sandbox looks for changes to push (orders, reviews, bans)."""
    zalo: ZaloAppConfig = msgspec.field(default_factory=ZaloAppConfig)

    @classmethod
    def default(cls, **overrides: object) -> "SandboxConfig":
        """One app and two shops per marketplace, with fresh random secrets."""
        apps = [
            SandboxAppConfig("shopee", "2001887", secrets.token_hex(32)),
            SandboxAppConfig("lazada", "120001", secrets.token_urlsafe(24)),
            SandboxAppConfig("tiktok", "6a1b2c3d4e5f", secrets.token_hex(20)),
            SandboxAppConfig("tiki", "tiki-client-1", secrets.token_urlsafe(24)),
        ]
        shops = [
            SandboxShopConfig("shopee", "14701711", "HTX Nông sản Tam Quan"),
            SandboxShopConfig("shopee", "14701712", "Cơ sở Rượu Bàu Đá"),
            SandboxShopConfig("lazada", "200170001", "HTX Nông sản Tam Quan"),
            SandboxShopConfig("lazada", "200170002", "Cơ sở Nước mắm Gò Bồi"),
            SandboxShopConfig("tiktok", "7494001", "HTX Nông sản Tam Quan"),
            SandboxShopConfig("tiktok", "7494002", "Cơ sở Hồ tiêu Chư Sê"),
            SandboxShopConfig("tiki", "300001", "HTX Nông sản Tam Quan"),
            SandboxShopConfig("tiki", "300002", "Cơ sở Cà phê Gia Lai"),
        ]
        cfg = cls(apps=apps, shops=shops)
        for key, value in overrides.items():
            setattr(cfg, key, value)
        return cfg

    @classmethod
    def from_json(cls, data: bytes | str) -> "SandboxConfig":
        """A config file (same field names as this Struct); apps/shops missing from it get the defaults."""
        cfg = msgspec.json.decode(data, type=cls)
        default = cls.default()
        if not cfg.apps:
            cfg.apps = default.apps
        if not cfg.shops:
            cfg.shops = default.shops
        return cfg

    def app(self, marketplace: str) -> SandboxAppConfig:
        """The first app of a marketplace (what tests and the demo use)."""
        for a in self.apps:
            if a.marketplace == marketplace:
                return a
        raise KeyError(marketplace)

    def shops_of(self, marketplace: str) -> list[SandboxShopConfig]:
        return [s for s in self.shops if s.marketplace == marketplace]
