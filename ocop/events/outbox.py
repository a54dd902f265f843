"""Writing alert events, inside the writer's transaction, and waking the job that reads them.

Kinds are fixed (each maps to one approved Zalo template): see :data:`KINDS`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from ocop import db
from ocop.events.tables import AlertEvent

NEW_ORDER = "new_order"
LISTING_REJECTED = "listing_rejected"
SHOP_REAUTH = "shop_reauth"
AUTH_EXPIRING = "auth_expiring"
CERT_EXPIRING = "cert_expiring"
STOCK_LOW = "stock_low"
KINDS = (NEW_ORDER, LISTING_REJECTED, SHOP_REAUTH, AUTH_EXPIRING, CERT_EXPIRING, STOCK_LOW)

DISPATCH_JOB = "dispatch_alerts"
RECENT_ORDER = timedelta(days=2)
"""Only orders placed this recently are news: a new shop's first sync (or a history backfill)
reads months of old orders, which are not new orders for anyone."""

def is_recent(created_at: datetime, now: datetime | None = None) -> bool:
    """Is an order placed this recently news (see :data:`RECENT_ORDER`)?"""
    return created_at >= (now or datetime.now(UTC)) - RECENT_ORDER


_COLUMNS = ("kind", "producer", "product", "shop", "listing", '"order"', "payload", "dedupe_key", "created_at")
_INSERT = (f"INSERT INTO alert_event ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
           "ON CONFLICT DO NOTHING")


def row(kind: str, producer: int, *, product: int | None = None, shop: int | None = None,
        listing: int | None = None, order: int | None = None, payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None, at: datetime | None = None) -> tuple[object, ...]:
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    return (kind, producer, product, shop, listing, order, json.dumps(payload or {}, ensure_ascii=False),
            dedupe_key, at or datetime.now(UTC))


async def record_rows(conn: Any, rows: Sequence[tuple[object, ...]]) -> None:
    """Insert events on a raw connection of an open transaction (the bulk paths' statements)."""
    await db.executemany(conn, _INSERT, list(rows))


async def record(kind: str, producer: int, **fields: Any) -> None:
    """Insert one event through piccolo: inside the caller's transaction when there is one."""
    values = row(kind, producer, **fields)
    marks = ", ".join("{}" for _ in values)
    await AlertEvent.raw(f"INSERT INTO alert_event ({', '.join(_COLUMNS)}) VALUES ({marks}) ON CONFLICT DO NOTHING",
                         *values)


async def existing_orders(conn: Any, shop_id: int, order_ids: Iterable[str]) -> set[str]:
    """Which of these marketplace order ids the shop already has (read before an upsert, in its
    transaction, so "new" means new to us exactly once)."""
    ids = list(order_ids)
    if isinstance(AlertEvent._meta.db, PostgresEngine):  # one statement, the ids as one array
        rows = await conn.fetch("SELECT marketplace_order_id FROM market_order WHERE shop = $1 "
                                "AND marketplace_order_id = ANY($2::varchar[])", shop_id, ids)
        return {str(r[0]) for r in rows}
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for (order_id,) in await db.fetch(conn, f"SELECT marketplace_order_id FROM market_order WHERE shop = ? "
                                                f"AND marketplace_order_id IN ({marks})", [shop_id, *chunk]):
            found.add(str(order_id))
    return found


async def kick(redis: Any) -> None:
    """Ask a worker to read the outbox now rather than at its next tick (the job is found by name,
    so the writer's package needs nothing of the alerts feature). Failure is fine: the events are
    in the database and the scheduled run reads them."""
    if redis is None:
        return
    from ocop.jobs.queue import QUEUE_NAME

    try:
        await redis.enqueue_job(DISPATCH_JOB, _job_id=f"{DISPATCH_JOB}:{datetime.now(UTC):%Y%m%d%H%M%S%f}"[:-5],
                                _queue_name=QUEUE_NAME)
    except Exception:  # noqa: BLE001 - Redis down: the outbox keeps the events
        pass
