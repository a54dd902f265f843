"""Source limits checked before any pixel is decoded.

Pillow only warns above 89.5 MP and raises above twice that
(``PIL.Image.MAX_IMAGE_PIXELS``, see shared/reference/stack.md §5.2); a phone
photo is 12–50 MP, so 50 MP is our default cap (issue 9). Animations are
counted frame by frame, as imgproxy does ("summarizes all GIF frames
resolutions", imgproxy docs image_formats_support.md), because a 1000-frame GIF
of modest size costs as much to walk as one huge still.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """What a source may cost us; every field is checked from headers only."""

    max_pixels: int = 50_000_000
    """Width × height × frames."""
    max_frames: int = 500
    max_bytes: int = 50 * 1024 * 1024
    """A 50 MP HEIC/JPEG is 10–25 MB; anything far above is not a photo."""
    max_aspect_ratio: float = 20.0
    """Long side over short side. A product photo, even a panorama of a tea hill, is within 20:1;
    a 1×60000 strip passes the pixel cap yet yields renditions of a blank canvas with a line
    (every marketplace profile is near square), so it is refused as not a photo."""


DEFAULT_LIMITS = Limits()
