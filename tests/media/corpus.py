"""Awkward images the tests generate on the fly (issue 9's corpus).

Every builder returns the file's bytes. Pictures carry simple, checkable
content: a red block marks the *visual* top-left corner of a phone photo, so a
test can tell whether EXIF orientation was applied.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib

import pillow_heif
from PIL import Image, ImageDraw

from tests.media.icc import cmyk_profile

RED = (220, 20, 20)
BLUE = (20, 40, 200)
GREEN = (30, 160, 60)
GPS_LATITUDE = (21.0, 1.0, 42.0)  # a producer's home near Hà Nội


def _save(im: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def scene(width: int, height: int) -> Image.Image:
    """Gradient + noise (so JPEG sizes are realistic) with a red block at top-left."""
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 30).convert("RGB")
    im = Image.blend(gradient, noise, 0.25)
    ImageDraw.Draw(im).rectangle((0, 0, width // 5, height // 5), fill=RED)
    return im


def phone_photo(width: int = 1600, height: int = 1200, orientation: int = 6, quality: int = 90) -> bytes:
    """A JPEG as a phone held upright stores it: pixels sideways + EXIF orientation,
    GPS position and an XMP packet.

    The *displayed* picture (portrait for orientation 6) has the red block at its
    top-left; it is stored rotated so that only honouring the tag shows it there.
    """
    shown = scene(height, width) if orientation in (5, 6, 7, 8) else scene(width, height)
    # Stored pixels = displayed picture with the inverse of the orientation transform.
    inverse = {
        1: None,
        3: Image.Transpose.ROTATE_180,
        6: Image.Transpose.ROTATE_90,
        8: Image.Transpose.ROTATE_270,
    }[orientation]
    stored = shown.transpose(inverse) if inverse is not None else shown
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = GPS_LATITUDE
    gps[3] = "E"
    gps[4] = (105.0, 51.0, 12.0)
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>'
    )
    return _save(stored, "JPEG", quality=quality, exif=exif, xmp=xmp)


def mpo_photo(width: int = 4000, height: int = 3000) -> bytes:
    """A phone JPEG that is really MPO (CIPA DC-007): main picture + a depth-map image."""
    depth = Image.new("RGB", (width // 4, height // 4), (128, 128, 128))
    return _save(scene(width, height), "MPO", save_all=True, append_images=[depth], quality=80)


def cmyk_jpeg(with_icc: bool = True) -> bytes:
    """A print-shop CMYK JPEG: left half pure red ink (M+Y), right half black ink only."""
    im = Image.new("CMYK", (800, 600), (0, 255, 255, 0))
    ImageDraw.Draw(im).rectangle((400, 0, 799, 599), fill=(0, 0, 0, 255))
    return _save(im, "JPEG", quality=95, icc_profile=cmyk_profile() if with_icc else None)


def transparent_png() -> bytes:
    """RGBA: a red disc on a fully transparent background."""
    im = Image.new("RGBA", (800, 800), (0, 0, 0, 0))
    ImageDraw.Draw(im).ellipse((200, 200, 600, 600), fill=RED + (255,))
    return _save(im, "PNG")


def palette_png() -> bytes:
    """Mode P with a transparent palette index (tRNS) around a blue square."""
    im = Image.new("P", (600, 600), 0)
    im.putpalette([0, 0, 0, *BLUE] + [0] * (256 * 3 - 6))
    ImageDraw.Draw(im).rectangle((150, 150, 449, 449), fill=1)
    return _save(im, "PNG", transparency=0)


def grey16_png() -> bytes:
    """16-bit greyscale: left half 0x8080 (mid grey), right half 0xFFFF (white)."""
    im = Image.new("I;16", (800, 600), 0x8080)
    ImageDraw.Draw(im).rectangle((400, 0, 799, 599), fill=0xFFFF)
    return _save(im, "PNG")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_raw(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes | None) -> bytes:
    """A PNG written by hand (PNG spec §11.2): lets us make 16-bit RGB files and
    headers that promise more pixels than the file holds (bombs)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    idat = zlib.compress(rows if rows is not None else b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def rgb16_png(width: int = 600, height: int = 400) -> bytes:
    """16-bit-per-channel RGB, every pixel (0xFFFF, 0x8000, 0x0000): orange."""
    row = b"\0" + struct.pack(">HHH", 0xFFFF, 0x8000, 0x0000) * width
    return png_raw(width, height, 16, 2, row * height)


def animated_gif() -> bytes:
    """Three frames: red, green, blue. Only the first may be used."""
    frames = [Image.new("RGB", (600, 600), colour) for colour in (RED, GREEN, BLUE)]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


@functools.cache
def heic() -> bytes:
    """An iPhone-style HEIC (HEVC in HEIF) of the scene (cached: x265 is slow)."""
    out = io.BytesIO()
    pillow_heif.from_pillow(scene(640, 480)).save(out, quality=70)
    return out.getvalue()


@functools.cache
def heic_sideways() -> bytes:
    """An iPhone held upright: HEIC of the sideways sensor picture plus orientation 6
    (pillow-heif stores it as an ``irot`` transform; the displayed picture is
    480×640 with the red block at its top-left)."""
    stored = scene(480, 640).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    pillow_heif.from_pillow(stored).save(out, quality=70, exif=exif.tobytes())
    return out.getvalue()


def webp() -> bytes:
    return _save(scene(1000, 800), "WEBP", quality=80)


def tiff() -> bytes:
    return _save(scene(900, 700), "TIFF", compression="tiff_lzw")


def panorama() -> bytes:
    """6:1 landscape: must be padded top and bottom, never cropped."""
    return _save(scene(3000, 500), "JPEG", quality=90)


def tiny(side: int = 200) -> bytes:
    return _save(scene(side, side), "PNG")


def truncated() -> bytes:
    """A phone photo cut off halfway (a dropped upload)."""
    data = phone_photo(orientation=1)
    return data[: len(data) // 2]


NON_IMAGES: dict[str, bytes] = {
    "html": b"<!doctype html><html><body><script>alert(1)</script></body></html>",
    "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "shell": b"#!/bin/sh\nrm -rf /\n",
    "pdf": b"%PDF-1.7\n1 0 obj<<>>endobj\n",
    "empty": b"",
    "zip": b"PK\x03\x04" + b"\0" * 100,
}


def polyglot_gif() -> bytes:
    """GIF header whose bytes are also a script (the GIFAR family)."""
    return b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;<script>alert(document.cookie)</script>"


def polyglot_jpeg() -> bytes:
    """A valid JPEG with an HTML page appended after its end marker."""
    return _save(scene(600, 600), "JPEG") + b"<html><body><script>alert(1)</script></body></html>"


def bomb_png(side: int = 20_000) -> bytes:
    """A PNG header promising side² pixels (400 MP by default) in a few bytes."""
    return png_raw(side, side, 8, 0, None)


def frames_gif(frames: int, side: int = 300) -> bytes:
    """An animation whose frames together exceed a small pixel limit."""
    images = [Image.new("L", (side, side), 10 * i) for i in range(frames)]
    return _save(images[0], "GIF", save_all=True, append_images=images[1:])
