"""The service's edge: what every request pays before and after its handler, in one middleware
and one ``before_send`` hook instead of three middlewares and two hooks.

Per request, each middleware layer wraps ``send`` once more and each hook is awaited for every
message, and a py-spy profile of the product list (issue 8, tests/bench/load_bench.py) put this
stack at a quarter of the server's CPU. So:

* :func:`edge_middleware` (app-level middleware, so it runs for matched routes): the request id
  (bound to every log line of the handler), the deadline (:func:`ocop.web.deadline.call_within`)
  and the Prometheus request metrics, sharing one wrapped ``send``;
* :func:`edge_send_hook` (app-level ``before_send``, so router 404s and the outer exception
  handler's answers get it too): the ``X-Request-ID`` header, the security headers (with
  ``Cache-Control: no-store`` on authenticated answers) and the one access line per request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import ClassVar

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

from ocop.web.deadline import answer_timeout, call_within
from ocop.logs import loggable_path, write_access_line
from ocop.web.request_id import ensure_request_id
from ocop.web.security_headers import missing_from, needs_no_store, security_headers, with_no_store


class RequestMetrics:
    """The four request metrics of Litestar's ``PrometheusMiddleware`` (litestar/plugins/prometheus/
    middleware.py, 2.x) under the same names and label names, so dashboards and alerts keep working:
    ``{prefix}_requests_total``, ``{prefix}_request_duration_seconds`` (default buckets),
    ``{prefix}_requests_in_progress`` and ``{prefix}_requests_error_total`` (status >= 500), labels
    ``method``, ``path`` (the route template, as ``group_path=True``), ``status_code`` and
    ``app_name``; the in-progress gauge carries ``status_code="200"`` as Litestar's does.

    Cheaper per request: no ``Request`` object, and the labelled children are kept in a dict by
    their label values instead of going through ``.labels()`` (a lock and a tuple of str() calls)
    four times. Safe because prometheus_client hands out the same child for the same values for
    the metric's lifetime, and nothing here ever removes a child; the number of keys is bounded by
    routes x methods x status codes, exactly the series Prometheus itself keeps."""

    _by_prefix: ClassVar[dict[str, tuple[Counter, Histogram, Gauge, Counter]]] = {}
    """prometheus_client refuses a second metric of the same name in its registry: the metrics are
    made once per process (``create_app`` runs many times in tests)."""

    def __init__(self, *, prefix: str, app_name: str) -> None:
        if prefix not in self._by_prefix:
            labels = ["method", "path", "status_code", "app_name"]
            self._by_prefix[prefix] = (
                Counter(f"{prefix}_requests_total", "Total requests", labels),
                Histogram(f"{prefix}_request_duration_seconds", "Request duration, in seconds", labels),
                Gauge(f"{prefix}_requests_in_progress", "Total requests currently in progress", labels,
                      multiprocess_mode="livesum"),
                Counter(f"{prefix}_requests_error_total", "Total errors in requests", labels),
            )
        self._count, self._time, self._progress, self._errors = self._by_prefix[prefix]
        self._app_name = app_name
        self._in_progress: dict[tuple[str, str], Gauge] = {}
        self._done: dict[tuple[str, str, int], tuple[Counter, Histogram, Counter | None]] = {}

    def in_progress(self, method: str, path: str) -> Gauge:
        key = (method, path)
        child = self._in_progress.get(key)
        if child is None:
            child = self._in_progress[key] = self._progress.labels(method, path, "200", self._app_name)
        return child

    def finished(self, method: str, path: str, status: int, seconds: float) -> None:
        key = (method, path, status)
        children = self._done.get(key)
        if children is None:
            values = (method, path, str(status), self._app_name)
            children = self._done[key] = (self._count.labels(*values), self._time.labels(*values),
                                          self._errors.labels(*values) if status >= 500 else None)
        count, duration, errors = children
        if errors is not None:
            errors.inc()
        count.inc()
        duration.observe(seconds)


def edge_middleware(timeout_s: float, metrics: RequestMetrics) -> type:
    """A Litestar middleware class: request id, deadline (``timeout_s``; 0 = none) and metrics.

    The metrics see what the client got: a request cut off by the deadline counts as its 503 (the
    former separate deadline middleware sat outside Litestar's, which then counted it as 200), and
    an exception escaping the route as the 500 the app's outer handler answers. Only ``http``
    scopes are handled: the service has no websocket routes."""

    class EdgeMiddleware:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return
            ensure_request_id(scope)
            method, path = scope["method"], scope.get("path_template") or scope["path"]
            progress = metrics.in_progress(method, path)
            progress.inc()
            began = time.perf_counter()
            status = 0
            ended = 0.0

            async def send_seen(message: Message) -> None:
                """Status for the metrics and the deadline; like Litestar's middleware, the
                duration ends at the last body message (background tasks run after it)."""
                nonlocal status, ended
                kind = message["type"]
                if kind == "http.response.start":
                    status = message["status"]
                elif kind == "http.response.body":
                    ended = time.perf_counter()
                await send(message)

            try:
                if timeout_s <= 0:
                    await self.app(scope, receive, send_seen)
                elif await call_within(timeout_s, self.app, scope, receive, send_seen):
                    await answer_timeout(timeout_s, scope, send_seen, started=status != 0)
            except Exception:
                status = status or 500  # what the outer exception handler answers
                raise
            finally:
                progress.dec()
                metrics.finished(method, path, status or 200, (ended or time.perf_counter()) - began)

    return EdgeMiddleware


def edge_send_hook(*, hsts: bool, session_cookie: str) -> Callable[[Message, Scope], Awaitable[None]]:
    """The app-level ``before_send`` hook: on the response start, echo the request id, add the
    security headers the response lacks and write the access line (the path, never the query
    string), then unbind the request id from the logging context. ``session_cookie``: the session
    cookie's name, whose presence makes an answer private (``Cache-Control: no-store``).

    Async although it awaits nothing: Litestar runs a sync hook in a worker thread for every
    message, which cost 0.3 ms per request (tests/bench/load_bench.py). The header list is copied,
    never extended in place: a response object may be reused (cached responses)."""
    fixed = security_headers(hsts=hsts)
    session_cookie_is = f"{session_cookie}=".encode()

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope["type"] != "http":
            return
        request_id = ensure_request_id(scope)
        headers = list(message.get("headers") or ())
        headers += [(b"x-request-id", request_id.encode()), *missing_from(headers, fixed)]
        if needs_no_store(scope, session_cookie_is):
            headers = with_no_store(headers)
        message["headers"] = headers  # type: ignore[typeddict-item]
        started = scope["state"].get("request_started", time.perf_counter())
        write_access_line(scope["method"], loggable_path(scope), message["status"],
                          round((time.perf_counter() - started) * 1000, 1), request_id)
        structlog.contextvars.unbind_contextvars("request_id")

    return hook
