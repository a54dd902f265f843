"""The alert outbox."""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AlertEvent(Table, tablename="alert_event"):
    """One event to tell people about. ``dedupe_key`` (unique when set) makes a scheduled check
    that runs again harmless: the same certificate's expiry is one event, not one a day.
    ``payload`` is JSON text with what the message needs (names, amounts, the marketplace's
    reason), written by the cause so the message says what was true then."""

    kind = Varchar(length=32)
    producer = Integer(index=True)
    product = Integer(null=True, default=None)
    shop = Integer(null=True, default=None)
    listing = Integer(null=True, default=None)
    order = Integer(null=True, default=None)
    payload = Text(default="{}")
    dedupe_key = Varchar(length=160, null=True, default=None, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    processed_at = Timestamptz(null=True, default=None, index=True)
