"""Fixtures for tests of the service: the app on the test's own event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from ocop.app import create_app
from ocop.settings import Settings
from tests.ocop.web.support import cheaper_argon2

AppClient = Callable[..., AbstractAsyncContextManager[tuple[Litestar, httpx.AsyncClient]]]


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every service test hashes passwords with real argon2id at a test-sized cost."""
    cheaper_argon2(monkeypatch)


@pytest.fixture
def app_client(tmp_path: Path) -> AppClient:
    """``async with app_client(database_url=..., redis_url=...) as (app, client)`` runs the app's
    lifespan and talks to it through ASGITransport on the test's loop (see DESIGN "Known traps")."""

    @asynccontextmanager
    async def open_app(**overrides: object) -> AsyncIterator[tuple[Litestar, httpx.AsyncClient]]:
        # The API rate limit is off by default here: PostgreSQL tests share one database URL (so one
        # rate-limit namespace) and user ids repeat across tests. tests/ocop/web/test_ratelimit.py
        # turns it on and tests it. The change-feed caches are off too: tests that write through
        # piccolo and call the API at once would race the database's notice (milliseconds, see
        # ocop.change_feed); tests/ocop/test_change_feed.py turns them on and tests them.
        settings = Settings(var_dir=tmp_path / "var", secret_key="test-secret-key-0123456789abcdef",
                            run_sandbox=False, api_rate_per_min=0, api_cache_mb=0)
        settings = settings.with_overrides(**overrides)
        app = create_app(settings)
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield app, client

    return open_app
