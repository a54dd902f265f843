"""A product and a certificate as the catalogue services take them, and the one place they are checked.

The product form (:mod:`ocop.catalog.forms`) and the JSON API (:mod:`ocop.catalog.api`) both read
their values through :func:`check_product` and :func:`check_certificate`: values typed the way people
type them (``"150.000"`` or ``150000``, ``"0,5 kg"``, ``"25/11/2026"``) are parsed by the domain rules
here, for both, into a typed :class:`ProductInput` / :class:`CertificateInput`. The rules on a whole
product (a name; unless it is a draft, its group, unit and price) are applied to the product as it
will be saved: for an update, the stored row with the sent values over it, so an update that sends
one field is checked like one that sends them all.

Each caller names its own fields (the form says ``length`` in centimetres, the API ``length_cm``):
it passes a table from its names to the input's fields, and every error carries the caller's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from ocop.domain.dates import add_months, parse_date
from ocop.domain.errors import FieldError, InvalidValue, required
from ocop.domain.money import parse_vnd
from ocop.domain.ocop import CERTIFICATE_VALIDITY_MONTHS, GROUPS, STARS, group_by_code, parse_decision_number
from ocop.domain.text import clean
from ocop.domain.units import parse_count, parse_length_cm_to_mm, parse_weight_g

STATUSES = ("draft", "active", "archived")

Raw = str | int | float | date | None
"""A value as a form or an API body gives it, before the domain rules have read it."""


class ProductInput(msgspec.Struct, kw_only=True):
    """A product's own values, clean and typed (VND, grams, millimetres). A field left ``UNSET`` was
    not given: a new product takes its column's default, an update keeps the stored value."""

    sku: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    ocop_group: int | None | UnsetType = UNSET
    sub_group: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    unit: str | UnsetType = UNSET
    net_quantity: str | UnsetType = UNSET
    price_vnd: int | None | UnsetType = UNSET
    weight_g: int | None | UnsetType = UNSET
    length_mm: int | None | UnsetType = UNSET
    width_mm: int | None | UnsetType = UNSET
    height_mm: int | None | UnsetType = UNSET
    stock: int | UnsetType = UNSET
    stock_buffer: int | UnsetType = UNSET
    shelf_life_days: int | None | UnsetType = UNSET
    ingredients: str | UnsetType = UNSET
    status: str | UnsetType = UNSET

    def given(self) -> dict[str, Any]:
        """The fields that were given, by column name: what a save writes."""
        return {name: value for name in self.__struct_fields__ if (value := getattr(self, name)) is not UNSET}


class CertificateInput(msgspec.Struct, kw_only=True, frozen=True):
    """An OCOP certification decision, checked; ``expires_on`` follows from the issue date and the
    validity."""

    stars: int
    decision_number: str
    issuing_body: str
    issued_on: date | None
    validity_months: int
    expires_on: date | None


@dataclass
class Checked:
    """What a form or an API body said, read: the product, maybe a certificate, and every problem
    found, each named by the caller's own field name."""

    product: ProductInput
    certificate: CertificateInput | None = None
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _group(value: object) -> int:
    """The OCOP group's number, 1 to 6 (typed as a number, or as digits on a form)."""
    raw = str(value).strip() if not isinstance(value, bool) else ""
    if not raw.isdigit() or not 1 <= int(raw) <= len(GROUPS):
        raise InvalidValue("invalid_group", "Nhóm sản phẩm không hợp lệ", "Invalid product group")
    return group_by_code(int(raw)).code


def _status(value: object) -> str:
    if value not in STATUSES:
        raise InvalidValue("invalid_status", "Trạng thái không hợp lệ", "Invalid status")
    return str(value)


def _line(value: object) -> str:
    return clean(str(value))


def _text(value: object) -> str:
    """Long text (description, ingredients) keeps its line breaks."""
    return str(value).strip()


_PRODUCT_FIELDS: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "sku": (_line, ""),
    "name": (_line, ""),
    "ocop_group": (_group, None),
    "sub_group": (_line, ""),
    "description": (_text, ""),
    "unit": (_line, ""),
    "net_quantity": (_line, ""),
    "price_vnd": (parse_vnd, None),
    "weight_g": (parse_weight_g, None),
    "length_mm": (parse_length_cm_to_mm, None),
    "width_mm": (parse_length_cm_to_mm, None),
    "height_mm": (parse_length_cm_to_mm, None),
    "stock": (parse_count, 0),
    "stock_buffer": (parse_count, 0),
    "shelf_life_days": (parse_count, None),
    "ingredients": (_text, ""),
    "status": (_status, "draft"),
}
"""Each :class:`ProductInput` field: the domain rule that reads it, and the value an empty entry
means (the column's own default)."""

NEW_PRODUCT: dict[str, Any] = {name: empty for name, (_, empty) in _PRODUCT_FIELDS.items()}
"""What a new product holds before the given values are laid over it."""

MUST_HAVE = ("ocop_group", "unit", "price_vnd")
"""What every marketplace asks for first: required unless the product is a draft."""


def _blank(value: Raw) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_product(
    raw: Mapping[str, Raw], names: Mapping[str, str], *, before: Mapping[str, Any] | None = None
) -> Checked:
    """Read the product fields present in ``raw`` (``names``: the caller's name -> the
    :class:`ProductInput` field) and check the product they make: ``before`` (the stored row, for an
    update) or a new product, with the given values over it. An empty value clears its field.
    All problems are reported at once; a field that does not read is not also called missing."""
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, column in names.items():
        if name not in raw:
            continue
        read, empty = _PRODUCT_FIELDS[column]
        value = raw[name]
        if _blank(value):
            values[column] = empty
            continue
        try:
            values[column] = read(value.strip() if isinstance(value, str) else value)
        except InvalidValue as exc:
            errors.append(exc.for_field(name))
    product = ProductInput(**values)
    named = {column: name for name, column in names.items()}
    unread = {e.field for e in errors}
    whole = {**(before if before is not None else NEW_PRODUCT), **values}
    missing = ["name"] if not whole["name"] else []
    if whole["status"] != "draft":
        missing += [column for column in MUST_HAVE if whole[column] in (None, "")]
    errors += [required(named.get(c, c)) for c in missing if named.get(c, c) not in unread]
    return Checked(product=product, errors=errors)


def check_certificate(
    raw: Mapping[str, Raw], names: Mapping[str, str]
) -> tuple[CertificateInput, list[FieldError]]:
    """Read a certification decision (``names``: the caller's name -> the :class:`CertificateInput`
    field): 3 to 5 stars, a decision number like ``1234/QĐ-UBND``, an issue date, a validity of 1 to
    120 months (36 when not given)."""
    named = {column: name for name, column in names.items()}
    errors: list[FieldError] = []

    def get(column: str) -> Raw:
        return raw.get(named[column])

    def read(column: str, parse: Callable[[Any], Any]) -> Any:
        value = get(column)
        if _blank(value):
            return None
        try:
            return parse(value.strip() if isinstance(value, str) else value)
        except InvalidValue as exc:
            errors.append(exc.for_field(named[column]))
            return None

    stars_raw = str(get("stars") if get("stars") is not None else "").strip()
    stars = int(stars_raw) if stars_raw.isdigit() else None
    if stars not in STARS:
        errors.append(
            FieldError(named["stars"], "invalid_stars", "Chọn số sao từ 3 đến 5", "Choose 3 to 5 stars")
        )
    decision = read("decision_number", parse_decision_number) or ""
    issued = read("issued_on", parse_date)
    months_raw = str(get("validity_months") if get("validity_months") is not None else "").strip()
    months = CERTIFICATE_VALIDITY_MONTHS
    if months_raw:
        if months_raw.isdigit() and 1 <= int(months_raw) <= 120:
            months = int(months_raw)
        else:
            errors.append(
                FieldError(
                    named["validity_months"],
                    "invalid_validity",
                    "Thời hạn từ 1 đến 120 tháng",
                    "Validity must be 1 to 120 months",
                )
            )
    issuing_body = get("issuing_body")
    certificate = CertificateInput(
        stars=stars or 0,
        decision_number=decision,
        issuing_body=clean(str(issuing_body)) if issuing_body is not None else "",
        issued_on=issued,
        validity_months=months,
        expires_on=add_months(issued, months) if issued else None,
    )
    return certificate, errors
