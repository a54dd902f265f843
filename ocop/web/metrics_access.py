"""Who may read ``/metrics``: the Prometheus text holds request counts per route and status, login
failures included, which is reconnaissance for anyone outside. Allowed are the client addresses of
``OCOP_METRICS_ALLOW`` (loopback by default, so a scraper or ``curl`` on the same machine keeps
working) and any client sending ``Authorization: Bearer <OCOP_METRICS_TOKEN>``; everyone else gets
403. The client address is the one uvicorn reports, i.e. the real client behind a trusted proxy
(``proxy_headers``, see ``ocop/cli/serve.py``)."""

from __future__ import annotations

import hmac
import ipaddress
from functools import cache
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from ocop.web.errors import ApiError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def networks(allow: str) -> tuple[Network, ...]:
    """The networks of an ``OCOP_METRICS_ALLOW`` value (a bare address is a /32 or /128)."""
    parts = (part.strip() for part in allow.split(","))
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)


def address_allowed(host: str, allow: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks(allow))


def token_allowed(connection: ASGIConnection[Any, Any, Any, Any], secret: str) -> bool:
    header = connection.headers.get("authorization", "")
    sent = header[7:].strip() if header[:7].lower() == "bearer " else ""
    return bool(secret) and bool(sent) and hmac.compare_digest(sent.encode(), secret.encode())


async def metrics_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    settings = connection.app.state.settings
    host = connection.client.host if connection.client else ""
    if address_allowed(host, settings.metrics_allow) or token_allowed(connection, settings.metrics_token):
        return
    raise ApiError(403, "metrics_forbidden",
                   "Metrics are only served to the configured addresses or with the metrics token.",
                   "Chỉ cung cấp số liệu giám sát cho các địa chỉ đã cấu hình hoặc khi có mã truy cập.")
