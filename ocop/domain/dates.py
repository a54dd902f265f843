"""Dates as people and spreadsheets write them, and the people's time zone.

Vietnamese write day first (dd/mm/yyyy); ISO 8601 appears in exports; Excel stores dates as serial
numbers counted from 1899-12-30 in the default 1900 date system (the fictitious 29 Feb 1900 makes
the 1899-12-30 origin exact for every serial from 61 on — Microsoft, "Date systems in Excel").
Vietnam has used UTC+7 without daylight saving since 1975 (IANA tz database, Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ocop.domain.errors import InvalidValue

try:
    VN_TZ: timezone | ZoneInfo = ZoneInfo("Asia/Ho_Chi_Minh")
except ZoneInfoNotFoundError:  # slim containers without tzdata: the offset has been fixed since 1975
    VN_TZ = timezone(timedelta(hours=7), "ICT")

_EXCEL_EPOCH = date(1899, 12, 30)
#: Serials from 1 Jan 1990 to 31 Dec 2100: a bare number outside this is a typo, not a date.
_SERIAL_MIN, _SERIAL_MAX = 32874, 73415
_DMY = re.compile(r"^(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
#: ``15082025``: typed on a phone's number pad, which has no "/" on many keyboards.
_DDMMYYYY = re.compile(r"^(\d{2})(\d{2})((?:19|20)\d{2})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


def _invalid(raw: object) -> InvalidValue:
    return InvalidValue(
        "invalid_date",
        f"Ngày không hợp lệ: {raw!s} (dùng dd/mm/yyyy, ví dụ 25/11/2026)",
        f"Invalid date: {raw!s} (use dd/mm/yyyy, e.g. 25/11/2026)",
    )


def from_excel_serial(serial: float) -> date:
    """Excel 1900-system serial (the integer part) to a date."""
    if not _SERIAL_MIN <= serial <= _SERIAL_MAX:
        raise _invalid(serial)
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(value: str | int | float | date) -> date:
    """Parse ``25/11/2026`` (also ``25-11-2026``, ``25.11.2026``, ``25 11 2026``, ``25112026``),
    ``2026-11-25``, an Excel serial or a date/datetime cell value."""
    if isinstance(value, datetime):
        return value.astimezone(VN_TZ).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise _invalid(value)
    if isinstance(value, (int, float)):
        return from_excel_serial(value)
    raw = value.strip()
    try:
        if match := _DMY.match(raw) or _DDMMYYYY.match(raw):
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        if match := _ISO.match(raw):
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
        if re.fullmatch(r"\d{5}(?:\.\d+)?", raw):
            return from_excel_serial(float(raw))
    except ValueError as exc:  # e.g. 31/02/2026
        raise _invalid(raw) from exc
    raise _invalid(raw)


def format_date(value: date) -> str:
    """Vietnamese display form ``dd/mm/yyyy``."""
    return value.strftime("%d/%m/%Y")


def today_vn(now: datetime | None = None) -> date:
    """Today's date for people in Vietnam (a UTC server's date is wrong from 17:00 UTC)."""
    return (now or datetime.now(timezone.utc)).astimezone(VN_TZ).date()


def add_months(start: date, months: int) -> date:
    """Calendar month arithmetic, clamping to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
