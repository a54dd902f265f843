"""VND amounts as people type them, stored as int.

The đồng has no minor unit in circulation (ISO 4217 lists VND with exponent 0), so both ``.`` and
``,`` in a typed price are thousands separators: ``150.000``, ``150,000`` and ``150000`` are the
same amount. A decimal part is only meaningful with a multiplier suffix (``1,5tr`` = 1 500 000,
``150k`` = 150 000). Display follows Vietnamese convention: dot grouping and the ₫ sign after the
number (``150.000 ₫``).
"""

from __future__ import annotations

import re

from ocop.domain.errors import InvalidValue
from ocop.domain.text import fold

#: The largest price we accept; above this a typo (extra zeros) is far more likely than a real price.
MAX_VND = 10_000_000_000

_CURRENCY = re.compile(r"(vnđ|vnd|đồng|dong|đ|₫|d)\.?$")
_MULTIPLIERS = {"k": 1_000, "nghin": 1_000, "ngan": 1_000, "tr": 1_000_000, "trieu": 1_000_000, "m": 1_000_000}
_SUFFIXED = re.compile(r"^(\d+(?:[.,]\d+)?)(k|nghin|ngan|tr|trieu|m)$")
_GROUPED = re.compile(r"^\d{1,3}(?:([.,])\d{3})?(?:\1\d{3})*$")


def _error(raw: object) -> InvalidValue:
    return InvalidValue(
        "invalid_money",
        f"Số tiền không hợp lệ: {raw!s} (ví dụ: 150000, 150.000đ, 150k)",
        f"Invalid amount: {raw!s} (e.g. 150000, 150.000đ, 150k)",
    )


def _negative() -> InvalidValue:
    return InvalidValue("money_negative", "Số tiền không được âm", "Amount cannot be negative")


def parse_vnd(value: str | int | float) -> int:
    """Parse a typed VND amount to an int number of đồng.

    Raises :class:`InvalidValue` for negatives, fractions of a đồng, ambiguous grouping
    (``150.00``) and amounts above :data:`MAX_VND`.
    """
    if isinstance(value, bool):
        raise _error(value)
    if isinstance(value, int):
        amount = value
    elif isinstance(value, float):
        if value != value or not value.is_integer():
            raise _error(value)
        amount = int(value)
    else:
        amount = _parse_text(value)
    if amount < 0:  # typed or sent as a number, a negative price reads like a typed "-5000"
        raise _negative()
    if amount > MAX_VND:
        raise InvalidValue(
            "money_out_of_range",
            f"Số tiền phải từ 0 đến {format_vnd(MAX_VND)}",
            f"Amount must be between 0 and {format_vnd(MAX_VND)}",
        )
    return amount


def _parse_text(raw: str) -> int:
    text = fold(raw).replace(" ", "").replace("\u00a0", "")
    # fold() maps đ to d, so "đ", "vnđ", "đồng" arrive here as "d", "vnd", "dong".
    text = _CURRENCY.sub("", text)
    if not text:
        raise _error(raw)
    if text.startswith("-"):
        raise _negative()
    suffixed = _SUFFIXED.match(text)
    if suffixed:
        number, unit = suffixed.groups()
        whole, _, frac = number.replace(",", ".").partition(".")
        multiplier = _MULTIPLIERS[unit]
        scaled = int(whole) * multiplier
        if frac:
            digits = int(frac) * multiplier
            scale = 10 ** len(frac)
            if digits % scale:
                raise _error(raw)
            scaled += digits // scale
        return scaled
    if text.isdigit():
        return int(text)
    if _GROUPED.match(text):
        return int(text.replace(".", "").replace(",", ""))
    raise _error(raw)


def format_vnd(amount: int) -> str:
    """``150000`` -> ``"150.000 ₫"`` (dot grouping, sign after the number)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,} ₫".replace(",", ".")
