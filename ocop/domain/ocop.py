"""OCOP programme rules: product groups, star ranks, certificate validity, decision numbers.

Source: Quyết định 148/QĐ-TTg (24 Feb 2023) of the Prime Minister on the OCOP product evaluation
and classification criteria: six product groups; a product scoring 90–100 points is ranked 5 stars
(national council), 70–89 four stars and 50–69 three stars (provincial People's Committee), below 50
it is not certified; a certification is valid for 36 months. Decision numbers follow the
administrative-document numbering of Nghị định 30/2020/NĐ-CP (number / type abbreviation -
issuing body abbreviation, e.g. ``1234/QĐ-UBND``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum

from ocop.domain.dates import add_months
from ocop.domain.errors import InvalidValue
from ocop.domain.text import clean, fold

CERTIFICATE_VALIDITY_MONTHS = 36
STARS = (3, 4, 5)


@dataclass(frozen=True, slots=True)
class OcopGroup:
    code: int
    name_vi: str
    name_en: str
    aliases: tuple[str, ...] = ()


GROUPS: tuple[OcopGroup, ...] = (
    OcopGroup(1, "Thực phẩm", "Food", ("food", "thuc pham")),
    OcopGroup(2, "Đồ uống", "Beverages", ("beverage", "beverages", "drinks", "do uong")),
    OcopGroup(3, "Thảo dược", "Herbal products", ("herbal", "herbs", "thao duoc")),
    OcopGroup(4, "Vải và may mặc", "Textiles and garments", ("textiles", "garments", "vai", "may mac", "vai may mac")),
    OcopGroup(
        5,
        "Lưu niệm – nội thất – trang trí",
        "Souvenirs, furniture and decoration",
        ("souvenirs", "luu niem", "luu niem noi that trang tri", "do luu niem", "noi that", "trang tri"),
    ),
    OcopGroup(
        6,
        "Dịch vụ du lịch cộng đồng, dịch vụ du lịch và điểm du lịch",
        "Community tourism, tourism services and destinations",
        ("tourism", "du lich", "dich vu du lich", "dich vu du lich cong dong"),
    ),
)


def _group_key(text: str) -> str:
    """Fold, drop punctuation (en dash, commas) and collapse spaces."""
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", fold(text)).split())


_GROUP_INDEX = {_group_key(k): g for g in GROUPS for k in (str(g.code), g.name_vi, g.name_en, *g.aliases)}


def group_by_code(code: int) -> OcopGroup:
    return GROUPS[code - 1]


def parse_group(value: str | int | float) -> OcopGroup:
    """``"Thực phẩm"``, ``"thuc pham"``, ``"1"``, ``"Nhóm 1"`` or ``"Food"`` -> the group."""
    text = str(int(value)) if isinstance(value, (int, float)) else str(value)
    key = _group_key(re.sub(r"^\s*(nhóm|nhom|group)\s*", "", text, flags=re.IGNORECASE))
    group = _GROUP_INDEX.get(key)
    if group is None:
        raise InvalidValue(
            "invalid_ocop_group",
            f"Nhóm sản phẩm không hợp lệ: {value!s} (chọn 1 trong 6 nhóm OCOP)",
            f"Invalid product group: {value!s} (one of the 6 OCOP groups)",
        )
    return group


def parse_stars(value: str | int | float) -> int:
    """``4``, ``"4"``, ``"4 sao"``, ``"4*"`` or ``"★★★★"`` -> 4; only 3, 4 or 5 are certified ranks."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        stars = int(value) if float(value).is_integer() else -1
    else:
        text = fold(str(value))
        if text and set(text) <= {"★", "☆"}:
            stars = text.count("★")
        else:
            match = re.fullmatch(r"(\d)\s*(sao|stars?|\*|★)?", text)
            stars = int(match.group(1)) if match else -1
    if stars not in STARS:
        raise InvalidValue(
            "invalid_stars",
            f"Số sao OCOP phải là 3, 4 hoặc 5 (nhận được: {value!s})",
            f"OCOP stars must be 3, 4 or 5 (got: {value!s})",
        )
    return stars


def stars_for_score(score: float) -> int | None:
    """Evaluation score (0–100) to star rank; ``None`` below 50 (not certified)."""
    if not 0 <= score <= 100:
        raise InvalidValue("invalid_score", "Điểm đánh giá phải từ 0 đến 100", "Score must be between 0 and 100")
    if score >= 90:
        return 5
    if score >= 70:
        return 4
    if score >= 50:
        return 3
    return None


def certificate_expiry(issued_on: date, months: int = CERTIFICATE_VALIDITY_MONTHS) -> date:
    """Last day of validity: issued + ``months`` calendar months (36 by default)."""
    return add_months(issued_on, months)


_DECISION = re.compile(r"^(\d{1,6})\s*/\s*(?:(\d{4})\s*/\s*)?(QĐ|QD)\s*-\s*([A-ZĐ0-9]+(?:\s*-\s*[A-ZĐ0-9]+)*)$")


def parse_decision_number(value: str | int) -> str:
    """Canonical decision number: ``1234/qd-ubnd`` -> ``1234/QĐ-UBND``; keeps a year part if given."""
    raw = clean(str(value))
    match = _DECISION.match(raw.upper())
    if not match:
        raise InvalidValue(
            "invalid_decision_number",
            f"Số quyết định không hợp lệ: {raw} (ví dụ 1234/QĐ-UBND)",
            f"Invalid decision number: {raw} (e.g. 1234/QĐ-UBND)",
        )
    number, year, _, body = match.groups()
    body = re.sub(r"\s*-\s*", "-", body)
    return f"{number}/{year + '/' if year else ''}QĐ-{body}"


class ProducerKind(str, Enum):
    """Organisation kinds of an OCOP producer (chủ thể), per Decision 148/QĐ-TTg."""

    COOPERATIVE = "htx"
    COOPERATIVE_GROUP = "to_hop_tac"
    ENTERPRISE = "doanh_nghiep"
    HOUSEHOLD = "ho_kinh_doanh"

    @property
    def label_vi(self) -> str:
        return _KIND_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _KIND_LABELS[self][1]


_KIND_LABELS = {
    ProducerKind.COOPERATIVE: ("Hợp tác xã", "Cooperative"),
    ProducerKind.COOPERATIVE_GROUP: ("Tổ hợp tác", "Cooperative group"),
    ProducerKind.ENTERPRISE: ("Doanh nghiệp", "Enterprise"),
    ProducerKind.HOUSEHOLD: ("Hộ kinh doanh", "Household business"),
}
_KIND_ALIASES = {
    ProducerKind.COOPERATIVE: ("htx", "hop tac xa", "cooperative", "coop"),
    ProducerKind.COOPERATIVE_GROUP: ("to hop tac", "tht", "cooperative group"),
    ProducerKind.ENTERPRISE: (
        "doanh nghiep", "dn", "cong ty", "cong ty tnhh", "cong ty co phan", "ctcp", "tnhh", "enterprise", "company",
        "doanh nghiep tu nhan", "dntn",
    ),
    ProducerKind.HOUSEHOLD: ("ho kinh doanh", "hkd", "ho san xuat", "ho sx", "ho gia dinh", "household", "household business"),
}
_KIND_INDEX = {alias: kind for kind, aliases in _KIND_ALIASES.items() for alias in aliases} | {
    k.value.replace("_", " "): k for k in ProducerKind
}


def parse_producer_kind(value: str) -> ProducerKind:
    """``"HTX"``, ``"Hợp tác xã"``, ``"Công ty TNHH"``, ``"hộ kinh doanh"`` … -> the kind."""
    kind = _KIND_INDEX.get(_group_key(value))
    if kind is None:
        raise InvalidValue(
            "invalid_producer_kind",
            f"Loại hình chủ thể không hợp lệ: {value} (HTX, Tổ hợp tác, Doanh nghiệp, Hộ kinh doanh)",
            f"Invalid producer kind: {value} (cooperative, cooperative group, enterprise, household business)",
        )
    return kind
