"""Reporting periods on the people's calendar (Asia/Ho_Chi_Minh), turned into UTC instants.

Orders are stored with UTC timestamps, but a province reports by Vietnamese calendar month: an order
placed at 23:30 UTC on 31 January is 06:30 on 1 February in Vietnam and belongs to February. So the
boundaries are computed here, in Python, and handed to SQL as UTC instants; SQL never does calendar
arithmetic (SQLite and PostgreSQL date functions differ, and SQLite has no time-zone database).
Vietnam has used UTC+7 without daylight saving since 1975 (IANA tz database), see ``ocop.domain.dates``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ocop.domain.dates import VN_TZ, today_vn

#: Longest period the dashboard buckets by month (a CASE branch per month keeps SQL portable).
MAX_MONTHS = 60
#: Years a report may ask for (OCOP started in 2018; the bounds keep date arithmetic in range).
FIRST_YEAR, LAST_YEAR = 2000, 2100
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ValueError):
    """A period the dashboard cannot show (bad syntax, end before start, too long)."""


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def vn_midnight_utc(day: date) -> datetime:
    """00:00 of ``day`` in Vietnam, as a UTC instant."""
    return datetime(day.year, day.month, day.day, tzinfo=VN_TZ).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Month:
    """One calendar month in Vietnam with its UTC bounds (``start_utc`` inclusive, ``end_utc`` exclusive)."""

    first_day: date

    @property
    def key(self) -> str:
        return f"{self.first_day.year:04d}-{self.first_day.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.first_day.month:02d}/{self.first_day.year:04d}"

    @property
    def start_utc(self) -> datetime:
        return vn_midnight_utc(self.first_day)

    @property
    def end_utc(self) -> datetime:
        return vn_midnight_utc(_add_months(self.first_day, 1))


@dataclass(frozen=True, slots=True)
class Period:
    """Vietnamese calendar days ``start`` .. ``end`` (both inclusive); ``kind`` says how the
    previous period is taken: the previous month/quarter/year, or as many days just before."""

    start: date
    end: date
    kind: str = "custom"  # month | quarter | year | custom

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError("the period ends before it starts")
        if self.start.year < FIRST_YEAR - 10 or self.end.year > LAST_YEAR:  # previous periods reach back
            raise PeriodError(f"a period must lie between {FIRST_YEAR} and {LAST_YEAR}")
        if len(self.months()) > MAX_MONTHS:
            raise PeriodError(f"a period can span at most {MAX_MONTHS} months")

    @property
    def start_utc(self) -> datetime:
        return vn_midnight_utc(self.start)

    @property
    def end_utc(self) -> datetime:
        """Exclusive: 00:00 in Vietnam of the day after ``end``."""
        return vn_midnight_utc(self.end + timedelta(days=1))

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return f"{self.start.year:04d}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"Tháng {self.start.month:02d}/{self.start.year}"
        if self.kind == "quarter":
            return f"Quý {(self.start.month - 1) // 3 + 1}/{self.start.year}"
        if self.kind == "year":
            return f"Năm {self.start.year}"
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"

    def months(self) -> list[Month]:
        first = self.start.replace(day=1)
        out: list[Month] = []
        while first <= self.end and len(out) <= MAX_MONTHS:
            out.append(Month(first))
            first = _add_months(first, 1)
        return out

    def previous(self) -> Period:
        if self.kind == "month":
            return month_period(_add_months(self.start, -1))
        if self.kind == "quarter":
            start = _add_months(self.start, -3)
            return Period(start, _add_months(start, 3) - timedelta(days=1), "quarter")
        if self.kind == "year":
            return Period(date(self.start.year - 1, 1, 1), date(self.start.year - 1, 12, 31), "year")
        days = (self.end - self.start).days + 1
        return Period(self.start - timedelta(days=days), self.start - timedelta(days=1), "custom")


def month_period(day: date) -> Period:
    first = day.replace(day=1)
    return Period(first, _add_months(first, 1) - timedelta(days=1), "month")


def parse_period(text: str | None, *, today: date | None = None) -> Period:
    """``2026-11`` (a month), ``2026-Q3``, ``2026`` (a year) or ``2026-01-01..2026-03-15``; empty
    means the current month in Vietnam."""
    value = (text or "").strip()
    if not value:
        return month_period(today or today_vn())
    try:
        if (m := _YEAR.match(value[:4])) and not FIRST_YEAR <= int(m[1]) <= LAST_YEAR:
            raise PeriodError(f"a period must lie between {FIRST_YEAR} and {LAST_YEAR}")
        if m := _MONTH.match(value):
            return month_period(date(int(m[1]), int(m[2]), 1))
        if m := _QUARTER.match(value):
            start = date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1)
            return Period(start, _add_months(start, 3) - timedelta(days=1), "quarter")
        if m := _YEAR.match(value):
            return Period(date(int(m[1]), 1, 1), date(int(m[1]), 12, 31), "year")
        if ".." in value:
            a, b = value.split("..", 1)
            period = Period(date.fromisoformat(a.strip()), date.fromisoformat(b.strip()), "custom")
            if period.start.year < FIRST_YEAR:
                raise PeriodError(f"a period must lie between {FIRST_YEAR} and {LAST_YEAR}")
            return period
    except (ValueError, OverflowError) as exc:
        raise PeriodError(f"invalid period: {value}") from exc
    raise PeriodError(f"invalid period: {value} (use 2026-11, 2026-Q4, 2026 or 2026-01-01..2026-03-31)")
