from __future__ import annotations

from media.profiles import MARKETPLACE_PROFILES, PROFILES, SHOPEE


def test_shopee_matches_the_published_rule() -> None:
    # shared/reference/marketplaces.md: square, ≥ 500×500, ≤ 2 MB; issue 9: side 500–4096, ≤ 2 MiB.
    assert SHOPEE.aspect == (1, 1)
    assert SHOPEE.min_side == 500 and SHOPEE.max_side == 4096
    assert SHOPEE.max_bytes <= 2 * 1024 * 1024
    assert SHOPEE.min_side <= SHOPEE.side <= SHOPEE.max_side
    assert SHOPEE.refuse_below == 250


def test_every_profile_is_consistent() -> None:
    assert set(PROFILES) == {"shopee", "lazada", "tiktok", "tiki", "web_thumb", "web_zoom"}
    for profile in PROFILES.values():
        assert profile.min_side <= profile.side <= profile.max_side
        assert profile.min_quality <= profile.quality
        assert profile.extension in ("jpg", "webp")
    assert all(p.aspect == (1, 1) and p.format == "JPEG" for p in MARKETPLACE_PROFILES)


def test_output_sides_are_shrink_on_load_friendly() -> None:
    """A 4000 px phone photo reaches every side by a JPEG DCT factor (1, 2, 4, 8)."""
    for profile in PROFILES.values():
        assert 4000 % profile.side == 0 and 4000 // profile.side in (1, 2, 4, 8)
