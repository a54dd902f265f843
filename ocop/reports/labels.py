"""Vietnamese labels for the keys figures are grouped by (marketplace, listing state, commune,
OCOP group, stars). Commune names come from ``vietnam-provinces`` (the 2025 units)."""

from __future__ import annotations

from functools import cache

from vietnam_provinces import Ward

from ocop.domain.ocop import GROUPS, group_by_code
from ocop.marketplace.listings import STATE_LABELS
from ocop.marketplaces import name_of

UNKNOWN = "Chưa rõ"


def marketplace_label(code: str | None) -> str:
    return name_of(code, UNKNOWN)


def state_label(state: str | None) -> str:
    return STATE_LABELS.get(state or "", state or UNKNOWN)


@cache
def commune_label(code: int | None) -> str:
    if code is None:
        return "Chưa rõ xã/phường"
    try:
        return str(Ward.from_code(int(code)).name)
    except ValueError:  # vietnam-provinces: "Ward code N is invalid."
        return f"Mã {code}"


def group_label(code: int | None) -> str:
    if code is None or not 1 <= int(code) <= len(GROUPS):
        return "Chưa phân nhóm"
    return f"{code}. {group_by_code(int(code)).name_vi}"


def stars_label(stars: int | None) -> str:
    return "Chưa xếp hạng" if stars is None else f"{stars} sao"
