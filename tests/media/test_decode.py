from __future__ import annotations

import resource
import time

import pytest

from media.decode import decode, open_checked, oriented_size
from media.errors import MediaRejected
from media.limits import DEFAULT_LIMITS, Limits
from media.profiles import SHOPEE, WEB_THUMB
from tests.media import corpus


def _refusal(data: bytes, fmt: str, limits: Limits = DEFAULT_LIMITS) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        open_checked(data, fmt, limits)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize("side", [8_000, 20_000, 60_000])
def test_bombs_are_refused_from_the_header(side: int) -> None:
    """64 MP, 400 MP and 3.6 GP headers: refused quickly without allocating pixels."""
    data = corpus.bomb_png(side)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    refusal = _refusal(data, "PNG")
    assert refusal.code == "too_many_pixels"
    assert str(side * side) in refusal.message_en
    assert time.perf_counter() - started < 0.5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 50_000  # KiB


def test_pixel_limit_is_configurable() -> None:
    data = corpus.tiny(600)
    assert _refusal(data, "PNG", Limits(max_pixels=100_000)).code == "too_many_pixels"
    open_checked(data, "PNG", Limits(max_pixels=360_000))


def test_animation_frames_count_towards_the_pixel_limit() -> None:
    data = corpus.frames_gif(20)  # 20 × 300 × 300 = 1.8 MP
    assert _refusal(data, "GIF", Limits(max_pixels=1_000_000)).code == "too_many_pixels"
    assert _refusal(data, "GIF", Limits(max_frames=10)).code == "too_many_frames"
    open_checked(data, "GIF", Limits(max_pixels=2_000_000))


def test_byte_limit() -> None:
    assert _refusal(corpus.tiny(), "PNG", Limits(max_bytes=1000)).code == "too_many_bytes"


def test_garbage_after_a_valid_signature_is_corrupt() -> None:
    assert _refusal(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "PNG").code == "corrupt"


def test_truncated_file_is_refused_on_decode() -> None:
    im = open_checked(corpus.truncated(), "JPEG", DEFAULT_LIMITS)
    with pytest.raises(MediaRejected) as caught:
        decode(im, [SHOPEE])
    assert caught.value.code == "corrupt"


def test_exif_orientation_is_applied() -> None:
    im = open_checked(corpus.phone_photo(1600, 1200, orientation=6), "JPEG", DEFAULT_LIMITS)
    assert im.size == (1600, 1200)  # stored sideways
    assert oriented_size(im) == (1200, 1600)
    upright = decode(im, [SHOPEE])
    assert upright.size == (1200, 1600)
    r, g, b = upright.convert("RGB").getpixel((20, 20))  # red block at the visual top-left
    assert r > 180 and g < 80 and b < 80


def test_jpeg_is_decoded_at_reduced_scale() -> None:
    """A 4000×3000 photo for a 500 px thumbnail decodes at 1/8 (500×375), not 12 MP."""
    data = corpus.phone_photo(4000, 3000, orientation=1, quality=70)
    assert decode(open_checked(data, "JPEG", DEFAULT_LIMITS), [WEB_THUMB]).size == (500, 375)
    assert decode(open_checked(data, "JPEG", DEFAULT_LIMITS), [WEB_THUMB, SHOPEE]).size == (2000, 1500)


def test_mpo_phone_photo_is_decoded_at_reduced_scale_and_not_counted_twice() -> None:
    """Many Android cameras write MPO (a JPEG plus depth map); it must get the same
    shrink-on-load as a JPEG and its unused extra picture must not eat the pixel budget."""
    data = corpus.mpo_photo(4000, 3000)
    im = open_checked(data, "JPEG", Limits(max_pixels=12_000_000))
    assert im.format == "MPO"
    assert decode(im, [SHOPEE]).size == (2000, 1500)


@pytest.mark.parametrize(("width", "height"), [(1, 60_000), (60_000, 1), (2_100, 100)])
def test_extreme_aspect_ratios_are_refused_with_a_clear_message(width: int, height: int) -> None:
    """A 1×60000 strip is within the pixel cap, yet no marketplace profile can show it: refused
    from the header, saying why in both languages."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (width, height), 200).save(out, "PNG")
    refusal = _refusal(out.getvalue(), "PNG")
    assert refusal.code == "extreme_aspect"
    assert f"{width}×{height}" in refusal.message_vi and "quá dài hoặc quá hẹp" in refusal.message_vi
    assert "at most 20 times" in refusal.message_en


def test_a_panorama_within_the_ratio_is_accepted() -> None:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (2_000, 100), 200).save(out, "PNG")
    open_checked(out.getvalue(), "PNG", DEFAULT_LIMITS).close()
