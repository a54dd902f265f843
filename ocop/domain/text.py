"""Vietnamese text normalisation: NFC on the way in, accent folding for search.

Files from macOS and some Excel exports arrive decomposed (NFD); everything we store is NFC so
equality and uniqueness behave. Folding removes tone and vowel marks and maps đ/Đ to d/D, which
plain Unicode decomposition does not do (đ is a letter of its own, not d + a combining mark).
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_D_MAP = str.maketrans({"đ": "d", "Đ": "D"})


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC with surrounding whitespace removed."""
    return unicodedata.normalize("NFC", text).strip()


def clean(text: str) -> str:
    """NFC, trimmed, inner whitespace runs collapsed to one space (names typed on phones)."""
    return _SPACES.sub(" ", nfc(text))


def fold(text: str) -> str:
    """Accent-insensitive, case-insensitive search key: "Bánh tráng Đà" -> "banh trang da"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_MAP))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped).strip().casefold()
