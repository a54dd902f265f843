"""Marketplace tokens encrypted at rest.

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with keys derived from OCOP_SECRET_KEY by
HKDF, so the database alone never reveals a shop's token. Rotation: set the new secret as
OCOP_SECRET_KEY, list the old ones in OCOP_OLD_SECRET_KEYS, run ``ocop keys rotate`` (re-encrypts
every token under the new key); then drop the old secrets.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"ocop marketplace tokens v1"


class TokenDecryptError(ValueError):
    """The ciphertext was made with a key we no longer have (or was tampered with)."""


def _derive(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ocop-token-key", info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class TokenCipher:
    """Encrypts with the current secret, decrypts with the current or any old one."""

    def __init__(self, secret: str, old_secrets: Sequence[str] = ()) -> None:
        if not secret:
            raise ValueError("a secret key is required to encrypt marketplace tokens")
        self._fernet = MultiFernet([_derive(secret), *(_derive(s) for s in old_secrets if s)])

    def encrypt(self, plaintext: str) -> str:
        return "" if not plaintext else self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        if not ciphertext:
            return ""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise TokenDecryptError("token cannot be decrypted with the configured keys") from exc

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the current key (no-op for empty values)."""
        return "" if not ciphertext else self._fernet.rotate(ciphertext.encode()).decode()
