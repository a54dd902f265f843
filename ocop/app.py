"""The Litestar application factory: the one place where the service is assembled.

Everything bound to an event loop (database pool, Redis/arq pool, the embedded worker) is created
in the lifespan, never at import time: Litestar 2's test client runs the app on another loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from pathlib import Path

from litestar import Litestar, Response
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.stores.redis import RedisStore
from litestar.exceptions import HTTPException
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.plugins.prometheus import PrometheusController
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Message, Receive, Scope, Send
from litestar.plugins.jinja import JinjaTemplateEngine

from ocop import db, piccolo_app
from ocop.assembly import ROUTES, WORKER
from ocop.accounts.auth import (
    PRINCIPALS,
    SAFE_METHODS,
    SIGN_IN_GUARDS,
    LoginRequired,
    load_principal,
    login_required_handler,
    principal_cache,
    provide_maybe_me,
    provide_me,
    viewer,
)
from ocop.accounts.sessions import (DB_INSTANCE, SESSION_COOKIE, SESSION_STORE, database_instance_id,
                                   session_middleware)
from ocop.accounts.tokens import rate_identity
from ocop.alerts import pages as alert_pages
from ocop.alerts.zalo import sandbox_app as sandbox_zalo
from ocop.catalog.api import PRODUCT_PAGES, product_page_cache
from ocop.storage import media_store
from ocop.change_feed import CHANGE_FEED, ChangeFeed
from ocop.web.i18n import template_callables
from ocop.jobs.embedded import EmbeddedRedis, start_embedded_redis
from ocop.jobs.queue import open_queue
from ocop.jobs.worker import InProcessWorker, build_worker
from ocop.marketplace.runtime import build_runtime
from ocop.marketplace.sandbox import push_callbacks, start_embedded_sandbox
from ocop.settings import Settings, get_settings
from ocop.web.api_support import ApiDocs
from ocop.web.edge import RequestMetrics, edge_middleware, edge_send_hook
from ocop.web.errors import ErrorResponse, error_handler
from ocop.logs import configure_logging, log
from ocop.web.metrics_access import metrics_guard
from ocop.web.ratelimit import ApiRate, ApiRateLimitMiddleware, deployment_namespace

WEB_DIR = Path(__file__).parent / "web"


async def _nobody(_: object) -> None:
    """``before_request`` of ``/metrics``: its bearer is the metrics secret, not an API token."""


class MetricsController(PrometheusController):
    """``/metrics`` speaks Prometheus' text format to the scraper; it is not part of the JSON API's
    OpenAPI schema (which would otherwise claim it answers application/json). Served only to the
    configured addresses or the metrics secret (``ocop.web.metrics_access``)."""

    include_in_schema = False
    guards = [metrics_guard]
    before_request = _nobody


async def own_writes_hook(message: Message, scope: Scope) -> None:
    """App ``before_send`` hook: a request that may have written (any method but GET/HEAD/OPTIONS)
    empties this process's caches before its answer goes out, after its transaction committed, so
    the client's next read here cannot be an entry older than its write (the database's notice
    follows a few milliseconds later for the other processes; ``ocop.change_feed``)."""
    if message["type"] == "http.response.start" and scope.get("method") not in SAFE_METHODS:
        scope["app"].state[CHANGE_FEED].publish("*")


class OcopApp(Litestar):
    """Litestar, answering ``HEAD`` like ``GET`` without the body (RFC 9110 §9.3.2): link checkers,
    uptime probes and chat apps' link previews send HEAD, and a page answering 405 to them looks dead.
    Done before routing, because a route registered for GET alone refuses HEAD there."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await super().__call__(scope, receive, send)
            return

        async def send_head(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await super().__call__({**scope, "method": "GET"}, receive, send_head)  # type: ignore[arg-type]


async def _before_request(request: Any) -> None:
    """Who is signed in (and the page language), then the bell's unread count for pages."""
    await load_principal(request)
    await alert_pages.unread_count(request)


def _register_template_callables(engine: JinjaTemplateEngine) -> None:
    for key, func in template_callables().items():
        engine.register_template_callable(key, func)
    engine.register_template_callable("viewer", viewer)
    engine.register_template_callable("unread_alerts", alert_pages.unread)
    engine.engine.autoescape = True


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None,
               on_ready: Callable[[Litestar], Awaitable[None]] | None = None) -> Litestar:
    """Build the app. ``run_worker`` defaults to True in embedded mode (no OCOP_REDIS_URL): the
    arq worker then runs inside this process; with a Redis URL, ``ocop worker`` processes do.
    ``on_ready`` runs in the background once everything is up (the demo seeds its sandbox shops)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    in_process_worker = settings.embedded_redis if run_worker is None else run_worker

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = piccolo_app.use_database(db.engine_from_url(settings.effective_database_url))
        await db.prepare(engine)
        app.state[DB_INSTANCE] = await database_instance_id()
        embedded: EmbeddedRedis | None = None
        redis_url = settings.redis_url
        if not redis_url:
            embedded = start_embedded_redis(settings.var_dir)
            redis_url = embedded.url
        queue = await open_queue(redis_url)
        stop_sandbox = None
        if settings.sandbox and settings.run_sandbox and not settings.sandbox_url:
            _, stop_sandbox, _ = start_embedded_sandbox(settings, pushes=push_callbacks(settings),
                                                        zalo=sandbox_zalo(settings))
        market = build_runtime(settings, redis=queue.redis, timeout_s=settings.marketplace_timeout_s)
        worker: InProcessWorker | None = None
        if in_process_worker:
            worker = InProcessWorker(build_worker(settings, redis_url, plan=WORKER, handle_signals=False,
                                                  ctx={"engine": engine, "queue": queue, "market": market}))
            worker.start()
        feed = ChangeFeed()
        if not settings.is_sqlite and settings.api_cache_mb > 0:
            await feed.start(settings.effective_database_url)  # caches stay off until it is live
        app.state.update({CHANGE_FEED: feed, PRINCIPALS: principal_cache(feed),
                          PRODUCT_PAGES: product_page_cache(feed, settings.api_cache_mb * 2**20)})
        app.stores.register(SESSION_STORE, RedisStore(queue.redis, namespace="ocop:session"), allow_override=True)
        app.state.update(settings=settings, engine=engine, queue=queue, redis_url=redis_url,
                         media=media_store(settings), market=market)
        log.info("started", embedded_redis=embedded is not None, worker=worker is not None,
                 database="sqlite" if settings.is_sqlite else "postgresql")
        ready_task = asyncio.create_task(on_ready(app)) if on_ready else None
        try:
            yield
        finally:
            if ready_task:
                ready_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ready_task
            if worker:
                await worker.stop()
            await feed.stop()
            await market.aclose()
            if stop_sandbox:
                stop_sandbox()
            await queue.close()
            if embedded:
                embedded.stop()
            await db.close(engine)
            log.info("stopped")

    return OcopApp(
        route_handlers=[
            *ROUTES,
            MetricsController,
            create_static_files_router(path="/static", directories=[WEB_DIR / "static"], include_in_schema=False),
        ],
        dependencies={"me": Provide(provide_me), "maybe_me": Provide(provide_maybe_me)},
        lifespan=[lifespan],
        before_request=_before_request,
        middleware=[edge_middleware(settings.request_timeout_s,
                                    RequestMetrics(prefix="ocop", app_name="ocop")),
                    session_middleware(secure=settings.secure_cookies),
                    ApiRateLimitMiddleware(ApiRate(settings.api_rate_per_min, settings.api_rate_burst),
                                           namespace=deployment_namespace(settings.effective_database_url),
                                           redis_of=lambda scope: scope["app"].state.queue.redis,
                                           identity_of=rate_identity)],
        csrf_config=CSRFConfig(secret=settings.resolved_secret_key(), cookie_secure=settings.secure_cookies,
                               cookie_samesite="lax", exclude=["^/api/", "^/healthz", "^/readyz", "^/metrics", "^/push/"]),
        before_send=[own_writes_hook,
                     edge_send_hook(hsts=settings.secure_cookies, session_cookie=SESSION_COOKIE)],
        template_config=TemplateConfig(directory=WEB_DIR / "templates", engine=JinjaTemplateEngine,
                                       engine_callback=_register_template_callables),
        exception_handlers={LoginRequired: login_required_handler, HTTPException: error_handler,
                            Exception: error_handler},
        openapi_config=OpenAPIConfig(
            title="ocop API",
            version="1",
            description="OCOP products onto Vietnamese marketplaces. Errors share one shape: ErrorResponse.",
            path="/schema",
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
        ),
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        signature_types=[ErrorResponse, Response],
        plugins=[ApiDocs(sign_in_guards=SIGN_IN_GUARDS, session_cookie=SESSION_COOKIE)],
        debug=False,
    )
