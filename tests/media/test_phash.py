from __future__ import annotations

import io

from PIL import Image, ImageEnhance

from media.phash import hamming, is_duplicate, phash
from tests.media import corpus


def _reencoded(im: Image.Image, quality: int, scale: float) -> Image.Image:
    out = io.BytesIO()
    im.resize((int(im.width * scale), int(im.height * scale))).save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue()))


def test_hamming() -> None:
    assert hamming(0, 0) == 0
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(0, (1 << 64) - 1) == 64


def test_same_photo_resized_recompressed_brightened_is_a_duplicate() -> None:
    photo = corpus.scene(800, 600)
    brightened = ImageEnhance.Brightness(_reencoded(photo, 60, 0.5)).enhance(1.1)
    original = phash(photo)
    assert is_duplicate(original, phash(_reencoded(photo, 70, 0.37)))
    assert is_duplicate(original, phash(brightened))
    assert 0 <= original < 1 << 64


def test_different_photos_are_not_duplicates() -> None:
    a = corpus.scene(800, 600)
    b = a.transpose(Image.Transpose.ROTATE_180)
    c = Image.radial_gradient("L").resize((800, 600)).convert("RGB")
    assert not is_duplicate(phash(a), phash(b))
    assert not is_duplicate(phash(a), phash(c))
    assert not is_duplicate(phash(b), phash(c))
