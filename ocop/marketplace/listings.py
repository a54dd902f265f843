"""Listing states and their transitions; every transition is recorded with its cause.

    draft → pending → publishing → in_review → live | rejected (reason)
                          ↘ failed (reason; retrying while next_attempt_at is set)
    any published state → pending (re-push) or → unlisted

Transitions are conditional updates (``WHERE state = from``), so two workers cannot both move the
same listing, and the ListingEvent trail shows exactly what happened.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocop import db
from ocop.events import outbox as alert_outbox
from ocop.marketplace.tables import Listing, ListingEvent
from ocop.web.i18n import gettext

STATES = ("draft", "pending", "publishing", "in_review", "live", "rejected", "failed", "unlisted")

ALLOWED: dict[str, set[str]] = {
    "draft": {"pending"},
    "pending": {"publishing", "pending", "unlisted"},
    "publishing": {"in_review", "live", "failed", "rejected", "unlisted", "pending"},
    "in_review": {"live", "rejected", "pending", "unlisted", "publishing"},
    "live": {"pending", "unlisted", "rejected", "publishing"},
    "rejected": {"pending", "unlisted", "live", "publishing", "in_review"},
    # failed → in_review / live / rejected: reconciliation found the item an attempt whose answer
    # was lost had created (ocop.marketplace.sync.reconcile_listings) and adopts it.
    "failed": {"pending", "publishing", "unlisted", "in_review", "live", "rejected"},
    "unlisted": {"pending", "publishing"},
}



def _(message: str) -> str:
    """Marks a label for the gettext catalog (English in ``ocop/web/i18n``); translated where shown."""
    return message


STATE_LABELS = {
    "draft": _("Nháp"), "pending": _("Chờ đăng"), "publishing": _("Đang đăng"), "in_review": _("Sàn đang duyệt"),
    "live": _("Đang bán"), "rejected": _("Bị từ chối"), "failed": _("Lỗi đăng"), "unlisted": _("Đã gỡ"),
}
"""The name of each state for people, in Vietnamese (the catalog's message ids)."""
STATE_LABELS_EN = {state: gettext("en", label) for state, label in STATE_LABELS.items()}


SHOP_NEEDS_RECONNECTING = "Gian hàng cần kết nối lại / the shop needs reconnecting"
"""Why a listing of a shop that is not connected failed; reconciliation publishes such a listing
again once its shop is connected again."""


class TransitionError(ValueError):
    pass


def check(from_state: str, to_state: str) -> None:
    if to_state not in ALLOWED.get(from_state, set()):
        raise TransitionError(f"listing cannot go from {from_state} to {to_state}")


async def move(listing_id: int, from_state: str, to_state: str, *, cause: str, reason: str = "",
               values: dict[Any, Any] | None = None) -> bool:
    """Move one listing if it is still in ``from_state``; returns False when someone else moved it.

    A move into ``rejected`` (a refusal or a ban, with the marketplace's reason) also writes the
    producer's alert, in the same transaction as the move: either both happen or neither."""
    check(from_state, to_state)
    engine = Listing._meta.db
    if to_state == "rejected" and from_state != "rejected" and engine.current_transaction.get() is None:
        async with db.write_transaction(engine):
            return await _move(listing_id, from_state, to_state, cause=cause, reason=reason, values=values)
    return await _move(listing_id, from_state, to_state, cause=cause, reason=reason, values=values)


async def _move(listing_id: int, from_state: str, to_state: str, *, cause: str, reason: str,
                values: dict[Any, Any] | None) -> bool:
    now = datetime.now(UTC)
    update = {Listing.state: to_state, Listing.updated_at: now, **(values or {})}
    moved = await Listing.update(update).where((Listing.id == listing_id) & (Listing.state == from_state)).returning(Listing.id)
    if not moved:
        return False
    if from_state != to_state or reason:
        await ListingEvent.insert(ListingEvent(listing=listing_id, from_state=from_state, to_state=to_state,
                                               reason=reason[:2000], cause=cause[:120], at=now))
    if to_state == "rejected" and from_state != "rejected":
        await _rejected_alert(listing_id, reason, now)
    return True


async def _rejected_alert(listing_id: int, reason: str, at: datetime) -> None:
    row = await Listing.select(Listing.product, Listing.shop, Listing.shop.producer.as_alias("producer"),
                               Listing.shop.marketplace.as_alias("marketplace"),
                               Listing.product.name.as_alias("product_name")).where(Listing.id == listing_id).first()
    if row is None:
        return
    await alert_outbox.record(alert_outbox.LISTING_REJECTED, row["producer"], product=row["product"], shop=row["shop"],
                              listing=listing_id, at=at,
                              payload={"reason": reason[:1000], "marketplace": row["marketplace"],
                                       "product_name": row["product_name"]})
