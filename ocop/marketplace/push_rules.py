"""Which news is newer: the one rule that keeps a late push from moving an order or a listing
backwards (pure, no I/O).

Marketplaces push at least once and in no promised order, and our jobs run concurrently, so a
push about an older state can be handled after a newer one. Two facts decide, in this order:

1. the marketplace's own time of the change (an order's update time, a push's event time):
   later wins, earlier never overwrites;
2. at the same instant (lists give times to the second), the order of the life cycle: an order
   goes unpaid → ready to ship → shipped → delivered → completed, or ends cancelled or returned,
   and never comes back from an end.
"""

from __future__ import annotations

from datetime import datetime

#: How far along its life an order is, by ``connectors.base.OrderState``. Cancelled and completed
#: are both ends; a return comes after delivery or completion.
ORDER_STAGE: dict[str, int] = {
    "unpaid": 0, "ready_to_ship": 1, "shipped": 2, "delivered": 3, "completed": 4, "cancelled": 4,
    "returned": 5,
}


def order_is_newer(stored_status: str | None, stored_at: datetime | None, status: str, at: datetime) -> bool:
    """True when an order read as ``status`` at ``at`` may replace what we store (``stored_*``;
    None when we have no copy yet). Same time and stage, or an older time: keep what we have."""
    if stored_status is None or stored_at is None:
        return True
    if abs((at - stored_at).total_seconds()) >= 1:
        return at > stored_at
    return ORDER_STAGE.get(status, 0) > ORDER_STAGE.get(stored_status, 0)


def event_is_stale(event_at: datetime | None, newest_handled_at: datetime | None) -> bool:
    """True when a push about an object is older than one about the same object already handled:
    handling it (re-reading and applying) could only undo the newer one's effect."""
    if event_at is None or newest_handled_at is None:
        return False
    return event_at < newest_handled_at
