"""Assertions on produced files, shared by the media tests."""

from __future__ import annotations

import io

from PIL import Image


def jpeg_markers(data: bytes) -> list[int]:
    """Marker bytes of the segments before the scan (SOI .. SOS), ITU T.81 B.1."""
    assert data[:2] == b"\xff\xd8"
    markers, i = [], 2
    while i < len(data):
        assert data[i] == 0xFF, f"bad marker at {i}"
        marker = data[i + 1]
        markers.append(marker)
        if marker == 0xDA:  # SOS: entropy-coded data follows
            break
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        i += 2 + length
    return markers


def assert_no_metadata(data: bytes) -> None:
    """No EXIF (hence no GPS), XMP, ICC or comment in the output."""
    with Image.open(io.BytesIO(data)) as im:
        assert not im.getexif(), dict(im.getexif())
        assert "icc_profile" not in im.info or not im.info["icc_profile"]
        assert "xmp" not in im.info and "XML:com.adobe.xmp" not in im.info
        assert "exif" not in im.info
        fmt = im.format
    for needle in (b"Exif", b"GPS", b"http://ns.adobe.com/xap", b"xmpmeta", b"ICC_PROFILE", b"PhoneMaker"):
        assert needle not in data, needle
    if fmt == "JPEG":
        markers = jpeg_markers(data)
        # Only JFIF APP0 may remain; APP1 (EXIF/XMP), APP2 (ICC) and COM must not.
        assert not {m for m in markers if 0xE1 <= m <= 0xEF or m == 0xFE}, [hex(m) for m in markers]


def open_rgb(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.convert("RGB")


def close(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 30) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))
