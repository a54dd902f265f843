"""Running the web service and the standalone worker."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

from ocop.cli.http_limits import uvicorn_options
from ocop.settings import Settings


def serve(settings: Settings, *, on_ready: Callable[[Any], Awaitable[None]] | None = None) -> int:
    from ocop.app import create_app
    from ocop.web.logs import configure_logging

    if settings.is_sqlite:
        # The embedded database belongs to this one process: bring it to the schema, so a fresh data
        # folder serves pages instead of "no such table". PostgreSQL is shared by many processes and
        # is migrated once per release (`ocop migrate`, docker-compose's migrate service).
        from ocop import db, piccolo_app

        asyncio.run(piccolo_app.migrate(db.engine_from_url(settings.effective_database_url)))
    app = create_app(settings, on_ready=on_ready)
    # After create_app: Litestar installs its own root handler when the app is built; this process
    # owns logging, so every line (uvicorn's too: log_config=None) goes through our scrubbed
    # handler once. uvicorn's access line is off: it prints query strings (OAuth ``?code=``,
    # marketplace signatures); the app writes its own access line without them (ocop/web/logs.py).
    configure_logging(settings.log_level, settings.log_json, take_root=True)
    print(f"ocop đang chạy tại / serving at http://{settings.host}:{settings.port}", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None,
                log_level=settings.log_level.lower(), access_log=False, proxy_headers=True, server_header=False,
                timeout_graceful_shutdown=10,
                **uvicorn_options(settings.http_max_connections))
    return 0


def run_worker(settings: Settings, *, burst: bool = False) -> int:
    if settings.embedded_redis:
        print("ocop worker cần OCOP_REDIS_URL; ở chế độ nhúng, worker chạy bên trong 'ocop serve'.\n"
              "ocop worker needs OCOP_REDIS_URL; in embedded mode the worker runs inside 'ocop serve'.",
              file=sys.stderr)
        return 2
    from ocop.assembly import WORKER
    from ocop.jobs.worker import build_worker
    from ocop.piccolo_app import use_database
    from ocop.web.logs import configure_logging

    configure_logging(settings.log_level, settings.log_json, take_root=True)
    worker = build_worker(settings, settings.redis_url, plan=WORKER, burst=burst, bind_db=use_database)
    if burst:
        asyncio.run(worker.async_run())
    else:
        worker.run()  # handles SIGINT/SIGTERM: running jobs finish or are re-queued
    return 0
