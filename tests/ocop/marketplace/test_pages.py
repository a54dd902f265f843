"""The publishing pages and API through the real app: connect a shop with the marketplace's own
consent page, publish, see the state; other producers and roles are kept out."""

from __future__ import annotations

import httpx

from ocop.marketplace.tables import Listing, Shop
from tests.ocop.marketplace.conftest import TEST_SECRET, consent, make_product, run_worker_burst
from tests.ocop.web.support import api_headers, csrf, login, make_producer, make_user


async def test_producer_connects_publishes_and_sees_the_state(db, app_client, sandbox, redis_url, arq_redis,
                                                             rt) -> None:
    mine = await make_producer("HTX Gò Bồi", "0100109106")
    other = await make_producer("HTX Khác", "4100259564")
    await make_user("goboi", "producer", producer_id=mine)
    await make_user("khac", "producer", producer_id=other)
    await make_user("canbo", "staff", province=52)
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (app, client):
        await login(client, "goboi")
        page = await client.get("/shops", headers={"accept": "text/html"})
        assert page.status_code == 200 and "Chưa kết nối gian hàng nào." in page.text
        started = await client.get(f"/shops/connect/shopee?producer={mine}")
        assert started.status_code == 303 and started.headers["location"].startswith(sandbox.base_url + "/shopee/")
        back = consent(started.headers["location"])  # the seller grants access on Shopee's page
        done = await client.get("/shops/callback/shopee", params=back)
        assert done.status_code == 303 and "msg=connected" in done.headers["location"]
        shop = await Shop.objects().where(Shop.producer == mine).first()
        assert shop is not None and shop.status == "connected"
        assert "Đã kết nối" in (await client.get("/shops", headers={"accept": "text/html"})).text

        # a forged callback (state for another producer / tampered) attaches nothing
        forged = await client.get("/shops/callback/lazada", params={"code": "x", "state": back["state"]})
        assert forged.status_code == 303 and "err=bad_state" in forged.headers["location"]

        product = await make_product(app.state.settings, mine, "NM-PAGE")
        token = await csrf(client, f"/products/{product}/marketplaces")
        published = await client.post(f"/products/{product}/publish", data={"_csrf_token": token, "shop": str(shop.id)})
        assert published.status_code == 303
        listing = await Listing.objects().where(Listing.product == product).first()
        assert listing.state == "pending"
        await run_worker_burst(app.state.settings, redis_url, rt)
        page = await client.get(f"/products/{product}/marketplaces", headers={"accept": "text/html"})
        assert "Sàn đang duyệt" in page.text or "Đang bán" in page.text

        # the JSON API says the same, and re-publishing an unchanged product changes nothing
        answer = await client.post(f"/api/v1/products/{product}/publish", json={"shop_ids": [shop.id]},
                                   headers=api_headers(client))
        assert answer.status_code == 202 and answer.json()[0]["changed"] is False
        shops = (await client.get("/api/v1/shops")).json()
        assert [s["marketplace"] for s in shops] == ["shopee"]

        # another producer sees nothing of it; a producer cannot open the staff sync page
        await client.post("/logout", data={"_csrf_token": await csrf(client, "/shops")})
        await login(client, "khac")
        assert (await client.get(f"/products/{product}/marketplaces", headers={"accept": "text/html"})).status_code == 404
        token = await csrf(client, "/shops")
        stolen = await client.post(f"/products/{product}/publish", data={"_csrf_token": token, "shop": str(shop.id)},
                                   headers={"accept": "text/html"})
        assert stolen.status_code == 404
        assert (await client.get("/api/v1/shops")).json() == []
        assert (await client.get("/sync", headers={"accept": "text/html"})).status_code == 403

        await client.post("/logout", data={"_csrf_token": await csrf(client, "/shops")})
        await login(client, "canbo")
        sync = await client.get("/sync", headers={"accept": "text/html"})
        assert sync.status_code == 200 and "Đồng bộ với sàn" in sync.text
        progress = await client.get(f"/staff/publish/progress?producer={mine}", headers={"accept": "text/html"})
        assert progress.status_code == 200 and "1/1" in progress.text


async def test_oauth_state_is_single_use_and_bound_to_the_starting_session(db, app_client, sandbox,
                                                                           redis_url) -> None:
    """A state works once, and only in the browser session that started the connection: a second
    callback with it, or a callback opened in another session (someone else's link), attaches nothing."""
    mine = await make_producer("HTX Gò Bồi", "0100109106")
    await make_user("goboi", "producer", producer_id=mine)
    async with app_client(database_url=db.url, redis_url=redis_url, secret_key=TEST_SECRET, sandbox=True,
                          sandbox_url=sandbox.base_url) as (app, client):
        await login(client, "goboi")
        started = await client.get(f"/shops/connect/shopee?producer={mine}")
        back = consent(started.headers["location"])
        async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as other:
            await login(other, "goboi")  # the same account, another session
            elsewhere = await other.get("/shops/callback/shopee", params=back)
            assert elsewhere.status_code == 303 and "err=bad_state" in elsewhere.headers["location"]
        assert await Shop.count() == 0
        done = await client.get("/shops/callback/shopee", params=back)
        assert done.status_code == 303 and "msg=connected" in done.headers["location"]
        replayed = await client.get("/shops/callback/shopee", params=back)
        assert replayed.status_code == 303 and "err=bad_state" in replayed.headers["location"]
        assert await Shop.count() == 1
