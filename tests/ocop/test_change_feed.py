"""The change feed (PostgreSQL NOTIFY from triggers) and the caches it keeps honest: the API's
token -> principal lookups and product list answers (``ocop.change_feed``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from ocop.accounts.tables import ApiToken, User
from ocop.accounts.tokens import create_token
from ocop.catalog.api import product_page_cache
from ocop.catalog.tables import Certificate, Product
from ocop.change_feed import CHANGE_FEED, CHANNEL, ChangeFeed, FeedCache
from ocop.domain.text import fold
from ocop.marketplace.tables import Listing, Shop
from ocop.producers.tables import Producer
from tests.ocop.web.support import GIA_LAI, make_producer, make_user

ON_POSTGRES = pytest.mark.parametrize("db", ["postgres"], indirect=True)


# ------------------------------------------------------------------------------ pure cache rules


def _live_feed() -> ChangeFeed:
    feed = ChangeFeed()
    feed.live = True  # as if listening; the tests below use a real connection
    return feed


def test_a_notice_drops_only_the_groups_it_concerns() -> None:
    feed = _live_feed()
    pages = product_page_cache(feed, 100)
    for group in (("producer", 5), ("producer", 6), ("area", GIA_LAI, ()), ("all",)):
        pages.put(group, "q", b"body", pages.begin())
    feed.publish("auth:*")  # not about products
    assert pages.weight == 4 * len(b"body")
    feed.publish("catalog:5")  # producer 5's own answers and every area/all answer may include it
    assert pages.get(("producer", 5), "q") is None and pages.get(("area", GIA_LAI, ()), "q") is None
    assert pages.get(("all",), "q") is None and pages.get(("producer", 6), "q") == b"body"
    feed.publish("catalog:*")
    assert pages.weight == 0


def test_an_answer_computed_across_a_notice_is_not_kept() -> None:
    feed = _live_feed()
    pages: FeedCache[bytes] = product_page_cache(feed, 100)
    begun = pages.begin()
    feed.publish("catalog:9")  # arrives while the answer is being read from the database
    pages.put(("producer", 1), "q", b"maybe older than the notice", begun)
    assert pages.get(("producer", 1), "q") is None
    pages.put(("producer", 1), "q", b"fresh", pages.begin())
    assert pages.get(("producer", 1), "q") == b"fresh"


def test_nothing_is_cached_while_the_feed_is_down_and_the_size_is_bounded() -> None:
    feed = ChangeFeed()
    pages: FeedCache[bytes] = product_page_cache(feed, 30)  # bytes
    pages.put(("producer", 1), "q", b"x" * 10, pages.begin())
    assert pages.weight == 0 and pages.get(("producer", 1), "q") is None
    feed.live = True
    for n in range(5):
        pages.put(("producer", n), "q", b"x" * 10, pages.begin())
        pages.get(("producer", 0), "q")  # producer 0's answer is in use: it stays
    assert pages.weight == 30 and pages.get(("producer", 0), "q") == b"x" * 10
    assert pages.get(("producer", 1), "q") is None and pages.get(("producer", 4), "q") == b"x" * 10
    pages.put(("producer", 4), "q", b"y" * 25, pages.begin())  # a replaced answer is weighed anew
    assert pages.weight <= 30 and pages.get(("producer", 4), "q") == b"y" * 25


# ------------------------------------------------------------------ triggers on a real database


async def _listener(url: str) -> tuple[asyncpg.Connection, asyncio.Queue[str]]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    conn = await asyncpg.connect(url)
    await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: queue.put_nowait(payload))
    return conn, queue


async def _notices(queue: asyncio.Queue[str], action: Awaitable[Any], settle: float = 0.3) -> set[str]:
    """What the database announced for ``action`` (notices arrive after the commit)."""
    while not queue.empty():
        queue.get_nowait()
    await action
    got: set[str] = set()
    deadline = time.monotonic() + settle
    while (left := deadline - time.monotonic()) > 0:
        try:
            got.add(await asyncio.wait_for(queue.get(), left))
        except TimeoutError:
            break
    return got


@ON_POSTGRES
async def test_every_writer_is_announced_on_commit_and_only_then(db) -> None:
    a = await make_producer("HTX Tam Quan", "4100259564")
    b = await make_producer("HTX Bàu Đá", "4100100227")
    conn, queue = await _listener(db.url)
    try:
        product = Product(producer=a, sku="A1", name="Rượu", name_folded=fold("Rượu"))
        assert await _notices(queue, product.save()) == {f"catalog:{a}"}
        assert await _notices(queue, Product.update({Product.name: "Rượu Bàu Đá"}).where(
            Product.id == product.id)) == {f"catalog:{a}"}
        # moved to another producer: both catalogues changed
        assert await _notices(queue, Product.update({Product.producer: b}).where(
            Product.id == product.id)) == {f"catalog:{a}", f"catalog:{b}"}
        assert await _notices(queue, Certificate(product=product.id, stars=4).save()) == {f"catalog:{b}"}
        shop = Shop(producer=b, marketplace="tiki", external_shop_id="7")
        assert await _notices(queue, shop.save()) == set()
        listing = Listing(product=product.id, shop=shop.id, seller_sku="A1")
        assert await _notices(queue, listing.save()) == {f"catalog:{b}"}
        # publishing moves listings through states all the time; no cached answer depends on it
        assert await _notices(queue, Listing.update({Listing.state: "live"}).where(
            Listing.id == listing.id)) == set()
        assert await _notices(queue, Producer.update({Producer.legal_name: "HTX Bàu Đá mới"}).where(
            Producer.id == b)) == {f"catalog:{b}"}
        # a raw bulk statement (what imports use) is announced like the ORM's, once per producer
        assert await _notices(queue, Product.raw(
            "UPDATE product SET stock = stock + 1 WHERE producer = {}", b)) == {f"catalog:{b}"}

        async def rolled_back() -> None:
            with pytest.raises(RuntimeError):
                async with Product._meta.db.transaction():
                    await Product.update({Product.stock: 99}).where(Product.id == product.id)
                    raise RuntimeError("abandon")

        assert await _notices(queue, rolled_back()) == set()

        user_id = await make_user("tamquan", "producer", producer_id=a)
        token_row, _ = await create_token(user_id, "script")
        assert await _notices(queue, User.update({User.last_login_at: User.created_at}).where(
            User.id == user_id)) == set()  # signing in is not a change of who the user is
        assert await _notices(queue, ApiToken.update({ApiToken.last_used_at: ApiToken.created_at}).where(
            ApiToken.id == token_row["id"])) == set()
        promoted = User.update({User.role: "staff"}).where(User.id == user_id)
        assert await _notices(queue, promoted) == {"auth:*"}
        assert await _notices(queue, ApiToken.update({ApiToken.revoked_at: ApiToken.created_at}).where(
            ApiToken.id == token_row["id"])) == {"auth:*"}
        assert await _notices(queue, Product.delete().where(Product.id == product.id)) == {f"catalog:{b}"}
        assert await _notices(queue, Product.raw("TRUNCATE certificate")) == {"catalog:*"}
    finally:
        await conn.close()


# -------------------------------------------------------------------- the API with caches on


OpenApp = Callable[..., Any]


async def _seed() -> tuple[int, str]:
    a = await make_producer("HTX Tam Quan", "4100259564")
    for n in range(3):
        name = f"Bánh tráng {n}"
        await Product(producer=a, sku=f"BT{n}", name=name, name_folded=fold(name)).save()
    user_id = await make_user("tamquan", "producer", producer_id=a)
    return a, (await create_token(user_id, "script"))[1]


async def _eventually(check: Callable[[], Awaitable[bool]], within: float = 3.0) -> float:
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < within, "the change did not show within the time allowed"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def _outside(url: str, sql: str, *args: Any) -> None:
    """A write from another process's connection: only the database's notice can tell us."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


@asynccontextmanager
async def _cached_app(db: Any, app_client: Any, redis_url: str) -> AsyncIterator[tuple[Any, Any]]:
    """The app with its caches on, once its feed listens (a context manager, not a fixture: the
    app's lifespan must start and end in the same task)."""
    async with app_client(database_url=db.url, redis_url=redis_url, api_cache_mb=4) as (app, client):
        await _eventually(lambda: asyncio.sleep(0, result=app.state[CHANGE_FEED].live))
        yield app, client


@ON_POSTGRES
async def test_cached_answers_follow_writes_of_other_processes(db, app_client, redis_url) -> None:
    producer, token = await _seed()
    async with _cached_app(db, app_client, redis_url) as (app, client):
        auth = {"authorization": f"Bearer {token}"}

        async def names() -> list[str]:
            response = await client.get("/api/v1/products", headers=auth)
            assert response.status_code == 200, response.text
            return [p["name"] for p in response.json()["items"]]

        assert await names() == ["Bánh tráng 0", "Bánh tráng 1", "Bánh tráng 2"]
        # The answer really is served from the cache: a write nobody announces stays unseen.
        await _outside(db.url, "ALTER TABLE product DISABLE TRIGGER ocop_changes_product")
        try:
            await _outside(db.url, "UPDATE product SET name = 'Ẩn' WHERE sku = 'BT0'")
            assert await names() == ["Bánh tráng 0", "Bánh tráng 1", "Bánh tráng 2"]
        finally:
            await _outside(db.url, "ALTER TABLE product ENABLE TRIGGER ocop_changes_product")
        # An announced write from elsewhere shows at once (within the notice's delivery).
        await _outside(db.url, "UPDATE product SET name = 'Bánh tráng mới', "
                       "name_folded = 'banh trang moi' "
                       "WHERE sku = 'BT1'")
        took = await _eventually(lambda: _has(names, "Bánh tráng mới"))
        assert took < 1.0
        await _outside(db.url, "INSERT INTO certificate (product, stars, decision_number, issuing_body, "
                       "scan_key, created_at) SELECT id, 5, '', '', '', now() FROM product WHERE sku = 'BT2'")

        async def stars() -> bool:
            items = (await client.get("/api/v1/products", headers=auth)).json()["items"]
            return any(p["stars"] == 5 for p in items)

        await _eventually(stars)
        # Revoking the token elsewhere ends its use here.
        await _outside(db.url, "UPDATE api_token SET revoked_at = now()")

        async def refused() -> bool:
            return (await client.get("/api/v1/products", headers=auth)).status_code == 401

        await _eventually(refused)


async def _has(names: Callable[[], Awaitable[list[str]]], name: str) -> bool:
    return name in await names()


@ON_POSTGRES
async def test_a_write_through_this_process_is_seen_by_its_next_read(db, app_client, redis_url) -> None:
    _, token = await _seed()
    async with _cached_app(db, app_client, redis_url) as (app, client):
        auth = {"authorization": f"Bearer {token}"}
        assert (await client.get("/api/v1/products", headers=auth)).json()["total"] == 3
        # With the database silent, only the process's own bookkeeping can make the new product show.
        await _outside(db.url, "ALTER TABLE product DISABLE TRIGGER ocop_changes_product")
        try:
            created = await client.post("/api/v1/products", headers=auth,
                                        json={"name": "Mật ong hoa cà phê", "draft": True})
            assert created.status_code == 201, created.text
            assert (await client.get("/api/v1/products", headers=auth)).json()["total"] == 4
        finally:
            await _outside(db.url, "ALTER TABLE product ENABLE TRIGGER ocop_changes_product")


@ON_POSTGRES
async def test_losing_the_feed_turns_caching_off_until_it_is_back(db, app_client, redis_url) -> None:
    _, token = await _seed()
    async with _cached_app(db, app_client, redis_url) as (app, client):
        auth = {"authorization": f"Bearer {token}"}
        feed: ChangeFeed = app.state[CHANGE_FEED]
        assert (await client.get("/api/v1/products", headers=auth)).json()["total"] == 3
        await _outside(db.url, "ALTER TABLE product DISABLE TRIGGER ocop_changes_product")
        try:
            await _outside(db.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE application_name = 'ocop-change-feed'")
            await _eventually(lambda: asyncio.sleep(0, result=not feed.live))
            # notices may have been missed: nothing cached is trusted, nothing new is kept
            await _outside(db.url, "DELETE FROM product WHERE sku = 'BT0'")
            assert (await client.get("/api/v1/products", headers=auth)).json()["total"] == 2
            await _eventually(lambda: asyncio.sleep(0, result=feed.live))  # it reconnects by itself
            await _outside(db.url, "DELETE FROM product WHERE sku = 'BT1'")
            assert (await client.get("/api/v1/products", headers=auth)).json()["total"] == 1
        finally:
            await _outside(db.url, "ALTER TABLE product ENABLE TRIGGER ocop_changes_product")
