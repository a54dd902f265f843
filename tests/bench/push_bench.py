"""From an order placed on the marketplace to the order in ocop, with pushes and with polling only,
through the real pieces: the sandbox marketplace's HTTP server (pushing), ``ocop serve`` (the push
endpoints), a real Redis and an ``ocop worker`` process.

    .venv/bin/python tests/bench/push_bench.py [--orders 30] [--polled 8] [--postgres]

A product is live on Shopee, Lazada and TikTok Shop. Reported:

- acknowledgement: the time ``POST /push/{marketplace}`` takes to answer a signed push (verify,
  store, enqueue), p50 and p95 over many pushes (the marketplaces' deadline: Lazada 500 ms; ours
  200 ms);
- with pushes: for each order placed on the sandbox, the time until its row is in ocop's database
  and until the dashboard's query (``ocop.reports.kpis.sales_totals``, this month, everything) counts
  it; p50 and p95 (target p95 <= 5 s);
- polling only (pushes off; the baseline in the same run): the same, with the order sync at its
  shortest interval (1 minute; ``OCOP_SYNC_INTERVAL_MINUTES``, default 15, so the default is 15 times
  slower still);
- peak RSS of this process (the sandbox included) and of the service processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx  # noqa: E402

from connectors.sandbox.config import PushConfig  # noqa: E402
from connectors.sandbox.push import signature  # noqa: E402
from ocop.domain.dates import VN_TZ  # noqa: E402
from ocop.marketplace.apps import push_url, sandbox_apps  # noqa: E402
from ocop.alerts.tables import Notification  # noqa: E402
from ocop.events.outbox import NEW_ORDER  # noqa: E402
from ocop.marketplace.tables import Order  # noqa: E402
from ocop.reports.kpis import sales_totals  # noqa: E402
from ocop.reports.period import month_period  # noqa: E402
from ocop.reports.scope import Scope  # noqa: E402
from tests.ocop.web.support import make_producer, make_user  # noqa: E402
from tests.bench.stock_bench import MARKETS, connect_shops, database, open_stack, pct, publish  # noqa: E402
from tests.support.servers import free_port, redis_server  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


class Process:
    """An ``ocop`` process (``serve`` or ``worker``)."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.env, self.log, self.args = env, log, args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "ocop", *self.args], env=self.env, cwd=REPO,
                                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def dashboard_orders() -> int:
    return (await sales_totals(month_period(datetime.now(VN_TZ).date()), Scope())).orders


async def notified(user_id: int) -> int:
    """The producer's new-order notifications (the in-app list gets every event, one per order)."""
    return await Notification.count().where((Notification.user == user_id) & (Notification.kind == NEW_ORDER))


async def wait_arrivals(pending: dict[str, float], base: int, timeout_s: float, *, user_id: int,
                        notes_base: int) -> tuple[list[float], list[float], list[float]]:
    """Until every pending order (id → placed at, perf_counter) is in the database, counted by the
    dashboard and in the producer's notifications: the three latencies of each."""
    in_db: list[float] = []
    on_dashboard: list[float] = []
    in_notes: list[float] = []
    seen: dict[str, float] = {}
    counted = 0
    deadline = time.perf_counter() + timeout_s
    total = len(pending)
    while (len(on_dashboard) < total or len(in_notes) < total) and time.perf_counter() < deadline:
        now = time.perf_counter()
        rows = await Order.select(Order.marketplace_order_id).where(Order.marketplace_order_id.is_in(list(pending)))
        for row in rows:
            oid = row["marketplace_order_id"]
            if oid not in seen:
                seen[oid] = now
                in_db.append(now - pending[oid])
        orders = await dashboard_orders() - base
        while counted < min(orders, len(seen)):
            # the dashboard counts orders, not which: the k-th counted is the k-th to arrive
            oid = sorted(seen, key=seen.get)[counted]  # type: ignore[arg-type]
            on_dashboard.append(now - pending[oid])
            counted += 1
        notes = await notified(user_id) - notes_base
        while len(in_notes) < min(notes, len(seen)):  # likewise: the k-th notification, the k-th order
            oid = sorted(seen, key=seen.get)[len(in_notes)]  # type: ignore[arg-type]
            in_notes.append(now - pending[oid])
        await asyncio.sleep(0.02)
    return in_db, on_dashboard, in_notes


async def bench(args: argparse.Namespace, tmp: Path, redis_url: str, database_url: str) -> int:
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    stack = await open_stack(tmp, redis_url, database_url, base_url=site,
                             env={"OCOP_BASE_URL": site, "OCOP_API_RATE_PER_MIN": "0"})
    settings, state, redis, rt, env = stack.settings, stack.state, stack.redis, stack.rt, stack.env
    server = Process(env, tmp / "serve.log", "serve", "--host", "127.0.0.1", "--port", str(port))
    worker = Process(env, tmp / "worker.log", "worker")
    server.start()
    worker.start()
    rng = random.Random(15)
    failed = 0
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{site}/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            producer = await make_producer("HTX Bench Gia Lai", "0100109106")
            user_id = await make_user("bench.producer", "producer", producer_id=producer)
            shops = await connect_shops(stack, producer)
            _, (sku,) = await publish(rt, settings, redis, shops, producer, 100_000)

            # ---------------------------------------------------------- acknowledgement time
            apps = sandbox_apps(settings)
            acks: list[float] = []
            for n in range(args.acks):
                market = MARKETS[n % 3]
                body = (b'{"shop_id": 1, "code": 5, "timestamp": %d, "data": {"n": %d}}' % (time.time(), n)
                        if market == "shopee" else
                        b'{"seller_id": "1", "message_type": 99, "data": {"n": %d}}' % n if market == "lazada" else
                        b'{"type": 99, "tts_notification_id": "b%d", "shop_id": "1", "data": {}}' % n)
                sign = signature(market, push_url(settings, market), apps[market].app_key, apps[market].app_secret,
                                 body)
                started = time.perf_counter()
                answer = await client.post(f"{site}/push/{market}", content=body, headers={"Authorization": sign})
                acks.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    print(f"acknowledgement: {market} answered {answer.status_code} {answer.text[:200]}")
                    failed = 1
            a50, a95 = pct(acks, 0.5) * 1000, pct(acks, 0.95) * 1000
            print(f"acknowledgement of a signed push ({args.acks} pushes, {args.database}): p50 {a50:.1f} ms, "
                  f"p95 {a95:.1f} ms (target <= 200 ms: {'MET' if a95 <= 200 else 'NOT MET'})")
            failed |= a95 > 200

            # ---------------------------------------------------------- with pushes
            for market in MARKETS:
                state.config.pushes[market] = PushConfig(callback_url=push_url(settings, market))
            await asyncio.sleep(1.0)  # the sandbox looks at the shops once before pushing their changes
            in_db: list[float] = []
            on_board: list[float] = []
            in_notes: list[float] = []
            for n in range(args.orders):
                shop = shops[n % 3]
                base, notes_base = await dashboard_orders(), await notified(user_id)
                order = state.place_order(shop.marketplace, shop.external_shop_id, sku, 1)
                assert order is not None
                got_db, got_board, got_notes = await wait_arrivals(
                    {order.order_id: time.perf_counter()}, base, 30, user_id=user_id, notes_base=notes_base)
                if not got_board or not got_notes:
                    print(f"with pushes: order {order.order_id} ({shop.marketplace}) not in ocop "
                          f"(dashboard and notifications) within 30 s")
                    failed = 1
                in_db += got_db
                on_board += got_board
                in_notes += got_notes
                await asyncio.sleep(rng.uniform(0.05, 0.3))
            d50, d95, b50, b95 = (pct(in_db, 0.5), pct(in_db, 0.95), pct(on_board, 0.5), pct(on_board, 0.95))
            print(f"with pushes: {len(on_board)}/{args.orders} orders (Shopee, Lazada, TikTok Shop in turn): "
                  f"to the database p50 {d50:.2f} s, p95 {d95:.2f} s; on the dashboard query p50 {b50:.2f} s, "
                  f"p95 {b95:.2f} s (target p95 <= 5 s: {'MET' if b95 <= 5 else 'NOT MET'})")
            n50, n95 = pct(in_notes, 0.5), pct(in_notes, 0.95)
            print(f"with pushes: in the producer's notifications p50 {n50:.2f} s, p95 {n95:.2f} s "
                  f"(target p95 <= 5 s: {'MET' if n95 <= 5 else 'NOT MET'})")
            failed |= not (b95 <= 5) or not (n95 <= 5)

            # ---------------------------------------------------------- polling only (baseline)
            for market in MARKETS:
                state.config.pushes[market] = PushConfig()
            worker.stop()
            worker.env = {**env, "OCOP_SYNC_INTERVAL_MINUTES": "1"}
            worker.start()
            base, notes_base = await dashboard_orders(), await notified(user_id)
            pending: dict[str, float] = {}
            spread = 75.0
            for n in range(args.polled):
                await asyncio.sleep(spread / args.polled * rng.uniform(0.5, 1.5))
                shop = shops[n % 3]
                order = state.place_order(shop.marketplace, shop.external_shop_id, sku, 1)
                assert order is not None
                pending[order.order_id] = time.perf_counter()
            got_db, got_board, got_notes = await wait_arrivals(pending, base, 150, user_id=user_id,
                                                               notes_base=notes_base)
            p50, p95, q50, q95 = pct(got_db, 0.5), pct(got_db, 0.95), pct(got_board, 0.5), pct(got_board, 0.95)
            print(f"polling only, every 1 minute: {len(got_board)}/{args.polled} orders: to the database "
                  f"p50 {p50:.1f} s, p95 {p95:.1f} s; on the dashboard query p50 {q50:.1f} s, p95 {q95:.1f} s "
                  f"(at the default 15-minute interval: about 15 times that); each: "
                  f"{', '.join(f'{v:.1f}' for v in sorted(got_board))} s; in the notifications p50 "
                  f"{pct(got_notes, 0.5):.1f} s, p95 {pct(got_notes, 0.95):.1f} s")
            if got_board:
                print(f"ratio polling/pushes on the dashboard query: p50 {q50 / b50:.0f}x, p95 {q95 / b95:.0f}x")
            pushed = state.pusher.overview()["counts"]
            print(f"sandbox pushes: {pushed}")
            print(f"peak RSS: this process (sandbox included) "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB", end="")
    finally:
        server.stop()
        worker.stop()
        print(f"; ocop serve and worker (largest child) "
              f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB")
        await stack.close()
    return failed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=30, help="orders followed one by one with pushes")
    parser.add_argument("--polled", type=int, default=8, help="orders followed with polling only")
    parser.add_argument("--acks", type=int, default=300, help="signed pushes timed for the acknowledgement")
    parser.add_argument("--postgres", dest="database", action="store_const", const="postgres", default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, redis_server() as redis_url, database(args.database, Path(tmp)) as url:
        sys.exit(asyncio.run(bench(args, Path(tmp), redis_url, url)))


if __name__ == "__main__":
    main()
