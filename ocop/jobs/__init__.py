"""Background jobs: our own small face over arq (in maintenance-only mode upstream), so the rest
of the service only knows ``enqueue`` and the registry, and arq could be swapped later."""

from ocop.jobs.queue import JobQueue, open_queue
from ocop.jobs.registry import CronSpec, JobSpec, cron_jobs, job, jobs

__all__ = ["CronSpec", "JobQueue", "JobSpec", "cron_jobs", "job", "jobs", "open_queue"]
