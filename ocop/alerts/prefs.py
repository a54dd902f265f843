"""A user's alert choices: which kinds come as messages, by which channel, to which phone or
address, and the quiet hours (Vietnam time) during which messages wait."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ocop.accounts.tables import User
from ocop.alerts.tables import AlertPreference
from ocop.producers.tables import Producer
from ocop.domain.dates import VN_TZ
from ocop.domain.errors import InvalidValue
from ocop.domain.phone import is_mobile, parse_phone


@dataclass(frozen=True, slots=True)
class Choices:
    zalo_phone: str = ""
    email: str = ""
    use_zalo: bool = True
    use_email: bool = True
    kinds_off: frozenset[str] = field(default_factory=frozenset)
    quiet_start: int | None = None  # minutes after midnight, Vietnam time
    quiet_end: int | None = None

    def wants(self, kind: str) -> bool:
        return kind not in self.kinds_off


def from_row(row: dict[str, Any] | None, *, phone: str = "", email: str = "") -> Choices:
    """A stored row, or the defaults: everything on, the producer's own phone and e-mail."""
    if row is None:
        return Choices(zalo_phone=phone, email=email)
    try:
        off = frozenset(str(k) for k in json.loads(row["kinds_off"] or "[]"))
    except ValueError:
        off = frozenset()
    return Choices(zalo_phone=row["zalo_phone"] or "", email=row["email"] or "", use_zalo=bool(row["use_zalo"]),
                   use_email=bool(row["use_email"]), kinds_off=off, quiet_start=row["quiet_start"],
                   quiet_end=row["quiet_end"])


async def choices_of_user(user_id: int) -> tuple[Choices, str]:
    """One user's choices (with a producer user's own phone and e-mail as the defaults) and the
    language they read."""
    user = await User.select(User.producer, User.role, User.locale).where(User.id == user_id).first()
    row = await AlertPreference.select().where(AlertPreference.user == user_id).first()
    phone = email = ""
    if row is None and user is not None and user["producer"] is not None and user["role"] == "producer":
        p = await Producer.select(Producer.phone, Producer.email).where(Producer.id == user["producer"]).first()
        phone, email = (p["phone"], p["email"]) if p else ("", "")
    return from_row(row, phone=phone, email=email), (user or {}).get("locale") or "vi"


async def choices_of(user_ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = await AlertPreference.select().where(AlertPreference.user.is_in(user_ids or [0]))
    return {r["user"]: r for r in rows}


def after_quiet(choices: Choices, at: datetime) -> datetime:
    """``at`` itself, or the end of the quiet hours ``at`` falls in (Vietnam time; a start after
    the end wraps midnight, e.g. 21:00–06:00)."""
    start, end = choices.quiet_start, choices.quiet_end
    if start is None or end is None or start == end:
        return at
    local = at.astimezone(VN_TZ)
    minute = local.hour * 60 + local.minute
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return at
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    ends = midnight + timedelta(minutes=end)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(at.tzinfo)


def zalo_number(phone: str) -> str:
    """A mobile number as ZNS wants it, international without "+" (0912 345 678 → 84912345678),
    through the one Vietnamese phone rule (:mod:`ocop.domain.phone`); "" when it is not a mobile
    number (Zalo accounts are opened with one)."""
    try:
        e164 = parse_phone(phone)
    except InvalidValue:
        return ""
    return e164.removeprefix("+") if is_mobile(e164) else ""


def parse_hhmm(value: str) -> int | None:
    """``"21:30"`` → 1290; "" → None; anything else raises ValueError."""
    value = (value or "").strip()
    if not value:
        return None
    hours, sep, minutes = value.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or int(hours) > 23 or int(minutes) > 59:
        raise ValueError(value)
    return int(hours) * 60 + int(minutes)


def hhmm(minutes: int | None) -> str:
    return "" if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"
