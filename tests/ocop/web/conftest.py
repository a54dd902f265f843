"""Every web test hashes passwords with real argon2id at a test-sized cost, and leaves no photo
job behind on the shared Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.ocop.web.support import cheaper_argon2, drop_normalize_jobs


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    cheaper_argon2(monkeypatch)


@pytest.fixture(autouse=True)
async def _no_leftover_jobs(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "redis_url" in request.fixturenames:
        await drop_normalize_jobs(request.getfixturevalue("redis_url"))
