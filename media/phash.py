"""64-bit perceptual hash (DCT pHash) to flag the same photo uploaded twice.

Algorithm as in pHash / the ``imagehash`` library's ``phash``: greyscale,
shrink to 32×32, 2-D DCT-II, keep the 8×8 lowest frequencies, set a bit where a
coefficient is above their median. Re-encoding, rescaling and mild colour
changes move only a few bits; different photos differ in about half of them.
Implemented here in plain Python (only 8×32 + 8×8×32 products are needed)
rather than pulling in numpy/scipy for one transform.
"""

from __future__ import annotations

import math

from PIL import Image

_N = 32
_K = 8
# cos table: _COS[u][x] = cos(pi * (2x + 1) * u / (2N)) for the K lowest frequencies.
_COS = [[math.cos(math.pi * (2 * x + 1) * u / (2 * _N)) for x in range(_N)] for u in range(_K)]

DUPLICATE_DISTANCE = 10
"""Hamming distance at or below which two hashes are taken for the same photo
(imagehash's documentation uses thresholds around 10 of 64 bits for phash)."""


def phash(im: Image.Image) -> int:
    """The 64-bit pHash of ``im`` (any mode), as an unsigned int."""
    src = im if im.mode in ("RGB", "L") else im.convert("RGB")
    small = src.resize((_N, _N), Image.Resampling.BOX, reducing_gap=2.0).convert("L")
    pixels = list(small.tobytes())
    rows = [pixels[y * _N : (y + 1) * _N] for y in range(_N)]
    # DCT along x for each row, only the K lowest frequencies.
    row_dct = [[sum(c * v for c, v in zip(_COS[u], row)) for u in range(_K)] for row in rows]
    # then along y.
    low = [sum(_COS[v][y] * row_dct[y][u] for y in range(_N)) for v in range(_K) for u in range(_K)]
    median = sorted(low)[len(low) // 2 - 1 : len(low) // 2 + 1]
    threshold = (median[0] + median[1]) / 2
    bits = 0
    for coefficient in low:
        bits = (bits << 1) | (coefficient > threshold)
    return bits


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two hashes."""
    return (a ^ b).bit_count()


def is_duplicate(a: int, b: int, max_distance: int = DUPLICATE_DISTANCE) -> bool:
    return hamming(a, b) <= max_distance
