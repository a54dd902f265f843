"""The process's logs: structured (structlog), a request id on every line of a request, and no
secrets. Every verb (serve, worker, import, …) configures logging here.

Passwords, tokens and full phone numbers never reach a log. Three layers, because a
secret can arrive by any of them (tests/ocop/test_log_secrets.py scans a whole run for each one):

1. ``redact`` masks structlog fields whose *name* says secret (``password=``, ``access_token=``…).
2. ``scrub`` rewrites the *text* of every line just before it is written: ``key=value`` pairs
   with a secret name (query strings: the OAuth callback's ``?code=``, Shopee's ``&sign=``,
   Lazada's ``access_token=``), ``Bearer`` credentials, one-time path tokens (``/reset/<token>``)
   and Vietnamese phone numbers in every way people write them.
3. Records of the standard ``logging`` module (httpx, arq, uvicorn, piccolo, connectors) pass
   through ``scrub`` when they are created (a LogRecord factory), so no handler — ours, Litestar's
   or uvicorn's — ever sees the clear text, tracebacks included.

Query strings are never logged by our access line; the path is, with secret path parameters masked.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import re
import sys
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from json import dumps as json_dumps
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:  # one-shot commands (ocop media normalize) log through here without loading Litestar
    from litestar.types import Scope

_SECRET_KEYS = re.compile(
    r"(?i)(^|_)(pass(word)?|passwd|pwd|secret|token|authorization|cookie|sign|signature|csrf|session)($|_)"
    r"|^(code|auth_code|key|api_key|partner_key)$"
)
"""Field (and path parameter) names whose values are secrets: ``password``, ``access_token``,
``app_secret``, ``session_id``, an OAuth ``code``… but not ``tax_code``, ``commune_code`` or
``status_code``, which people need to read."""

# A Vietnamese number as people and systems write it: 0912345678, +84912345678, 84912345678,
# %2B84912345678 (URL-encoded), 091 234 5678, 0912.345.678, 0912-345-678. The national number
# follows the numbering plan in ocop/domain/phone.py (mobile: 9 digits starting 3/5/7/8/9 since
# Quyết định 798/QĐ-BTTTT; landline: 10 digits starting 2 since Quyết định 2036/QĐ-BTTTT), so
# tax codes like 0100109106, timestamps and order ids stay readable. Not inside a longer number.
_PHONE = re.compile(
    r"(?<![\d+.])(\+84|84|0)[ .\-]?(2(?:[ .\-]?\d){9}|[35789](?:[ .\-]?\d){8})(?!\d)"
)
_SECRET_PARAM = re.compile(
    r"(?i)((?<![A-Za-z0-9_])\\?[\"']?(?:access_token|refresh_token|auth_code|code|sign|signature|token|"
    r"password|passwd|pwd|new|current|confirm|secret|app_secret|client_secret|partner_key|api_key|"
    r"_csrf_token|csrftoken|x-csrftoken|session|cookie|set-cookie|authorization|x-tts-access-token)"
    r"\\?[\"']?\s*[=:]\s*(?:\\?[\"'])?)(?!\*\*\*)((?:(?:bearer|basic)\s+)?[^&\"'\s,;}\\]+)"
)
"""``name=value`` / ``"name": "value"`` with a secret name, in query strings, form bodies, JSON
(also JSON inside a JSON string, as a JSON log line renders a logged body) and header dumps."""
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
_SECRET_PATH = re.compile(r"(/reset/)[^/\s?\"']+")
"""Paths that carry a one-time credential (the password reset link, ocop/accounts/pages.py)."""

_CHATTY = {"httpcore": logging.INFO, "aiosqlite": logging.INFO, "asyncio": logging.INFO,
           "multipart": logging.INFO, "PIL": logging.INFO, "hpack": logging.INFO, "asyncpg": logging.INFO}
"""Libraries whose DEBUG output is raw SQL parameters or wire bytes: never below INFO."""


def _mask_one(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(2))
    return f"{match.group(1)}{digits[:2]}…{digits[-2:]}"


def mask_phone(text: str) -> str:
    """0905123456 -> 090…56: enough to recognise, not enough to call."""
    return _PHONE.sub(_mask_one, text)


_PARAM_HINTS = ("token", "code", "sign", "pass", "pwd", "new", "current", "confirm", "secret", "key", "csrf",
                "session", "cookie", "authorization")
"""A substring of every name ``_SECRET_PARAM`` knows: lines with none of them (most access lines)
skip that regex, the costly one (it runs on every line the service writes)."""


def scrub(text: str) -> str:
    """The last word on any log text: mask secret parameters, bearer credentials, reset tokens
    in paths and phone numbers."""
    lowered = text.lower()
    if any(hint in lowered for hint in _PARAM_HINTS):
        text = _SECRET_PARAM.sub(lambda m: m.group(1) + "***", text)
    if "bearer" in lowered:
        text = _BEARER.sub(lambda m: m.group(1) + "***", text)
    if "/reset/" in text:
        text = _SECRET_PATH.sub(lambda m: m.group(1) + "***", text)
    return mask_phone(text)


def redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: a field named like a secret never shows its value. (Values are
    scrubbed once, on the rendered line, by ``_scrub_rendered``.)"""
    for key in list(event):
        if key != "event" and _SECRET_KEYS.search(key):
            event[key] = "***"
    return event


def _scrub_rendered(_: Any, __: str, line: Any) -> Any:
    """After the renderer: the whole line, tracebacks included, goes through ``scrub``."""
    if isinstance(line, str):
        return scrub(line)
    if isinstance(line, bytes):
        return scrub(line.decode("utf-8", "replace")).encode()
    return line


def _scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record: make it harmless rather than drop it
        message = f"{record.msg!r} {record.args!r}"
    clean = scrub(message)
    if clean != message:
        args = record.args
        if isinstance(args, tuple) and record.name.startswith("uvicorn.access"):
            # uvicorn's AccessFormatter unpacks the args: keep their shape, clean each one.
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in args)
        else:
            record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


def _install_record_factory() -> None:
    """Wrap whatever LogRecord factory is in place (once), so every record is scrubbed at birth."""
    current = logging.getLogRecordFactory()
    if getattr(current, "ocop_scrubs", False):
        return

    def scrubbing_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _scrub_record(record)
        return record

    scrubbing_factory.ocop_scrubs = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(scrubbing_factory)


class _OurHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler this module installs (reconfiguring replaces only it). It writes to the
    current ``sys.stderr`` at each line, not the one of the moment it was made, so a swapped
    stream (a test's capture) is never written to after it was closed."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def _stderr_logger(*_: Any) -> structlog.PrintLogger:
    return structlog.PrintLogger(sys.stderr)


def configure_logging(level: str = "info", json: bool = False, *, take_root: bool = False) -> None:
    """Configure structlog and the standard ``logging`` module to write the same scrubbed lines
    to stderr at ``level``. ``take_root``: this process owns logging (``ocop serve``/``worker``),
    so other root handlers (Litestar's default one) are removed instead of doubling every line."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    # Tracebacks become part of the line (format_exc_info) so they are scrubbed with it: structlog's
    # ExceptionPrettyPrinter would print them straight to stdout, and the console renderer's default
    # rich tracebacks show local variables (a login handler's form holds the password).
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(
        colors=False, exception_formatter=structlog.dev.plain_traceback)
    _ACCESS.enabled = numeric <= logging.INFO
    _ACCESS.json = json
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info,
            renderer,
            _scrub_rendered,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    _install_record_factory()

    handler = _OurHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.processors.add_log_level, structlog.stdlib.add_logger_name,
                           structlog.processors.TimeStamper(fmt="iso", utc=True)],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, redact,
                    structlog.processors.format_exc_info, renderer, _scrub_rendered],
    ))
    root = logging.getLogger()
    for old in list(root.handlers):
        if take_root or isinstance(old, _OurHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name, floor in _CHATTY.items():
        logging.getLogger(name).setLevel(max(numeric, floor))


log = structlog.get_logger("ocop")


@functools.cache
def _is_secret_name(name: str) -> bool:
    """Cached: path parameter names come from the route table, a small fixed set."""
    return _SECRET_KEYS.search(name) is not None


def loggable_path(scope: Scope) -> str:
    """The request path with the values of secret-named path parameters (``/reset/{token}``,
    ``/imports/runs/{token}``) masked; the query string is left out altogether."""
    path = str(scope.get("path") or "")
    for name, value in (scope.get("path_params") or {}).items():
        if isinstance(value, str) and value and _is_secret_name(str(name)):
            path = path.replace(f"/{value}", "/***")
    return path


@dataclass
class _AccessFormat:
    """What :func:`configure_logging` decided for the access line: written at all (level <= info)
    and in which format (the same console/JSON choice as every other line)."""

    enabled: bool = True
    json: bool = False


_ACCESS = _AccessFormat()
_NEEDS_REPR = frozenset(" \t=\r\n\"'")


def _console_value(value: object) -> str:
    """structlog's ConsoleRenderer value rule (``_repr`` with ``repr_native_str=False``): a string
    is written bare unless it holds a space, tab, ``=``, quote or line break; anything else is
    ``repr``."""
    if isinstance(value, str):
        return repr(value) if not _NEEDS_REPR.isdisjoint(value) else value
    return repr(value)


def access_line(timestamp: str, method: str, path: str, status: int, ms: float, request_id: str, *,
                json: bool) -> str:
    """The access line exactly as the structlog chain configured above renders
    ``log.info("request", method=…, path=…, status=…, ms=…)`` with the request id bound, scrubbed
    (tests/ocop/test_logs.py compares the two). Built directly because the chain costs more than
    the rest of a ``/healthz`` request: merge_contextvars walks the whole context (the one
    context variable the service binds is the request id, :func:`ensure_request_id`, passed here),
    ``redact`` checks field names that are fixed here and never secret, and ConsoleRenderer
    rebuilds its column list per call. The whole line still passes through ``scrub``."""
    if json:
        line = json_dumps({"method": method, "path": path, "status": status, "ms": ms, "event": "request",
                           "request_id": request_id, "level": "info", "timestamp": timestamp})
    else:
        line = (f"{timestamp} [info     ] request                        method={_console_value(method)} "
                f"ms={ms!r} path={_console_value(path)} request_id={_console_value(request_id)} "
                f"status={status!r}")
    return scrub(line)


def write_access_line(method: str, path: str, status: int, ms: float, request_id: str) -> None:
    """One access line to stderr, like every structlog line (``_stderr_logger``).

    Inside a running event loop the lines of one loop iteration are written together, by a
    callback scheduled for the end of it: one ``write`` system call for all the requests the
    loop answered at once under load, instead of a write and a flush each (~4 % of the product
    list's CPU per request, tests/bench/load_bench.py). A line is out within that iteration, before
    the loop waits for anything; the process's exit writes what is left."""
    if not _ACCESS.enabled:
        return
    timestamp = datetime.now(tz=timezone.utc).isoformat().replace("+00:00", "Z")  # TimeStamper(iso, utc)
    _PENDING.append(access_line(timestamp, method, path, status, ms, request_id, json=_ACCESS.json) + "\n")
    if len(_PENDING) > 1:
        return  # a flush is already scheduled
    try:
        asyncio.get_running_loop().call_soon(flush_access_lines)
    except RuntimeError:  # no loop: write at once
        flush_access_lines()


_PENDING: list[str] = []


@atexit.register
def flush_access_lines() -> None:
    if _PENDING:
        text = "".join(_PENDING)
        _PENDING.clear()
        sys.stderr.write(text)
        sys.stderr.flush()
