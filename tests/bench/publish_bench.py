"""Publish 1,000 listings to a sandbox shop that allows R calls/s, through real arq workers, and
report the achieved call rate against R (target >= 0.9).

    .venv/bin/python tests/bench/publish_bench.py [--listings 1000] [--rate 60]

The limit is enforced twice, like in production: the sandbox answers 429 beyond R calls/s per
shop, and our shared Redis rate limiter paces every worker to R. The baseline in the same run is
the limit itself; the ratio says how much of the budget the pipeline actually uses (idle gaps,
retries after 429 and per-job overhead all lower it). Also printed: 429 answers seen, peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx  # noqa: E402
from arq.connections import create_pool  # noqa: E402

from connectors.http import Limits, RateLimit  # noqa: E402
from ocop import db, piccolo_app  # noqa: E402
from ocop.catalog.tables import Certificate, Image, Product  # noqa: E402
from ocop.jobs.queue import redis_settings  # noqa: E402
from ocop.assembly import WORKER
from ocop.jobs.worker import build_worker  # noqa: E402
from ocop.marketplace import shops  # noqa: E402
from ocop.marketplace.jobs import dispatch_due  # noqa: E402
from ocop.marketplace.publishing import request_publish  # noqa: E402
from ocop.marketplace.runtime import build_runtime  # noqa: E402
from ocop.marketplace.tables import Listing  # noqa: E402
from ocop.producers.tables import Producer  # noqa: E402
from ocop.settings import Settings  # noqa: E402
from ocop.storage import media_store  # noqa: E402
from tests.ocop.marketplace.conftest import consent, jpeg  # noqa: E402
from tests.support.servers import free_port, redis_server  # noqa: E402


async def bench(listings: int, rate: int, tmp: Path, redis_url: str) -> None:
    settings = Settings(var_dir=tmp / "var", secret_key="bench-secret-0123456789abcdef0123", sandbox=True,
                        sandbox_port=free_port(), publish_backoff_s=0.2, worker_concurrency=24)
    # The sandbox runs in its own process (as a marketplace would), so it does not share our GIL.
    port = free_port()
    sandbox = subprocess.Popen([sys.executable, "-m", "ocop", "sandbox", "--port", str(port), "--review-seconds", "0",
                                "--rejection-share", "0"], env={**os.environ, "OCOP_SECRET_KEY": settings.secret_key},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{base_url}/_admin/config", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    stop = sandbox.terminate
    settings = settings.with_overrides(sandbox_url=base_url)
    httpx.post(f"{base_url}/_admin/limits", json={"shop_calls_per_s": rate, "app_calls_per_s": 0}).raise_for_status()
    engine = db.engine_from_url(f"sqlite:///{tmp}/bench.db")
    await piccolo_app.migrate(engine)
    await db.prepare(engine)
    redis = await create_pool(redis_settings(redis_url))
    rt = build_runtime(settings, redis=redis, limits={"shopee": Limits(per_shop=RateLimit(rate, 1.0, burst=max(1, rate // 2)))})
    calls = {"n": 0, "429": 0}

    async def count(response: httpx.Response) -> None:
        if "/_admin" not in response.request.url.path:
            calls["n"] += 1
            calls["429"] += response.status_code == 429

    rt.env.http.client.event_hooks["response"].append(count)
    try:
        producer = Producer(kind="htx", legal_name="HTX Bench", name_folded="htx bench", tax_code="0100109106")
        await producer.save()
        back = consent(shops.authorize_url(rt.env, settings.resolved_secret_key(), producer.id, "shopee"))
        shop = await shops.complete_authorization(rt.env, rt.cipher, settings.resolved_secret_key(), "shopee",
                                                  code=back["code"], state=back["state"], shop_id=back["shop_id"])
        key = await media_store(settings).put(jpeg())
        rendition = {"key": key, "width": 800, "height": 800, "bytes": 1}
        await Product.insert(*[Product(producer=producer.id, sku=f"B-{n:05d}", name=f"Sản phẩm {n}", name_folded=f"sp {n}",
                                       ocop_group=1, description="Bench", unit="hộp", weight_g=300, length_mm=100,
                                       width_mm=100, height_mm=100, price_vnd=50000, stock=5, status="active")
                               for n in range(listings)])
        ids = [r["id"] for r in await Product.select(Product.id)]
        await Certificate.insert(*[Certificate(product=i, stars=4, decision_number="1/QĐ-UBND") for i in ids])
        await Image.insert(*[Image(product=i, original_key=key, status="ready", renditions={"shopee": rendition})
                             for i in ids])
        for i in ids:
            await request_publish(i, shop.id, cause="bench")
        calls["n"] = calls["429"] = 0
        worker = build_worker(settings, redis_url, plan=WORKER, handle_signals=False, ctx={"market": rt})
        task = asyncio.create_task(worker.async_run())
        started = time.perf_counter()
        while True:
            await dispatch_due(redis, limit=listings)
            if not await Listing.exists().where(Listing.next_attempt_at.is_not_null()):
                break
            await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - started
        task.cancel()
        await worker.close()
        done = await Listing.count().where(Listing.state.is_in(["in_review", "live"]))
        failed = await Listing.select(Listing.last_error).where(Listing.state == "failed").limit(3)
        if failed:
            print("not published, e.g.:", [r["last_error"][:160] for r in failed])
        achieved = calls["n"] / elapsed
        print(f"listings: {listings} ({done} published)  calls: {calls['n']}  in {elapsed:.1f} s")
        print(f"limit: {rate} calls/s per shop   achieved: {achieved:.1f} calls/s   "
              f"achieved/limit: {achieved / rate:.2f} (target >= 0.90: {'MET' if achieved / rate >= 0.9 else 'NOT MET'})")
        print(f"429 answers: {calls['429']}   peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    finally:
        await rt.aclose()
        await db.close(engine)
        stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listings", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, redis_server() as redis_url:
        asyncio.run(bench(args.listings, args.rate, Path(tmp), redis_url))


if __name__ == "__main__":
    main()
