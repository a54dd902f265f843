"""Every web test hashes passwords with real argon2id at a test-sized cost."""

from __future__ import annotations

import pytest

from tests.ocop.web.support import cheaper_argon2


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    cheaper_argon2(monkeypatch)
