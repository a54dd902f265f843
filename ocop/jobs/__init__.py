"""Background jobs: our own small face over arq (in maintenance-only mode upstream), so the rest
of the service only knows ``enqueue``, the job marks and a worker plan, and arq could be swapped later."""

from ocop.jobs.queue import JobQueue, open_queue
from ocop.jobs.registry import CronSpec, JobSpec, WorkerPlan, cron, job

__all__ = ["CronSpec", "JobQueue", "JobSpec", "WorkerPlan", "cron", "job", "open_queue"]
