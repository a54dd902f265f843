"""Real words in the legacy fonts. Note: in TCVN3 ``µ`` is "à" (``Hµ Néi`` = Hà Nội), so
``Bµnh tr¸ng`` reads "Bành tráng"; "Bánh tráng" is ``B¸nh tr¸ng``."""

import pytest

from ocop.domain.legacy_fonts import Encoding, detect, fix_text, from_tcvn3, from_vni, to_unicode

TCVN3 = [
    ("B¸nh tr¸ng", "Bánh tráng"),
    ("Bµnh tr¸ng", "Bành tráng"),
    ("Hµ Néi", "Hà Nội"),
    ("Bé Gi¸o dôc vµ §µo t¹o", "Bộ Giáo dục và Đào tạo"),
    ("N\u00adíc m¾m Gß Båi", "Nước mắm Gò Bồi"),
    ("R\u00adîu Bµu §¸", "Rượu Bàu Đá"),
    ("MËt ong rõng", "Mật ong rừng"),
    ("Hép", "Hộp"),
]
VNI = [
    ("Baùnh traùng", "Bánh tráng"),
    ("Haø Noäi", "Hà Nội"),
    ("ñöôïc", "được"),
    ("Bình Ñònh", "Bình Định"),
    ("Nöôùc maém Goø Boài", "Nước mắm Gò Bồi"),
    ("Röôïu Baøu Ñaù", "Rượu Bàu Đá"),
    ("TRAØ THAÛO MOÄC", "TRÀ THẢO MỘC"),
    ("Noùn laù Phuù Gia", "Nón lá Phú Gia"),
    ("Hoäp", "Hộp"),
    ("Thoå caåm", "Thổ cẩm"),
]
UNICODE = ["Bánh tráng", "Cà phê", "Quân đội", "Hoà Bình", "Thuý", "Müller", "Cafe 100%", "Hép", "Giá: 150.000 ₫"]


@pytest.mark.parametrize(("legacy", "unicode"), TCVN3)
def test_tcvn3_conversion(legacy: str, unicode: str) -> None:
    assert from_tcvn3(legacy) == unicode


@pytest.mark.parametrize(("legacy", "unicode"), VNI)
def test_vni_conversion(legacy: str, unicode: str) -> None:
    assert from_vni(legacy) == unicode


@pytest.mark.parametrize(("legacy", "unicode"), [t for t in TCVN3 if t[0] != "Hép"] + VNI)
def test_single_values_are_detected_and_fixed(legacy: str, unicode: str) -> None:
    assert fix_text(legacy) == unicode


@pytest.mark.parametrize("text", UNICODE)
def test_unicode_is_left_alone(text: str) -> None:
    assert detect([text]) is Encoding.UNICODE
    assert fix_text(text) == text


def test_file_level_detection_resolves_short_ambiguous_cells() -> None:
    cells = [legacy for legacy, _ in TCVN3]
    assert detect(cells) is Encoding.TCVN3
    # "Hép" alone looks like Unicode; in a TCVN3 file it is "Hộp".
    assert to_unicode("Hép", Encoding.TCVN3) == "Hộp"
    assert detect([legacy for legacy, _ in VNI]) is Encoding.VNI


def test_unicode_cell_in_legacy_file_is_kept() -> None:
    assert to_unicode("Mật ong", Encoding.TCVN3) == "Mật ong"
    assert to_unicode("abc 123", Encoding.VNI) == "abc 123"
    assert to_unicode("gói", Encoding.VNI) == "gói"  # VNI would read "gĩi"


def test_output_is_nfc() -> None:
    import unicodedata

    for legacy, _ in TCVN3 + VNI:
        for out in (from_tcvn3(legacy), from_vni(legacy)):
            assert unicodedata.is_normalized("NFC", out)


@pytest.mark.parametrize("text", ["Cà phê Highlands®", "Vitamin B12 5µg", "Giá 150.000 ₫ ±5%", "Café Müller"])
def test_stray_latin1_signs_in_unicode_text_do_not_trigger_conversion(text: str) -> None:
    assert detect([text]) is Encoding.UNICODE
    assert fix_text(text) == text


def test_a_unicode_column_is_detected_as_unicode() -> None:
    # Detection is per column, so a Unicode column next to a TCVN3 one is left alone.
    assert detect(["Bánh tráng", "Cà phê", "Nón lá", "Nước mắm"]) is Encoding.UNICODE


def test_value_the_conversion_would_break_is_kept() -> None:
    assert to_unicode("Müller", Encoding.TCVN3) == "Müller"


def _vietnamese_letters() -> list[str]:
    import unicodedata

    tones = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]
    bases = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"]
    return [unicodedata.normalize("NFC", b + t) for b in bases for t in tones] + ["đ"]


def test_tables_cover_every_vietnamese_letter() -> None:
    from ocop.domain.legacy_fonts import VNI_TO_UNICODE

    lower = set(_vietnamese_letters())
    assert len(lower) == 73
    non_ascii = {ch for ch in lower if not ch.isascii()}
    assert non_ascii <= set(TCVN3_TO_UNICODE.values())  # TCVN3 (VN3): all small letters
    assert non_ascii | {ch.upper() for ch in non_ascii} <= set(VNI_TO_UNICODE.values())  # VNI: both cases
    assert {"Ă", "Â", "Ê", "Ô", "Ơ", "Ư", "Đ"} <= set(TCVN3_TO_UNICODE.values())


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ocop.domain.legacy_fonts import TCVN3_TO_UNICODE, VNI_TO_UNICODE  # noqa: E402

_TO_TCVN3 = {u: t for t, u in TCVN3_TO_UNICODE.items()}
_TO_VNI = {u: v for v, u in VNI_TO_UNICODE.items()}
_text = st.lists(st.sampled_from(_vietnamese_letters() + list("bcdghklmnpqrstvx ")), min_size=1, max_size=30).map("".join)


@given(_text)
def test_tcvn3_round_trip(text: str) -> None:
    legacy = "".join(_TO_TCVN3.get(ch, ch) for ch in text)
    assert from_tcvn3(legacy) == text


@given(_text, st.booleans())
def test_vni_round_trip(text: str, upper: bool) -> None:
    text = text.upper() if upper else text
    legacy = "".join(_TO_VNI.get(ch, ch) for ch in text)
    assert from_vni(legacy) == text
