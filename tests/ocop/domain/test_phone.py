import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocop.domain.errors import InvalidValue
from ocop.domain.phone import format_phone, is_mobile, parse_phone


@pytest.mark.parametrize(
    "typed", ["0905123456", "0905 123 456", "0905.123.456", "+84 905 123 456", "84905123456", "+84905123456",
              "0084 905 123 456", "+84 (0) 905-123-456", 905123456, 905123456.0],
)
def test_mobile_forms(typed: object) -> None:
    assert parse_phone(typed) == "+84905123456"  # type: ignore[arg-type]


@pytest.mark.parametrize(("typed", "e164"), [("0256 3822 123", "+842563822123"), ("(024) 3825 1234", "+842438251234")])
def test_landlines(typed: str, e164: str) -> None:
    assert parse_phone(typed) == e164
    assert not is_mobile(e164)


@pytest.mark.parametrize("typed", ["0105123456", "12345", "1900 1234", "09051234567", "abc", "+1 415 555 0100"])
def test_rejections(typed: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_phone(typed)
    assert info.value.code == "invalid_phone"


@given(st.sampled_from("35789"), st.integers(min_value=0, max_value=99_999_999))
def test_format_round_trip(first: str, rest: int) -> None:
    e164 = parse_phone(f"0{first}{rest:08d}")
    assert is_mobile(e164)
    assert parse_phone(format_phone(e164)) == e164
