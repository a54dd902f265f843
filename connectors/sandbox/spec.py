"""The extension point: what one marketplace emulation hands to the sandbox core.

Each module ``connectors/sandbox/<marketplace>.py`` exposes ``SPEC: MarketplaceSpec``.
The core mounts ``SPEC.router(state)`` under ``/<marketplace>`` and wraps the
API paths (``/<marketplace><api_prefix>...``) with fault injection, using the
module's own error answers so a client sees exactly what the marketplace sends.
On a marketplace's own port (``connectors.sandbox.app.OwnPorts``) the same router
answers at the root; modules build their links with :func:`marketplace_base_url`
so they work on either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from litestar import Request, Router

from connectors.sandbox.state import SandboxState

ErrorAnswer = tuple[int, dict[str, str], bytes]  # status, headers, body


@dataclass(frozen=True)
class MarketplaceSpec:
    name: str
    # Paths under the marketplace prefix that are API calls (fault injection applies).
    api_prefixes: tuple[str, ...]
    router: Callable[[SandboxState], Router]
    # The marketplace's answer when it rate-limits (argument: Retry-After seconds).
    rate_limited: Callable[[int], ErrorAnswer]
    # The marketplace's answer on an internal error.
    server_error: Callable[[], ErrorAnswer]
    # Whether a path (relative to the prefix) is a shop-level call carrying an access token.
    token_call: Callable[[str], bool]


def forced_expiry(request: Request) -> bool:
    """True when fault injection picked "expired token" for this request.

    The marketplace module then really expires the presented token before checking
    it, so the client gets the marketplace's genuine expired-token answer and a
    refresh is genuinely needed.
    """
    return request.scope.get("sandbox_fault") == "expired_token"  # type: ignore[comparison-overlap]


def relative_path(request: Request, marketplace: str) -> str:
    """The marketplace's own path: the ``/<marketplace>`` prefix belongs to the base URL."""
    path = request.scope["path"]
    prefix = "/" + marketplace
    return path[len(prefix):] if path.startswith(prefix) else path


OWN_PORT = "sandbox_own_port"
"""Scope key set on requests that arrived on a marketplace's own port (its paths at the root)."""


def marketplace_base_url(request: Request, marketplace: str) -> str:
    """Where the marketplace's own paths start, as the client reached them: ``http://host:port/<name>``
    on the combined port, ``http://host:port`` on the marketplace's own port."""
    base = str(request.base_url).rstrip("/")
    return base if request.scope.get(OWN_PORT) else f"{base}/{marketplace}"  # type: ignore[misc]
