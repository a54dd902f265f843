"""Vietnamese typed in the legacy TCVN3 (ABC) and VNI fonts, detected and converted to Unicode.

Before Unicode, Vietnamese was typed with 8-bit fonts that reuse Latin-1 code points: a cell that
looks like ``Hµ Néi`` in Excel is "Hà Nội" in the ``.VnTime`` font (TCVN3, standard TCVN 5712:1993
"VN3"), and ``Haø Noäi`` is the same in ``VNI-Times`` (VNI Software's encoding: a base letter
followed by a tone/shape byte). Spreadsheets keep only the code points, so the font is lost and
we have to recognise the encoding from the text itself.

Mapping tables: TCVN3 per TCVN 5712:1993 (VN3 subset: lower-case letters with tones plus the
upper-case base letters Ă Â Ê Ô Ơ Ư Đ; upper-case toned letters live in the separate ``.VnTimeH``
fonts that reuse the lower-case codes); VNI per the VNI-Windows charset as used by Unikey and
vietuni converters.

Detection works on character statistics: Unicode Vietnamese uses only a few Latin-1 letters
(à á â ã è é ê ì í ò ó ô õ ù ú ý and their capitals); any other Latin-1 letter or sign (µ ¸ ¹ ®
ø ï ö ñ å ä …) is evidence of a legacy font. When there is evidence, both conversions are tried and
the one whose words look most like Vietnamese syllables wins (a syllable has at most one tone and
an onset–vowels–coda shape); the original is kept when neither is better.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from enum import Enum

from ocop.domain.text import nfc


class Encoding(str, Enum):
    UNICODE = "unicode"
    TCVN3 = "tcvn3"
    VNI = "vni"


# --- TCVN3 (ABC): one byte per letter --------------------------------------------------------
_TCVN3_PAIRS = (
    "¡Ă ¢Â £Ê ¤Ô ¥Ơ ¦Ư §Đ ¨ă ©â ªê «ô ¬ơ \u00adư ®đ "
    "µà ¶ả ·ã ¸á ¹ạ »ằ ¼ẳ ½ẵ ¾ắ Æặ Çầ Èẩ Éẫ Êấ Ëậ "
    "Ìè Îẻ Ïẽ Ðé Ñẹ Òề Óể Ôễ Õế Öệ "
    "×ì Øỉ Üĩ Ýí Þị "
    "ßò áỏ âõ ãó äọ åồ æổ çỗ èố éộ êờ ëở ìỡ íớ îợ "
    "ïù ñủ òũ óú ôụ õừ öử ÷ữ øứ ùự "
    "úỳ ûỷ üỹ ýý þỵ"
)
TCVN3_TO_UNICODE: dict[str, str] = {pair[0]: pair[1] for pair in _TCVN3_PAIRS.split(" ")}
_TCVN3_TABLE = str.maketrans(TCVN3_TO_UNICODE)

# --- VNI: base letter + modifier bytes --------------------------------------------------------
_TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # none, sắc, huyền, hỏi, ngã, nặng
_VNI_PLAIN_TONES = ("", "ù", "ø", "û", "õ", "ï")
_VNI_CIRCUMFLEX = ("â", "á", "à", "å", "ã", "ä")  # â ê ô with each tone
_VNI_BREVE = ("ê", "é", "è", "ú", "ü", "ë")  # ă with each tone


def _build_vni() -> dict[str, str]:
    table: dict[str, str] = {}

    def add(seq_lower: str, base: str, marks: str) -> None:
        lower = unicodedata.normalize("NFC", base + marks)
        table[seq_lower] = lower
        table[seq_lower.upper()] = lower.upper()

    for vowel in "aeouy":
        for code, tone in zip(_VNI_PLAIN_TONES[1:], _TONES[1:]):
            add(vowel + code, vowel, tone)
    for vowel in "aeo":
        for code, tone in zip(_VNI_CIRCUMFLEX, _TONES):
            add(vowel + code, vowel, "\u0302" + tone)
    for code, tone in zip(_VNI_BREVE, _TONES):
        add("a" + code, "a", "\u0306" + tone)
    for horn_code, base in (("ô", "o"), ("ö", "u")):  # ơ is "ô", ư is "ö"
        add(horn_code, base, "\u031b")
        for code, tone in zip(_VNI_PLAIN_TONES[1:], _TONES[1:]):
            add(horn_code + code, base, "\u031b" + tone)
    # i and ỵ have single-byte forms; đ is ñ
    for code, char in (("í", "í"), ("ì", "ì"), ("æ", "ỉ"), ("ó", "ĩ"), ("ò", "ị"), ("î", "ỵ"), ("ñ", "đ")):
        table[code] = char
        table[code.upper()] = char.upper()
    return table


VNI_TO_UNICODE: dict[str, str] = _build_vni()
_VNI_PATTERN = re.compile("|".join(re.escape(k) for k in sorted(VNI_TO_UNICODE, key=len, reverse=True)))

# --- detection -------------------------------------------------------------------------------
#: Latin-1 letters that Unicode Vietnamese legitimately uses.
_VIETNAMESE_LATIN1 = frozenset("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
_LEGACY_EVIDENCE = frozenset(
    ch for ch in (set(TCVN3_TO_UNICODE) | {c for k in VNI_TO_UNICODE for c in k}) if ord(ch) > 0x7F
) - _VIETNAMESE_LATIN1
_EVIDENCE_RE = re.compile("[" + re.escape("".join(sorted(_LEGACY_EVIDENCE))) + "]")
_VNI_PAIR_RE = re.compile("[aeouyAEOUY][" + "".join(_VNI_PLAIN_TONES[1:] + _VNI_CIRCUMFLEX + _VNI_BREVE).upper() + "".join(_VNI_PLAIN_TONES[1:] + _VNI_CIRCUMFLEX + _VNI_BREVE) + "]")
#: A small letter followed by a Latin-1 capital inside a word: TCVN3's toned small letters (``phÈm``).
_CAMEL_RE = re.compile("[a-z\u00df-\u00ff][\u00c0-\u00de]")
#: Letters only Unicode Vietnamese has (outside Latin-1): their presence means the text is Unicode.
_UNICODE_ONLY_RE = re.compile("[ăĂđĐĩĨũŨơƠưƯ\u1ea0-\u1ef9]")

_ONSET = "(?:ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdđghklmnprstvx])?"  # q only as qu
#: Vowel nuclei of Vietnamese syllables (tones removed), split by whether a final consonant may
#: follow: nuclei ending in a glide (ai, ao, ươu …) close the syllable themselves.
_OPEN_NUCLEI = (
    "ai ao au âu ay ây eo êu ia iu oi ôi ơi ua ui ưa ưi ưu iêu oai oay oeo uây uôi ươi ươu uya yêu uyu"
).split()
_CLOSABLE_NUCLEI = "a ă â e ê i o ô ơ u ư y iê yê uô ươ oa oă oe uâ uê uy uyê".split()
_CODA = "(?:ch|ng|nh|[cmnpt])"
_SYLLABLE = re.compile(
    f"^{_ONSET}(?:(?:{'|'.join(sorted(_OPEN_NUCLEI, key=len, reverse=True))})"
    f"|(?:{'|'.join(sorted(_CLOSABLE_NUCLEI, key=len, reverse=True))}){_CODA}?"
    f"|oo(?:ng|c))$"
)
_TONE_MARKS = frozenset(_TONES[1:])
_WORD = re.compile(r"[^\s\d.,;:!?()\[\]\"'/\\\-–+*=&%#@_|<>]+")


def _is_syllable(word: str) -> bool:
    """A word shaped like one Vietnamese syllable: at most one tone, onset–vowels–coda, and no
    capital after a small letter (TCVN3 puts toned small letters on capital code points: ``phÈm``)."""
    if _EVIDENCE_RE.search(word) or _CAMEL_RE.search(word):
        return False
    if word.isupper() and word.isalpha() and len(word) <= 6:  # abbreviations: QĐ, UBND, HTX, TNHH
        return True
    word = word.lower()
    decomposed = unicodedata.normalize("NFD", word)
    tones = sum(1 for ch in decomposed if ch in _TONE_MARKS)
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))
    return tones <= 1 and base.isalpha() and bool(_SYLLABLE.match(base)) and not base.startswith("gii")  # gi+i is "gi"


def _conversion_score(text: str, convert: Callable[[str], str]) -> int:
    """How much converting ``text`` improves it, word by word.

    A word the conversion leaves alone, or that reads as Vietnamese both before and after
    (``Hép``/``Hộp``), is neutral; a word that only reads as Vietnamese after conversion counts
    +1, one the conversion breaks or fails to mend counts -1. Counting only the words that change
    meaning keeps Unicode text with a stray ``®`` or ``µg`` from being "converted".
    """
    score = 0
    for word in _WORD.findall(text):
        converted = convert(word)
        if converted == word:
            continue
        before, after = _is_syllable(word), _is_syllable(converted)
        if after and not before:
            score += 1
        elif not after:
            score -= 1
    return score


def from_tcvn3(text: str) -> str:
    """Convert TCVN3 (ABC) text to NFC Unicode."""
    return unicodedata.normalize("NFC", text.translate(_TCVN3_TABLE))


def from_vni(text: str) -> str:
    """Convert VNI text to NFC Unicode."""
    return unicodedata.normalize("NFC", _VNI_PATTERN.sub(lambda m: VNI_TO_UNICODE[m.group(0)], text))


_CONVERTERS = {Encoding.TCVN3: from_tcvn3, Encoding.VNI: from_vni}


def has_legacy_evidence(text: str) -> bool:
    """Cheap pre-check: could ``text`` be in a legacy font?

    True when it holds a Latin-1 character Unicode Vietnamese never uses (µ ¸ ø ï ö ñ …), a
    vowel followed by a VNI tone byte (``aù``) or a capital inside a word (``phÈm``) — the latter
    two also occur in Unicode (``quân``, ``iPhone``), so the scoring in :func:`detect` decides.
    """
    if _UNICODE_ONLY_RE.search(text):
        return False
    return any(pattern.search(text) is not None for pattern in (_EVIDENCE_RE, _VNI_PAIR_RE, _CAMEL_RE))


def detect(texts: Iterable[str]) -> Encoding:
    """Decide the encoding of a body of text (e.g. every cell of one column) by statistics.

    Only values with evidence are looked at; the encoding whose conversion mends the most words
    wins, and Unicode stays unless some conversion scores above zero.
    """
    sample = "\n".join(t for t in texts if has_legacy_evidence(t))
    if not sample:
        return Encoding.UNICODE
    best, best_score = Encoding.UNICODE, 0
    for encoding, convert in _CONVERTERS.items():
        score = _conversion_score(sample, convert)
        if score > best_score:
            best, best_score = encoding, score
    return best


def to_unicode(text: str, encoding: Encoding) -> str:
    """Convert one value of a column detected as ``encoding``.

    Values already in Unicode Vietnamese are kept, and so is a value the conversion would make
    worse (``gói`` pasted into a VNI column would become ``gĩi``). A value that reads as Vietnamese
    either way (TCVN3 ``Hép`` = "Hộp") follows its column's encoding.
    """
    if text.isascii():
        return text
    if encoding is Encoding.UNICODE or _UNICODE_ONLY_RE.search(text):
        return nfc(text)
    convert = _CONVERTERS[encoding]
    return convert(text) if _conversion_score(text, convert) >= 0 else nfc(text)


def fix_text(text: str) -> str:
    """Detect and convert a single value (web forms, pasted text); unchanged when not legacy."""
    return to_unicode(text, detect([text]))
