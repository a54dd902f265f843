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

from ocop import db
from ocop.catalog.variants import label as variant_label
from ocop.catalog.variants import normalise_variation
from ocop.marketplaces import MARKETPLACES, VariantRules

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


def _few(items: list[str]) -> str:
    return ", ".join(items[:3]) + (" …" if len(items) > 3 else "")


def variant_problems(
    rules: VariantRules, product: dict[str, Any], variants: list[dict[str, Any]], needed: tuple[str, ...]
) -> list[tuple[str, str]]:
    """What one marketplace refuses in a product's variants, each as (vi, en): its limits on
    attributes, variants, names, options and SKUs, its photo rule, and the weight and package size
    each variant must have (its own, or the product's) where the marketplace requires them."""
    attributes = normalise_variation(db.json_value(product.get("variation"), []) or [])
    if not attributes:
        return []
    out: list[tuple[str, str]] = []
    if len(attributes) > rules.max_attributes:
        out.append((f"tối đa {rules.max_attributes} thuộc tính phân loại",
                    f"at most {rules.max_attributes} variation attributes"))
    if len(variants) > rules.max_variants:
        out.append((f"tối đa {rules.max_variants} phân loại hàng", f"at most {rules.max_variants} variants"))
    long_names = [a.name for a in attributes if len(a.name) > rules.name_max]
    if long_names:
        out.append((f"tên thuộc tính tối đa {rules.name_max} ký tự ({_few(long_names)})",
                    f"attribute names at most {rules.name_max} characters ({_few(long_names)})"))
    long_options = [o for a in attributes for o in a.options if len(o) > rules.option_max]
    if long_options:
        out.append((f"lựa chọn tối đa {rules.option_max} ký tự ({_few(long_options)})",
                    f"options at most {rules.option_max} characters ({_few(long_options)})"))
    long_skus = [v["sku"] for v in variants if len(v["sku"]) > rules.sku_max]
    if long_skus:
        out.append((f"mã SKU phân loại tối đa {rules.sku_max} ký tự ({_few(long_skus)})",
                    f"variant SKUs at most {rules.sku_max} characters ({_few(long_skus)})"))
    if rules.images_on_first_attribute and len(attributes) > 1:
        photo_of: dict[str, set[Any]] = {}
        for v in variants:
            photo_of.setdefault(v["option1"], set()).add(v.get("image"))
        split = [o for o, photos in photo_of.items() if len(photos) > 1]
        if split:
            first = attributes[0].name
            out.append((f"ảnh phân loại theo {first}: các phân loại cùng {first} phải cùng ảnh ({_few(split)})",
                        f"variant photos follow {first}: variants of the same {first} need the same photo "
                        f"({_few(split)})"))
    if "weight_g" in needed:
        unweighed = [variant_label(v["option1"], v["option2"]) for v in variants
                     if not (v.get("weight_g") or product.get("weight_g"))]
        if unweighed:
            out.append((f"thiếu khối lượng của phân loại {_few(unweighed)}",
                        f"missing the weight of variant {_few(unweighed)}"))
    if "dimensions" in needed:
        sizes = ("length_mm", "width_mm", "height_mm")
        unsized = [variant_label(v["option1"], v["option2"]) for v in variants
                   if not (all(v.get(k) for k in sizes) or all(product.get(k) for k in sizes))]
        if unsized:
            out.append((f"thiếu kích thước đóng gói của phân loại {_few(unsized)}",
                        f"missing the package size of variant {_few(unsized)}"))
    return out


def readiness(
    product: dict[str, Any],
    certificate: dict[str, Any] | None,
    images: list[dict[str, Any]],
    today: date,
    variants: list[dict[str, Any]] | None = None,
) -> list[Readiness]:
    """One entry per marketplace; ``images`` are Image rows with their ``renditions`` dict;
    ``variants`` the product's variant rows (a product with attributes is checked against each
    marketplace's variant rules, code ``variants``)."""
    result = []
    has_variants = bool(normalise_variation(db.json_value(product.get("variation"), []) or []))
    for market, spec in MARKETPLACES.items():
        needed = spec.required
        # with variants, weight and size may be each variant's own: variant_problems checks them
        per_variant = ("weight_g", "dimensions") if has_variants else ()
        missing = [f for f in needed if f not in per_variant and not _has(product, f, certificate, today)]
        problems = variant_problems(spec.variants, product, variants or [], needed) if has_variants else []
        if problems:
            missing.append("variants")
        photo_ok = any(
            market in (img.get("renditions") or {}) for img in images if img.get("status") == "ready"
        )
        if not photo_ok:
            missing.append("photo")
        vi_parts, en_parts = [], []
        fields = [f for f in missing if f not in ("photo", "variants")]
        if fields:
            vi_parts.append("thiếu " + ", ".join(_FIELDS[f][0] for f in fields))
            en_parts.append("missing " + ", ".join(_FIELDS[f][1] for f in fields))
        if not photo_ok:
            # Any phone photo will do: renditions are padded square and fitted to the marketplace,
            # so the producer must not think they have to crop or resize it themselves.
            vi_parts.append("cần ít nhất 1 ảnh sản phẩm (ảnh chụp điện thoại là được, hệ thống tự chỉnh cho sàn)")
            en_parts.append("needs at least 1 product photo (a phone photo is fine, it is fitted to the "
                            "marketplace for you)")
        vi_parts += [vi for vi, _ in problems]
        en_parts += [en for _, en in problems]
        label = spec.name
        total = len(needed) + 1 + (1 if has_variants else 0)
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
