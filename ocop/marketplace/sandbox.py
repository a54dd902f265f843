"""The sandbox marketplace as the embedded default: configured with the app credentials this
service derives from OCOP_SECRET_KEY, so tokens it issues are the ones our clients sign for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.sandbox.config import PushConfig, SandboxAppConfig, SandboxConfig
from connectors.sandbox.push import PUSHING
from ocop.marketplace.apps import push_url, sandbox_apps
from ocop.settings import Settings


def sandbox_config(settings: Settings, **overrides: Any) -> SandboxConfig:
    """Our apps' credentials, and a 60 s reuse window on rotated refresh tokens so a refresh whose
    answer was lost can be retried (see SandboxState.rotate_refresh)."""
    apps = [SandboxAppConfig(m, a.app_key, a.app_secret) for m, a in sandbox_apps(settings).items()]
    return SandboxConfig.default(apps=apps, **{"refresh_reuse_grace_s": 60.0, **overrides})


def push_callbacks(settings: Settings) -> dict[str, PushConfig]:
    """Our push endpoints as the sandbox apps' callback URLs: ``ocop serve`` and ``ocop demo`` give
    them to the in-process sandbox, which then tells this service of changes as the marketplaces do."""
    return {m: PushConfig(callback_url=push_url(settings, m)) for m in PUSHING}


def start_embedded_sandbox(settings: Settings, **overrides: Any) -> tuple[str, Callable[[], None], Any]:
    from connectors.sandbox.server import start_in_thread

    return start_in_thread(sandbox_config(settings, **overrides), host="127.0.0.1", port=settings.sandbox_port,
                           quiet=True)
