"""Encode a finished RGB canvas within a profile's byte budget, with no metadata.

JPEG: progressive (smaller and renders early on slow phones; libjpeg always
optimises Huffman tables in progressive mode) with 4:2:0 chroma subsampling,
libjpeg's own default below quality 90 and what camera JPEGs use; photos
lose nothing visible and files are about a third smaller than 4:4:4.
WebP: lossy, ``method=4`` (libwebp's default speed/size trade-off).

Nothing is passed as ``exif``/``icc_profile``/``xmp`` and the canvas is a new
image with empty ``info``, so the output carries no EXIF, GPS, XMP or ICC
(stack.md §5.8: "Don't pass exif=").

Quality search: try the profile's quality; if the file is over budget, binary
search the highest quality ≥ ``min_quality`` that fits (≤ 4 more encodes); if
even that does not fit, shrink the picture by the square root of the overshoot
and try again, never below the profile's minimum side.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Hashable

from PIL import Image

from media.errors import rejected
from media.profiles import Profile


def encode_once(im: Image.Image, profile: Profile, quality: int) -> bytes:
    out = io.BytesIO()
    if profile.format == "JPEG":
        im.save(out, "JPEG", quality=quality, progressive=True, subsampling="4:2:0")
    else:
        im.save(out, "WEBP", quality=quality, method=4)
    return out.getvalue()


Encodings = dict[tuple[Hashable, str, int], bytes]
"""Memo of encodings by (canvas key, format, quality): Shopee, Lazada, TikTok and
Tiki share the same 2000 px square canvas, so one encode serves all four."""


def _encoded(key: Hashable, canvas: Image.Image, profile: Profile, quality: int, memo: Encodings) -> bytes:
    slot = (key, profile.format, quality)
    if slot not in memo:
        memo[slot] = encode_once(canvas, profile, quality)
    return memo[slot]


def _best_quality(
    key: Hashable, canvas: Image.Image, profile: Profile, memo: Encodings
) -> tuple[bytes, int] | None:
    """Highest-quality encoding within budget, or None if even min_quality is too big."""
    first = _encoded(key, canvas, profile, profile.quality, memo)
    if len(first) <= profile.max_bytes:
        return first, profile.quality
    low, high = profile.min_quality, profile.quality - 1
    best: tuple[bytes, int] | None = None
    while low <= high:
        mid = (low + high) // 2
        data = _encoded(key, canvas, profile, mid, memo)
        if len(data) <= profile.max_bytes:
            best, low = (data, mid), mid + 1
        else:
            high = mid - 1
    return best


def encode(
    place: Callable[[float], tuple[Hashable, Image.Image]], profile: Profile, memo: Encodings | None = None
) -> tuple[bytes, int, Image.Image]:
    """Encode the canvas ``place(1.0)``; on overshoot, re-render it smaller.

    ``place(scale)`` returns a hashable key and a canvas with the picture scaled
    by ``scale`` (padding redone around it). Returns the bytes, the quality used
    and the canvas actually encoded.
    """
    memo = {} if memo is None else memo
    scale = 1.0
    for _ in range(4):
        key, canvas = place(scale)
        found = _best_quality(key, canvas, profile, memo)
        if found is not None:
            return found[0], found[1], canvas
        overshoot = len(_encoded(key, canvas, profile, profile.min_quality, memo)) / profile.max_bytes
        scale *= 0.95 / math.sqrt(overshoot)
        if max(canvas.size) * 0.95 / math.sqrt(overshoot) < profile.min_side:
            break
    raise rejected("over_budget", limit=profile.max_bytes, profile=profile.name)
