"""What a job or cron job is, as the worker needs to know it.

Feature modules mark their job functions with :func:`job` and :func:`cron`, which only attach a
spec to the function: nothing is registered globally. The service's one list of jobs, cron jobs and
worker hooks is :mod:`ocop.assembly`, which hands them to :func:`ocop.jobs.worker.build_worker`; so
the worker runs exactly that set, embedded or standalone, and this package imports no feature.

arq retries only on ``arq.Retry`` (and shutdown): a job that should retry must raise it, any other
exception fails the job for good. Jobs must be idempotent: arq delivers at least once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

JobFunc = Callable[..., Awaitable[Any]]
ContextHook = Callable[[dict[str, Any]], Awaitable[None]]


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


@dataclass(frozen=True, slots=True)
class WorkerPlan:
    """Everything a worker runs: built once by :mod:`ocop.assembly` from the marked functions.
    ``startup`` hooks put what a feature's jobs need into the worker ``ctx`` (clients, ciphers);
    they run in every worker after the database is bound."""

    jobs: Sequence[JobSpec] = ()
    cron: Sequence[CronSpec] = ()
    startup: Sequence[ContextHook] = field(default_factory=tuple)
    shutdown: Sequence[ContextHook] = field(default_factory=tuple)

    @classmethod
    def of(cls, jobs: Sequence[JobFunc], cron: Sequence[JobFunc] = (),
           startup: Sequence[ContextHook] = (), shutdown: Sequence[ContextHook] = ()) -> WorkerPlan:
        """From functions marked with :func:`job` / :func:`cron`; an unmarked one is a wiring
        mistake and fails at start-up, not when the job is first enqueued."""
        return cls(jobs=tuple(spec_of(f, JobSpec) for f in jobs), cron=tuple(spec_of(f, CronSpec) for f in cron),
                   startup=tuple(startup), shutdown=tuple(shutdown))


_SPEC = "__ocop_job_spec__"
S = TypeVar("S", JobSpec, CronSpec)


def spec_of(func: JobFunc, kind: type[S]) -> S:
    spec = getattr(func, _SPEC, None)
    if not isinstance(spec, kind):
        raise TypeError(f"{getattr(func, '__qualname__', func)!r} is not marked as a {kind.__name__}")
    return spec


def job(*, name: str | None = None, timeout_s: int = 120, max_tries: int = 5,
        keep_result_s: int = 60, timeout_setting: str | None = None) -> Callable[[JobFunc], JobFunc]:
    """Mark an ``async def f(ctx, ...)`` as a job named ``name`` (default: its own name)."""

    def mark(func: JobFunc) -> JobFunc:
        setattr(func, _SPEC, JobSpec(func=func, name=name or func.__name__, timeout_s=timeout_s,
                                     max_tries=max_tries, keep_result_s=keep_result_s,
                                     timeout_setting=timeout_setting))
        return func

    return mark


def cron(*, minute: set[int] | None = None, second: set[int] | int = 0, run_at_startup: bool = False,
         timeout_s: int = 300, name: str | None = None,
         interval_setting: str | None = None) -> Callable[[JobFunc], JobFunc]:
    """Mark an ``async def f(ctx)`` as a cron job (arq's ``unique`` cron: one run per tick across
    all workers)."""

    def mark(func: JobFunc) -> JobFunc:
        setattr(func, _SPEC, CronSpec(func=func, name=name or func.__name__, minute=minute, second=second,
                                      run_at_startup=run_at_startup, timeout_s=timeout_s,
                                      interval_setting=interval_setting))
        return func

    return mark
