"""Plain helpers for connector tests: seller consent through the sandbox page, a real JPEG, a product."""

from __future__ import annotations

import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import httpx
from PIL import Image

from connectors.base import ProductInput


def grant(authorize_url: str, shop_id: str) -> dict[str, str]:
    """Play the seller: open the consent page, pick the shop, submit; return the redirect's query."""
    page = httpx.get(authorize_url, timeout=5)
    assert page.status_code == 200, page.text
    action = re.search(r"<form method='post' action='([^']+)'", page.text)
    assert action, page.text
    hidden = {k: html.unescape(v) for k, v in re.findall(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page.text)}
    answer = httpx.post(html.unescape(action.group(1)), data={**hidden, "shop_id": shop_id}, timeout=5)
    assert answer.status_code in (302, 303), answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


def jpeg_bytes(size: int = 600, color: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def product(sku: str, **overrides: object) -> ProductInput:
    values: dict[str, object] = dict(
        seller_sku=sku,
        name="Bánh tráng nước dừa Tam Quan",
        description="Bánh tráng làm thủ công từ gạo và nước dừa Tam Quan, nướng giòn trên than hồng.",
        price_vnd=45_000,
        stock=120,
        weight_g=250,
        length_cm=30,
        width_cm=20,
        height_cm=5,
        ocop_stars=4,
        certificate_number="1234/QĐ-UBND",
        certificate_issuer="UBND tỉnh Gia Lai",
        ocop_group=1,
        unit="gói 10 bánh",
    )
    values.update(overrides)
    return ProductInput(**values)  # type: ignore[arg-type]
