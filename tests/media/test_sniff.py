from __future__ import annotations

import pytest

from media.errors import MediaRejected
from media.sniff import magic_format, sniff
from tests.media import corpus


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: corpus.phone_photo(400, 300), "JPEG"),
        (corpus.transparent_png, "PNG"),
        (corpus.animated_gif, "GIF"),
        (corpus.webp, "WEBP"),
        (corpus.tiff, "TIFF"),
        (corpus.heic, "HEIF"),
    ],
)
def test_sniffs_real_formats(build, expected: str) -> None:
    assert sniff(build()) == expected


def test_name_and_extension_play_no_part() -> None:
    # Only bytes are looked at: a PNG signature is a PNG whatever the upload was called.
    assert magic_format(b"\x89PNG\r\n\x1a\n" + b"\0" * 20) == "PNG"
    assert magic_format(b"JFIF but not at the start") is None


@pytest.mark.parametrize("name", sorted(corpus.NON_IMAGES))
def test_non_images_are_refused(name: str) -> None:
    with pytest.raises(MediaRejected) as refusal:
        sniff(corpus.NON_IMAGES[name])
    assert refusal.value.code == "not_an_image"
    assert refusal.value.message_vi and refusal.value.message_en


@pytest.mark.parametrize("build", [corpus.polyglot_gif, corpus.polyglot_jpeg])
def test_polyglots_are_refused(build) -> None:
    with pytest.raises(MediaRejected) as refusal:
        sniff(build())
    assert refusal.value.code == "polyglot"


def test_markup_in_the_middle_of_a_big_file_is_scanned_only_at_the_ends() -> None:
    """Head and tail are scanned (where browsers sniff and where payloads are
    appended); entropy-coded bytes in between are not."""
    body = b"\xff\xd8\xff\xe0" + b"\0" * 100_000
    assert sniff(body + b"<script>" + b"\0" * 100_000) == "JPEG"
    with pytest.raises(MediaRejected):
        sniff(body + b"<SCRIPT>")


def test_scans_are_told_by_their_bytes() -> None:
    from media.sniff import sniff_scan

    assert sniff_scan(b"%PDF-1.7\n...") == "PDF"
    assert sniff_scan(corpus.phone_photo(400, 300)) == "JPEG"
    assert sniff_scan(corpus.transparent_png()) == "PNG"
    assert sniff_scan(corpus.heic()) == "HEIF"
    for disguised in (b"<html><body>Gi\xe1\xba\xa5y ch\xe1\xbb\xa9ng nh\xe1\xba\xadn</body></html>",
                      corpus.webp(),
                      corpus.animated_gif(), b"MZ\x90\x00", corpus.polyglot_jpeg()):
        with pytest.raises(MediaRejected) as refused:
            sniff_scan(disguised)
        assert refused.value.code in ("not_a_scan", "polyglot") and refused.value.message_vi
