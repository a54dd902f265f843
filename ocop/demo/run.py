"""``ocop demo``: a working site in one command. Migrates the database under ./var, seeds the demo
catalogue and logins, starts the sandbox marketplace in-process and serves the site."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

from ocop import db
from ocop.demo.seed import DEMO_PASSWORD, seed
from ocop.settings import Settings


async def prepare_demo_database(settings: Settings, *, fresh: bool) -> list[tuple[str, str]]:
    url = settings.effective_database_url
    if fresh and settings.is_sqlite:
        path = db.sqlite_path(url)
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    engine = db.engine_from_url(url)
    await db.migrate(engine)
    await db.prepare(engine)
    try:
        report = await seed()
    finally:
        await db.close(engine)
    return report.logins


@contextlib.contextmanager
def sandbox_marketplace(settings: Settings) -> Iterator[str | None]:
    """Start the sandbox marketplace in a background thread; yields its base URL (None when the
    sandbox is not part of this build)."""
    try:
        from connectors.sandbox.server import start_in_thread
    except ImportError:
        yield None
        return
    base_url, stop, _state = start_in_thread(host="127.0.0.1", port=settings.sandbox_port)
    try:
        yield base_url
    finally:
        stop()


def run_demo(settings: Settings, *, host: str, port: int, fresh: bool,
             serve: Callable[[Settings], int] | None = None) -> int:
    settings = settings.with_overrides(host=host, port=port)
    asyncio.run(prepare_demo_database(settings, fresh=fresh))
    if serve is None:
        from ocop.cli.serve import serve as serve_default

        serve = serve_default
    with sandbox_marketplace(settings) as sandbox_url:
        print("\n=== OCOP demo ===")
        print(f"Trang web / site:            http://{host}:{port}/")
        if sandbox_url:
            print(f"Sàn thử nghiệm / sandbox:    {sandbox_url}/")
        print(f"Mật khẩu demo / password:    {DEMO_PASSWORD}")
        print("Tài khoản / logins:          admin (quản trị), canbo.gialai (cán bộ tỉnh), "
              "canbo.tuyphuoc (cán bộ xã), bauda · tamquan · goboi · chuse · phugia (chủ thể OCOP)")
        print("Dừng / stop: Ctrl+C\n", flush=True)
        return serve(settings)
