from __future__ import annotations

import pickle
import unicodedata

from media.errors import _MESSAGES, MediaRejected, rejected


def test_every_code_has_both_languages_in_nfc() -> None:
    values = {
        "size": 1,
        "limit": 2,
        "pixels": 3,
        "frames": 4,
        "width": 5,
        "height": 6,
        "minimum": 7,
        "profile": "x",
    }
    for code in _MESSAGES:
        refusal = rejected(code, **values)  # type: ignore[arg-type]
        assert refusal.code == code
        assert refusal.message_vi == unicodedata.normalize("NFC", refusal.message_vi)
        assert refusal.message_vi != refusal.message_en
        assert "{" not in refusal.message_vi + refusal.message_en


def test_refusal_survives_a_process_boundary_and_notes() -> None:
    refusal = rejected("too_small", width=10, height=20, minimum=250, profile="shopee")
    clone = pickle.loads(pickle.dumps(refusal))
    assert isinstance(clone, MediaRejected)
    assert (clone.code, clone.message_vi, clone.message_en) == (
        refusal.code,
        refusal.message_vi,
        refusal.message_en,
    )
    refusal.add_note("hypothesis may add notes")
    assert "10×20" in str(refusal)
