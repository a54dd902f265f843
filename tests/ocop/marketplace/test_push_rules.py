"""The one rule against moving backwards (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocop.marketplace.push_rules import event_is_stale, order_is_newer

T = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def test_a_later_update_wins_and_an_earlier_never_does() -> None:
    assert order_is_newer(None, None, "unpaid", T)  # nothing stored yet
    assert order_is_newer("unpaid", T, "ready_to_ship", T + timedelta(seconds=5))
    assert not order_is_newer("shipped", T, "ready_to_ship", T - timedelta(seconds=5))
    # a later time wins even when the stage looks earlier (the marketplace knows best: e.g. a return)
    assert order_is_newer("completed", T, "returned", T + timedelta(minutes=1))


def test_within_the_same_second_the_life_cycle_decides() -> None:
    same = T + timedelta(milliseconds=400)
    assert order_is_newer("unpaid", T, "ready_to_ship", same)
    assert not order_is_newer("ready_to_ship", T, "unpaid", same)
    assert not order_is_newer("cancelled", T, "unpaid", same)
    assert not order_is_newer("shipped", T, "shipped", same)  # the same news: nothing to write


def test_a_push_older_than_one_handled_is_stale() -> None:
    assert event_is_stale(T, T + timedelta(seconds=1))
    assert not event_is_stale(T + timedelta(seconds=1), T)
    assert not event_is_stale(T, T)  # the same instant: re-reading is harmless
    assert not event_is_stale(None, T) and not event_is_stale(T, None)
