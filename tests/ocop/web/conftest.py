"""Every web test leaves no photo job behind on the shared Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.ocop.web.support import drop_normalize_jobs


@pytest.fixture(autouse=True)
async def _no_leftover_jobs(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "redis_url" in request.fixturenames:
        await drop_normalize_jobs(request.getfixturevalue("redis_url"))
