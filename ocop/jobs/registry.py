"""Job functions register themselves here; the worker (embedded or ``ocop worker``) runs exactly
the registered set, so the same functions run in both modes.

arq retries only on ``arq.Retry`` (and shutdown): a job that should retry must raise it, any other
exception fails the job for good. Jobs must be idempotent: arq delivers at least once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

JobFunc = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class JobSpec:
    func: JobFunc
    name: str
    timeout_s: int = 120
    max_tries: int = 5
    keep_result_s: int = 60
    """Short on purpose: a kept result blocks re-use of its ``_job_id``."""
    timeout_setting: str | None = None
    """Name of a Settings field holding the timeout in seconds (overrides ``timeout_s``)."""

    def timeout(self, settings: Any) -> int:
        return int(getattr(settings, self.timeout_setting)) if self.timeout_setting else self.timeout_s


@dataclass(frozen=True, slots=True)
class CronSpec:
    func: JobFunc
    name: str
    minute: set[int] | None = None
    second: set[int] | int = 0
    run_at_startup: bool = False
    timeout_s: int = 300
    interval_setting: str | None = None
    """Name of a Settings field holding the period in minutes (overrides ``minute``)."""

    def minutes(self, settings: Any) -> set[int] | None:
        if self.interval_setting:
            every = max(1, min(60, int(getattr(settings, self.interval_setting))))
            return set(range(0, 60, every))
        return self.minute


_JOBS: dict[str, JobSpec] = {}
_CRON: dict[str, CronSpec] = {}
ContextHook = Callable[[dict[str, Any]], Awaitable[None]]
_STARTUP: list[ContextHook] = []
_SHUTDOWN: list[ContextHook] = []


def on_worker_startup(func: ContextHook) -> ContextHook:
    """Register a hook that puts what a feature's jobs need into the worker ``ctx`` (clients,
    ciphers). It runs in every worker, embedded or standalone, after the database is bound."""
    _STARTUP.append(func)
    return func


def on_worker_shutdown(func: ContextHook) -> ContextHook:
    _SHUTDOWN.append(func)
    return func


def startup_hooks() -> list[ContextHook]:
    load_job_modules()
    return list(_STARTUP)


def shutdown_hooks() -> list[ContextHook]:
    load_job_modules()
    return list(_SHUTDOWN)


def job(*, name: str | None = None, timeout_s: int = 120, max_tries: int = 5,
        keep_result_s: int = 60, timeout_setting: str | None = None) -> Callable[[JobFunc], JobFunc]:
    """Register an ``async def f(ctx, ...)`` as a job under ``name`` (default: its own name)."""

    def register(func: JobFunc) -> JobFunc:
        spec = JobSpec(func=func, name=name or func.__name__, timeout_s=timeout_s,
                       max_tries=max_tries, keep_result_s=keep_result_s, timeout_setting=timeout_setting)
        _JOBS[spec.name] = spec
        return func

    return register


def cron(*, minute: set[int] | None = None, second: set[int] | int = 0, run_at_startup: bool = False,
         timeout_s: int = 300, name: str | None = None,
         interval_setting: str | None = None) -> Callable[[JobFunc], JobFunc]:
    def register(func: JobFunc) -> JobFunc:
        spec = CronSpec(func=func, name=name or func.__name__, minute=minute, second=second,
                        run_at_startup=run_at_startup, timeout_s=timeout_s, interval_setting=interval_setting)
        _CRON[spec.name] = spec
        return func

    return register


def load_job_modules() -> None:
    """Import every module that registers jobs (kept in one list so nothing is forgotten)."""
    import ocop.catalog.jobs  # noqa: F401
    import ocop.imports.jobs  # noqa: F401
    import ocop.jobs.builtin  # noqa: F401
    import ocop.marketplace.jobs  # noqa: F401


def jobs() -> list[JobSpec]:
    load_job_modules()
    return list(_JOBS.values())


def cron_jobs() -> list[CronSpec]:
    load_job_modules()
    return list(_CRON.values())
