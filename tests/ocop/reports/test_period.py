"""Reporting periods on the Vietnamese calendar, as UTC instants."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ocop.reports.period import PeriodError, parse_period


def test_month_bounds_are_vietnamese_midnight() -> None:
    feb = parse_period("2026-02")
    assert (feb.start, feb.end, feb.kind) == (date(2026, 2, 1), date(2026, 2, 28), "month")
    assert feb.start_utc == datetime(2026, 1, 31, 17, tzinfo=UTC)
    assert feb.end_utc == datetime(2026, 2, 28, 17, tzinfo=UTC)
    assert feb.previous().key == "2026-01" and feb.label == "Tháng 02/2026"


def test_quarters_years_and_custom_ranges() -> None:
    q = parse_period("2026-q1")
    assert (q.start, q.end, q.previous().key) == (date(2026, 1, 1), date(2026, 3, 31), "2025-Q4")
    assert [m.key for m in q.months()] == ["2026-01", "2026-02", "2026-03"]
    year = parse_period("2026")
    assert year.previous().key == "2025" and len(year.months()) == 12
    custom = parse_period("2026-03-10..2026-03-19")
    assert (custom.previous().start, custom.previous().end) == (date(2026, 2, 28), date(2026, 3, 9))
    assert custom.previous().end_utc == custom.start_utc
    assert parse_period("", today=date(2026, 11, 25)).key == "2026-11"


@pytest.mark.parametrize("text", ["2026-13", "26-01", "2026-Q5", "tomorrow", "2026-03-01..2026-01-01",
                                  "2020-01-01..2026-12-31", "0001", "0001-01-01..0001-02-01", "9999-12",
                                  "2026-01-01..9999-12-31"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)
