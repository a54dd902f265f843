"""``ocop demo``: a working site in one command. Migrates the database under ./var, seeds the demo
catalogue and logins, and serves the site; ``serve`` starts the sandbox marketplace in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ocop import db, piccolo_app
from ocop.demo.seed import DEMO_PASSWORD, seed
from ocop.marketplace.apps import sandbox_base_url
from ocop.settings import Settings
from ocop.storage import media_store


async def prepare_demo_database(settings: Settings, *, fresh: bool) -> list[tuple[str, str]]:
    url = settings.effective_database_url
    if fresh and settings.is_sqlite:
        path = db.sqlite_path(url)
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    engine = db.engine_from_url(url)
    await piccolo_app.migrate(engine)
    await db.prepare(engine)
    try:
        report = await seed(store=media_store(settings))
    finally:
        await db.close(engine)
    return report.logins


def run_demo(settings: Settings, *, host: str, port: int, fresh: bool, serve: Callable[..., int]) -> int:
    """Prepare the demo database, then ``serve`` the site (``ocop.cli.serve.serve``). A taken site port
    stops it before any work; a taken sandbox port is swapped for a free one, and it says so. Once the
    site is up, the marketplace side (sandbox shops, listings, orders) is seeded in the same process,
    where the in-process sandbox and worker live (``ocop.demo.market``)."""
    from connectors.sandbox.server import free_sandbox_port, port_is_free, sandbox_ports_free
    from ocop.errors import StartupError

    settings = settings.listening_on(host, port)
    if not port_is_free(port, host):  # before seeding: say so now, not after a minute of work
        raise StartupError(f"cổng {host}:{port} đang được dùng (một ocop demo khác?); "
                           f"chọn cổng khác: --port N / {host}:{port} is already in use "
                           "(another ocop demo?); choose another with --port N")
    if settings.sandbox and settings.run_sandbox and not settings.sandbox_url \
            and not sandbox_ports_free(settings.sandbox_port):
        # A second demo, or a standalone `ocop sandbox`, holds the sandbox's port: take any free one
        # (every link and OAuth callback of this demo is built from these settings).
        busy, settings = settings.sandbox_port, settings.with_overrides(sandbox_port=free_sandbox_port())
        print(f"Cổng {busy} của sàn thử nghiệm đang bận; dùng cổng {settings.sandbox_port}. / "
              f"The sandbox port {busy} is busy; using port {settings.sandbox_port} instead.", flush=True)
    if settings.sync_interval_minutes == 15:  # the default: in a demo, show review results and orders soon
        settings = settings.with_overrides(sync_interval_minutes=1)
    asyncio.run(prepare_demo_database(settings, fresh=fresh))
    print("\n=== OCOP demo ===")
    print(f"Trang web / site:            http://{host}:{port}/")
    if settings.sandbox:
        print(f"Sàn thử nghiệm / sandbox:    {sandbox_base_url(settings)}/")
    print(f"Mật khẩu demo / password:    {DEMO_PASSWORD}")
    print("Tài khoản / logins:          admin (quản trị), canbo.gialai (cán bộ tỉnh), "
          "canbo.tuyphuoc (cán bộ xã), bauda · tamquan · goboi · chuse · phugia (chủ thể OCOP)")
    print("Dừng / stop: Ctrl+C\n", flush=True)
    from ocop.demo.market import seed_marketplace

    return serve(settings, on_ready=seed_marketplace if settings.sandbox and not settings.sandbox_url else None)
