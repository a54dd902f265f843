from __future__ import annotations

from media.geometry import draft_request, fit, fitted_long_side, pad
from media.profiles import SHOPEE, WEB_THUMB, WEB_ZOOM


def test_fitted_long_side_never_enlarges_unless_below_minimum() -> None:
    assert fitted_long_side(4000, SHOPEE) == 2000
    assert fitted_long_side(1200, SHOPEE) == 1200  # kept: no invented pixels
    assert fitted_long_side(300, SHOPEE) == 500  # enlarged to the marketplace minimum


def test_fit_keeps_aspect() -> None:
    assert fit(4000, 3000, 2000) == (2000, 1500)
    assert fit(3000, 4000, 2000) == (1500, 2000)
    assert fit(6000, 1, 2000) == (2000, 1)  # never zero


def test_pad_to_square_and_to_other_ratios() -> None:
    assert pad(2000, 1500, (1, 1)) == (2000, 2000)
    assert pad(1500, 2000, (1, 1)) == (2000, 2000)
    assert pad(2000, 333, (1, 1)) == (2000, 2000)
    assert pad(1000, 1000, (3, 4)) == (1000, 1334)
    assert pad(1000, 1000, (4, 3)) == (1334, 1000)
    assert pad(2000, 1500, None) == (2000, 1500)


def test_draft_request_lands_phone_photos_on_the_target() -> None:
    # 4000×3000 → shrink-on-load by exactly 2 serves a 2000 px profile.
    assert draft_request(4000, 3000, [SHOPEE]) == (2000, 1500)
    # all profiles at once: the largest target decides (one decode for all).
    assert draft_request(4000, 3000, [WEB_THUMB, SHOPEE, WEB_ZOOM]) == (2000, 1500)
    # thumbnails alone may shrink by 8.
    assert draft_request(4000, 3000, [WEB_THUMB]) == (500, 375)
    # nothing to gain below 2×.
    assert draft_request(3000, 2000, [SHOPEE]) is None
