"""Tell the real type of an upload from its bytes, never from its name.

Magic numbers: JPEG ``FF D8 FF`` (ITU T.81 B.1.1.2 SOI + a marker), PNG's
8-byte signature (PNG spec §5.2), ``GIF87a``/``GIF89a``, ``RIFF....WEBP``
(RIFF container, WebP container spec), TIFF ``II*\\0``/``MM\\0*`` (TIFF 6.0 §2),
and HEIF's ISO-BMFF ``ftyp`` box with a HEIF brand (ISO/IEC 23008-12 Annex B:
heic, heix, heim, heis, hevc, hevx, mif1, msf1).

A file that *starts* like an image but carries HTML or script (the classic
GIFAR / JPEG-HTML polyglot, which a browser may render as a page if the
original is ever served) is refused as ``polyglot``: we keep originals, so we
must not keep one that is also a web page. Only the first and last 64 KiB
are scanned: browsers sniff a type from the first 1445 bytes (WHATWG MIME
Sniffing, "resource header"), markup hidden in metadata (JPEG APPn/COM
segments, PNG text chunks) sits before the pixel data, and appended payloads
(GIFAR, HTML after JPEG's EOI) sit at the end. Scanning a whole 4 MB photo
would cost ~80 ms of regex for nothing.
"""

from __future__ import annotations

import re
from typing import Literal

from media.errors import rejected

ImageFormat = Literal["JPEG", "PNG", "GIF", "WEBP", "TIFF", "HEIF"]

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})

# Markup that has no business inside a photo. Case-insensitive; the tag names
# need a delimiter after them so that random compressed bytes almost never match.
_MARKUP = re.compile(
    rb"<(?:script|html|body|head|iframe|svg|object|embed|meta|a\s+href)[\s>/]|<\?php|javascript:",
    re.IGNORECASE,
)

_SCAN = 64 * 1024

CONTENT_TYPES: dict[str, str] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "TIFF": "image/tiff",
    "HEIF": "image/heic",
}


def magic_format(head: bytes) -> ImageFormat | None:
    """The image format announced by the first bytes, or None."""
    if head[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        box_size = int.from_bytes(head[:4], "big")
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
        if brands & _HEIF_BRANDS:
            return "HEIF"
    return None


def sniff(data: bytes) -> ImageFormat:
    """The accepted image format of ``data``, or :class:`~media.errors.MediaRejected`
    with ``not_an_image`` (HTML, SVG, scripts, PDFs, unknown) or ``polyglot``."""
    fmt = magic_format(data[:64])
    if fmt is None:
        head = data[:200].lstrip().lower()
        kind = "markup" if head.startswith(b"<") else "unknown bytes"
        raise rejected("not_an_image", detail=kind)
    for part in (data[:_SCAN], data[-_SCAN:]) if len(data) > 2 * _SCAN else (data,):
        found = _MARKUP.search(part)
        if found:
            raise rejected("polyglot", detail=repr(found.group(0)[:20]))
    return fmt


ScanFormat = Literal["PDF", "JPEG", "PNG", "HEIF"]
SCAN_CONTENT_TYPES: dict[str, str] = {"PDF": "application/pdf", "JPEG": "image/jpeg", "PNG": "image/png",
                                      "HEIF": "image/heic"}


def sniff_scan(data: bytes) -> ScanFormat:
    """The format of a document scan (an OCOP certificate): PDF (its ``%PDF-`` header, ISO 32000-1
    §7.5.2) or a JPEG, PNG or HEIC photo of the paper, told from the bytes, never from the declared
    type (HTML declared as PDF was accepted). A photo goes through :func:`sniff`'s polyglot check
    too. Anything else: :class:`~media.errors.MediaRejected` ``not_a_scan``."""
    if data[:5] == b"%PDF-":
        return "PDF"
    fmt = magic_format(data[:64])
    if fmt not in ("JPEG", "PNG", "HEIF"):
        raise rejected("not_a_scan", detail="markup" if data[:200].lstrip()[:1] == b"<" else "unknown bytes")
    sniff(data)
    return fmt  # type: ignore[return-value]
