"""Notifications (in-app), messages to send (Zalo or e-mail, digested), people's choices."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ocop.accounts.tables import User
from ocop.catalog.tables import Product


class Notification(Table, tablename="notification"):
    """One event as one user's in-app notification: every event reaches the list, whatever the
    user chose for messages. Texts are made when shown, in the reader's language, from
    ``payload`` (what the event recorded)."""

    user = ForeignKey(User, index=True)
    event = Integer(index=True)
    kind = Varchar(length=32)
    producer = Integer()
    product = Integer(null=True, default=None)
    shop = Integer(null=True, default=None)
    listing = Integer(null=True, default=None)
    order = Integer(null=True, default=None)
    payload = Text(default="{}")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    read_at = Timestamptz(null=True, default=None, index=True)


class AlertDelivery(Table, tablename="alert_delivery"):
    """A message to one user about one kind and subject (a product, else a shop, else the
    producer): at most one goes out per hour; events arriving meanwhile fold into the next one
    (``events``: how many it tells of). ``status``: queued → sending → sent | failed | skipped."""

    user = ForeignKey(User, index=True)
    kind = Varchar(length=32)
    subject = Varchar(length=40)  # "product:12", "shop:3", "producer:7"
    events = Integer(default=1)
    payload = Text(default="{}")  # the latest event's
    event = Integer()
    due_at = Timestamptz(index=True)
    status = Varchar(length=12, default="queued", index=True)
    channel = Varchar(length=8, default="")  # zalo | email, once sent
    attempts = Integer(default=0)
    lease_until = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class AlertPreference(Table, tablename="alert_preference"):
    """One user's choices; no row = everything on, no quiet hours, a producer's phone and e-mail.
    Quiet hours are minutes after midnight in Asia/Ho_Chi_Minh (start > end wraps midnight)."""

    user = ForeignKey(User, unique=True)
    zalo_phone = Varchar(length=20, default="")
    email = Varchar(length=255, default="")
    use_zalo = Boolean(default=True)
    use_email = Boolean(default=True)
    kinds_off = Text(default="[]")  # JSON list of kinds not to send as messages
    quiet_start = Integer(null=True, default=None)
    quiet_end = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class StockAlertLevel(Table, tablename="stock_alert_level"):
    """A product's own "stock running low" level (else ``OCOP_ALERT_LOW_STOCK``)."""

    product = ForeignKey(Product, unique=True)
    level = Integer(default=5)


class ZaloOaToken(Table, tablename="zalo_oa_token"):
    """The Official Account's current tokens, encrypted like shop tokens. The refresh token is
    single use, so the latest one must be kept: one row per Zalo app."""

    app_id = Varchar(length=64, unique=True)
    access_token_enc = Text(default="")
    refresh_token_enc = Text(default="")
    access_expires_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
