import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocop.domain.errors import InvalidValue
from ocop.domain.money import MAX_VND, format_vnd, parse_vnd


@pytest.mark.parametrize(
    "typed",
    ["150000", "150.000", "150,000", "150.000đ", "150.000 ₫", "150,000 VNĐ", "150k", "150 K", " 150.000 đồng ",
     "150000vnd", 150000, 150000.0, "150.000\u00a0₫"],
)
def test_typed_forms_mean_the_same_amount(typed: object) -> None:
    assert parse_vnd(typed) == 150_000  # type: ignore[arg-type]


@pytest.mark.parametrize(("typed", "amount"), [("1,5tr", 1_500_000), ("2 triệu", 2_000_000), ("1.234.567", 1_234_567),
                                                ("0", 0), ("1.5k", 1_500)])
def test_other_amounts(typed: str, amount: int) -> None:
    assert parse_vnd(typed) == amount


@pytest.mark.parametrize("typed", ["150.00", "1.5", "12,34,567", "abc", "", "đ", 150000.5, True, "1.0001k"])
def test_rejects_ambiguous_or_garbage(typed: object) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_vnd(typed)  # type: ignore[arg-type]
    assert info.value.code == "invalid_money"
    assert info.value.message_vi and info.value.message_en


def test_rejects_negative_and_huge() -> None:
    for negative in ("-5000", -5000, -5000.0):  # typed on a form, or a number in a JSON body
        with pytest.raises(InvalidValue, match="negative") as info:
            parse_vnd(negative)
        assert info.value.code == "money_negative"
    with pytest.raises(InvalidValue) as info:
        parse_vnd(MAX_VND + 1)
    assert info.value.code == "money_out_of_range"


def test_format() -> None:
    assert format_vnd(150_000) == "150.000 ₫"
    assert format_vnd(0) == "0 ₫"
    assert format_vnd(1_234_567) == "1.234.567 ₫"


@given(st.integers(min_value=0, max_value=MAX_VND))
def test_format_parse_round_trip(amount: int) -> None:
    assert parse_vnd(format_vnd(amount)) == amount
    assert parse_vnd(f"{amount:,}") == amount
