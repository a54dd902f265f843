"""Sending a due message: Zalo first (when the user has a Zalo phone and wants Zalo), e-mail
when they have no Zalo phone or Zalo refuses for good (a wrong number, no Zalo account), retried
later when a channel is only down for now."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from connectors.base import ConnectorError, PermanentError, RetryableError
from ocop.alerts import messages, prefs
from ocop.alerts.kinds import template_ids
from ocop.alerts.mail import send_mail
from ocop.alerts.tables import AlertDelivery
from ocop.alerts.zalo import ZaloSender
from ocop.jobs.queue import QUEUE_NAME
from ocop.settings import Settings
from ocop.web.i18n import gettext

log = structlog.get_logger("ocop.alerts")
JOB = "deliver_alert"
LEASE = timedelta(seconds=90)
MAX_ATTEMPTS = 8


@dataclass
class AlertRuntime:
    settings: Settings
    zalo: ZaloSender | None

    async def aclose(self) -> None:
        if self.zalo is not None:
            await self.zalo.aclose()


def job_id(delivery_id: int, attempts: int) -> str:
    return f"{JOB}:{delivery_id}:{attempts}"


def _due(now: datetime) -> Any:
    """Waiting and due, or taken by a worker that died before it finished (its lease ran out)."""
    return (AlertDelivery.due_at <= now) & (
        ((AlertDelivery.status == "queued") & (AlertDelivery.lease_until.is_null() | (AlertDelivery.lease_until < now)))
        | ((AlertDelivery.status == "sending") & (AlertDelivery.lease_until < now)))


async def enqueue_due(redis: Any, *, now: datetime | None = None, limit: int = 500) -> int:
    """Hand every due message to arq (safe any time: the job id carries the attempt)."""
    now = now or datetime.now(UTC)
    rows = await AlertDelivery.select(AlertDelivery.id, AlertDelivery.attempts).where(_due(now)).order_by(
        AlertDelivery.due_at).limit(limit)
    sent = 0
    for row in rows:
        sent += await redis.enqueue_job(JOB, row["id"], _job_id=job_id(row["id"], row["attempts"]),
                                        _queue_name=QUEUE_NAME) is not None
    return sent


async def _claim(delivery_id: int, now: datetime) -> dict[str, Any] | None:
    """Take the message (``queued`` → ``sending``): from then on new events start the next
    digest instead of folding into one already on its way."""
    claimed = await AlertDelivery.update({AlertDelivery.status: "sending", AlertDelivery.lease_until: now + LEASE,
                                          AlertDelivery.attempts: AlertDelivery.attempts + 1}).where(
        (AlertDelivery.id == delivery_id) & _due(now)).returning(AlertDelivery.id)
    if not claimed:
        return None
    return await AlertDelivery.select().where(AlertDelivery.id == delivery_id).first()


def _mail_text(row: dict[str, Any], locale: str, settings: Settings) -> tuple[str, str]:
    payload = messages.payload_of(row["payload"])
    shown = messages.text(row["kind"], payload, locale, row["events"])
    url = settings.base_url.rstrip("/") + "/notifications"
    footer = gettext(locale, "Xem và đổi cách nhận thông báo: {url}", url=url)
    return shown.title, f"{shown.title}\n\n{shown.body}\n\n{footer}\n"


async def deliver(rt: AlertRuntime, delivery_id: int, *, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    row = await _claim(delivery_id, now)
    if row is None:
        return "skipped"
    choices, locale = await prefs.choices_of_user(row["user"])
    settings = rt.settings
    errors: list[str] = []
    phone = prefs.zalo_number(choices.zalo_phone)
    if rt.zalo is not None and choices.use_zalo and phone:
        payload = messages.payload_of(row["payload"])
        try:
            await rt.zalo.send(phone=phone, template_id=template_ids(settings)[row["kind"]],
                               data=messages.template_data(row["kind"], payload, row["events"]),
                               tracking_id=f"ocop-{row['id']}-{row['attempts']}")
            return await _done(row, "sent", "zalo")
        except RetryableError as exc:
            return await _later(row, f"zalo: {exc.message}")
        except ConnectorError as exc:  # refused for good (or no token at all): e-mail instead
            errors.append(f"zalo: {exc.message}")
    if settings.smtp_url and choices.use_email and choices.email:
        subject, body = _mail_text(row, locale, settings)
        try:
            await send_mail(settings.smtp_url, settings.smtp_from, choices.email, subject, body)
            return await _done(row, "sent", "email", "; ".join(errors))
        except PermanentError as exc:
            errors.append(f"email: {exc.message}")
        except RetryableError as exc:
            return await _later(row, f"email: {exc.message}")
    return await _done(row, "failed" if errors else "skipped", "", "; ".join(errors) or "no channel")


async def _done(row: dict[str, Any], status: str, channel: str, error: str = "") -> str:
    await AlertDelivery.update({AlertDelivery.status: status, AlertDelivery.channel: channel,
                                AlertDelivery.sent_at: datetime.now(UTC) if status == "sent" else None,
                                AlertDelivery.lease_until: None, AlertDelivery.error: error[:2000]}).where(
        AlertDelivery.id == row["id"])
    if status != "sent":
        log.info("alert_not_sent", delivery=row["id"], status=status, error=error)
    return status if status != "sent" else channel


async def _later(row: dict[str, Any], error: str) -> str:
    if row["attempts"] >= MAX_ATTEMPTS:
        return await _done(row, "failed", "", f"gave up: {error}")
    delay = min(3600.0, 30.0 * 2 ** row["attempts"]) * random.uniform(0.5, 1.0)
    await AlertDelivery.update({AlertDelivery.status: "queued", AlertDelivery.lease_until: None,
                                AlertDelivery.error: error[:2000],
                                AlertDelivery.due_at: datetime.now(UTC) + timedelta(seconds=delay)}).where(
        AlertDelivery.id == row["id"])
    return "retry"
