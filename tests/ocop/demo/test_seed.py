"""The demo catalogue: realistic, valid by our own rules, idempotent; and ``ocop demo`` serving it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from stdnum.vn import mst
from vietnam_provinces import Ward

from ocop.accounts.passwords import verify_password
from ocop.accounts.tables import User
from media.store import LocalStore
from ocop.catalog.tables import Certificate, Image, Product, Variant
from ocop.db import json_value
from ocop.demo.seed import DEMO_PASSWORD, seed
from ocop.domain.text import fold
from ocop.producers.tables import Producer
from tests.support.servers import free_port, sandbox_port, wait_http


async def test_seed_is_realistic_valid_and_idempotent(db, tmp_path: Path) -> None:
    first = await seed(store=LocalStore(tmp_path / "media"))
    assert first.producers == 5 and first.products == 10
    second = await seed(store=LocalStore(tmp_path / "media"))
    assert second.producers == 0 and second.products == 0 and second.logins == []
    assert await Producer.count() == 5 and await Product.count() == 10 and await Certificate.count() == 10

    gia_lai = {int(w.code): w.name for w in Ward.iter_all() if int(w.province_code) == 52}
    for producer in await Producer.select():
        assert mst.is_valid(producer["tax_code"]), producer["tax_code"]
        assert producer["commune_code"] in gia_lai
        assert producer["phone"].startswith("+84")
    for product in await Product.select():
        assert product["name_folded"] == fold(product["name"])
        assert isinstance(product["price_vnd"], int) and product["price_vnd"] > 0
    stars = {c["stars"] for c in await Certificate.select(Certificate.stars)}
    assert stars == {3, 4, 5}
    # one product sells in sizes and packs: its own price and stock are its variants' lowest and sum
    coffee = await Product.objects().where(Product.sku == "CAPHE-500").first()
    variants = await Variant.select().where(Variant.product == coffee.id).order_by(Variant.position)
    assert [(v["option1"], v["option2"]) for v in variants] == [
        ("250 g", "Túi"), ("250 g", "Hộp quà"), ("500 g", "Túi"), ("500 g", "Hộp quà")]
    assert [a["name"] for a in json_value(coffee.variation)] == ["Khối lượng", "Quy cách"]
    assert coffee.price_vnd == min(v["price_vnd"] for v in variants)
    assert coffee.stock == sum(v["stock"] for v in variants)
    assert await Variant.count() == 4  # the second seed added none
    for cert in await Certificate.select():
        months = (cert["expires_on"].year - cert["issued_on"].year) * 12 + cert["expires_on"].month - cert["issued_on"].month
        assert months == 36

    images = await Image.select().output(load_json=True)
    assert len(images) == 10 and {i["status"] for i in images} == {"ready"}
    assert all(i["renditions"]["shopee"]["width"] == i["renditions"]["shopee"]["height"] for i in images)

    logins = {u["username"]: u for u in await User.select()}
    assert {"admin", "canbo.gialai", "canbo.tuyphuoc", "bauda", "tamquan", "goboi", "chuse", "phugia"} <= set(logins)
    assert verify_password(logins["bauda"]["password_hash"], DEMO_PASSWORD)
    assert logins["bauda"]["producer"] is not None and logins["admin"]["role"] == "admin"


def test_ocop_demo_serves_the_seeded_site(tmp_path: Path) -> None:
    port, sandbox_base = free_port(), sandbox_port()
    env = {**os.environ, "OCOP_SANDBOX_PORT": str(sandbox_base), "OCOP_REDIS_URL": "", "OCOP_DATABASE_URL": ""}
    env.pop("OCOP_VAR_DIR", None)
    # Output goes to a file, not a pipe: the demo logs every marketplace call while it seeds, and a
    # pipe nobody reads until the end fills up and blocks the process.
    log_path = tmp_path / "demo.log"
    log_file = log_path.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "ocop", "demo", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=log_file, stderr=subprocess.STDOUT, text=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/readyz", proc, 60)
        home = httpx.get(f"http://127.0.0.1:{port}/", headers={"accept": "text/html"})
        assert "<strong>5</strong><span>chủ thể OCOP" in home.text
        sandbox = httpx.get(f"http://127.0.0.1:{sandbox_base}/", timeout=5)
        assert sandbox.status_code == 200
        # The marketplace side is seeded through the sandbox itself once the service is up: shops
        # connected on its consent page, listings published by the worker, months of orders synced.
        seeded = _wait_for_marketplace_seed(tmp_path / "var" / "ocop.db", deadline=time.monotonic() + 240)
        assert seeded["shops"] == 5 and seeded["live"] >= 5 and seeded["orders"] >= 100, seeded
        assert seeded["days"] >= 90, seeded  # a few months of sales for the dashboard
        held = httpx.get(f"http://127.0.0.1:{sandbox_base}/_admin/items", timeout=5).json()
        on_sandbox = {str(item["item_id"]) for market in held.values() for shop in market.values()
                      for items in shop.values() for item in items}
        assert seeded["item_ids"] <= on_sandbox  # every listing we call published exists on the marketplace
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        log_file.close()
    out = log_path.read_text()
    assert proc.returncode == 0, out
    assert f"http://127.0.0.1:{port}/" in out and DEMO_PASSWORD in out
    assert (tmp_path / "var" / "ocop.db").exists()
    assert not (tmp_path / "var" / "redis.sock").exists()  # embedded Redis stopped cleanly


def _wait_for_marketplace_seed(path: Path, *, deadline: float) -> dict[str, object]:
    import sqlite3

    while True:
        with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn:
            shops = conn.execute("SELECT count(*) FROM shop WHERE status = 'connected'").fetchone()[0]
            live = conn.execute("SELECT count(*) FROM listing WHERE state = 'live'").fetchone()[0]
            orders, first, last = conn.execute(
                "SELECT count(*), min(created_at), max(created_at) FROM market_order").fetchone()
            item_ids = {r[0] for r in conn.execute("SELECT external_item_id FROM listing WHERE external_item_id != ''")}
            synced = conn.execute("SELECT count(*) FROM shop WHERE orders_synced_until IS NULL").fetchone()[0] == 0
        if shops == 5 and live >= 5 and orders and synced:
            from datetime import datetime

            days = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).days
            return {"shops": shops, "live": live, "orders": orders, "days": days, "item_ids": item_ids}
        assert time.monotonic() < deadline, f"demo marketplace not seeded: {shops} shops, {live} live, {orders} orders"
        time.sleep(1)
