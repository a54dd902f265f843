import pytest

from ocop.domain.errors import FieldError, InvalidValue, required
from ocop.domain.money import parse_vnd


def test_rule_failure_becomes_a_field_error_with_both_languages() -> None:
    with pytest.raises(InvalidValue) as info:
        parse_vnd("abc")
    error = info.value.for_field("price_vnd")
    assert isinstance(error, FieldError)
    assert (error.field, error.code) == ("price_vnd", "invalid_money")
    assert "Số tiền" in error.message_vi and "amount" in error.message_en
    assert str(info.value) == error.message_en


def test_required() -> None:
    assert required("name") == FieldError("name", "required", "Không được để trống", "This field is required")
