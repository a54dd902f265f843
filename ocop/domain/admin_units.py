"""Vietnam's 2025 two-level administrative units: province → commune/ward, typed any way.

Since 1 July 2025 (Nghị quyết 202/2025/QH15 on provinces, the Standing Committee's resolutions on
communes) there are 34 provinces and 3,321 communes, wards and special zones; districts are gone.
The units themselves come from the ``vietnam-provinces`` package. Names match accent- and
case-insensitively, with or without the unit type (``Quy Nhơn`` finds ``Phường Quy Nhơn``).

Older catalogues still name pre-2025 units, so two small data tables ship with this module:

- ``admin_units_old_provinces.csv``: every pre-2025 province absorbed by another → its 2025
  province (complete: the 29 of Nghị quyết 202/2025/QH15, 63 − 34), plus Thừa Thiên Huế, now
  Thành phố Huế. The other 34 old names are today's names and match directly.
- ``admin_units_binh_dinh.csv``: a *partial* table of pre-2025 Bình Định names → 2025 Gia Lai
  units (31 rows). The 11 former districts/towns/city are ``ambiguous`` (each became several
  communes; the candidates listed are the units named after it and are not exhaustive). The 20
  commune-level rows are ``exact`` where the 2025 unit carries the old unit's name (district seats
  such as Thị trấn Tuy Phước → Xã Tuy Phước, communes that kept their name): that is inferred from
  the names, not transcribed from Nghị quyết 1663/NQ-UBTVQH15 (16 June 2025), which was not
  available offline — verify before relying on it. The other ~140 former Bình Định communes are
  not covered and are reported as unknown, never guessed.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from vietnam_provinces import Province, Ward

from ocop.domain.errors import InvalidValue
from ocop.domain.text import clean, fold

_HERE = Path(__file__).parent
_PROVINCE_PREFIX = re.compile(r"^(tinh|thanh pho|tp\.?|t\.p\.?)\s+")
_PROVINCE_SUFFIX = re.compile(r"\s+(province|city)$")
_WARD_PREFIX = re.compile(r"^(xa|phuong|dac khu|thi tran|p\.|x\.|tt\.?)\s*")


def _key(text: str) -> str:
    return " ".join(fold(text).replace("-", " ").replace("–", " ").split())


def _province_key(text: str) -> str:
    key = _PROVINCE_SUFFIX.sub("", _PROVINCE_PREFIX.sub("", _key(text)))
    return "ho chi minh" if key in {"hcm", "tphcm", "sai gon", "saigon"} else key


def _ward_base(text: str) -> str:
    return _WARD_PREFIX.sub("", _key(text))


@dataclass(frozen=True, slots=True)
class LegacyUnit:
    """One row of the shipped pre-2025 → 2025 table."""

    old_name: str
    old_level: str  # "district" or "commune"
    old_district: str
    new_units: tuple[str, ...]
    ambiguous: bool
    basis: str


@dataclass(frozen=True, slots=True)
class WardMatch:
    ward: Ward
    #: Set when the name was found through the pre-2025 table, e.g. "Thị trấn Tuy Phước → Xã Tuy Phước".
    legacy_note: str | None = None
    #: The pre-2025 district of that name, when the table knows it (kept on the producer).
    legacy_district: str = ""


@cache
def _provinces() -> dict[str, Province]:
    index = {_province_key(p.name): p for p in Province.iter_all()}
    with (_HERE / "admin_units_old_provinces.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            index.setdefault(_province_key(row["old_province"]), index[_province_key(row["new_province"])])
    return index


@cache
def _wards_by_province() -> dict[int, tuple[Ward, ...]]:
    grouped: dict[int, list[Ward]] = {}
    for ward in Ward.iter_all():
        grouped.setdefault(int(ward.province_code), []).append(ward)
    return {code: tuple(wards) for code, wards in grouped.items()}


@dataclass(frozen=True, slots=True)
class _WardIndex:
    exact: dict[str, Ward]  # accents kept, case folded: "phường quy nhơn"
    exact_base: dict[str, list[Ward]]  # without the unit type: "quy nhơn"
    folded: dict[str, list[Ward]]  # accents folded: "phuong quy nhon"
    folded_base: dict[str, list[Ward]]


def _exact(text: str) -> str:
    return " ".join(clean(text).casefold().replace("-", " ").replace("–", " ").split())


_EXACT_PREFIX = re.compile(r"^(xã|phường|đặc khu|thị trấn|p\.|x\.|tt\.?)\s*")


@cache
def _ward_index(province_code: int) -> _WardIndex:
    index = _WardIndex({}, {}, {}, {})
    for ward in _wards_by_province()[province_code]:
        index.exact[_exact(ward.name)] = ward
        index.exact_base.setdefault(_EXACT_PREFIX.sub("", _exact(ward.name)), []).append(ward)
        index.folded.setdefault(_key(ward.name), []).append(ward)
        index.folded_base.setdefault(_ward_base(ward.name), []).append(ward)
    return index


@cache
def legacy_binh_dinh() -> dict[str, LegacyUnit]:
    """The shipped pre-2025 Bình Định table, keyed by folded old name (with and without type)."""
    index: dict[str, LegacyUnit] = {}
    with (_HERE / "admin_units_binh_dinh.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            unit = LegacyUnit(
                old_name=row["old_name"],
                old_level=row["old_level"],
                old_district=row["old_district"],
                new_units=tuple(row["new_units"].split(";")),
                ambiguous=row["status"] == "ambiguous",
                basis=row["basis"],
            )
            index[_key(unit.old_name)] = unit
    return index


def provinces() -> tuple[Province, ...]:
    """The 34 provinces in the package's order."""
    return tuple(Province.iter_all())


def wards_of(province: Province) -> tuple[Ward, ...]:
    """Communes, wards and special zones of ``province`` (e.g. for a drop-down list)."""
    return _wards_by_province()[int(province.code)]


def find_province(name: str) -> Province:
    """``"Gia Lai"``, ``"tỉnh gia lai"``, ``"TP Hồ Chí Minh"``, or an old name (``"Bình Định"``)."""
    province = _provinces().get(_province_key(name))
    if province is None:
        raise InvalidValue(
            "unknown_province",
            f"Không tìm thấy tỉnh/thành phố: {name}",
            f"Unknown province or city: {name}",
        )
    return province


def find_ward(province: Province, name: str) -> WardMatch:
    """Find a commune/ward of ``province`` by its 2025 name, or by a pre-2025 name we can map.

    Exact spelling (case aside) wins; without accents a name must be unique: ``Xa Van Lang`` could
    be ``Xã Văn Lăng`` or ``Xã Văn Lang`` (Thái Nguyên) and is reported as ambiguous.
    """
    index = _ward_index(int(province.code))
    exact = _exact(name)
    if exact in index.exact:
        return WardMatch(index.exact[exact])
    key = _key(name)
    legacy = legacy_binh_dinh().get(key) if province.codename == "gia_lai" else None
    if legacy is not None:
        if legacy.ambiguous:
            names = ", ".join(legacy.new_units)
            raise InvalidValue(
                "ambiguous_legacy_unit",
                f"{legacy.old_name} đã được sắp xếp lại từ 1/7/2025; chọn xã/phường mới (ví dụ: {names})",
                f"{legacy.old_name} was reorganised on 1 Jul 2025; pick the new commune/ward (e.g. {names})",
            )
        return WardMatch(
            index.exact[_exact(legacy.new_units[0])],
            legacy_note=f"{legacy.old_name} → {legacy.new_units[0]}",
            legacy_district=legacy.old_district,
        )
    by_base = index.exact_base.get(_EXACT_PREFIX.sub("", exact), [])
    if len(by_base) == 1:
        return WardMatch(by_base[0])
    for candidates in (index.folded.get(key, []), index.folded_base.get(_ward_base(name), [])):
        if len(candidates) == 1:
            return WardMatch(candidates[0])
        if candidates:
            names = ", ".join(w.name for w in candidates)
            raise InvalidValue(
                "ambiguous_ward",
                f"Tên xã/phường chưa rõ: {name} (có thể là: {names}); hãy gõ đủ dấu",
                f"Ambiguous commune/ward: {name} (could be: {names}); type it with accents",
            )
    raise InvalidValue(
        "unknown_ward",
        f"Không tìm thấy xã/phường {name} thuộc {province.name}",
        f"No commune/ward named {name} in {province.name}",
    )
