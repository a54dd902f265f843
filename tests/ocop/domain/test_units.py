import pytest

from ocop.domain.errors import InvalidValue
from ocop.domain.units import UNITS, parse_net_quantity, parse_unit


@pytest.mark.parametrize(
    ("typed", "code"),
    [("hộp", "hộp"), ("Hộp", "hộp"), ("HOP", "hộp"), ("box", "hộp"), ("chai", "chai"), ("hũ", "hũ"), ("hu", "hũ"),
     ("lọ", "lọ"), ("gói", "gói"), ("túi", "túi"), ("bịch", "bịch"), ("vỉ", "vỉ"), ("cái", "cái"), ("bộ", "bộ"),
     ("Kg", "kg"), ("ký", "kg"), ("gram", "g"), ("lít", "lít"), ("lit", "lít"), ("ML", "ml"), ("chục", "chục")],
)
def test_aliases(typed: str, code: str) -> None:
    assert parse_unit(typed).code == code


def test_every_unit_parses_by_its_own_name_and_english_name() -> None:
    for unit in UNITS:
        assert parse_unit(unit.code) is unit
        assert parse_unit(unit.name_en) is unit


def test_unknown_unit() -> None:
    with pytest.raises(InvalidValue) as info:
        parse_unit("xô")
    assert info.value.code == "invalid_unit"


@pytest.mark.parametrize(("typed", "amount", "unit"), [("500 ml", 500, "ml"), ("500g", 500, "g"), ("1,5 kg", 1.5, "kg"), ("1 lít", 1, "lít")])
def test_net_quantity(typed: str, amount: float, unit: str) -> None:
    assert parse_net_quantity(typed) == (amount, parse_unit(unit))


def test_net_quantity_needs_measured_unit() -> None:
    with pytest.raises(InvalidValue):
        parse_net_quantity("2 hộp")


@pytest.mark.parametrize(("typed", "grams"), [(500, 500), (500.4, 500), ("500", 500), ("500 g", 500), ("0,5 kg", 500), ("1.2kg", 1200)])
def test_weight(typed: object, grams: int) -> None:
    from ocop.domain.units import parse_weight_g

    assert parse_weight_g(typed) == grams  # type: ignore[arg-type]


@pytest.mark.parametrize(("typed", "mm"), [(25, 250), ("12,5", 125), ("12.5 cm", 125), ("80 mm", 80)])
def test_length_cm_to_mm(typed: object, mm: int) -> None:
    from ocop.domain.units import parse_length_cm_to_mm

    assert parse_length_cm_to_mm(typed) == mm  # type: ignore[arg-type]


@pytest.mark.parametrize(("typed", "count"), [("1.000", 1000), ("1,000", 1000), (12.0, 12), ("365", 365), (0, 0)])
def test_count(typed: object, count: int) -> None:
    from ocop.domain.units import parse_count

    assert parse_count(typed) == count  # type: ignore[arg-type]


@pytest.mark.parametrize("typed", ["-1", "abc", 1.5, "1,5", "5 lb", True])
def test_measures_reject(typed: object) -> None:
    from ocop.domain.units import parse_count, parse_weight_g

    with pytest.raises(InvalidValue):
        parse_count(typed) if not (isinstance(typed, str) and "lb" in typed) else parse_weight_g(typed)  # type: ignore[arg-type]
