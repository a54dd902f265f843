"""Running the web service and the standalone worker.

A service that cannot start says why and exits non-zero: the listening port is bound here (a taken
port is an error naming it), and a failed application start-up (database, Redis, the embedded
sandbox) is raised with the last line of its traceback as :class:`ocop.errors.StartupError`."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

from ocop.cli.http_limits import uvicorn_options
from ocop.settings import Settings


def serve(settings: Settings, *, on_ready: Callable[[Any], Awaitable[None]] | None = None) -> int:
    from ocop.app import create_app
    from ocop.logs import configure_logging

    if settings.is_sqlite:
        # The embedded database belongs to this one process: bring it to the schema, so a fresh data
        # folder serves pages instead of "no such table". PostgreSQL is shared by many processes and
        # is migrated once per release (`ocop migrate`, docker-compose's migrate service).
        from ocop import db, piccolo_app

        report = asyncio.run(piccolo_app.migrate(db.engine_from_url(settings.effective_database_url)))
        if report.applied:
            count = len(report.applied)
            print(f"Đã chạy {count} migration / applied {count} migrations", flush=True)
    sock = _listen(settings.host, settings.port)
    app = create_app(settings, on_ready=on_ready)
    # After create_app: Litestar installs its own root handler when the app is built; this process
    # owns logging, so every line (uvicorn's too: log_config=None) goes through our scrubbed
    # handler once. uvicorn's access line is off: it prints query strings (OAuth ``?code=``,
    # marketplace signatures); the app writes its own access line without them (ocop/logs.py).
    configure_logging(settings.log_level, settings.log_json, take_root=True)
    server = _Server(uvicorn.Config(
        app, host=settings.host, port=settings.port, log_config=None, log_level=settings.log_level.lower(),
        access_log=False, proxy_headers=True, server_header=False, timeout_graceful_shutdown=10,
        **uvicorn_options(settings.http_max_connections)))
    errors = _StartupErrors()
    logging.getLogger("uvicorn.error").addHandler(errors)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl+C it handled: a clean stop (as uvicorn.run)
        pass
    except SystemExit:  # uvicorn's exit status 3 when the application's start-up failed
        if server.started:
            raise
    finally:
        logging.getLogger("uvicorn.error").removeHandler(errors)
        sock.close()
    if not server.started:
        from ocop.errors import StartupError

        raise StartupError(errors.reason or "the web application did not start (see the log above)")
    return 0


class _Server(uvicorn.Server):
    """Says where it serves once it really does (after the application's start-up succeeded)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(f"ocop đang chạy tại / serving at http://{self.config.host}:{self.config.port}", flush=True)


def _listen(host: str, port: int) -> socket.socket:
    """The bound listening socket, or a :class:`StartupError` that names the taken address.
    (The sandbox's helper: one rule for binding with a clear error, used by both servers.)"""
    from connectors.sandbox.server import listen_socket
    from ocop.errors import StartupError

    try:
        return listen_socket(host, port)
    except OSError as exc:
        raise StartupError(f"không mở được cổng {host}:{port} (chọn cổng khác: --port hoặc OCOP_PORT) / "
                           f"{exc.strerror or exc} (choose another with --port or OCOP_PORT)") from exc


class _StartupErrors(logging.Handler):
    """Keeps the reason of a failed start-up: uvicorn logs the application's start-up traceback
    (Litestar hands it over whole) at ERROR; its last ``SomeError: message`` line is the reason."""

    _EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception|Exit)\b.*")

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.reason = ""

    def emit(self, record: logging.LogRecord) -> None:
        for line in reversed(record.getMessage().splitlines()):
            found = self._EXCEPTION_LINE.match(line.strip().lstrip("|").strip())
            if found:
                self.reason = found.group(0)
                return


def run_worker(settings: Settings, *, burst: bool = False) -> int:
    if settings.embedded_redis:
        print("ocop worker cần OCOP_REDIS_URL; ở chế độ nhúng, worker chạy bên trong 'ocop serve'.\n"
              "ocop worker needs OCOP_REDIS_URL; in embedded mode the worker runs inside 'ocop serve'.",
              file=sys.stderr)
        return 2
    from ocop.assembly import WORKER
    from ocop.jobs.worker import build_worker
    from ocop.piccolo_app import use_database
    from ocop.logs import configure_logging

    configure_logging(settings.log_level, settings.log_json, take_root=True)
    if burst:
        # arq's Worker keeps the event loop current when it is built: build it inside the loop that
        # runs it (built outside, ``asyncio.run`` would start a second loop and the run fails).
        async def run_burst() -> None:
            worker = build_worker(settings, settings.redis_url, plan=WORKER, burst=True, bind_db=use_database)
            await worker.async_run()

        asyncio.run(run_burst())
    else:
        # SIGINT/SIGTERM: running jobs finish or are re-queued
        build_worker(settings, settings.redis_url, plan=WORKER, bind_db=use_database).run()
    return 0
