"""Text rules shared by every mapper: NFC, forbidden characters, length limits, the OCOP block.

Why shared: all four marketplaces refuse the same kinds of characters in titles
(control characters, emoji, markup) and want plain-text descriptions; only the
limits differ, and each mapper names its own with the source.
"""

from __future__ import annotations

import html
import re
import unicodedata

from connectors.base import ProductInput

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAGS = re.compile(r"<[^>]{0,200}>")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")

OCOP_GROUP_NAMES = {
    1: "Thực phẩm",
    2: "Đồ uống",
    3: "Thảo dược",
    4: "Vải và may mặc",
    5: "Lưu niệm – nội thất – trang trí",
    6: "Dịch vụ du lịch cộng đồng",
}


def _is_emoji_or_symbol(ch: str) -> bool:
    """Emoji and pictographs (outside the BMP, or the dingbat/symbol blocks): marketplaces
    strip or refuse them in titles."""
    cp = ord(ch)
    return cp >= 0x1F000 or 0x2600 <= cp <= 0x27BF or cp in (0xFE0F, 0x200D)


def clean_text(text: str, *, single_line: bool = False, forbidden: str = "") -> str:
    """NFC, no control characters, no HTML tags, no emoji, tidy spaces."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _TAGS.sub(" ", _CONTROL.sub("", text))
    text = "".join(ch for ch in text if not _is_emoji_or_symbol(ch) and ch not in forbidden)
    if single_line:
        text = text.replace("\n", " ")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


_WHITESPACE = re.compile(r"\s+")


def one_line(text: str) -> str:
    """NFC, control characters removed, every run of whitespace (newlines too) made one space:
    for names, attribute values and single paragraphs."""
    return _WHITESPACE.sub(" ", _CONTROL.sub("", unicodedata.normalize("NFC", text))).strip()


def ocop_description_html(product: ProductInput, *, limit: int | None = None) -> str:
    """HTML description for marketplaces that take a small set of tags (TikTok Shop, Tiki): the
    OCOP rank and certificate first, then each line of the producer's text as a paragraph, whole
    paragraphs only while within ``limit`` characters."""
    cert = f"Giấy chứng nhận số {html.escape(one_line(product.certificate_number))}"
    if product.certificate_issuer:
        cert += f" do {html.escape(one_line(product.certificate_issuer))} cấp"
    out = f"<p><strong>Sản phẩm OCOP {product.ocop_stars} sao</strong> – {cert}.</p>"
    for part in unicodedata.normalize("NFC", product.description).split("\n"):
        if not one_line(part):
            continue
        paragraph = f"<p>{html.escape(one_line(part))}</p>"
        if limit is not None and len(out) + len(paragraph) > limit:
            break
        out += paragraph
    return out


def truncate_words(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space >= limit * 0.6 else cut).rstrip(" ,;-–")


def ocop_block(product: ProductInput) -> str:
    """What buyers and reviewers look for: stars, certificate decision, group."""
    lines = [f"Sản phẩm OCOP {product.ocop_stars} sao"]
    cert = f"Giấy chứng nhận OCOP số {product.certificate_number}"
    if product.certificate_issuer:
        cert += f" – {product.certificate_issuer}"
    lines.append(cert)
    group = OCOP_GROUP_NAMES.get(product.ocop_group)
    if group:
        lines.append(f"Nhóm sản phẩm: {group}")
    if product.unit:
        lines.append(f"Quy cách: {product.unit}")
    return "\n".join(lines)


def description_with_ocop(product: ProductInput, *, limit: int, forbidden: str = "") -> str:
    """The producer's text, then the OCOP block — trimmed so the OCOP block always survives."""
    block = clean_text(ocop_block(product), forbidden=forbidden)
    body = clean_text(product.description, forbidden=forbidden)
    room = limit - len(block) - 2
    body = truncate_words(body, max(room, 0))
    return f"{body}\n\n{block}" if body else block
