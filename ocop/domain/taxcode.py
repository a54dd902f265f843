"""Producer tax codes (mã số thuế) in their three shapes.

- 10 digits: 2 province digits, 7 serial, 1 check digit (weights 31, 29, 23, 19, 17, 13, 7, 5, 3);
  validated with ``stdnum.vn.mst`` (python-stdnum, which cites the Vietnamese Wikipedia article on
  MST and the General Department of Taxation's look-up pages).
- 13 digits: a branch (đơn vị phụ thuộc), the parent's 10 digits plus ``-001`` … ``-999``.
- 12 digits: since 1 July 2025 individuals and household businesses use their personal
  identification number (số định danh cá nhân, the CCCD number) as tax code (Luật Quản lý thuế
  2019 art. 30 as implemented by Thông tư 86/2024/TT-BTC, effective 1 July 2025). Its first three
  digits are the province of birth registration (Thông tư 07/2016/TT-BCA, Điều 7), the fourth the
  sex and century, the next two the year of birth.

Excel drops leading zeros from numbers, so a 9-digit value whose zero-padded form has a valid
check digit is accepted as that tax code (and 11 digits as a 12-digit ID with a valid province
code): rejecting them would fail most real catalogues typed as numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from stdnum.exceptions import ValidationError
from stdnum.vn import mst

from ocop.domain.errors import InvalidValue

#: Province codes of the 12-digit personal ID (Thông tư 07/2016/TT-BCA, Điều 7: the 63 pre-2025
#: provinces; IDs already issued keep their code after the 2025 merger).
CCCD_PROVINCE_CODES = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035"
    " 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072"
    " 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)

_SEPARATORS = re.compile(r"[\s.\-/]")


class TaxCodeKind(str, Enum):
    ENTERPRISE = "enterprise"
    BRANCH = "branch"
    PERSONAL = "personal"


@dataclass(frozen=True, slots=True)
class TaxCode:
    """A validated tax code; ``value`` is the canonical text stored and used as the producer key."""

    value: str
    kind: TaxCodeKind


def _invalid(raw: object, detail_vi: str, detail_en: str, code: str = "invalid_tax_code") -> InvalidValue:
    return InvalidValue(code, f"Mã số thuế không hợp lệ ({raw!s}): {detail_vi}", f"Invalid tax code ({raw!s}): {detail_en}")


def _mst_ok(digits: str) -> bool:
    try:
        mst.validate(digits)
    except ValidationError:
        return False
    return True


def parse_tax_code(value: str | int | float) -> TaxCode:
    """Validate and canonicalise: ``0100233488``, ``0100233488-001`` or a 12-digit personal ID."""
    if isinstance(value, float):
        if not value.is_integer():
            raise _invalid(value, "phải là dãy chữ số", "must be digits")
        value = int(value)
    raw = str(value).strip()
    digits = _SEPARATORS.sub("", raw)
    if not digits.isdigit() or not digits.isascii():
        raise _invalid(raw, "chỉ gồm chữ số (và dấu - trước mã chi nhánh)", "digits only (and - before a branch suffix)")
    if len(digits) == 9 and _mst_ok("0" + digits):
        digits = "0" + digits
    elif len(digits) == 11 and ("0" + digits)[:3] in CCCD_PROVINCE_CODES:
        digits = "0" + digits
    if len(digits) == 10:
        if not _mst_ok(digits):
            raise _invalid(raw, "sai chữ số kiểm tra", "wrong check digit", "tax_code_checksum")
        return TaxCode(digits, TaxCodeKind.ENTERPRISE)
    if len(digits) == 13:
        if digits[10:] == "000":
            raise _invalid(raw, "mã chi nhánh phải từ 001 đến 999", "branch suffix must be 001-999")
        if not _mst_ok(digits[:10]):
            raise _invalid(raw, "sai chữ số kiểm tra", "wrong check digit", "tax_code_checksum")
        return TaxCode(f"{digits[:10]}-{digits[10:]}", TaxCodeKind.BRANCH)
    if len(digits) == 12:
        if digits[:3] not in CCCD_PROVINCE_CODES:
            raise _invalid(raw, "mã tỉnh của số định danh không tồn tại", "unknown province code in personal ID")
        return TaxCode(digits, TaxCodeKind.PERSONAL)
    raise _invalid(raw, "phải có 10, 13 (chi nhánh) hoặc 12 chữ số (số định danh)", "must have 10, 13 (branch) or 12 digits (personal ID)")
