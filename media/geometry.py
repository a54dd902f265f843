"""Pure size arithmetic: how big to decode, fit and pad (no Pillow, no I/O).

Rule: never crop and never distort the product. The long side is
fitted to the profile's ``side``; a source already smaller is kept as is (no
invented pixels) unless it is below ``min_side``, then it is enlarged to
``min_side``. The fitted picture is then centred on a white canvas of the
profile's aspect ratio.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from media.profiles import Profile


def fitted_long_side(long_side: int, profile: Profile) -> int:
    """The long side the picture will have inside ``profile``'s canvas."""
    target = min(profile.side, profile.max_side)
    if long_side >= target:
        return target
    return max(long_side, profile.min_side)


def fit(width: int, height: int, long_side: int) -> tuple[int, int]:
    """Scale (width, height) so its long side is ``long_side``, keeping the aspect."""
    if width >= height:
        return long_side, max(1, round(height * long_side / width))
    return max(1, round(width * long_side / height)), long_side


def pad(width: int, height: int, aspect: tuple[int, int] | None) -> tuple[int, int]:
    """The smallest canvas of ``aspect`` (w:h) that holds a width × height picture."""
    if aspect is None:
        return width, height
    aw, ah = aspect
    if width * ah >= height * aw:  # picture is wider than the canvas ratio
        return width, max(height, math.ceil(width * ah / aw))
    return max(width, math.ceil(height * aw / ah)), height


def draft_request(width: int, height: int, profiles: Iterable[Profile]) -> tuple[int, int] | None:
    """The size to ask ``Image.draft`` for, so that one JPEG decode serves every profile.

    JPEG shrink-on-load divides by 1, 2, 4 or 8 and Pillow picks the largest
    factor that keeps the result at least this size (PIL/JpegImagePlugin.py
    ``draft``). Returns None when no shrink can help (target ≥ source).
    """
    long_side = max(width, height)
    need = max(fitted_long_side(long_side, p) for p in profiles)
    if need * 2 > long_side:
        return None
    return fit(width, height, need)
