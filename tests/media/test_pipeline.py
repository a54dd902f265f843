"""End to end over the generated corpus: every awkward input gives a valid,
metadata-free rendition within the profile's rules, or a typed refusal."""

from __future__ import annotations

import hashlib
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from media import MediaRejected, inspect, is_duplicate, normalize
from media.profiles import PROFILES, SHOPEE, TIKTOK, WEB_THUMB, WEB_ZOOM, Profile
from tests.media import corpus
from tests.media.checks import assert_no_metadata, close, open_rgb

ALL = list(PROFILES.values())


def assert_within(data: bytes, width: int, height: int, profile: Profile) -> None:
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (width, height)
        assert im.format == profile.format
        assert im.mode == "RGB"
    assert len(data) <= profile.max_bytes
    assert max(width, height) <= profile.max_side
    assert min(width, height) >= profile.min_side or profile.aspect is None
    if profile.aspect is not None:
        assert width * profile.aspect[1] == height * profile.aspect[0]


CORPUS = {
    "phone_photo": lambda: corpus.phone_photo(1600, 1200, orientation=6),
    "cmyk_jpeg": corpus.cmyk_jpeg,
    "transparent_png": corpus.transparent_png,
    "palette_png": corpus.palette_png,
    "grey16_png": corpus.grey16_png,
    "rgb16_png": corpus.rgb16_png,
    "animated_gif": corpus.animated_gif,
    "heic": corpus.heic,
    "webp": corpus.webp,
    "tiff": corpus.tiff,
    "panorama": corpus.panorama,
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_item_meets_every_profile(name: str) -> None:
    result = normalize(CORPUS[name](), ALL)
    assert not result.refused, {k: str(v) for k, v in result.refused.items()}
    for profile in ALL:
        rendition = result.renditions[profile.name]
        assert_within(rendition.data, rendition.width, rendition.height, profile)
        assert_no_metadata(rendition.data)
        assert rendition.sha256 == hashlib.sha256(rendition.data).hexdigest()
        assert rendition.content_type == {"JPEG": "image/jpeg", "WEBP": "image/webp"}[profile.format]


def test_sideways_phone_photo_comes_out_upright_without_gps() -> None:
    data = corpus.phone_photo(1600, 1200, orientation=6)
    assert b"GPS" in data or b"\x88\x25" in data  # the source does carry a position
    result = normalize(data, [SHOPEE, WEB_ZOOM])
    assert (result.source.width, result.source.height, result.source.orientation) == (1200, 1600, 6)
    zoom = result.renditions["web_zoom"]
    assert (zoom.width, zoom.height) == (1200, 1600)  # portrait, not enlarged
    shopee = open_rgb(result.renditions["shopee"].data)
    assert shopee.size == (1600, 1600)
    # portrait picture centred on the square: white bands left and right, red block top-left of the picture.
    assert shopee.getpixel((20, 800)) == (255, 255, 255)
    assert close(shopee.getpixel((200 + 20, 20)), corpus.RED, 40)
    assert close(shopee.getpixel((1600 - 200 - 20, 20)), corpus.RED, 40) is False


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_every_rotation_comes_out_upright(orientation: int) -> None:
    result = normalize(corpus.phone_photo(800, 600, orientation=orientation), [WEB_ZOOM])
    zoom = result.renditions["web_zoom"]
    upright = (800, 600) if orientation in (1, 3) else (600, 800)
    assert (zoom.width, zoom.height) == upright
    out = open_rgb(zoom.data)
    assert close(out.getpixel((15, 15)), corpus.RED, 40)  # visual top-left
    assert not close(out.getpixel((zoom.width - 15, zoom.height - 15)), corpus.RED, 40)


def test_sideways_iphone_heic_comes_out_upright() -> None:
    result = normalize(corpus.heic_sideways(), [WEB_ZOOM])
    zoom = result.renditions["web_zoom"]
    assert (zoom.width, zoom.height) == (480, 640)
    out = open_rgb(zoom.data)
    assert close(out.getpixel((20, 20)), corpus.RED, 40)
    assert not close(out.getpixel((460, 20)), corpus.RED, 40)
    assert_no_metadata(zoom.data)


def test_cmyk_red_patch_comes_out_red() -> None:
    out = open_rgb(normalize(corpus.cmyk_jpeg(), [SHOPEE]).renditions["shopee"].data)
    assert close(out.getpixel((200, 400)), (255, 0, 0), 30)


def test_transparent_and_palette_backgrounds_are_white() -> None:
    for build, colour in ((corpus.transparent_png, corpus.RED), (corpus.palette_png, corpus.BLUE)):
        out = open_rgb(normalize(build(), [SHOPEE]).renditions["shopee"].data)
        assert close(out.getpixel((5, 5)), (255, 255, 255), 3)
        assert close(out.getpixel((out.width // 2, out.height // 2)), colour, 20)


def test_animated_gif_uses_the_first_frame() -> None:
    result = normalize(corpus.animated_gif(), [SHOPEE])
    assert result.source.frames == 3
    assert close(open_rgb(result.renditions["shopee"].data).getpixel((300, 300)), corpus.RED, 20)


def test_panorama_is_padded_never_cropped() -> None:
    out = open_rgb(normalize(corpus.panorama(), [SHOPEE]).renditions["shopee"].data)
    assert out.size == (2000, 2000)
    band = (2000 - 333) // 2
    assert close(out.getpixel((1000, band // 2)), (255, 255, 255), 3)  # padding above
    assert close(out.getpixel((1000, 2000 - band // 2)), (255, 255, 255), 3)  # and below
    # the red block at the picture's top-left corner survives: nothing was cut off.
    assert close(out.getpixel((30, band + 30)), corpus.RED, 40)


def test_small_source_is_enlarged_to_minimum_and_tiny_one_refused_per_profile() -> None:
    result = normalize(corpus.tiny(300), [SHOPEE, TIKTOK])
    assert (result.renditions["shopee"].width, result.renditions["shopee"].height) == (500, 500)
    assert result.renditions["tiktok"].width == 300  # TikTok's minimum is 300: kept as is
    result = normalize(corpus.tiny(200), [SHOPEE, TIKTOK, WEB_THUMB])
    assert result.refused["shopee"].code == "too_small"
    assert "200×200" in result.refused["shopee"].message_vi
    assert set(result.renditions) == {"tiktok", "web_thumb"}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (corpus.truncated(), "corrupt"),
        (corpus.NON_IMAGES["html"], "not_an_image"),
        (corpus.NON_IMAGES["svg"], "not_an_image"),
        (corpus.polyglot_jpeg(), "polyglot"),
        (corpus.bomb_png(), "too_many_pixels"),
    ],
    ids=["truncated", "html", "svg", "polyglot", "bomb"],
)
def test_bad_sources_are_refused_with_a_reason(data: bytes, code: str) -> None:
    with pytest.raises(MediaRejected) as caught:
        normalize(data, ALL)
    assert caught.value.code == code
    assert caught.value.message_vi and caught.value.message_en


def test_inspect_reads_headers_only() -> None:
    info = inspect(corpus.phone_photo(1600, 1200, orientation=6))
    assert (info.format, info.width, info.height, info.orientation) == ("JPEG", 1200, 1600, 6)
    assert len(info.sha256) == 64
    with pytest.raises(MediaRejected):
        inspect(corpus.bomb_png())


def test_same_photo_twice_is_flagged_by_perceptual_hash() -> None:
    photo = corpus.scene(1200, 900)
    as_jpeg, as_png = io.BytesIO(), io.BytesIO()
    photo.save(as_jpeg, "JPEG", quality=75)
    photo.resize((900, 675)).save(as_png, "PNG")
    a = normalize(as_jpeg.getvalue(), [WEB_THUMB])
    b = normalize(as_png.getvalue(), [WEB_THUMB])
    other = io.BytesIO()
    photo.transpose(Image.Transpose.ROTATE_180).save(other, "JPEG", quality=75)
    assert a.source.sha256 != b.source.sha256
    assert is_duplicate(a.phash, b.phash)
    assert not is_duplicate(a.phash, normalize(other.getvalue(), [WEB_THUMB]).phash)


# --- fuzz ---------------------------------------------------------------------------------

SEEDS = [
    corpus.phone_photo(300, 200, orientation=6),
    corpus.tiny(260),
    corpus.animated_gif(),
    corpus.palette_png(),
    corpus.webp(),
    corpus.tiff(),
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "header"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[position:]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 64))]
        else:  # header fields (sizes, counts) live in the first bytes
            index = draw(st.integers(0, min(64, max(0, len(data) - 1))))
            if data:
                data[index] = draw(st.integers(0, 255))
    return bytes(data)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow warns about the corrupt EXIF we feed it
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fuzzed_bytes_give_valid_output_or_typed_refusal(data: bytes) -> None:
    try:
        result = normalize(data, [WEB_THUMB])
    except MediaRejected as refusal:
        assert refusal.code and refusal.message_vi and refusal.message_en
        return
    for name, rendition in result.renditions.items():
        assert_within(rendition.data, rendition.width, rendition.height, PROFILES[name])
