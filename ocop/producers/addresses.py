"""Province → commune/ward choices for address forms (2025 two-level units, ``vietnam-provinces``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ocop.domain.admin_units import provinces, wards_of


@dataclass(frozen=True, slots=True)
class Option:
    code: int
    name: str


@cache
def province_options() -> tuple[Option, ...]:
    return tuple(Option(int(p.code), p.name) for p in provinces())


@cache
def ward_options(province_code: int) -> tuple[Option, ...]:
    for p in provinces():
        if int(p.code) == province_code:
            return tuple(Option(int(w.code), w.name) for w in wards_of(p))
    return ()


def province_name(code: int | None) -> str:
    return next((o.name for o in province_options() if o.code == code), "")


def ward_name(province_code: int | None, code: int | None) -> str:
    if province_code is None or code is None:
        return ""
    return next((o.name for o in ward_options(province_code) if o.code == code), "")
