"""People who sign in: producers, extension staff (with an area) and admins."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ocop.producers.tables import Producer


class User(Table, tablename="app_user"):
    """``role`` is producer | staff | admin. A producer user belongs to one Producer.

    Staff have an area: a province code, optionally narrowed to a list of commune codes
    (``area_commune_codes`` as a JSON list); empty list = the whole province.
    """

    username = Varchar(length=120, unique=True)
    password_hash = Varchar(length=255)
    role = Varchar(length=16, default="producer", index=True)
    display_name = Varchar(length=200, default="")
    producer = ForeignKey(Producer, null=True, default=None, index=True)
    area_province_code = Integer(null=True, default=None)
    area_commune_codes = JSON(default=[])
    locale = Varchar(length=8, default="vi")
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)
    session_generation = Integer(default=0)
    """Moved on by a password change or reset, a deactivation or a change of role or area: a
    session remembers the generation it was signed in under and is over once they differ
    (``ocop.accounts.sessions``)."""


class ApiToken(Table, tablename="api_token"):
    """Personal API tokens for staff scripts; only a hash of the token is stored."""

    user = ForeignKey(User, index=True)
    name = Varchar(length=120)
    token_hash = Varchar(length=128, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class PasswordReset(Table, tablename="password_reset"):
    """A one-time password-reset link made by staff/admin and handed over in person (no e-mail
    server is assumed). Only a hash of the link's token is stored; ``used_at`` makes it single use."""

    user = ForeignKey(User, index=True)
    created_by = ForeignKey(User, null=True, default=None)
    token_hash = Varchar(length=128, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class AuditEvent(Table, tablename="audit_event"):
    """Who changed what, when, and from where (written by ``ocop.accounts.audit.record``)."""

    actor = ForeignKey(User, null=True, default=None, index=True)
    actor_label = Varchar(length=200, default="")  # "system", "cli", "job:publish_listing"
    action = Varchar(length=64)  # product.update, listing.publish, user.login ...
    entity = Varchar(length=32, index=True)
    entity_id = Integer(null=True, default=None, index=True)
    producer_id = Integer(null=True, default=None, index=True)  # scope for staff/producer views
    changes = JSON(default={})
    ip = Varchar(length=64, default="")
    at = Timestamptz(default=TimestamptzNow(), index=True)


class DatabaseInstance(Table, tablename="database_instance"):
    """One row: a random id given to this database at its first start. Sessions and the sign-in
    throttle's counters live in Redis, which may outlive the database (``ocop demo --fresh``, a
    restore, a test database made anew): each carries this id and means nothing to another database."""

    instance_id = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
