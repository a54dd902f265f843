"""A tiny hand-built CMYK ICC profile, so the tests need no system colour files.

ICC.1:2001-04 (v2) layout: 128-byte header, tag table, tags. The profile is an
output-class CMYK profile with a Lab PCS and one ``A2B0`` lut8Type tag
(ICC.1 §6.5.7) on a 2-point grid: each of the 16 CMYK corners maps to the Lab
colour of simple subtractive mixing, except that black ink alone is a
press-like dark grey (L* 20) instead of pure black — so a test can tell a
colour-managed conversion from Pillow's naive ``convert("RGB")``.
"""

from __future__ import annotations

import itertools
import struct

from PIL import ImageCms


def _srgb_to_lab(r: float, g: float, b: float) -> tuple[float, float, float]:
    """sRGB (0–1) → CIE Lab (D50, as the ICC PCS), via Bradford-adapted XYZ."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    rl, gl, bl = linear(r), linear(g), linear(b)
    # sRGB → XYZ (D50) matrix, Bradford-adapted (Lindbloom).
    x = 0.4360747 * rl + 0.3850649 * gl + 0.1430804 * bl
    y = 0.2225045 * rl + 0.7168786 * gl + 0.0606169 * bl
    z = 0.0139322 * rl + 0.0971045 * gl + 0.7141733 * bl
    xn, yn, zn = 0.9642, 1.0, 0.8249

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x / xn), f(y / yn), f(z / zn)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def _corner_lab(c: int, m: int, y: int, k: int) -> tuple[float, float, float]:
    if k and not (c or m or y):
        return 20.0, 0.0, 0.0  # black ink alone: dark grey, like a real press
    return _srgb_to_lab((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))


def _tag(signature: bytes, body: bytes) -> tuple[bytes, bytes]:
    return signature, body + b"\0" * (-len(body) % 4)


def cmyk_profile() -> bytes:
    """The profile's bytes."""
    identity_curve = bytes(range(256))
    clut = bytearray()
    for c, m, y, k in itertools.product((0, 1), repeat=4):  # first channel varies slowest
        lab_l, lab_a, lab_b = _corner_lab(c, m, y, k)
        clut += bytes(
            (
                max(0, min(255, round(lab_l * 255 / 100))),
                max(0, min(255, round(lab_a + 128))),
                max(0, min(255, round(lab_b + 128))),
            )
        )
    matrix = struct.pack(">9i", 65536, 0, 0, 0, 65536, 0, 0, 0, 65536)
    lut8 = (
        b"mft1"
        + b"\0" * 4
        + bytes((4, 3, 2, 0))
        + matrix
        + identity_curve * 4
        + bytes(clut)
        + identity_curve * 3
    )
    desc_text = b"Test CMYK\0"
    desc = (
        b"desc"
        + b"\0" * 4
        + struct.pack(">I", len(desc_text))
        + desc_text
        + b"\0" * 8
        + b"\0" * 3
        + b"\0" * 67
    )
    wtpt = b"XYZ " + b"\0" * 4 + struct.pack(">3i", round(0.9642 * 65536), 65536, round(0.8249 * 65536))
    cprt = b"text" + b"\0" * 4 + b"public domain\0"
    tags = [_tag(b"desc", desc), _tag(b"wtpt", wtpt), _tag(b"cprt", cprt), _tag(b"A2B0", lut8)]
    offset = 128 + 4 + 12 * len(tags)
    table, bodies = b"", b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(bodies), len(body))
        bodies += body
    size = offset + len(bodies)
    illuminant = struct.pack(">3i", round(0.9642 * 65536), 65536, round(0.8249 * 65536))
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + bytes((2, 0x10, 0, 0))
        + b"prtr"
        + b"CMYK"
        + b"Lab "
        + b"\0" * 12  # date
        + b"acsp"
        + b"\0" * 4  # platform
        + b"\0" * 4  # flags
        + b"\0" * 8  # manufacturer, model
        + b"\0" * 8  # attributes
        + struct.pack(">I", 0)  # rendering intent
        + illuminant
        + b"\0" * 4  # creator
        + b"\0" * 44
    )
    assert len(header) == 128, len(header)
    data = header + struct.pack(">I", len(tags)) + table + bodies
    ImageCms.ImageCmsProfile(__import__("io").BytesIO(data))  # fail early if LittleCMS rejects it
    return data
