import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.vn import mst

from ocop.domain.errors import InvalidValue
from ocop.domain.taxcode import TaxCodeKind, parse_tax_code


def test_ten_digits_with_check_digit() -> None:
    code = parse_tax_code("0100233488")
    assert (code.value, code.kind) == ("0100233488", TaxCodeKind.ENTERPRISE)
    assert parse_tax_code("01.00.233.488").value == "0100233488"


def test_branch_is_canonicalised_with_dash() -> None:
    for typed in ("0314409058-002", "0314409058002", "0314409058 - 002"):
        code = parse_tax_code(typed)
        assert (code.value, code.kind) == ("0314409058-002", TaxCodeKind.BRANCH)


def test_personal_identification_number() -> None:
    code = parse_tax_code("052085012345")
    assert (code.value, code.kind) == ("052085012345", TaxCodeKind.PERSONAL)


def test_leading_zero_lost_by_excel_is_restored() -> None:
    assert parse_tax_code(100233488).value == "0100233488"
    assert parse_tax_code(100233488.0).value == "0100233488"
    assert parse_tax_code(52085012345).value == "052085012345"


@pytest.mark.parametrize(
    ("typed", "code"),
    [("0100233480", "tax_code_checksum"), ("0314409058-000", "invalid_tax_code"), ("12345", "invalid_tax_code"),
     ("999085012345", "invalid_tax_code"), ("01002334ab", "invalid_tax_code"), ("0314409050-002", "tax_code_checksum")],
)
def test_rejections(typed: str, code: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_tax_code(typed)
    assert info.value.code == code
    assert typed in info.value.message_vi


@given(st.integers(min_value=1, max_value=9_999_999))  # serial 0000000 is never issued
def test_every_check_digit_the_standard_accepts_is_accepted(serial: int) -> None:
    body = f"01{serial:07d}"
    check = mst.calc_check_digit(body)
    if len(check) == 1:  # bodies giving 10 are never issued
        assert parse_tax_code(body + check).value == body + check
        wrong = str((int(check) + 1) % 10)
        with pytest.raises(InvalidValue):
            parse_tax_code(body + wrong)
