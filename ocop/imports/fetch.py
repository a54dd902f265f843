"""Fetch image URLs from a catalogue without letting the file reach into our network (SSRF).

Defences, after the OWASP SSRF Prevention Cheat Sheet:
- only ``http`` and ``https``; no credentials in the URL;
- the host name is resolved once, **every** address it resolves to must be public
  (``ipaddress.is_global``: refuses private, loopback, link-local incl. 169.254.169.254 cloud
  metadata, CGNAT, multicast, reserved, unspecified, IPv4-mapped IPv6 of those);
- the connection goes to the checked address itself (Host header and TLS SNI keep the name), so a
  second DNS answer cannot swap in an internal address (DNS rebinding);
- redirects are followed by hand, at most :attr:`FetchLimits.max_redirects`, each one re-checked;
- the body is streamed and cut at :attr:`FetchLimits.max_bytes`; the whole fetch has a deadline.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from ocop.domain.errors import Explained

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], bool]
Resolver = Callable[[str, int], Awaitable[list[str]]]


def public_only(address: IPAddress) -> bool:
    """The production policy: only globally routable unicast addresses."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int = 20 * 1024 * 1024  # the photo upload limit (ocop.catalog.photos)
    timeout_s: float = 15.0
    max_redirects: int = 3


class FetchRefused(Explained):
    """The URL was not fetched; ``code`` says why (for the row report)."""


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


async def _checked_address(host: str, port: int, policy: AddressPolicy, resolver: Resolver) -> str:
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        candidates = [str(literal)]
    else:
        try:
            candidates = await resolver(host, port)
        except OSError as exc:
            raise FetchRefused("dns_failed", f"Không phân giải được tên miền {host}", f"Cannot resolve host {host}") from exc
    if not candidates:
        raise FetchRefused("dns_failed", f"Không phân giải được tên miền {host}", f"Cannot resolve host {host}")
    for candidate in candidates:
        if not policy(ipaddress.ip_address(candidate.split("%", 1)[0])):
            raise FetchRefused(
                "address_refused",
                f"Không tải ảnh từ địa chỉ nội bộ hoặc không công khai ({host} → {candidate})",
                f"Refusing to fetch from a private or non-public address ({host} → {candidate})",
            )
    return candidates[0]


async def fetch_image(
    url: str,
    *,
    client: httpx.AsyncClient,
    limits: FetchLimits = FetchLimits(),
    policy: AddressPolicy = public_only,
    resolver: Resolver = system_resolver,
) -> bytes:
    """Download ``url`` under the defences above; raise :class:`FetchRefused` on any refusal or failure.

    ``client`` must not follow redirects by itself (this function does, re-checking each hop).
    """
    try:
        async with asyncio.timeout(limits.timeout_s):
            return await _fetch(url, client, limits, policy, resolver)
    except TimeoutError as exc:
        raise FetchRefused("timeout", f"Quá thời gian tải ảnh: {url}", f"Timed out fetching image: {url}") from exc
    except httpx.HTTPError as exc:
        raise FetchRefused("fetch_failed", f"Không tải được ảnh: {url}", f"Could not fetch image: {url} ({type(exc).__name__})") from exc


async def _fetch(url: str, client: httpx.AsyncClient, limits: FetchLimits, policy: AddressPolicy, resolver: Resolver) -> bytes:
    for _ in range(limits.max_redirects + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchRefused("image_scheme", f"Chỉ nhận ảnh qua http/https: {url}", f"Only http/https URLs are fetched: {url}")
        if parts.username or parts.password:
            raise FetchRefused("url_credentials", "Đường dẫn ảnh không được chứa mật khẩu", "Image URLs must not carry credentials")
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = await _checked_address(host, port, policy, resolver)
        netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        host_header = host if parts.port is None else f"{host}:{parts.port}"
        request = client.build_request(
            "GET", target, headers={"Host": host_header, "Accept": "image/*"}, extensions={"sni_hostname": host}
        )
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            if response.is_redirect:
                location = response.headers.get("location", "")
                url = urljoin(url, location)
                continue
            if response.status_code != 200:
                raise FetchRefused(
                    "http_status", f"Máy chủ ảnh trả lỗi {response.status_code}: {url}",
                    f"Image server answered {response.status_code}: {url}",
                )
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise _too_big(limits)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limits.max_bytes:
                    raise _too_big(limits)
            return bytes(body)
        finally:
            await response.aclose()
    raise FetchRefused("too_many_redirects", f"Quá nhiều lần chuyển hướng: {url}", f"Too many redirects: {url}")


def _too_big(limits: FetchLimits) -> FetchRefused:
    mb = limits.max_bytes // (1024 * 1024)
    return FetchRefused("image_too_large", f"Ảnh lớn hơn {mb} MB", f"Image larger than {mb} MB")
