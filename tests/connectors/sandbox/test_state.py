"""Sandbox state: tokens and their lifetimes, review, order generation — with a controlled clock."""

from __future__ import annotations

from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.state import AuthResult, SandboxState


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def world(**cfg: object) -> tuple[SandboxState, Clock]:
    clock = Clock()
    return SandboxState(SandboxConfig.default(**cfg), clock=clock), clock


def test_tokens_expire_and_refresh_tokens_rotate() -> None:
    state, clock = world(access_token_ttl_s=5, refresh_token_ttl_s=60)
    app = state.config.app("shopee").app_key
    code = state.issue_code("shopee", app, "14701711")
    assert state.redeem_code("lazada", app, code) is None  # bound to its marketplace
    assert state.redeem_code("shopee", app, code) is not None
    assert state.redeem_code("shopee", app, code) is None  # single use
    access, refresh = state.issue_tokens("shopee", app, "14701711")
    assert state.check_access("shopee", app, access)[0] == AuthResult.OK
    clock.t += 6
    assert state.check_access("shopee", app, access)[0] == AuthResult.EXPIRED
    rotated = state.rotate_refresh("shopee", app, refresh)
    assert rotated and rotated[2] == "14701711"
    assert state.rotate_refresh("shopee", app, refresh) is None
    assert state.check_access("shopee", app, rotated[0])[0] == AuthResult.OK
    clock.t += 61
    assert state.rotate_refresh("shopee", app, rotated[1]) is None  # refresh token lifetime


def _item(state: SandboxState, sku: str, name: str = "Bánh tráng Tam Quan") -> object:
    return state.create_item(
        "lazada", "200170001", seller_sku=sku, name=name, description="OCOP 4 sao", price_vnd=1, stock=1,
        weight_g=1, dims_cm=(1, 1, 1), category_id="1", brand="No Brand", images=["u"], attributes={},
    )


def test_review_takes_time_and_rejects_prohibited_words_and_a_share() -> None:
    state, clock = world(review_seconds=10, rejection_share=0.0)
    ok, bad = _item(state, "A"), _item(state, "B", "Trà chữa bệnh dạ dày")
    assert state.settle(ok).status == "reviewing"  # type: ignore[arg-type]
    clock.t += 11
    assert state.settle(ok).status == "live"  # type: ignore[arg-type]
    assert state.settle(bad).status == "rejected" and "chữa bệnh" in (state.settle(bad).reason or "")  # type: ignore[arg-type]

    state.config.rejection_share = 0.5
    outcomes = [_item(state, f"S{i}") for i in range(200)]
    clock.t += 11
    rejected = [i for i in outcomes if state.settle(i).status == "rejected"]  # type: ignore[arg-type]
    assert 60 < len(rejected) < 140 and all(i.reason for i in rejected)  # type: ignore[attr-defined]


def test_orders_appear_over_time_with_cancellations_and_returns() -> None:
    state, clock = world(orders_per_hour=30.0, order_history_hours=0.0)
    assert state.shop_orders("shopee", "14701711") == {}
    clock.t += 10 * 86400  # ten days pass
    orders = list(state.shop_orders("shopee", "14701711").values())
    assert 6000 < len(orders) < 8500  # ~30 per hour
    statuses = {o.status_at(clock.t) for o in orders}
    assert {"completed", "cancelled", "returned", "shipped"} <= statuses
    assert all(1 <= len(o.lines) <= 3 and o.total_vnd > 0 for o in orders)
    o = orders[0]
    assert o.updated_at(clock.t) >= o.created_at and o.status_at(o.created_at) == "unpaid"


def test_forced_faults_come_first_and_respect_the_kind() -> None:
    state, _ = world()
    state.set_faults("shopee", FaultConfig(next=["timeout_after_write", "429"]))
    # a read cannot take "timeout after write": the 429 behind it is not skipped over either
    assert state.roll_fault("shopee", is_write=False, has_token=True) is None
    assert state.roll_fault("shopee", is_write=True, has_token=True) == "timeout_after_write"
    assert state.roll_fault("shopee", is_write=False, has_token=True) == "429"
    assert state.roll_fault("shopee", is_write=False, has_token=True) is None
    state.set_faults("*", FaultConfig(p_5xx=1.0))
    assert state.roll_fault("lazada", is_write=False, has_token=False) == "5xx"


def test_quotas_per_app_and_per_shop() -> None:
    state, clock = world(app_calls_per_s=0.0, shop_calls_per_s=2.0)
    assert state.take_quota("shopee", "app", "s1") == 0 and state.take_quota("shopee", "app", "s1") == 0
    wait = state.take_quota("shopee", "app", "s1")
    assert 0 < wait <= 0.5
    assert state.take_quota("shopee", "app", "s2") == 0  # another shop has its own quota
    clock.t += wait
    assert state.take_quota("shopee", "app", "s1") == 0
    state.config.app_calls_per_s = 1.0
    assert state.take_quota("lazada", "app", None) == 0 and state.take_quota("lazada", "app", None) > 0


def test_orders_take_stock_as_a_marketplace_does_and_cancellations_give_it_back() -> None:
    state, clock = world(review_seconds=0, rejection_share=0.0, orders_per_hour=0.0)
    item = _item(state, "KHO-1")
    item.stock = 3  # type: ignore[attr-defined]
    assert state.settle(item).status == "live"  # type: ignore[arg-type]
    first = state.place_order("lazada", "200170001", "KHO-1", 2)
    assert first is not None and item.stock == 1  # type: ignore[attr-defined]
    assert state.place_order("lazada", "200170001", "KHO-1", 2) is None  # beyond the stock it shows
    assert state.place_order("lazada", "200170001", "KHO-1", 1) is not None
    assert item.stock == 0  # type: ignore[attr-defined]
    # the order generator skips a sold-out shop instead of selling what is not there
    assert state.generate_orders("lazada", "200170001", 5, clock.t - 100, clock.t - 1) == []
    clock.t += 5
    assert state.cancel_order("lazada", "200170001", first.order_id)
    assert item.stock == 2 and first.status_at(clock.t) == "cancelled"  # type: ignore[attr-defined]
    assert not state.cancel_order("lazada", "200170001", first.order_id)  # once
    made = state.generate_orders("lazada", "200170001", 5, clock.t - 100, clock.t - 1)
    assert sum(line.quantity for order in made for line in order.lines) <= 2
    assert item.stock == 2 - sum(line.quantity for order in made for line in order.lines)  # type: ignore[attr-defined]
    # a generated order that is cancelled later gives its units back when the cancellation is due
    item.stock = 4  # type: ignore[attr-defined]
    [doomed] = state.generate_orders("lazada", "200170001", 1, clock.t, clock.t + 1, status="cancelled")
    taken = sum(line.quantity for line in doomed.lines)
    assert item.stock == 4 - taken  # type: ignore[attr-defined]
    clock.t += 10
    state.apply_restocks()
    assert item.stock == 4  # type: ignore[attr-defined]
