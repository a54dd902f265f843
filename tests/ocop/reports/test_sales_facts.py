"""The sales fact: what the ingest writes, that it never drifts from the lines, and that the dashboard
built on it equals figures computed in Python straight from the stored order lines — for random
orders with repeated listings, lines of no listing and three or more listings of one OCOP group."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from ocop.catalog.tables import Certificate, Product
from ocop.domain.dates import VN_TZ
from ocop.marketplace.tables import Listing, Order, OrderLine, SalesFact, Shop
from ocop.producers.tables import Producer
from ocop.marketplace import sales_facts as facts
from ocop.marketplace.sales_facts import SoldLine, fact_rows
from ocop.reports.period import Period, parse_period
from ocop.reports.sales import sales_report
from ocop.reports.scope import Filters, Scope
from tests.ocop.reports.conftest import COMMUNE_A, COMMUNE_B, GIA_LAI, Seed, add_order, add_orders, utc

FACT_COLUMNS = [getattr(SalesFact, c) for c in facts.COLUMNS]


def test_fact_rows_fold_lines_per_listing_and_rank_listings_by_first_line() -> None:
    # 2026-01-31 23:30 UTC is 06:30 on 1 February in Vietnam
    rows = fact_rows(7, 3, utc(2026, 1, 31, 23, 30), "returned", [
        SoldLine(11, 101, 1, 50_000), SoldLine(None, None, 1, 20_000), SoldLine(11, 101, 2, 100_000),
        SoldLine(12, 102, 1, 30_000)])
    assert rows == [
        (7, 3, 11, 101, date(2026, 2, 1), 202602, facts.RETURNED, 1, 101, 3, 150_000),
        (7, 3, None, None, date(2026, 2, 1), 202602, facts.RETURNED, 2, 101, 1, 20_000),
        (7, 3, 12, 102, date(2026, 2, 1), 202602, facts.RETURNED, 3, 101, 1, 30_000)]
    first_unknown = fact_rows(8, 3, utc(2026, 1, 31, 16, 59, 59), "completed",
                              [SoldLine(None, None, 2, 10_000), SoldLine(12, 102, 1, 30_000)])
    assert [(r[4], r[6], r[7], r[8]) for r in first_unknown] == [(date(2026, 1, 31), facts.SOLD, 1, None),
                                                                 (date(2026, 1, 31), facts.SOLD, 2, None)]
    assert fact_rows(9, 3, utc(2026, 3, 1), "cancelled", []) == []
    assert facts.status_class("cancelled") == facts.CANCELLED and facts.status_class("shipped") == facts.SOLD


async def stored_facts() -> list[tuple[Any, ...]]:
    rows = await SalesFact.select(*FACT_COLUMNS)
    return sorted((tuple(r[c] for c in facts.COLUMNS) for r in rows), key=repr)


async def test_ingest_writes_the_facts_a_rebuild_from_the_lines_gives(seeded: Seed, db: Any) -> None:
    written = await stored_facts()
    assert len(written) == 12  # 9 orders; O3 has a line of no listing, O9 three listings
    await facts.rebuild(db.engine)
    assert await stored_facts() == written
    # Re-reading an order (now cancelled, one line fewer) replaces its facts in the same transaction.
    o9 = await Order.select(Order.id).where(Order.marketplace_order_id == "O9").first()
    await add_order(seeded.ids["S1"], "O9", "cancelled", utc(2026, 3, 10), [(seeded.ids["L1"], 1, 50_000)])
    rows = await SalesFact.select(*FACT_COLUMNS).where(SalesFact.order == o9["id"])
    assert [(r["status_class"], r["rank"], r["units"], r["revenue_vnd"]) for r in rows] == [
        (facts.CANCELLED, 1, 1, 50_000)]
    mine = await stored_facts()
    await facts.rebuild(db.engine)
    assert await stored_facts() == mine


# ----------------------------------------------------------------------------- random reconciliation


async def random_orders(seed: Seed, count: int) -> None:
    """Orders in January–March 2026 (Vietnam), 1–5 lines from the shop's own listings (repeats
    allowed), sometimes a SKU of no listing; S1 has three listings of two groups and two star ranks."""
    rng = random.Random(20261126)
    ids = seed.ids
    shop_listings = {"S1": ["L1", "L3", "L8"], "S2": ["L2"], "S3": ["L5", "L6"], "S4": ["L7"]}
    statuses = ("completed", "delivered", "shipped", "cancelled", "returned")
    start = utc(2026, 1, 1) - timedelta(hours=7)
    by_shop: dict[str, list[Any]] = defaultdict(list)
    for n in range(count):
        shop = rng.choice(["S1", "S1", "S1", "S2", "S3", "S4"])
        lines: list[tuple[int | None, int, int]] = []
        for _ in range(rng.randint(1, 5)):
            listing = None if rng.random() < 0.1 else ids[rng.choice(shop_listings[shop])]
            lines.append((listing, rng.randint(1, 4), rng.choice((20_000, 35_000, 50_000))))
        created = start + timedelta(minutes=rng.randrange(90 * 24 * 60))
        by_shop[shop].append((f"R{n}", rng.choice(statuses), created, lines))
    for shop, orders in by_shop.items():
        await add_orders(ids[shop], orders)


async def expected_from_lines(period: Period, scope_province: int | None, filters: Filters) -> dict[str, Any]:
    """Every sales figure, computed in Python from ``market_order``/``market_order_line`` rows."""
    group = {r["id"]: r["ocop_group"] for r in await Product.select(Product.id, Product.ocop_group)}
    certs = sorted(await Certificate.select(Certificate.id, Certificate.product, Certificate.stars,
                                            Certificate.expires_on),
                   key=lambda c: (c["expires_on"] is not None, c["expires_on"] or date.min, c["id"]))
    stars = {c["product"]: c["stars"] for c in certs}  # the last one (latest expiry) wins
    product_of = {r["id"]: r["product"] for r in await Listing.select(Listing.id, Listing.product)}
    producers = {r["id"]: r for r in await Producer.select(Producer.id, Producer.province_code, Producer.commune_code)}
    shops = {r["id"]: r for r in await Shop.select(Shop.id, Shop.marketplace, Shop.producer)}
    lines_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in await OrderLine.select(OrderLine.order, OrderLine.listing, OrderLine.quantity, OrderLine.total_vnd):
        lines_of[line["order"]].append(line)
    previous = period.previous()
    out: dict[str, Any] = {"total": [0, 0, 0], "previous": [0, 0, 0], "cancelled": 0, "returned": 0}
    for dim in ("month", "marketplace", "commune", "group", "stars", "product", "producer"):
        out[dim] = defaultdict(lambda: [0, 0, 0])
    for order in await Order.select(Order.id, Order.shop, Order.status, Order.created_at):
        day = order["created_at"].astimezone(VN_TZ).date()
        shop = shops[order["shop"]]
        producer = producers[shop["producer"]]
        if scope_province is not None and producer["province_code"] != scope_province:
            continue
        if filters.marketplace and shop["marketplace"] != filters.marketplace:
            continue
        if filters.commune_codes and producer["commune_code"] not in filters.commune_codes:
            continue
        kept = []
        for line in lines_of[order["id"]]:
            product = product_of.get(line["listing"]) if line["listing"] is not None else None
            if filters.ocop_group is not None and (product is None or group[product] != filters.ocop_group):
                continue
            if filters.stars is not None and (product is None or stars.get(product) != filters.stars):
                continue
            kept.append((product, line["quantity"], line["total_vnd"]))
        if not kept:
            continue
        units, revenue = sum(k[1] for k in kept), sum(k[2] for k in kept)
        if previous.start <= day <= previous.end and order["status"] not in ("cancelled", "returned"):
            out["previous"] = [out["previous"][0] + 1, out["previous"][1] + units, out["previous"][2] + revenue]
        if not period.start <= day <= period.end:
            continue
        if order["status"] in ("cancelled", "returned"):
            out[order["status"]] += 1
            continue
        out["total"] = [out["total"][0] + 1, out["total"][1] + units, out["total"][2] + revenue]
        keys = {"month": f"{day.year:04d}-{day.month:02d}", "marketplace": shop["marketplace"],
                "commune": str(producer["commune_code"]), "producer": shop["producer"]}
        for dim, key in keys.items():
            cell = out[dim][key]
            cell[0], cell[1], cell[2] = cell[0] + 1, cell[1] + units, cell[2] + revenue
        for dim, key_of in (("group", lambda p: "" if p is None else str(group[p])),
                            ("stars", lambda p: "" if p is None or p not in stars else str(stars[p])),
                            ("product", lambda p: p)):
            seen = set()
            for product, quantity, total in kept:
                if dim == "product" and product is None:
                    continue
                key = key_of(product)
                cell = out[dim][key]
                cell[0] += key not in seen
                cell[1] += quantity
                cell[2] += total
                seen.add(key)
    return out


FILTERS = [Filters(), Filters(ocop_group=1), Filters(stars=4), Filters(ocop_group=2, stars=5),
           Filters(marketplace="shopee"), Filters(commune_codes=(COMMUNE_A, COMMUNE_B))]


async def test_every_figure_equals_python_over_the_stored_lines(seeded: Seed, db: Any) -> None:
    await random_orders(seeded, 150)
    for filters in FILTERS:
        for key, province in (("2026-02", None), ("2026-Q1", GIA_LAI), ("2026-01-20..2026-02-10", None)):
            where = (filters, key)
            period = parse_period(key)
            scope = Scope(province_code=province) if province else Scope()
            want = await expected_from_lines(period, province, filters)
            got = await sales_report(period, scope, filters, top=50)

            def triples(rows: list[Any]) -> dict[str, list[int]]:
                return {r.key: [r.orders, r.units, r.revenue_vnd] for r in rows if r.orders or r.revenue_vnd}

            assert want["total"][0] > 3, f"the random orders must reach the period: {where}"
            assert [got.totals.orders, got.totals.units, got.totals.revenue_vnd] == want["total"], where
            assert [got.previous.orders, got.previous.units, got.previous.revenue_vnd] == want["previous"], where
            assert (got.totals.cancelled_orders, got.totals.returned_orders) == (want["cancelled"],
                                                                                 want["returned"]), where
            for dim, rows in (("month", got.by_month), ("marketplace", got.by_marketplace),
                              ("commune", got.by_commune), ("group", got.by_group), ("stars", got.by_stars)):
                assert triples(rows) == dict(want[dim]), (where, dim)
            tops = {r.id: [r.orders, r.units, r.revenue_vnd] for r in got.top_products}
            assert tops == dict(want["product"]), where
            producers = {r.id: [r.orders, r.units, r.revenue_vnd] for r in got.top_producers}
            assert producers == dict(want["producer"]), where
