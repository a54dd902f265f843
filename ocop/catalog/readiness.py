"""What each marketplace still needs before a product can be published — computed purely from the
product's data, its certificate and its photos' renditions (no I/O).

Required fields and photo profiles per marketplace come from the registry (``ocop.marketplaces``:
a rendition exists only when the source was big enough for the marketplace's profile, e.g. Shopee
needs a square picture of at least 500 px).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ocop.marketplaces import MARKETPLACES

_FIELDS = {  # field -> (vi, en)
    "name": ("tên sản phẩm", "product name"),
    "description": ("mô tả", "description"),
    "price_vnd": ("giá bán", "price"),
    "weight_g": ("khối lượng", "weight"),
    "dimensions": ("kích thước đóng gói", "package dimensions"),
    "stock": ("tồn kho", "stock"),
    "certificate": ("chứng nhận OCOP còn hiệu lực", "a valid OCOP certificate"),
}
@dataclass(frozen=True, slots=True)
class Readiness:
    marketplace: str
    missing: tuple[str, ...]
    """Stable codes: field names, or ``photo``."""
    message_vi: str
    message_en: str
    ready_count: int
    total: int

    @property
    def ready(self) -> bool:
        return not self.missing


def _has(product: dict[str, Any], field: str, certificate: dict[str, Any] | None, today: date) -> bool:
    if field == "dimensions":
        return all(product.get(k) for k in ("length_mm", "width_mm", "height_mm"))
    if field == "certificate":
        return certificate is not None and (
            certificate.get("expires_on") is None or certificate["expires_on"] >= today
        )
    if field == "stock":
        return (product.get("stock") or 0) > 0
    value = product.get(field)
    return value not in (None, "", 0)


def readiness(
    product: dict[str, Any], certificate: dict[str, Any] | None, images: list[dict[str, Any]], today: date
) -> list[Readiness]:
    """One entry per marketplace; ``images`` are Image rows with their ``renditions`` dict."""
    result = []
    for market, spec in MARKETPLACES.items():
        needed = spec.required
        missing = [f for f in needed if not _has(product, f, certificate, today)]
        photo_ok = any(
            market in (img.get("renditions") or {}) for img in images if img.get("status") == "ready"
        )
        if not photo_ok:
            missing.append("photo")
        vi_parts, en_parts = [], []
        fields = [f for f in missing if f != "photo"]
        if fields:
            vi_parts.append("thiếu " + ", ".join(_FIELDS[f][0] for f in fields))
            en_parts.append("missing " + ", ".join(_FIELDS[f][1] for f in fields))
        if not photo_ok:
            side = spec.profile.min_side
            vi_parts.append(f"cần ít nhất 1 ảnh vuông ≥ {side} px")
            en_parts.append(f"needs at least 1 square photo ≥ {side} px")
        label = spec.name
        total = len(needed) + 1
        result.append(
            Readiness(
                marketplace=market,
                missing=tuple(missing),
                message_vi=f"{label}: " + (", ".join(vi_parts) if vi_parts else "sẵn sàng"),
                message_en=f"{label}: " + (", ".join(en_parts) if en_parts else "ready"),
                ready_count=total - len(missing),
                total=total,
            )
        )
    return result
