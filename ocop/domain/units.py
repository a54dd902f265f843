"""Units of sale seen on OCOP products, with the spellings people type.

Packaging words (hộp, chai, hũ …) are counted units; kg/g/lít/ml are measured ones. The list
follows what OCOP catalogues and marketplace listings use (reference/domain.md); unknown units are
refused so a typo does not become a new unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ocop.domain.errors import InvalidValue
from ocop.domain.text import clean, fold


@dataclass(frozen=True, slots=True)
class Unit:
    code: str  # the Vietnamese name as stored and shown
    name_en: str
    measured: bool = False


UNITS: tuple[Unit, ...] = (
    Unit("hộp", "box"),
    Unit("chai", "bottle"),
    Unit("hũ", "jar"),
    Unit("lọ", "vial"),
    Unit("gói", "pack"),
    Unit("túi", "bag"),
    Unit("bịch", "pouch"),
    Unit("vỉ", "blister"),
    Unit("cái", "piece"),
    Unit("chiếc", "item"),
    Unit("bộ", "set"),
    Unit("đôi", "pair"),
    Unit("chục", "ten"),
    Unit("thùng", "carton"),
    Unit("lon", "can"),
    Unit("bình", "jug"),
    Unit("kg", "kilogram", measured=True),
    Unit("g", "gram", measured=True),
    Unit("lít", "litre", measured=True),
    Unit("ml", "millilitre", measured=True),
)

_ALIASES: dict[str, tuple[str, ...]] = {
    "hộp": ("box", "hop"),
    "chai": ("bottle",),
    "hũ": ("jar", "hu", "hủ"),
    "lọ": ("vial", "lo"),
    "gói": ("pack", "package", "packet", "goi"),
    "túi": ("bag", "tui"),
    "bịch": ("pouch", "bich"),
    "vỉ": ("blister", "vi"),
    "cái": ("piece", "pcs", "pc", "cai"),
    "chiếc": ("item", "chiec"),
    "bộ": ("set", "bo"),
    "đôi": ("pair", "doi"),
    "chục": ("chuc", "ten"),
    "thùng": ("carton", "thung"),
    "lon": ("can",),
    "bình": ("jug", "binh"),
    "kg": ("kilogram", "kilo", "ký", "kí", "cân", "kgs"),
    "g": ("gram", "gam", "gr", "grams"),
    "lít": ("litre", "liter", "lit", "l"),
    "ml": ("millilitre", "milliliter", "mililit", "mililít"),
}
_BY_CODE = {u.code: u for u in UNITS}
_INDEX: dict[str, Unit] = {}
for _code, _aliases in _ALIASES.items():
    for _alias in (_code, *_aliases):
        _INDEX.setdefault(_alias, _BY_CODE[_code])  # exact (accented) spellings first
for _code, _aliases in _ALIASES.items():
    for _alias in (_code, *_aliases):
        _INDEX.setdefault(fold(_alias), _BY_CODE[_code])


def parse_unit(value: str) -> Unit:
    """``"Hộp"``, ``"hop"``, ``"box"``, ``"Kg"``, ``"lit"`` -> the unit (case and accents ignored)."""
    text = clean(value).casefold().rstrip(".")
    unit = _INDEX.get(text) or _INDEX.get(fold(text))
    if unit is None:
        raise InvalidValue(
            "invalid_unit",
            f"Đơn vị tính không hợp lệ: {value} (ví dụ: hộp, chai, gói, kg)",
            f"Invalid unit of sale: {value} (e.g. box, bottle, pack, kg)",
        )
    return unit


_QUANTITY = re.compile(r"^(\d+(?:[.,]\d+)?)\s*([^\d\s].*)$")


def parse_net_quantity(value: str) -> tuple[float, Unit]:
    """A net quantity such as ``"500 ml"``, ``"500g"``, ``"1,5 kg"`` -> (amount, measured unit)."""
    match = _QUANTITY.match(clean(value))
    if match:
        unit = _INDEX.get(match.group(2).casefold()) or _INDEX.get(fold(match.group(2)))
        if unit is not None and unit.measured:
            return float(match.group(1).replace(",", ".")), unit
    raise InvalidValue(
        "invalid_quantity",
        f"Quy cách không hợp lệ: {value} (ví dụ 500 ml, 250 g, 1 kg)",
        f"Invalid net quantity: {value} (e.g. 500 ml, 250 g, 1 kg)",
    )


_NUMBER_WITH_UNIT = re.compile(r"^(\d+(?:[.,]\d+)?)\s*([a-zA-Zđ]*)$")


def _measure(value: str | int | float, code: str, label_vi: str, label_en: str, scale: dict[str, float]) -> int:
    """Parse a non-negative measure with an optional unit into whole base units."""
    if isinstance(value, bool):
        amount = None
    elif isinstance(value, (int, float)):
        amount = float(value) * scale[""]
    else:
        match = _NUMBER_WITH_UNIT.match(clean(value).casefold())
        factor = scale.get(match.group(2)) if match else None
        amount = float(match.group(1).replace(",", ".")) * factor if match and factor is not None else None
    if amount is None or amount < 0 or amount != amount or amount > 10**9:
        raise InvalidValue(code, f"{label_vi} không hợp lệ: {value!s}", f"Invalid {label_en}: {value!s}")
    return round(amount)


def parse_weight_g(value: str | int | float) -> int:
    """Weight in whole grams: ``500``, ``"500 g"``, ``"0,5 kg"``."""
    return _measure(value, "invalid_weight", "Khối lượng", "weight", {"": 1, "g": 1, "gr": 1, "gram": 1, "kg": 1000})


def parse_length_cm_to_mm(value: str | int | float) -> int:
    """Package length typed in centimetres (``"12,5"``) -> whole millimetres (125)."""
    return _measure(value, "invalid_dimension", "Kích thước", "dimension", {"": 10, "cm": 10, "mm": 1, "m": 1000})


def parse_count(value: str | int | float, code: str = "invalid_number", label_vi: str = "Số", label_en: str = "number") -> int:
    """A whole non-negative count (stock, shelf life in days); ``"1.000"`` is one thousand."""
    if isinstance(value, str):
        text = clean(value)
        if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", text):
            value = text.replace(".", "").replace(",", "")
        else:
            value = text
        if not value.isdigit():
            raise InvalidValue(code, f"{label_vi} không hợp lệ: {value}", f"Invalid {label_en}: {value}")
    if isinstance(value, float) and not value.is_integer():
        raise InvalidValue(code, f"{label_vi} phải là số nguyên: {value}", f"{label_en} must be a whole number: {value}")
    return _measure(value, code, label_vi, label_en, {"": 1})
