"""From the outbox to people: every event becomes an in-app notification for each recipient and,
where they want it, a message to send (Zalo, else e-mail), digested and held through quiet hours.

Recipients: the producer's own users; for shop and ban problems also the staff whose area holds
the producer (the area rule of :meth:`ocop.accounts.auth.Principal.in_area`).

Digest: at most one message per user, kind and subject (the product, else the shop) per hour. An
event whose message is still waiting folds into it (``events`` + 1); one arriving within the hour
after a message went out waits for the hour to pass, and events after it fold into that one, so a
burst of orders becomes "3 đơn hàng mới". Quiet hours move a message's due time to their end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from piccolo.engine.postgres import PostgresEngine

from ocop import db
from ocop.accounts.auth import principal_of
from ocop.accounts.tables import User
from ocop.alerts import prefs
from ocop.alerts.kinds import STAFF_KINDS
from ocop.alerts.tables import AlertDelivery, Notification
from ocop.events.tables import AlertEvent
from ocop.producers.tables import Producer
from ocop.settings import Settings

log = structlog.get_logger("ocop.alerts")
DIGEST_WINDOW = timedelta(hours=1)
BATCH = 500


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: int
    is_staff: bool
    choices: prefs.Choices


def subject_of(event: dict[str, Any]) -> str:
    if event["product"]:
        return f"product:{event['product']}"
    if event["shop"]:
        return f"shop:{event['shop']}"
    return f"producer:{event['producer']}"


def can_message(settings: Settings, choices: prefs.Choices, *, zalo_on: bool) -> bool:
    """Is there a channel to reach this user outside the app?"""
    by_zalo = zalo_on and choices.use_zalo and bool(prefs.zalo_number(choices.zalo_phone))
    by_mail = bool(settings.smtp_url) and choices.use_email and bool(choices.email)
    return by_zalo or by_mail


async def _recipients(events: Sequence[dict[str, Any]]) -> dict[int, list[Recipient]]:
    """producer id → who hears of its events (staff flagged)."""
    producer_ids = sorted({e["producer"] for e in events})
    producers = {p["id"]: p for p in await Producer.select(
        Producer.id, Producer.phone, Producer.email, Producer.province_code, Producer.commune_code).where(
        Producer.id.is_in(producer_ids or [0]))}
    own = await User.select().where(User.producer.is_in(producer_ids or [0]) & (User.role == "producer")
                                    & (User.is_active == True))  # noqa: E712
    provinces = sorted({p["province_code"] for p in producers.values() if p["province_code"] is not None})
    staff = await User.select().where((User.role == "staff") & (User.is_active == True)  # noqa: E712
                                      & User.area_province_code.is_in(provinces or [-1]))
    stored = await prefs.choices_of([u["id"] for u in [*own, *staff]])
    out: dict[int, list[Recipient]] = {pid: [] for pid in producer_ids}
    for u in own:
        p = producers.get(u["producer"], {})
        out[u["producer"]].append(Recipient(u["id"], False, prefs.from_row(
            stored.get(u["id"]), phone=p.get("phone", ""), email=p.get("email", ""))))
    for u in staff:
        me = principal_of(u)
        for pid, p in producers.items():
            if me.in_area(p["province_code"], p["commune_code"]):
                out[pid].append(Recipient(u["id"], True, prefs.from_row(stored.get(u["id"]))))
    return out


async def _schedule(user_id: int, kind: str, subject: str, event: dict[str, Any], choices: prefs.Choices,
                    now: datetime) -> str:
    """Fold the event into the waiting message of its digest, or queue a new one; returns which."""
    waiting = await AlertDelivery.select(AlertDelivery.id).where(
        (AlertDelivery.user == user_id) & (AlertDelivery.kind == kind) & (AlertDelivery.subject == subject)
        & (AlertDelivery.status == "queued")).first()
    if waiting is not None:
        await AlertDelivery.update({AlertDelivery.events: AlertDelivery.events + 1, AlertDelivery.payload: event["payload"],
                                    AlertDelivery.event: event["id"]}).where(AlertDelivery.id == waiting["id"])
        return "folded"
    last = await AlertDelivery.select(AlertDelivery.sent_at, AlertDelivery.status).where(
        (AlertDelivery.user == user_id) & (AlertDelivery.kind == kind) & (AlertDelivery.subject == subject)
        & AlertDelivery.status.is_in(["sending", "sent"])).order_by(AlertDelivery.id, ascending=False).first()
    due = now
    if last is not None:
        due = max(now, (last["sent_at"] or now) + DIGEST_WINDOW)
    await AlertDelivery.insert(AlertDelivery(user=user_id, kind=kind, subject=subject, events=1, payload=event["payload"],
                                             event=event["id"], due_at=prefs.after_quiet(choices, due), status="queued",
                                             created_at=now))
    return "queued"


async def process_events(settings: Settings, *, zalo_on: bool, now: datetime | None = None,
                         limit: int = BATCH) -> dict[str, int]:
    """Read a batch of the outbox in one transaction: notifications and messages written, the
    events marked done, all or nothing. Concurrent runs are serialised (PostgreSQL advisory lock;
    SQLite has one writer), so an event is processed exactly once."""
    now = now or datetime.now(UTC)
    counts = {"events": 0, "notifications": 0, "queued": 0, "folded": 0}
    engine = AlertEvent._meta.db
    if not await AlertEvent.exists().where(AlertEvent.processed_at.is_null()):
        return counts  # the usual tick: a read, without taking SQLite's write lock
    async with db.write_transaction(engine):
        if isinstance(engine, PostgresEngine):
            await AlertEvent.raw("SELECT pg_advisory_xact_lock(7460150)")
        events = await AlertEvent.select().where(AlertEvent.processed_at.is_null()).order_by(AlertEvent.id).limit(limit)
        if not events:
            return counts
        who = await _recipients(events)
        notes = []
        for event in events:
            kind = event["kind"]
            for r in who.get(event["producer"], []):
                if r.is_staff and kind not in STAFF_KINDS:
                    continue
                notes.append(Notification(user=r.user_id, event=event["id"], kind=kind, producer=event["producer"],
                                          product=event["product"], shop=event["shop"], listing=event["listing"],
                                          order=event["order"], payload=event["payload"], created_at=now))
                if r.choices.wants(kind) and can_message(settings, r.choices, zalo_on=zalo_on):
                    counts[await _schedule(r.user_id, kind, subject_of(event), event, r.choices, now)] += 1
        if notes:
            await Notification.insert(*notes)
        await AlertEvent.update({AlertEvent.processed_at: now}).where(
            AlertEvent.id.is_in([e["id"] for e in events]))
        counts["events"] = len(events)
        counts["notifications"] = len(notes)
    return counts
