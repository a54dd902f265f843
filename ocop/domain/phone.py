"""Vietnamese phone numbers to E.164 (``+84…``).

Numbering plan (Bộ TT&TT): since the 2018 mobile prefix change (Quyết định 798/QĐ-BTTTT) mobile
numbers are ``0`` + 9 digits starting 3, 5, 7, 8 or 9 (``0905 123 456``); since the 2017 area-code
change (Quyết định 2036/QĐ-BTTTT) landlines are ``0`` + ``2`` + area code + subscriber, 11 digits in
all (``0256 3822 123``, ``024 3825 1234``). International form drops the trunk ``0`` after +84.
A 9-digit mobile typed as a number in Excel (leading zero lost) is accepted.
"""

from __future__ import annotations

import re

from ocop.domain.errors import InvalidValue

_SEPARATORS = re.compile(r"[\s.\-()/]")
_MOBILE = re.compile(r"^[35789]\d{8}$")
_LANDLINE = re.compile(r"^2\d{9}$")


def _invalid(raw: object) -> InvalidValue:
    return InvalidValue(
        "invalid_phone",
        f"Số điện thoại không hợp lệ: {raw!s} (ví dụ 0905 123 456 hoặc +84 905 123 456)",
        f"Invalid phone number: {raw!s} (e.g. 0905 123 456 or +84 905 123 456)",
    )


def parse_phone(value: str | int | float) -> str:
    """Return the E.164 form (``+84905123456``) of a Vietnamese mobile or landline number."""
    if isinstance(value, float):
        if not value.is_integer():
            raise _invalid(value)
        value = int(value)
    raw = str(value).strip()
    text = _SEPARATORS.sub("", raw)
    if text.startswith("+84"):
        national = text[3:]
    elif text.startswith("0084"):
        national = text[4:]
    elif text.startswith("84") and len(text) in (11, 12):
        national = text[2:]
    elif text.startswith("0"):
        national = text[1:]
    else:
        national = text
    national = national.removeprefix("0")  # "+84 0905…" is a common mix of both forms
    if not national.isascii() or not national.isdigit():
        raise _invalid(raw)
    if _MOBILE.match(national) or _LANDLINE.match(national):
        return "+84" + national
    raise _invalid(raw)


def is_mobile(e164: str) -> bool:
    """True for a mobile number in E.164 (as returned by :func:`parse_phone`)."""
    return bool(_MOBILE.match(e164.removeprefix("+84")))


def format_phone(e164: str) -> str:
    """National display form: ``+84905123456`` -> ``0905 123 456``; landlines ``0256 3822 123``."""
    national = e164.removeprefix("+84")
    if _MOBILE.match(national):
        return f"0{national[:3]} {national[3:6]} {national[6:]}"
    return f"0{national[:3]} {national[3:7]} {national[7:]}"
