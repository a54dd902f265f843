from __future__ import annotations

import pytest

from ocop.marketplace.crypto import TokenCipher, TokenDecryptError


def test_round_trip_hides_the_token() -> None:
    cipher = TokenCipher("secret-one")
    sealed = cipher.encrypt("shopee-access-token-123")
    assert "shopee-access-token-123" not in sealed
    assert cipher.decrypt(sealed) == "shopee-access-token-123"
    assert cipher.encrypt("") == "" and cipher.decrypt("") == ""


def test_rotation_keeps_old_tokens_readable_then_moves_them() -> None:
    old = TokenCipher("secret-one")
    sealed = old.encrypt("refresh-456")
    rotating = TokenCipher("secret-two", old_secrets=["secret-one"])
    assert rotating.decrypt(sealed) == "refresh-456"
    moved = rotating.rotate(sealed)
    assert TokenCipher("secret-two").decrypt(moved) == "refresh-456"
    with pytest.raises(TokenDecryptError):
        TokenCipher("secret-two").decrypt(sealed)


def test_tampering_is_detected() -> None:
    cipher = TokenCipher("secret-one")
    sealed = cipher.encrypt("abc")
    with pytest.raises(TokenDecryptError):
        cipher.decrypt(sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB"))
