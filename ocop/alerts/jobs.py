"""The alert jobs: read the outbox (woken by the writers, and every few seconds anyway), send
due messages, and run the scheduled checks."""

from __future__ import annotations

from typing import Any

from ocop.alerts import checks, delivery, dispatch
from ocop.alerts.zalo import ZaloSender, account
from ocop.events.outbox import DISPATCH_JOB
from ocop.jobs.registry import cron, job
from ocop.marketplace.runtime import cipher_for


async def start_alerts(ctx: dict[str, Any]) -> None:
    """Worker start-up hook: the Zalo sender (None without a Zalo account)."""
    settings = ctx["settings"]
    acct = account(settings)
    sender = ZaloSender(acct, cipher_for(settings), ctx.get("redis"), timeout_s=settings.marketplace_timeout_s) \
        if acct is not None else None
    ctx["alerts"] = delivery.AlertRuntime(settings=settings, zalo=sender)


async def stop_alerts(ctx: dict[str, Any]) -> None:
    if "alerts" in ctx:
        await ctx["alerts"].aclose()


async def _dispatch(ctx: dict[str, Any]) -> dict[str, int]:
    rt: delivery.AlertRuntime = ctx["alerts"]
    counts = await dispatch.process_events(rt.settings, zalo_on=rt.zalo is not None)
    counts["enqueued"] = await delivery.enqueue_due(ctx["redis"])
    return counts


@job(name=DISPATCH_JOB, timeout_s=120, max_tries=1, keep_result_s=1)
async def dispatch_alerts(ctx: dict[str, Any]) -> dict[str, int]:
    return await _dispatch(ctx)


@cron(second={5, 15, 25, 35, 45, 55}, minute=None, timeout_s=120)
async def dispatch_alerts_tick(ctx: dict[str, Any]) -> dict[str, int]:
    return await _dispatch(ctx)


@job(name=delivery.JOB, timeout_s=90, max_tries=1, keep_result_s=30)
async def deliver_alert(ctx: dict[str, Any], delivery_id: int) -> str:
    return await delivery.deliver(ctx["alerts"], delivery_id)


@cron(minute=set(range(2, 60, 15)), second=20, timeout_s=600)
async def alert_checks(ctx: dict[str, Any]) -> dict[str, int]:
    found = await checks.run_all(ctx["settings"])
    await _dispatch(ctx)
    return found
