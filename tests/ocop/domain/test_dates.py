from datetime import date, datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocop.domain.dates import add_months, format_date, from_excel_serial, parse_date, today_vn
from ocop.domain.errors import InvalidValue


@pytest.mark.parametrize(
    "typed", ["25/11/2026", "25-11-2026", "25.11.2026", "2026-11-25", "2026-11-25T10:00:00", "46351", 46351, 46351.25,
              date(2026, 11, 25), datetime(2026, 11, 25, 9, 30)],
)
def test_forms(typed: object) -> None:
    assert parse_date(typed) == date(2026, 11, 25)  # type: ignore[arg-type]


def test_day_first() -> None:
    assert parse_date("1/2/2025") == date(2025, 2, 1)


@pytest.mark.parametrize("typed", ["31/02/2026", "2026/13/01", "11/25/2026", "hôm qua", "12", 5.0, "25/11/26"])
def test_rejections(typed: object) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_date(typed)  # type: ignore[arg-type]
    assert info.value.code == "invalid_date"


def test_excel_serial_origin() -> None:
    assert from_excel_serial(45658) == date(2025, 1, 1)


def test_people_in_vietnam_see_tomorrow_after_17_utc() -> None:
    assert today_vn(datetime(2026, 11, 25, 16, 59, tzinfo=timezone.utc)) == date(2026, 11, 25)
    assert today_vn(datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)) == date(2026, 11, 26)


def test_aware_datetime_is_read_in_vietnam_time() -> None:
    assert parse_date(datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)) == date(2026, 11, 26)


def test_add_months_clamps() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 36) == date(2027, 2, 28)
    assert add_months(date(2026, 11, 25), 36) == date(2029, 11, 25)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_display_round_trip(day: date) -> None:
    assert parse_date(format_date(day)) == day
    assert parse_date(day.isoformat()) == day


@pytest.mark.parametrize("typed", ["15/08/2025", "15082025", "15-08-2025", "15.08.2025", "15 08 2025", "15 / 08 / 2025"])
def test_dates_typed_on_a_phone(typed: str) -> None:
    """Number pads without "/" give "15082025"; some keyboards give "-" or spaces."""
    assert parse_date(typed) == date(2025, 8, 15)


@pytest.mark.parametrize("typed", ["32082025", "15132025", "150825", "20250815"])
def test_eight_digits_are_day_month_year_only(typed: str) -> None:
    with pytest.raises(InvalidValue):
        parse_date(typed)
