from __future__ import annotations

import io

from PIL import Image

from media.colour import to_srgb
from tests.media import corpus
from tests.media.checks import close


def _open(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_cmyk_with_icc_goes_through_the_profile() -> None:
    out = to_srgb(_open(corpus.cmyk_jpeg(with_icc=True)))
    assert out.mode == "RGB"
    assert close(out.getpixel((100, 300)), (255, 0, 0), 25)  # red ink stays red
    # Black ink alone is a dark grey in this (press-like) profile: proof the ICC was
    # used; Pillow's naive CMYK→RGB would give pure black.
    grey = out.getpixel((600, 300))
    assert 30 <= grey[0] <= 70 and max(grey) - min(grey) <= 8, grey


def test_cmyk_without_icc_still_converts() -> None:
    out = to_srgb(_open(corpus.cmyk_jpeg(with_icc=False)))
    assert close(out.getpixel((100, 300)), (255, 0, 0), 25)
    assert close(out.getpixel((600, 300)), (0, 0, 0), 25)


def test_16_bit_grey_is_scaled_not_clipped() -> None:
    src = _open(corpus.grey16_png())
    assert src.mode.startswith("I")
    out = to_srgb(src)
    assert close(out.getpixel((100, 300)), (128, 128, 128), 2)  # 0x8080 → 128, not clipped to 255
    assert out.getpixel((700, 300)) == (255, 255, 255)


def test_16_bit_rgb() -> None:
    out = to_srgb(_open(corpus.rgb16_png()))
    assert close(out.getpixel((10, 10)), (255, 128, 0), 2)


def test_transparency_is_flattened_onto_white() -> None:
    out = to_srgb(_open(corpus.transparent_png()))
    assert out.mode == "RGB"
    assert out.getpixel((10, 10)) == (255, 255, 255)
    assert close(out.getpixel((400, 400)), corpus.RED, 2)


def test_palette_with_transparency() -> None:
    out = to_srgb(_open(corpus.palette_png()))
    assert out.getpixel((10, 10)) == (255, 255, 255)
    assert out.getpixel((300, 300)) == corpus.BLUE


def test_broken_icc_profile_is_ignored_not_fatal() -> None:
    im = Image.new("RGB", (10, 10), (0, 200, 0))
    im.info["icc_profile"] = b"not an icc profile"
    assert to_srgb(im).getpixel((5, 5)) == (0, 200, 0)
