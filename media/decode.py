"""Open untrusted bytes under limits, then decode once at reduced scale.

Order matters (shared/reference/stack.md §5): limits are checked from the
header *before* ``load()``; JPEG shrink-on-load is requested with
``Image.draft`` before ``load()``; EXIF orientation is applied after it
(``ImageOps.exif_transpose``), which also drops the orientation tag.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Sequence

import pillow_heif
from PIL import Image, ImageOps

from media.errors import rejected
from media.geometry import draft_request
from media.limits import Limits
from media.profiles import Profile
from media.sniff import ImageFormat

# iPhones send HEIC (issue 9). Registered once at import.
pillow_heif.register_heif_opener()

# EXIF orientations 5–8 swap width and height (EXIF 2.32 §4.6.4 A, tag 0x0112).
_SWAPS_AXES = frozenset({5, 6, 7, 8})


def open_checked(data: bytes, fmt: ImageFormat, limits: Limits) -> Image.Image:
    """Parse the header with only the sniffed format's plugin and enforce ``limits``.

    No pixel data is decoded here. Animated sources are counted as
    width × height × frames.
    """
    if len(data) > limits.max_bytes:
        raise rejected("too_many_bytes", size=len(data), limit=limits.max_bytes)
    try:
        with warnings.catch_warnings():
            # Our own limit below replaces Pillow's 89.5 MP warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError as exc:
        # Pillow refuses on its own above 2 × MAX_IMAGE_PIXELS (~179 MP) while opening.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else 2 * (Image.MAX_IMAGE_PIXELS or 0)
        raise rejected("too_many_pixels", pixels=pixels, limit=limits.max_pixels) from exc
    except Exception as exc:  # any parser failure on untrusted bytes is a corrupt file
        raise rejected("corrupt", detail=f"{type(exc).__name__}: {exc}") from exc
    width, height = im.size
    if width < 1 or height < 1:
        raise rejected("corrupt", detail=f"size {width}x{height}")
    if width * height > limits.max_pixels:
        raise rejected("too_many_pixels", pixels=width * height, limit=limits.max_pixels)
    if max(width, height) > limits.max_aspect_ratio * min(width, height):
        raise rejected("extreme_aspect", width=width, height=height, limit=f"{limits.max_aspect_ratio:g}")
    try:
        frames = int(getattr(im, "n_frames", 1))
    except Exception as exc:
        raise rejected("corrupt", detail=f"frame count: {type(exc).__name__}: {exc}") from exc
    if im.format == "MPO":
        # Phone JPEGs with a depth map or preview (CIPA DC-007 Multi-Picture Format):
        # the extra pictures are never decoded, so they cost nothing.
        frames = 1
    if frames > limits.max_frames:
        raise rejected("too_many_frames", frames=frames, limit=limits.max_frames)
    if width * height * frames > limits.max_pixels:
        raise rejected("too_many_pixels", pixels=width * height * frames, limit=limits.max_pixels)
    return im


def orientation(im: Image.Image) -> int:
    """The EXIF orientation tag (1 when absent or unreadable)."""
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def oriented_size(im: Image.Image) -> tuple[int, int]:
    """Width and height as the photo will be shown, after EXIF orientation."""
    width, height = im.size
    return (height, width) if orientation(im) in _SWAPS_AXES else (width, height)


def decode(im: Image.Image, profiles: Sequence[Profile]) -> Image.Image:
    """Decode the first frame once, as small as every profile allows, upright.

    Raises ``corrupt`` for truncated or undecodable data (this relies on
    Pillow's default ``ImageFile.LOAD_TRUNCATED_IMAGES = False``, which would
    otherwise pad a cut-off upload with grey).
    """
    try:
        im.seek(0)  # before draft: seeking an MPO rebuilds its tile and would undo it
        if im.format in ("JPEG", "MPO"):
            request = draft_request(*im.size, profiles)
            if request is not None:
                im.draft(im.mode, request)
        im.load()
        ImageOps.exif_transpose(im, in_place=True)
    except Exception as exc:  # truncated/corrupt streams raise OSError, SyntaxError, ValueError, ...
        raise rejected("corrupt", detail=f"{type(exc).__name__}: {exc}") from exc
    return im
