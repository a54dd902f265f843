"""End to end: the sandbox marketplace makes orders (completed, shipped, cancelled, returned, on both
sides of a Vietnamese month boundary; one product sells as four variants, its orders on their SKUs),
the order sync brings them in, and every sales figure of the dashboard equals the one computed here,
independently, from the sandbox's own order records — to the đồng. The variant product's sales by
variant add up to its figure."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from ocop.catalog.tables import Certificate, Product, Variant
from ocop.domain.dates import VN_TZ
from ocop.marketplace.jobs import dispatch_due
from ocop.marketplace.publishing import request_publish
from ocop.marketplace.sync import sync_shop_orders, sync_statuses
from ocop.marketplace.tables import Listing, Shop
from ocop.producers.tables import Producer
from ocop.reports import kpis
from ocop.reports.period import Period
from ocop.reports.scope import Filters, Scope
from ocop.marketplace.variant_sales import product_sales
from tests.ocop.marketplace.conftest import connect_shop, make_producer, make_product, run_worker_burst
from tests.ocop.marketplace.test_variant_stock import with_variants
from tests.ocop.reports.conftest import COMMUNE_A, GIA_LAI

STATUSES = ("completed", "delivered", "shipped", "cancelled", "returned")
NOT_SALES = ("cancelled", "returned")


def month_boundary(now: float) -> datetime:
    """00:00 in Vietnam on the 1st of this month (of the previous month right after midnight)."""
    local = datetime.fromtimestamp(now, VN_TZ)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if now - start.timestamp() < 3 * 3600:
        start = (start - timedelta(days=1)).replace(day=1)
    return start.astimezone(UTC)


async def test_dashboard_reconciles_with_the_sandbox_to_the_dong(db: Any, rt: Any, sandbox: Any, settings: Any,
                                                                  redis_url: str, arq_redis: Any) -> None:
    producer = await make_producer()
    await Producer.update({Producer.province_code: GIA_LAI, Producer.commune_code: COMMUNE_A}).where(
        Producer.id == producer)
    shops = [await connect_shop(rt, producer, m) for m in ("shopee", "lazada")]
    products = []
    for n, (group, stars) in enumerate(((1, 4), (2, 5), (1, 3))):
        product = await make_product(settings, producer, f"RC-{n}", name=f"Sản phẩm {n}", price=45_000 + n * 17_000)
        await Product.update({Product.ocop_group: group}).where(Product.id == product)
        await Certificate.update({Certificate.stars: stars}).where(Certificate.product == product)
        products.append(product)
        if n == 0:  # sold as 2 × 2 variants: its orders name a variant's SKU
            await with_variants(product, f"RC-{n}", [40, 40, 40, 40])
        for shop in shops:
            await request_publish(product, shop.id, cause="test")
    await dispatch_due(arq_redis)
    await run_worker_burst(settings, redis_url, rt)
    await sync_statuses(rt)
    assert await Listing.count().where(Listing.state == "live") == 6

    now = time.time()
    boundary = month_boundary(now).timestamp()
    windows = [(boundary - 3 * 3600, boundary - 1), (boundary, min(boundary + 3 * 3600, now - 120)),
               (boundary + 5 * 86400 if boundary + 5 * 86400 < now - 120 else boundary + 60, now - 120)]
    for shop in shops:
        for status in STATUSES:
            for since, until in windows:
                sandbox.admin("POST", "/orders", {"marketplace": shop.marketplace, "shop_id": shop.external_shop_id,
                                                  "count": 4, "since": since, "until": until, "status": status})
        await Shop.update({Shop.orders_synced_until: datetime.fromtimestamp(boundary - 86400, UTC)}).where(
            Shop.id == shop.id)
        await sync_shop_orders(rt, await Shop.objects().where(Shop.id == shop.id).first())

    # --- the figures, worked out from the sandbox's own records only (plus our catalogue's attributes)
    settled = time.time()  # forced statuses settle within seconds of the order's creation
    catalogue = {r["seller_sku"]: r["product"] for r in await Listing.select(Listing.seller_sku, Listing.product)}
    catalogue |= {r["sku"]: r["product"] for r in await Variant.select(Variant.sku, Variant.product)}
    by_sku: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    group = {r["id"]: r["ocop_group"] for r in await Product.select(Product.id, Product.ocop_group)}
    stars = {r["product"]: r["stars"] for r in await Certificate.select(Certificate.product, Certificate.stars)}
    first_month = datetime.fromtimestamp(boundary, VN_TZ).date().replace(day=1) - timedelta(days=1)
    period = Period(first_month.replace(day=1), datetime.fromtimestamp(now, VN_TZ).date(), "custom")
    expected: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    orders_in: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    cancelled = returned = 0
    for shop in shops:
        for order in sandbox.state.shop_orders(shop.marketplace, shop.external_shop_id).values():
            created = datetime.fromtimestamp(order.created_at, VN_TZ)
            if not period.start <= created.date() <= period.end:
                continue
            status = order.status_at(settled)
            cancelled += status == "cancelled"
            returned += status == "returned"
            if status in NOT_SALES:
                continue
            keys = {"month": f"{created.year:04d}-{created.month:02d}", "marketplace": shop.marketplace, "total": ""}
            for line in order.lines:
                product = catalogue[line.seller_sku]
                if product == products[0]:
                    by_sku[line.seller_sku][0] += line.quantity
                    by_sku[line.seller_sku][1] += line.quantity * line.unit_price_vnd
                line_keys = {**keys, "group": str(group[product]), "stars": str(stars[product]),
                             "product": str(product)}
                for dim, key in line_keys.items():
                    cell = expected[dim][key]
                    orders_in[dim][key].add(order.order_id)
                    cell[1] += line.quantity
                    cell[2] += line.quantity * line.unit_price_vnd
    for dim, cells in expected.items():
        for key, cell in cells.items():
            cell[0] = len(orders_in[dim][key])
    assert cancelled and returned and len(expected["month"]) == 2  # both sides of the month boundary

    board = await kpis.dashboard(period, Scope(province_code=GIA_LAI), Filters())

    def got(rows: list[Any]) -> dict[str, list[int]]:
        return {r.key: [r.orders, r.units, r.revenue_vnd] for r in rows if r.orders or r.revenue_vnd}

    assert [board.sales.orders, board.sales.units, board.sales.revenue_vnd] == expected["total"][""]
    assert (board.sales.cancelled_orders, board.sales.returned_orders) == (cancelled, returned)
    assert got(board.by_month) == expected["month"]
    assert got(board.by_marketplace) == expected["marketplace"]
    assert got(board.by_group) == expected["group"]
    assert got(board.by_stars) == expected["stars"]
    assert {str(r.id): [r.orders, r.units, r.revenue_vnd] for r in board.top_products} == expected["product"]
    assert [(r.id, r.revenue_vnd) for r in board.top_producers] == [(producer, expected["total"][""][2])]
    assert got(board.by_commune) == {str(COMMUNE_A): expected["total"][""]}

    # the variant product: its sales by variant are the sandbox's, and add up to the product's figure
    split = await product_sales(products[0], period.start_utc, period.end_utc)
    assert len(by_sku) == 4 and {r.sku: [r.units, r.revenue_vnd] for r in split.by_variant if r.units} == by_sku
    assert [split.orders, split.units, split.revenue_vnd] == expected["product"][str(products[0])]
    assert sum(r.units for r in split.by_variant) == split.units
    assert sum(r.revenue_vnd for r in split.by_variant) == split.revenue_vnd
