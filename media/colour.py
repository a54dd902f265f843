"""Bring any decoded mode to 8-bit sRGB on white (16-bit scaled, not clipped; transparency flattened).

Pitfalls handled here, each with its source:
- 16-bit greyscale (``I;16*``/``I``): ``convert("L")`` *clips* at 255 instead of
  scaling (python-pillow/Pillow#2574, #1108); we scale by 1/257 first.
  (16-bit RGB PNGs already open as 8-bit ``RGB`` in Pillow.)
- Palette or any mode with a ``transparency`` entry becomes RGBA before anything
  else (Pillow warns that such palettes must be converted to RGBA).
- Transparency is flattened onto white: marketplaces want a white background
  (Tiki: "white background preferred"; Google Merchant Center guidance).
- Colour: an embedded ICC profile (CMYK print files, Display P3 phones) is
  converted to sRGB with LittleCMS through ``ImageCms``; transforms are cached
  per profile. A broken profile is ignored rather than refusing the photo.
"""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageCms

_SRGB = ImageCms.createProfile("sRGB")
_WHITE = (255, 255, 255)


@functools.lru_cache(maxsize=32)
def _transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A cached ``mode`` → sRGB RGB transform for an embedded profile, or None
    when the profile is unusable or already sRGB (nothing to do)."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if ImageCms.getProfileDescription(profile).strip().lower().startswith("srgb"):
            return None
        return ImageCms.buildTransform(profile, _SRGB, mode, "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def _scale_16bit(im: Image.Image) -> Image.Image:
    """16-bit (or 32-bit integer holding 16-bit values) greyscale → 8-bit L, scaled."""
    as_int = im if im.mode == "I" else im.convert("I")
    return as_int.point(lambda v: v * (1 / 257)).convert("L")


def flatten(im: Image.Image) -> Image.Image:
    """RGBA/LA onto a white background; returns RGB or L."""
    base = Image.new("RGB" if im.mode == "RGBA" else "L", im.size, _WHITE if im.mode == "RGBA" else 255)
    base.paste(im, mask=im.getchannel("A"))
    return base


def to_srgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode → ``RGB`` in sRGB, alpha flattened onto white."""
    icc = im.info.get("icc_profile")
    if im.mode.startswith("I;16") or im.mode == "I":
        im = _scale_16bit(im)
    elif im.mode == "F":
        im = im.convert("L")
    elif im.mode in ("P", "PA", "1"):
        im = im.convert("RGBA" if ("transparency" in im.info or im.mode == "PA") else "RGB")
    elif "transparency" in im.info and im.mode in ("L", "RGB"):
        im = im.convert("RGBA")
    if im.mode in ("LA", "La"):
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "RGBa"):
        im = flatten(im.convert("RGBA"))
    if im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    transform = _transform(icc, im.mode) if isinstance(icc, bytes) and icc else None
    if transform is not None:
        try:
            return transform.apply(im)
        except (ImageCms.PyCMSError, ValueError):
            pass
    return im if im.mode == "RGB" else im.convert("RGB")
