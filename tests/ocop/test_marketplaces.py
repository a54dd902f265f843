"""One registry of marketplaces: every list in ocop, connectors and media derives from it or is held
to it here, so adding a marketplace cannot leave one of them behind (checklist in connectors/README.md)."""

from __future__ import annotations

import importlib
import typing

from connectors.base import Marketplace as MarketplaceLiteral
from connectors.registry import MARKETPLACES as CONNECTORS
from connectors.sandbox.config import MARKETPLACES as SANDBOX
from media.profiles import MARKETPLACE_PROFILES, PROFILES
from ocop.catalog.readiness import _FIELDS
from ocop.marketplace.apps import SANDBOX_APP_KEYS
from ocop.marketplaces import CODES, MARKETPLACES, NAMES, name_of


def test_every_marketplace_has_all_its_parts() -> None:
    assert CODES == tuple(CONNECTORS) == SANDBOX == typing.get_args(MarketplaceLiteral)
    assert tuple(p.name for p in MARKETPLACE_PROFILES) == CODES
    assert set(SANDBOX_APP_KEYS) == set(CODES)
    for code, market in MARKETPLACES.items():
        assert market.profile is PROFILES[code] and market.client is CONNECTORS[code].client
        assert set(market.required) <= set(_FIELDS), f"readiness cannot name a field {code} requires"
        assert importlib.import_module(f"connectors.sandbox.{code}").SPEC.name == code
    assert NAMES["tiktok"] == "TikTok Shop" and name_of("tiktok") == "TikTok Shop"
    assert name_of("amazon") == "amazon" and name_of(None, "Chưa rõ") == "Chưa rõ"
