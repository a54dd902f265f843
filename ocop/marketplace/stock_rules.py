"""Pure rules of the one stock ocop keeps for every marketplace (no I/O; the ledger, the outbox and
the job are in :mod:`ocop.marketplace.stock`).

* An order line **holds** its units from the moment any marketplace shows it, and gives them back
  only on a cancellation, or on a return before the goods were shipped. Which marketplace words
  mean what is below, per marketplace (the words are those the mappers in ``connectors`` read).
  A return after shipping keeps the units held: the goods come back through the producer, who
  checks them and corrects their stock.
* Each marketplace is offered ``available − safety buffer``, never below 0: when ocop's available
  stock reaches 0, every marketplace is told 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

SHIPPED_STATES = frozenset({"shipped", "delivered", "completed"})

GIVES_BACK: dict[str, frozenset[str]] = {
    # Shopee: CANCELLED gives back. IN_CANCEL is a buyer's request the seller (or Shopee) may
    # still refuse, so it keeps holding until the order becomes CANCELLED.
    "shopee": frozenset({"CANCELLED"}),
    # Lazada: "canceled" gives back. "failed" (failed delivery) and "shipped_back" were shipped:
    # they are returns after shipping and keep holding.
    "lazada": frozenset({"canceled"}),
    # TikTok Shop: CANCELLED. Returns are not an order status there (Return & Refund API).
    "tiktok": frozenset({"CANCELLED"}),
    # Tiki: "canceled".
    "tiki": frozenset({"canceled"}),
}
"""Raw order statuses that give the units back, per marketplace."""

RETURN_BEFORE_SHIPPING: dict[str, frozenset[str]] = {
    "shopee": frozenset({"TO_RETURN"}),
    "lazada": frozenset({"returned"}),
    "tiki": frozenset({"returned"}),
}
"""Raw return statuses that give the units back only when the order was never seen shipped."""


def holds(marketplace: str, status: str, raw_status: str, *, known_unshipped: bool) -> bool:
    """Does an order line in this state hold its units? ``status`` is our normalized order state,
    ``raw_status`` the marketplace's own word. ``known_unshipped``: an earlier ingest saw this line
    held and not yet shipped. A return gives back only then: an order first seen already returned
    may well have been shipped, and giving back units that are not on the shelf would oversell.
    A marketplace without its own list here gives back on our normalized ``cancelled`` only."""
    if marketplace in GIVES_BACK:
        if raw_status in GIVES_BACK[marketplace]:
            return False
        if raw_status in RETURN_BEFORE_SHIPPING.get(marketplace, ()):
            return not known_unshipped
        return True
    if status == "cancelled":
        return False
    if status == "returned":
        return not known_unshipped
    return True


@dataclass(frozen=True, slots=True)
class LineHold:
    """What one order line holds after this ingest, and how that moved ocop's stock."""

    units: int
    shipped: bool
    delta: int
    """Units newly held (> 0) or given back (< 0) by this ingest; 0 when nothing changed."""


def line_hold(marketplace: str, status: str, raw_status: str, quantity: int, *,
              held_before: int | None, shipped_before: bool) -> LineHold:
    """``held_before``: what the ledger row held, None for a line never seen. Re-ingesting the same
    order line in the same state always gives ``delta == 0``: the ledger row keeps what the line
    held, and only a change of state or quantity moves stock (a return that gave back stays so)."""
    shipped = shipped_before or status in SHIPPED_STATES
    before = held_before or 0
    # A line seen before that holds nothing now and is not shipped has given back (or never held):
    # a return status does not take it again.
    known_unshipped = held_before is not None and not shipped_before
    units = max(0, quantity) if holds(marketplace, status, raw_status, known_unshipped=known_unshipped) else 0
    return LineHold(units=units, shipped=shipped, delta=units - before)


CLOCK_MARGIN = timedelta(seconds=2)
"""How far the marketplace's clock and ours may disagree."""


def origin_follows(event_at: datetime, pushed_at: datetime | None, lease_until: datetime | None,
                   now: datetime) -> bool:
    """Does the marketplace where an order was placed (or cancelled) now show our last number
    moved by that order? It lowered (or restored) its own stock at ``event_at``; but a push of
    ours carries an absolute number, and one that landed after that moment overwrote the change.
    Only when our last push was acknowledged well before the event, and none is in flight, is the
    marketplace's number known; otherwise it is unknown and the marketplace is told again."""
    if lease_until is not None and lease_until > now:
        return False
    return pushed_at is None or pushed_at < event_at - CLOCK_MARGIN


def available(stock: int, held: int, settled: int) -> int:
    """``stock`` is the producer's own count at their last edit; ``held − settled`` the units
    orders took since (negative when orders the producer had counted were cancelled since).
    May be negative: orders accepted beyond the stock (oversold)."""
    return int(stock) - (int(held) - int(settled))


def offer(available_units: int, buffer: int) -> int:
    """What every marketplace is offered: the available stock less the safety buffer, never < 0."""
    return max(0, int(available_units) - max(0, int(buffer)))


def merge_lines(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """An order's quantity per seller SKU (two lines of the same SKU are one stock line)."""
    out: dict[str, int] = {}
    for sku, quantity in lines:
        out[sku] = out.get(sku, 0) + int(quantity)
    return out
