from __future__ import annotations

import dataclasses

import pytest
from PIL import Image

from media.encode import encode, encode_once
from media.errors import MediaRejected
from media.profiles import SHOPEE, WEB_THUMB
from tests.media import corpus
from tests.media.checks import assert_no_metadata, jpeg_markers


def _noisy(side: int) -> Image.Image:
    return corpus.scene(side, side)


def _placer(side: int):
    def place(scale: float):
        s = max(1, int(side * scale))
        return s, _noisy(s)

    return place


def test_jpeg_is_progressive_and_bare() -> None:
    data = encode_once(_noisy(600), SHOPEE, 85)
    markers = jpeg_markers(data)
    assert 0xC2 in markers and 0xC0 not in markers  # SOF2 = progressive DCT
    assert_no_metadata(data)


def test_quality_is_lowered_to_meet_the_budget() -> None:
    generous = encode_once(_noisy(800), SHOPEE, SHOPEE.quality)
    tight = dataclasses.replace(SHOPEE, max_bytes=int(len(generous) * 0.6), min_side=100)
    data, quality, canvas = encode(_placer(800), tight)
    assert len(data) <= tight.max_bytes
    assert tight.min_quality <= quality < tight.quality
    assert canvas.size == (800, 800)  # quality alone was enough


def test_picture_shrinks_when_quality_alone_is_not_enough() -> None:
    at_min = encode_once(_noisy(800), SHOPEE, SHOPEE.min_quality)
    tight = dataclasses.replace(SHOPEE, max_bytes=len(at_min) // 3, min_side=100)
    data, _, canvas = encode(_placer(800), tight)
    assert len(data) <= tight.max_bytes
    assert 100 <= canvas.width < 800


def test_impossible_budget_is_a_typed_refusal() -> None:
    impossible = dataclasses.replace(SHOPEE, max_bytes=500)
    with pytest.raises(MediaRejected) as caught:
        encode(_placer(800), impossible)
    assert caught.value.code == "over_budget"


def test_webp_output() -> None:
    data = encode_once(_noisy(500), WEB_THUMB, WEB_THUMB.quality)
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert_no_metadata(data)
