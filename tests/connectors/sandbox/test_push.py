"""The sandbox pushes as the marketplaces do: each event kind, signed with each marketplace's rule,
retried until answered 2xx, with loss, duplicates and forged copies on demand. A plain HTTP server
on 127.0.0.1 plays the app's callback URL and checks every signature with the connectors' own
verification."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from connectors.lazada import signing as lazada
from connectors.push import PARSERS
from connectors.sandbox.server import start_in_thread
from connectors.sandbox.config import PushConfig, SandboxConfig
from connectors.shopee import signing as shopee
from connectors.tiktok import signing as tiktok


class Receiver:
    """The app's side: records every push (path, body, whether its signature is right) and answers
    500 to the first ``fail_first`` of them."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.got: list[tuple[str, bytes, bool]] = []
        self.fail_first = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                market = self.path.rsplit("/", 1)[-1]
                app = receiver.config.app(market)
                sign = self.headers.get("Authorization", "")
                url = receiver.url(market)
                ok = (shopee.verify_push(app.app_secret, url, body, sign) if market == "shopee" else
                      lazada.verify_push(app.app_key, app.app_secret, body, sign) if market == "lazada" else
                      tiktok.verify_webhook(app.app_secret, app.app_key, body, sign))
                receiver.got.append((market, body, ok))
                failing = receiver.fail_first > 0
                receiver.fail_first -= 1
                self.send_response(500 if failing else (200 if ok else 401))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, market: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/push/{market}"

    def notices(self, market: str) -> list[Any]:
        return [n for m, body, ok in self.got if m == market and ok for n in PARSERS[m](body)]

    def wait(self, count: int, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.got) < count:
            assert time.monotonic() < deadline, self.got
            time.sleep(0.05)


@pytest.fixture
def world() -> Iterator[tuple[Any, Receiver]]:
    config = SandboxConfig.default(review_seconds=0.5, rejection_share=0.0, orders_per_hour=0.0, push_scan_s=0.05)
    receiver = Receiver(config)
    _, stop, state = start_in_thread(config, quiet=True)
    try:
        yield state, receiver
    finally:
        stop()
        receiver.server.shutdown()


def _item(state: Any, market: str, shop: str, sku: str) -> Any:
    return state.create_item(market, shop, seller_sku=sku, name="Bánh tráng Tam Quan", description="OCOP 4 sao",
                             price_vnd=45_000, stock=10, weight_g=300, dims_cm=(20, 20, 5), category_id="1",
                             brand="No Brand", images=["u"], attributes={})


def test_each_marketplace_pushes_its_events_signed(world) -> None:
    state, receiver = world
    shops = {"shopee": "14701711", "lazada": "200170001", "tiktok": "7494001"}
    for market, shop in shops.items():
        state.config.pushes[market] = PushConfig(callback_url=receiver.url(market))
        app = state.config.app(market)
        state.issue_tokens(market, app.app_key, shop)
    items = {m: _item(state, m, s, f"SKU-{m}") for m, s in shops.items()}
    time.sleep(0.3)  # the shops are looked at once (their present state is not news)
    time.sleep(0.6)  # review ends: Lazada and TikTok Shop push the result, Shopee pushes none
    orders = {m: state.place_order(m, s, f"SKU-{m}", 2) for m, s in shops.items()}
    time.sleep(0.3)
    state.cancel_order("lazada", shops["lazada"], orders["lazada"].order_id)
    # the order reaches "ready to ship" on Shopee: a status push and a tracking number push
    state.orders[("shopee", shops["shopee"])][orders["shopee"].order_id].timeline.append((time.time(), "ready_to_ship"))
    state.pusher._timeline.append((time.time(), "shopee", shops["shopee"], orders["shopee"].order_id))
    with state.lock:
        items["tiktok"].status, items["tiktok"].reason = "banned", "Hàng cấm"
        items["shopee"].status, items["shopee"].reason = "banned", "Hàng giả"
    time.sleep(0.5)
    for market, shop in shops.items():
        assert state.pusher.deauthorize(market, shop)
        state.pusher.authorization_expiring(market, shop, time.time() + 7 * 86400)
    time.sleep(1.5)

    assert receiver.got and all(ok for _, _, ok in receiver.got)
    kinds = {m: sorted({(n.kind, n.status) for n in receiver.notices(m)}) for m in shops}
    assert kinds["shopee"] == sorted({("order", "UNPAID"), ("order", "READY_TO_SHIP"), ("tracking", ""),
                                      ("item", "banned"), ("deauthorized", ""), ("auth_expiry", "")})
    assert kinds["lazada"] == sorted({("item", "live"), ("order", "unpaid"), ("order", "canceled"),
                                      ("auth_expiry", "")})  # Lazada documents no deauthorisation push
    assert kinds["tiktok"] == sorted({("item", "ACTIVATE"), ("item", "PLATFORM_DEACTIVATED"), ("order", "UNPAID"),
                                      ("deauthorized", ""), ("auth_expiry", "")})
    tracking = [n for n in receiver.notices("shopee") if n.kind == "tracking"]
    assert tracking[0].object_id == orders["shopee"].order_id and tracking[0].detail.startswith("SPXVN")
    # a deauthorised shop's tokens stop working, and it is no longer pushed about
    assert ("shopee", shops["shopee"]) not in state.authorized
    assert not any(r.shop_id == shops["shopee"] for r in state.refresh_tokens.values())


def test_unanswered_pushes_are_retried_and_faults_happen_on_demand(world) -> None:
    state, receiver = world
    app = state.config.app("tiktok")
    state.issue_tokens("tiktok", app.app_key, "7494001")
    state.config.pushes["tiktok"] = PushConfig(callback_url=receiver.url("tiktok"), retry_delays_s=[0.1, 0.1, 0.1])
    _item(state, "tiktok", "7494001", "SKU-R")
    time.sleep(0.8)  # baseline, then review ends: one push
    receiver.wait(1)
    receiver.fail_first = 2
    state.place_order("tiktok", "7494001", "SKU-R", 1)
    receiver.wait(4)  # the order's push: 500, 500, then 200
    time.sleep(0.3)
    assert len(receiver.got) == 4 and len({body for _, body, _ in receiver.got[1:]}) == 1
    assert [r.answer[:3] for r in state.pusher.sent][-3:] == ["500", "500", "200"]

    state.config.pushes["tiktok"] = PushConfig(callback_url=receiver.url("tiktok"), p_duplicate=1.0,
                                               p_bad_signature=1.0)
    state.place_order("tiktok", "7494001", "SKU-R", 1)
    receiver.wait(7)
    time.sleep(0.5)
    fresh = receiver.got[4:]
    assert len(fresh) == 3 and sorted(ok for _, _, ok in fresh) == [False, True, True]  # forged, real, duplicate
    assert len({body for _, body, _ in fresh}) == 1

    state.config.pushes["tiktok"] = PushConfig(callback_url=receiver.url("tiktok"), p_loss=1.0)
    state.place_order("tiktok", "7494001", "SKU-R", 1)
    time.sleep(0.5)
    assert len(receiver.got) == 7 and state.pusher.counts["lost"] == 1
    assert state.pusher.sent[-1].note == "lost"
