import csv
from pathlib import Path

import pytest

import ocop.domain.admin_units as au
from ocop.domain.errors import InvalidValue


def test_34_provinces_and_3321_units() -> None:
    assert len(au.provinces()) == 34
    assert sum(len(au.wards_of(p)) for p in au.provinces()) == 3321


@pytest.mark.parametrize("typed", ["Gia Lai", "gia lai", "GIA LAI", "Tỉnh Gia Lai", "tinh gia lai", "Bình Định", "binh dinh"])
def test_find_province(typed: str) -> None:
    assert au.find_province(typed).name == "Gia Lai"


@pytest.mark.parametrize(("typed", "name"), [("TP Hồ Chí Minh", "Thành phố Hồ Chí Minh"), ("Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
                                             ("Bà Rịa - Vũng Tàu", "Thành phố Hồ Chí Minh"), ("Thừa Thiên Huế", "Thành phố Huế"),
                                             ("Quảng Nam", "Thành phố Đà Nẵng"), ("Kon Tum", "Quảng Ngãi")])
def test_find_province_other_forms(typed: str, name: str) -> None:
    assert au.find_province(typed).name == name


def test_unknown_province() -> None:
    with pytest.raises(InvalidValue) as info:
        au.find_province("Atlantis")
    assert info.value.code == "unknown_province"


@pytest.mark.parametrize("typed", ["Phường Quy Nhơn", "phuong quy nhon", "Quy Nhơn", "QUY NHƠN", "P. Quy Nhơn"])
def test_find_ward(typed: str) -> None:
    match = au.find_ward(au.find_province("Gia Lai"), typed)
    assert match.ward.name == "Phường Quy Nhơn"
    assert match.legacy_note is None


def test_gia_lai_has_135_units_including_known_ones() -> None:
    names = {w.name for w in au.wards_of(au.find_province("Gia Lai"))}
    assert len(names) == 135
    assert {"Phường Quy Nhơn", "Xã Tuy Phước", "Phường Tam Quan"} <= names


def test_ward_must_belong_to_the_province() -> None:
    with pytest.raises(InvalidValue) as info:
        au.find_ward(au.find_province("Hà Nội"), "Phường Quy Nhơn")
    assert info.value.code == "unknown_ward"


def test_legacy_name_maps_when_unambiguous() -> None:
    match = au.find_ward(au.find_province("Bình Định"), "Thị trấn Tuy Phước")
    assert match.ward.name == "Xã Tuy Phước"
    assert match.legacy_note == "Thị trấn Tuy Phước → Xã Tuy Phước"


def test_legacy_district_is_flagged_ambiguous() -> None:
    with pytest.raises(InvalidValue) as info:
        au.find_ward(au.find_province("Gia Lai"), "Huyện Tuy Phước")
    assert info.value.code == "ambiguous_legacy_unit"
    assert "Xã Tuy Phước Đông" in info.value.message_vi


def test_every_shipped_legacy_target_exists_in_gia_lai() -> None:
    names = {w.name for w in au.wards_of(au.find_province("Gia Lai"))}
    path = Path(au.__file__).parent / "admin_units_binh_dinh.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    for row in rows:
        assert row["status"] in {"exact", "ambiguous"}
        targets = row["new_units"].split(";")
        assert set(targets) <= names, row
        assert (len(targets) == 1) == (row["status"] == "exact"), row


def test_every_old_province_maps_to_a_current_one() -> None:
    path = Path(au.__file__).parent / "admin_units_old_provinces.csv"
    current = {p.name for p in au.provinces()}
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["new_province"] for r in rows} <= current
    assert not {r["old_province"] for r in rows} & current
    absorbed = [r for r in rows if r["old_province"] != "Thừa Thiên Huế"]
    assert len(absorbed) == 63 - 34


def test_accent_free_names_that_collide_are_ambiguous() -> None:
    thai_nguyen = au.find_province("Thái Nguyên")
    assert au.find_ward(thai_nguyen, "Xã Văn Lăng").ward.name == "Xã Văn Lăng"
    assert au.find_ward(thai_nguyen, "văn lang").ward.name == "Xã Văn Lang"
    with pytest.raises(InvalidValue) as info:
        au.find_ward(thai_nguyen, "Xa Van Lang")
    assert info.value.code == "ambiguous_ward"
    assert "Xã Văn Lăng" in info.value.message_vi and "Xã Văn Lang" in info.value.message_vi
    dong_thap = au.find_province("Đồng Tháp")
    assert au.find_ward(dong_thap, "Mỹ Tho").ward.name == "Phường Mỹ Tho"
    assert au.find_ward(dong_thap, "Xã Mỹ Thọ").ward.name == "Xã Mỹ Thọ"


def test_full_names_are_unique_per_province_with_accents() -> None:
    for province in au.provinces():
        names = [w.name for w in au.wards_of(province)]
        assert len(names) == len(set(names)), province.name
