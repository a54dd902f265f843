from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocop.domain.errors import InvalidValue
from ocop.domain.ocop import (
    GROUPS, ProducerKind, certificate_expiry, group_by_code, parse_decision_number, parse_group,
    parse_producer_kind, parse_stars, stars_for_score,
)


def test_six_groups_with_codes_and_names() -> None:
    assert [g.code for g in GROUPS] == [1, 2, 3, 4, 5, 6]
    assert group_by_code(2).name_vi == "Đồ uống"
    assert group_by_code(2).name_en == "Beverages"


@pytest.mark.parametrize(
    ("typed", "code"),
    [("Thực phẩm", 1), ("thuc pham", 1), ("THỰC PHẨM", 1), ("1", 1), (1.0, 1), ("Nhóm 2", 2), ("Beverages", 2),
     ("Thảo dược", 3), ("Vải và may mặc", 4), ("Lưu niệm - nội thất - trang trí", 5), ("Lưu niệm – nội thất – trang trí", 5),
     ("du lịch", 6)],
)
def test_parse_group(typed: object, code: int) -> None:
    assert parse_group(typed).code == code  # type: ignore[arg-type]


@pytest.mark.parametrize("typed", ["7", "Điện tử", ""])
def test_parse_group_rejects(typed: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_group(typed)
    assert info.value.code == "invalid_ocop_group"


@pytest.mark.parametrize(("typed", "stars"), [(3, 3), ("4", 4), ("4 sao", 4), ("5*", 5), ("★★★", 3), (5.0, 5), ("3 stars", 3)])
def test_parse_stars(typed: object, stars: int) -> None:
    assert parse_stars(typed) == stars  # type: ignore[arg-type]


@pytest.mark.parametrize("typed", [2, 6, "2 sao", 4.5, "nhiều", "★★"])
def test_parse_stars_only_certified_ranks(typed: object) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_stars(typed)  # type: ignore[arg-type]
    assert info.value.code == "invalid_stars"


@pytest.mark.parametrize(("score", "stars"), [(0, None), (49.9, None), (50, 3), (69, 3), (70, 4), (89.5, 4), (90, 5), (100, 5)])
def test_score_to_stars(score: float, stars: int | None) -> None:
    assert stars_for_score(score) == stars


@given(st.floats(min_value=0, max_value=100))
def test_score_monotonic(score: float) -> None:
    low = stars_for_score(score) or 0
    assert low <= (stars_for_score(min(score + 5, 100)) or 0)


def test_score_out_of_range() -> None:
    with pytest.raises(InvalidValue):
        stars_for_score(101)


def test_certificate_validity_default_36_months() -> None:
    assert certificate_expiry(date(2025, 3, 15)) == date(2028, 3, 15)
    assert certificate_expiry(date(2025, 3, 15), 24) == date(2027, 3, 15)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [("1234/QĐ-UBND", "1234/QĐ-UBND"), ("1234/qd-ubnd", "1234/QĐ-UBND"), ("56 / QĐ - UBND - NN", "56/QĐ-UBND-NN"),
     ("12/2024/QĐ-UBND", "12/2024/QĐ-UBND"), (" 789/QĐ-UBND ", "789/QĐ-UBND")],
)
def test_decision_number(typed: str, canonical: str) -> None:
    assert parse_decision_number(typed) == canonical


@pytest.mark.parametrize("typed", ["UBND 1234", "1234", "QĐ-UBND", "12a/QĐ-UBND"])
def test_decision_number_rejects(typed: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_decision_number(typed)
    assert info.value.code == "invalid_decision_number"


@pytest.mark.parametrize(
    ("typed", "kind"),
    [("HTX", ProducerKind.COOPERATIVE), ("Hợp tác xã", ProducerKind.COOPERATIVE), ("Công ty TNHH", ProducerKind.ENTERPRISE),
     ("doanh nghiệp", ProducerKind.ENTERPRISE), ("Hộ kinh doanh", ProducerKind.HOUSEHOLD), ("Tổ hợp tác", ProducerKind.COOPERATIVE_GROUP)],
)
def test_producer_kind(typed: str, kind: ProducerKind) -> None:
    assert parse_producer_kind(typed) is kind
    assert parse_producer_kind(kind.label_vi) is kind


def test_producer_kind_rejects() -> None:
    with pytest.raises(InvalidValue):
        parse_producer_kind("Bộ")
