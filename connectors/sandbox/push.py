"""The sandbox pushes like the marketplaces do: signed notifications to each app's callback URL.

What is pushed, per marketplace (bodies as in ``connectors.push``, which reads them back):

- Shopee: order status (code 3), tracking number (4, once an order is ready to ship), banned item
  (6), authorisation cancelled (2), authorisation expiry (12). Shopee pushes no review result.
- Lazada: trade order (message type 0), product quality control (1: approved, rejected, locked),
  token expiration alert (8). Lazada documents no deauthorisation push.
- TikTok Shop: order status change (type 1), product status change (5), seller deauthorisation
  (6), upcoming authorisation expiration (7).

Each is signed exactly as the marketplace signs (``connectors/<name>/signing.py``). A push that gets
no 2xx is retried on the marketplace's schedule (:data:`connectors.sandbox.config.PUSH_RETRY_DELAYS_S`
or the configured one). Faults (:class:`connectors.sandbox.config.PushConfig`): loss, duplicates,
delay, reordering and forged copies with a wrong signature. Every attempt and its answer is kept in
:attr:`Pusher.sent` (newest last), shown on the overview page and at ``/_admin/pushes``.

Changes are found by looking, like the rest of the sandbox's world, which moves lazily: every
``push_scan_s`` the pusher settles reviews and generates due orders of the shops that authorised an
app, and pushes what changed since it last looked (a shop's state when it is first seen is not
pushed, as a marketplace pushes only changes after subscription).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from connectors.lazada import signing as lazada_signing
from connectors.sandbox import lazada as lazada_emu
from connectors.sandbox import shopee as shopee_emu
from connectors.sandbox import tiktok as tiktok_emu
from connectors.sandbox.config import PUSH_RETRY_DELAYS_S, PushConfig
from connectors.sandbox.state import READY, SHIPPED, Item, Order, SandboxState
from connectors.shopee import signing as shopee_signing
from connectors.tiktok import signing as tiktok_signing

log = logging.getLogger("connectors.sandbox.push")
PUSHING = ("shopee", "lazada", "tiktok")
ITEM_OUTCOMES = ("live", "rejected", "banned")
RECENT_S = 300.0
"""Orders made up in the past (the admin endpoint's history) are not news: only a change that
happened in the last few minutes is pushed."""


@dataclass
class PushRecord:
    """One delivery attempt, as the overview page lists it."""

    at: float
    marketplace: str
    shop_id: str
    kind: str
    summary: str
    attempt: int
    note: str  # "", "duplicate", "delayed", "reordered", "forged", "lost"
    answer: str = "…"


def _tracking_number(order_id: str) -> str:
    return f"SPXVN{order_id[-10:]}"


# ----------------------------------------------------------------------------- bodies


def _shopee_body(kind: str, shop_id: str, now: float, **f: Any) -> dict[str, Any]:
    shop = int(shop_id)
    ts = int(now)
    if kind == "order":
        return {"shop_id": shop, "code": 3, "timestamp": ts, "data": {
            "ordersn": f["order_id"], "status": shopee_emu.ORDER_STATUS[f["status"]], "update_time": int(f["at"]),
            "items": []}}
    if kind == "tracking":
        return {"shop_id": shop, "code": 4, "timestamp": ts, "data": {
            "ordersn": f["order_id"], "package_number": f"OFG{f['order_id'][-9:]}",
            "tracking_no": f["tracking_no"]}}
    if kind == "item":
        return {"shop_id": shop, "code": 6, "timestamp": ts, "data": {
            "item_id": f["item_id"], "item_name": f["name"], "ban_reason": f["reason"] or "", "item_status": "BANNED"}}
    if kind == "deauthorized":
        return {"code": 2, "timestamp": ts, "data": {"shop_id_list": [shop], "merchant_id_list": [],
                                                     "extra": f"shop_id {shop} is deauthorized"}}
    return {"code": 12, "timestamp": ts, "data": {"shop_id_list": [shop], "merchant_id_list": [],
                                                  "expire_before": int(f["expires_at"])}}


def _lazada_body(kind: str, shop_id: str, now: float, **f: Any) -> dict[str, Any] | None:
    if kind == "order":
        return {"seller_id": shop_id, "message_type": 0, "timestamp": int(now * 1000), "site": "lazada_vn", "data": {
            "order_status": lazada_emu.ORDER_STATUS[f["status"]], "trade_order_id": f["order_id"],
            "trade_order_line_id": f"{f['order_id']}1", "status_update_time": int(f["at"])}}
    if kind == "item":
        status = {"live": "APPROVED", "rejected": "REJECTED", "banned": "LOCK"}[f["status"]]
        return {"seller_id": shop_id, "message_type": 1, "timestamp": int(now), "site": "lazada_vn", "data": {
            "date": int(f["at"] * 1000), "itemId": f["item_id"], "reason": f["reason"] or "",
            "seller_id": int(shop_id), "status": status}}
    if kind == "auth_expiry":
        return {"seller_id": "null", "message_type": 8, "timestamp": int(now), "site": "lazada_vn", "data": {
            "app_key": f["app_key"], "auth_expiry_time": int(f["expires_at"]), "seller_id": shop_id}}
    return None  # no tracking or deauthorisation push documented


def _tiktok_body(kind: str, shop_id: str, now: float, **f: Any) -> dict[str, Any] | None:
    base = {"tts_notification_id": f["notice_id"], "shop_id": shop_id, "timestamp": int(now)}
    if kind == "order":
        return {**base, "type": 1, "data": {"order_id": f["order_id"], "order_status":
                                            tiktok_emu.ORDER_STATUS[f["status"]], "update_time": int(f["at"])}}
    if kind == "item":
        return {**base, "type": 5, "data": {"product_id": str(f["item_id"]), "status":
                                            tiktok_emu.ITEM_STATUS[f["status"]], "update_time": int(f["at"])}}
    if kind == "deauthorized":
        return {**base, "type": 6, "data": {"message": "seller deauthorized the app"}}
    if kind == "auth_expiry":
        return {**base, "type": 7, "data": {"expiration_time": int(f["expires_at"])}}
    return None


BODIES = {"shopee": _shopee_body, "lazada": _lazada_body, "tiktok": _tiktok_body}


def signature(marketplace: str, url: str, app_key: str, app_secret: str, body: bytes) -> str:
    """The ``Authorization`` header each marketplace puts on its push."""
    if marketplace == "shopee":
        return shopee_signing.push_signature(app_secret, url, body)
    if marketplace == "lazada":
        return lazada_signing.push_signature(app_key, app_secret, body)
    return tiktok_signing.sign_webhook(app_secret, app_key, body)


# ----------------------------------------------------------------------------- the pusher


class Pusher:
    """Finds changes in the sandbox's world and delivers them as signed pushes (one per world)."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.sent: deque[PushRecord] = deque(maxlen=2000)
        self.counts: dict[str, int] = {"events": 0, "delivered": 0, "failed_attempts": 0, "lost": 0, "forged": 0}
        self._orders_seen: dict[tuple[str, str, str], str] = {}
        self._order_count: dict[tuple[str, str], int] = {}
        self._timeline: list[tuple[float, str, str, str]] = []  # (when, marketplace, shop, order id)
        self._items_seen: dict[tuple[str, str, int], str] = {}
        self._tracking_sent: set[tuple[str, str, str]] = set()
        self._baselined: set[tuple[str, str]] = set()
        self._ids = itertools.count(1)
        self._rng = random.Random(state.config.seed + 7)
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def config(self, marketplace: str) -> PushConfig | None:
        cfg = self.state.config.pushes.get(marketplace)
        return cfg if cfg is not None and cfg.callback_url else None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient()
        self._loop_task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        for task in [self._loop_task, *self._tasks]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*[t for t in [self._loop_task, *self._tasks] if t is not None], return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        while True:
            try:
                if any(self.config(m) for m in PUSHING):
                    self.scan()
            except Exception:  # a bug in one scan must not stop pushing for good
                log.exception("push scan failed")
            await asyncio.sleep(max(0.05, self.state.config.push_scan_s))

    # ------------------------------------------------------------------ finding changes

    def scan(self) -> None:
        state = self.state
        with state.lock:
            now = state.clock()
            touched, state.touched_orders = state.touched_orders, []
            for marketplace, shop_id in sorted(state.authorized):
                if marketplace not in PUSHING or self.config(marketplace) is None:
                    continue
                key = (marketplace, shop_id)
                first = key not in self._baselined
                self._baselined.add(key)
                self._scan_orders(marketplace, shop_id, now, push=not first)
                self._scan_items(marketplace, shop_id, push=not first)
            due: list[tuple[str, str, str]] = list(touched)
            while self._timeline and self._timeline[0][0] <= now:
                _, marketplace, shop_id, order_id = heapq.heappop(self._timeline)
                due.append((marketplace, shop_id, order_id))
            for marketplace, shop_id, order_id in due:
                if (marketplace, shop_id) not in state.authorized or self.config(marketplace) is None:
                    continue
                order = state.orders.get((marketplace, shop_id), {}).get(order_id)
                if order is not None:
                    self._order_changed(order, now, push=True)

    def _scan_orders(self, marketplace: str, shop_id: str, now: float, *, push: bool) -> None:
        orders = self.state.shop_orders(marketplace, shop_id)
        known = self._order_count.get((marketplace, shop_id), 0)
        if len(orders) == known:
            return
        for order in itertools.islice(orders.values(), known, None):
            for at, _ in order.timeline:
                if at > now:
                    heapq.heappush(self._timeline, (at, marketplace, shop_id, order.order_id))
            self._order_changed(order, now, push=push)
        self._order_count[(marketplace, shop_id)] = len(orders)

    def _order_changed(self, order: Order, now: float, *, push: bool) -> None:
        key = (order.marketplace, order.shop_id, order.order_id)
        status = order.status_at(now)
        if self._orders_seen.get(key) == status:
            return
        self._orders_seen[key] = status
        if not push or now - order.updated_at(now) > RECENT_S:
            if status in (READY, SHIPPED):
                self._tracking_sent.add(key)
            return
        self.emit(order.marketplace, order.shop_id, "order", f"{order.order_id} → {status}",
                  order_id=order.order_id, status=status, at=order.updated_at(now))
        if order.marketplace == "shopee" and status in (READY, SHIPPED) and key not in self._tracking_sent:
            self._tracking_sent.add(key)
            number = _tracking_number(order.order_id)
            self.emit(order.marketplace, order.shop_id, "tracking", f"{order.order_id}: {number}",
                      order_id=order.order_id, tracking_no=number)

    def _scan_items(self, marketplace: str, shop_id: str, *, push: bool) -> None:
        for item in list(self.state.shop_items(marketplace, shop_id).values()):
            self.state.settle(item)
            key = (marketplace, shop_id, item.item_id)
            if self._items_seen.get(key) == item.status:
                continue
            self._items_seen[key] = item.status
            if push and item.status in ITEM_OUTCOMES and (marketplace != "shopee" or item.status == "banned"):
                self._item_event(item)

    def _item_event(self, item: Item) -> None:
        self.emit(item.marketplace, item.shop_id, "item", f"{item.item_id} ({item.seller_sku}) → {item.status}",
                  item_id=item.item_id, status=item.status, reason=item.reason, name=item.name, at=item.updated_at)

    # ------------------------------------------------------------------ explicit events

    def deauthorize(self, marketplace: str, shop_id: str) -> bool:
        """The seller cancels the authorisation: tokens stop working, and the app is told."""
        if not self.state.deauthorize(marketplace, shop_id):
            return False
        self.emit(marketplace, shop_id, "deauthorized", "authorisation cancelled")
        return True

    def authorization_expiring(self, marketplace: str, shop_id: str, expires_at: float) -> None:
        app = next((a for a in self.state.config.apps if a.marketplace == marketplace), None)
        self.emit(marketplace, shop_id, "auth_expiry", f"authorisation ends {time.strftime('%Y-%m-%d', time.gmtime(expires_at))}",
                  expires_at=expires_at, app_key=app.app_key if app else "")

    # ------------------------------------------------------------------ delivery

    def emit(self, marketplace: str, shop_id: str, kind: str, summary: str, **fields: Any) -> None:
        """Build, sign and send one event's push (with the configured faults); needs the running loop."""
        cfg = self.config(marketplace)
        if cfg is None:
            return
        app = next((a for a in self.state.config.apps if a.marketplace == marketplace), None)
        if app is None:
            return
        now = self.state.clock()
        fields.setdefault("notice_id", f"{int(now)}{next(self._ids):08d}")
        body_obj = BODIES[marketplace](kind, shop_id, now, **fields)
        if body_obj is None:
            return
        self.counts["events"] += 1
        body = msgspec.json.encode(body_obj)
        sign = signature(marketplace, cfg.callback_url, app.app_key, app.app_secret, body)
        rng = self._rng
        record = {"marketplace": marketplace, "shop_id": shop_id, "kind": kind, "summary": summary}
        if rng.random() < cfg.p_loss:
            self.counts["lost"] += 1
            self.sent.append(PushRecord(now, attempt=0, note="lost", answer="—", **record))
            return
        if rng.random() < cfg.p_bad_signature:
            self.counts["forged"] += 1
            forged = signature(marketplace, cfg.callback_url, app.app_key, app.app_secret + "x", body)
            self._spawn(self._deliver(cfg, body, forged, record, note="forged", retry=False))
        wait, note = 0.0, ""
        if rng.random() < cfg.p_delay:
            wait, note = cfg.delay_s, "delayed"
        elif rng.random() < cfg.p_reorder:
            wait, note = rng.uniform(0.0, 2 * cfg.delay_s), "reordered"
        self._spawn(self._deliver(cfg, body, sign, record, note=note, wait=wait))
        if rng.random() < cfg.p_duplicate:
            self._spawn(self._deliver(cfg, body, sign, record, note="duplicate", wait=wait + rng.uniform(0, 0.5)))

    def _spawn(self, coro: Any) -> None:
        """Run a delivery on the sandbox's loop, whichever thread emits (tests and admin calls)."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self._loop is None or self._loop.is_closed():
            coro.close()  # not serving: nowhere to deliver from
            return
        if running is not self._loop:
            self._loop.call_soon_threadsafe(self._spawn, coro)
            return
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, cfg: PushConfig, body: bytes, sign: str, record: dict[str, str], *, note: str,
                       wait: float = 0.0, retry: bool = True) -> None:
        if wait:
            await asyncio.sleep(wait)
        delays = cfg.retry_delays_s or PUSH_RETRY_DELAYS_S.get(record["marketplace"], [])
        for attempt in range(len(delays) + 1 if retry else 1):
            entry = PushRecord(self.state.clock(), attempt=attempt + 1, note=note, **record)
            self.sent.append(entry)
            assert self._client is not None
            try:
                answer = await self._client.post(cfg.callback_url, content=body, timeout=cfg.timeout_s, headers={
                    "Content-Type": "application/json", "Authorization": sign})
                entry.answer = f"{answer.status_code}" + (f" {answer.text[:80]}" if answer.text else "")
                ok = 200 <= answer.status_code < 300
            except httpx.HTTPError as exc:
                entry.answer = f"{type(exc).__name__}"
                ok = False
            if ok:
                self.counts["delivered"] += 1
                return
            self.counts["failed_attempts"] += 1
            if attempt < len(delays) and retry:
                await asyncio.sleep(delays[attempt])

    def overview(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "sent": [dict(r.__dict__) for r in self.sent]}
