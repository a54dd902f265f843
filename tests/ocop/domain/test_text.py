import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from ocop.domain.text import clean, fold, nfc


def test_nfc_and_clean() -> None:
    decomposed = unicodedata.normalize("NFD", "  Bánh   tráng\tnước ")
    assert nfc(decomposed) == "Bánh   tráng\tnước"
    assert clean(decomposed) == "Bánh tráng nước"
    assert unicodedata.is_normalized("NFC", clean(decomposed))


def test_fold_handles_d_stroke_and_case() -> None:
    assert fold("Bánh tráng Đà Nẵng") == "banh trang da nang"
    assert fold("ĐẶC SẢN") == "dac san"


@given(st.text(alphabet="aăâeêioôơuưyđĐbcdghklmnpqrstvx ÁÀẢÃẠáàảãạếềểễệ", max_size=40))
def test_fold_is_idempotent_and_form_independent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    assert fold(unicodedata.normalize("NFD", text)) == fold(unicodedata.normalize("NFC", text))
    assert fold(text).isascii()
