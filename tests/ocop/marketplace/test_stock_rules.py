"""The pure stock rules: which order states hold units, per marketplace, and what each marketplace
is offered (no database)."""

from __future__ import annotations

import pytest

from ocop.marketplace.stock_rules import holds, line_hold, merge_lines, offer


@pytest.mark.parametrize(("marketplace", "status", "raw"), [
    ("shopee", "cancelled", "CANCELLED"), ("lazada", "cancelled", "canceled"),
    ("tiktok", "cancelled", "CANCELLED"), ("tiki", "cancelled", "canceled"), ("other", "cancelled", "x"),
])
def test_a_cancellation_gives_back_on_every_marketplace(marketplace: str, status: str, raw: str) -> None:
    assert not holds(marketplace, status, raw, known_unshipped=False)
    assert not holds(marketplace, status, raw, known_unshipped=True)


def test_a_cancellation_request_or_a_failed_delivery_keeps_holding() -> None:
    # Shopee IN_CANCEL may still be refused; Lazada "failed" is a failed delivery: the goods left
    assert holds("shopee", "cancelled", "IN_CANCEL", known_unshipped=True)
    assert holds("lazada", "cancelled", "failed", known_unshipped=True)
    assert holds("lazada", "returned", "shipped_back", known_unshipped=True)


@pytest.mark.parametrize(("marketplace", "raw"), [("shopee", "TO_RETURN"), ("lazada", "returned"),
                                                   ("tiki", "returned")])
def test_a_return_gives_back_only_when_known_unshipped(marketplace: str, raw: str) -> None:
    assert not holds(marketplace, "returned", raw, known_unshipped=True)
    assert holds(marketplace, "returned", raw, known_unshipped=False)


def test_line_holds_are_idempotent_and_follow_the_order_life() -> None:
    first = line_hold("shopee", "unpaid", "UNPAID", 3, held_before=None, shipped_before=False)
    assert (first.units, first.delta, first.shipped) == (3, 3, False)
    again = line_hold("shopee", "unpaid", "UNPAID", 3, held_before=3, shipped_before=False)
    assert again.delta == 0  # the same order read twice lowers stock once
    cancelled = line_hold("shopee", "cancelled", "CANCELLED", 3, held_before=3, shipped_before=False)
    assert (cancelled.units, cancelled.delta) == (0, -3)
    assert line_hold("shopee", "cancelled", "CANCELLED", 3, held_before=0, shipped_before=False).delta == 0
    # first seen already cancelled: never held, nothing moves
    assert line_hold("tiktok", "cancelled", "CANCELLED", 2, held_before=None, shipped_before=False).delta == 0


def test_returns_before_and_after_shipping() -> None:
    before_shipping = line_hold("tiki", "returned", "returned", 2, held_before=2, shipped_before=False)
    assert (before_shipping.units, before_shipping.delta) == (0, -2)
    stays = line_hold("tiki", "returned", "returned", 2, held_before=0, shipped_before=False)
    assert stays.delta == 0  # a return that gave back does not take the units again
    shipped = line_hold("shopee", "shipped", "SHIPPED", 2, held_before=2, shipped_before=False)
    assert shipped.shipped and shipped.delta == 0
    after = line_hold("shopee", "returned", "TO_RETURN", 2, held_before=2, shipped_before=True)
    assert (after.units, after.delta) == (2, 0)  # back through the producer, who checks the goods
    unknown = line_hold("lazada", "returned", "returned", 2, held_before=None, shipped_before=False)
    assert unknown.units == 2  # first seen returned: may have been shipped, so it keeps holding


def test_offer_subtracts_the_buffer_and_never_goes_below_zero() -> None:
    assert offer(10, 2) == 8
    assert offer(2, 2) == 0
    assert offer(1, 2) == 0
    assert offer(-3, 0) == 0
    assert offer(5, -1) == 5
    assert merge_lines([("A", 1), ("B", 2), ("A", 3)]) == {"A": 4, "B": 2}


def test_the_marketplace_of_an_order_follows_it_only_after_our_last_push() -> None:
    from datetime import UTC, datetime, timedelta

    from ocop.marketplace.stock_rules import origin_follows

    now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    event = now - timedelta(seconds=30)
    assert origin_follows(event, None, None, now)
    assert origin_follows(event, event - timedelta(minutes=1), None, now)
    assert not origin_follows(event, event + timedelta(seconds=1), None, now)  # our push overwrote its change
    assert not origin_follows(event, event - timedelta(seconds=1), None, now)  # too close to tell
    assert not origin_follows(event, event - timedelta(minutes=1), now + timedelta(seconds=20), now)  # in flight
