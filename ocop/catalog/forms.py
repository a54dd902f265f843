"""The product + certificate form: its field names, read into the catalogue's typed inputs.

Every field typed the way people type it is read by the domain rules (``150.000``, ``150000đ``,
``0,5 kg``, ``25/11/2026``) in :mod:`ocop.catalog.inputs`, the same reading the JSON API gets; all
problems are returned at once, each tied to its form field, so the page can show them next to the
inputs and keep everything that was typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocop.catalog.inputs import Checked, check_certificate, check_product

PRODUCT_FIELDS = {
    "sku": "sku",
    "name": "name",
    "ocop_group": "ocop_group",
    "sub_group": "sub_group",
    "description": "description",
    "unit": "unit",
    "net_quantity": "net_quantity",
    "price": "price_vnd",
    "weight": "weight_g",
    "length": "length_mm",
    "width": "width_mm",
    "height": "height_mm",
    "stock": "stock",
    "stock_buffer": "stock_buffer",
    "shelf_life_days": "shelf_life_days",
    "ingredients": "ingredients",
    "status": "status",
}
"""Form field -> :class:`~ocop.catalog.inputs.ProductInput` field (lengths are typed in cm)."""

CERTIFICATE_FIELDS = {
    "cert_stars": "stars",
    "cert_decision_number": "decision_number",
    "cert_issuing_body": "issuing_body",
    "cert_issued_on": "issued_on",
    "cert_validity_months": "validity_months",
}
"""Form field -> :class:`~ocop.catalog.inputs.CertificateInput` field."""


def check_product_form(
    form: Mapping[str, str], *, draft: bool, before: Mapping[str, Any] | None = None
) -> Checked:
    """Read a submitted product form (``before``: the stored product when editing). A form sends the
    whole product, so a field it leaves out is empty. "Save as draft" keeps the product a draft,
    which needs only a name; otherwise it is active (or the ``status`` sent) and needs its group,
    unit and price too. The certificate is read when any of its fields is filled in."""
    raw: dict[str, str] = {name: form.get(name) or "" for name in PRODUCT_FIELDS}
    raw["status"] = "draft" if draft else (form.get("status") or "active")
    checked = check_product(raw, PRODUCT_FIELDS, before=before)
    if any((form.get(k) or "").strip() for k in CERTIFICATE_FIELDS if k != "cert_validity_months"):
        checked.certificate, errors = check_certificate(form, CERTIFICATE_FIELDS)
        checked.errors += errors
    return checked
