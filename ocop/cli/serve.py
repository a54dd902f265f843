"""Running the web service and the standalone worker."""

from __future__ import annotations

import asyncio
import sys

import uvicorn

from ocop.settings import Settings


def serve(settings: Settings) -> int:
    from ocop.app import create_app

    app = create_app(settings)
    print(f"ocop đang chạy tại / serving at http://{settings.host}:{settings.port}", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                proxy_headers=True, server_header=False, timeout_graceful_shutdown=10)
    return 0


def run_worker(settings: Settings, *, burst: bool = False) -> int:
    if settings.embedded_redis:
        print("ocop worker cần OCOP_REDIS_URL; ở chế độ nhúng, worker chạy bên trong 'ocop serve'.\n"
              "ocop worker needs OCOP_REDIS_URL; in embedded mode the worker runs inside 'ocop serve'.",
              file=sys.stderr)
        return 2
    from ocop.jobs.worker import build_worker
    from ocop.web.logs import configure_logging

    configure_logging(settings.log_level, settings.log_json)
    worker = build_worker(settings, settings.redis_url, burst=burst, manage_db=True)
    if burst:
        asyncio.run(worker.async_run())
    else:
        worker.run()  # handles SIGINT/SIGTERM: running jobs finish or are re-queued
    return 0
