"""Who changed what, when, and from where."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ocop.accounts.tables import User


class AuditEvent(Table, tablename="audit_event"):
    actor = ForeignKey(User, null=True, default=None, index=True)
    actor_label = Varchar(length=200, default="")  # "system", "cli", "job:publish_listing"
    action = Varchar(length=64)  # product.update, listing.publish, user.login ...
    entity = Varchar(length=32, index=True)
    entity_id = Integer(null=True, default=None, index=True)
    producer_id = Integer(null=True, default=None, index=True)  # scope for staff/producer views
    changes = JSON(default={})
    ip = Varchar(length=64, default="")
    at = Timestamptz(default=TimestamptzNow(), index=True)
