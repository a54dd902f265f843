"""Checking the product + certificate form (and the same fields from the JSON API).

Every field typed the way people type it is parsed by the domain rules (``150.000``, ``150000đ``,
``0,5 kg``, ``25/11/2026``); all problems are returned at once, each tied to its field, so the
page can show them next to the inputs and keep everything that was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ocop.domain.dates import add_months, parse_date
from ocop.domain.errors import FieldError, InvalidValue, required
from ocop.domain.money import parse_vnd
from ocop.domain.ocop import CERTIFICATE_VALIDITY_MONTHS, GROUPS, STARS, group_by_code, parse_decision_number
from ocop.domain.text import clean, fold
from ocop.domain.units import parse_count, parse_length_cm_to_mm, parse_weight_g

STATUSES = ("draft", "active", "archived")

PRODUCT_TEXT_FIELDS = ("sku", "name", "sub_group", "description", "unit", "net_quantity", "ingredients")


@dataclass
class ProductValues:
    """Clean values for the Product row (only the fields the form owns)."""

    values: dict[str, Any]


@dataclass
class CertificateValues:
    stars: int
    decision_number: str
    issuing_body: str
    issued_on: date | None
    expires_on: date | None
    validity_months: int


@dataclass
class Checked:
    product: dict[str, Any] = field(default_factory=dict)
    certificate: CertificateValues | None = None
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _optional(form: dict[str, str], name: str, parse: Callable[[str], Any], errors: list[FieldError]) -> Any:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return parse(raw)
    except InvalidValue as exc:
        errors.append(exc.for_field(name))
        return None


def _group(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= len(GROUPS):
        raise InvalidValue("invalid_group", "Nhóm sản phẩm không hợp lệ", "Invalid product group")
    try:
        return group_by_code(int(raw)).code
    except (IndexError, KeyError, ValueError, InvalidValue) as exc:
        raise InvalidValue("invalid_group", "Nhóm sản phẩm không hợp lệ", "Invalid product group") from exc


def check_product_form(form: dict[str, str], *, draft: bool) -> Checked:
    """Validate a submitted product form. A draft needs only a name; an active product also needs
    its group, unit and price (what every marketplace asks for first)."""
    checked = Checked()
    errors = checked.errors
    values: dict[str, Any] = {name: clean(form.get(name, "")) for name in PRODUCT_TEXT_FIELDS}
    values["description"] = (form.get("description") or "").strip()
    values["ingredients"] = (form.get("ingredients") or "").strip()
    if not values["name"]:
        errors.append(required("name"))
    values["name_folded"] = fold(values["name"])
    values["ocop_group"] = _optional(form, "ocop_group", _group, errors)
    values["price_vnd"] = _optional(form, "price", parse_vnd, errors)
    values["weight_g"] = _optional(form, "weight", parse_weight_g, errors)
    for dim in ("length", "width", "height"):
        values[f"{dim}_mm"] = _optional(form, dim, parse_length_cm_to_mm, errors)
    values["stock"] = _optional(form, "stock", parse_count, errors) or 0
    values["shelf_life_days"] = _optional(form, "shelf_life_days", parse_count, errors)
    values["status"] = "draft" if draft else (form.get("status") or "active")
    if values["status"] not in STATUSES:
        errors.append(FieldError("status", "invalid_status", "Trạng thái không hợp lệ", "Invalid status"))
    if not draft:
        for name, key in (("ocop_group", "ocop_group"), ("unit", "unit"), ("price", "price_vnd")):
            if values[key] in (None, "") and not any(e.field == name for e in errors):
                errors.append(required(name))
    checked.product = values
    checked.certificate = _check_certificate(form, errors)
    return checked


def _check_certificate(form: dict[str, str], errors: list[FieldError]) -> CertificateValues | None:
    keys = ("cert_stars", "cert_decision_number", "cert_issuing_body", "cert_issued_on")
    if not any((form.get(k) or "").strip() for k in keys):
        return None
    stars_raw = (form.get("cert_stars") or "").strip()
    stars = int(stars_raw) if stars_raw.isdigit() else None
    if stars not in STARS:
        errors.append(
            FieldError("cert_stars", "invalid_stars", "Chọn số sao từ 3 đến 5", "Choose 3 to 5 stars")
        )
    decision = _optional(form, "cert_decision_number", parse_decision_number, errors) or ""
    issued = _optional(form, "cert_issued_on", parse_date, errors)
    months_raw = (form.get("cert_validity_months") or "").strip()
    months = CERTIFICATE_VALIDITY_MONTHS
    if months_raw:
        if months_raw.isdigit() and 1 <= int(months_raw) <= 120:
            months = int(months_raw)
        else:
            errors.append(
                FieldError(
                    "cert_validity_months",
                    "invalid_validity",
                    "Thời hạn từ 1 đến 120 tháng",
                    "Validity must be 1 to 120 months",
                )
            )
    return CertificateValues(
        stars=stars or 0,
        decision_number=decision,
        issuing_body=clean(form.get("cert_issuing_body", "")),
        issued_on=issued,
        expires_on=add_months(issued, months) if issued else None,
        validity_months=months,
    )
