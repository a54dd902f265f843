"""The product form's checks, without a database."""

from __future__ import annotations

from datetime import date

from ocop.catalog.forms import check_product_form


def test_values_typed_as_people_type_them() -> None:
    checked = check_product_form(
        {
            "name": " Bánh  tráng ",
            "price": "150000đ",
            "weight": "0,5 kg",
            "length": "12,5",
            "stock": "1.000",
            "ocop_group": "1",
            "unit": "túi",
            "cert_stars": "5",
            "cert_issued_on": "29/02/2024",
        },
        draft=False,
    )
    assert checked.ok, checked.errors
    p = checked.product
    assert p.name == "Bánh tráng" and p.status == "active"
    assert (p.price_vnd, p.weight_g, p.length_mm, p.stock) == (150_000, 500, 125, 1000)
    assert checked.certificate is not None
    assert checked.certificate.expires_on == date(2027, 2, 28)  # 36 months from a leap day


def test_every_problem_is_reported_with_its_field() -> None:
    checked = check_product_form(
        {
            "name": "",
            "price": "abc",
            "ocop_group": "9",
            "cert_stars": "2",
            "cert_validity_months": "0",
            "cert_decision_number": "hello",
        },
        draft=False,
    )
    fields = sorted(e.field for e in checked.errors)
    assert fields == [
        "cert_decision_number",
        "cert_stars",
        "cert_validity_months",
        "name",
        "ocop_group",
        "price",
        "unit",
    ]


def test_draft_needs_only_a_name() -> None:
    assert check_product_form({"name": "Nháp"}, draft=True).ok
    assert [e.field for e in check_product_form({"name": "x"}, draft=False).errors] == [
        "ocop_group",
        "unit",
        "price",
    ]
