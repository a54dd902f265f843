"""Every KPI on SQLite and PostgreSQL against figures worked out by hand from ``conftest.seed_province``."""

from __future__ import annotations

from datetime import date

from ocop.reports import kpis
from ocop.reports.period import parse_period
from ocop.reports.scope import Filters, Scope
from tests.ocop.reports.conftest import COMMUNE_A, COMMUNE_B, COMMUNE_H, GIA_LAI, TODAY, Seed

FEB = parse_period("2026-02")
ALL = Scope(label="all")
GIA_LAI_STAFF = Scope(province_code=GIA_LAI, label="province")


def triple(row: kpis.SalesRow | kpis.SalesTotals | kpis.TopRow) -> tuple[int, int, int]:
    return (row.orders, row.units, row.revenue_vnd)


async def test_totals_are_net_of_cancellations_and_returns_by_vietnamese_month(seeded: Seed) -> None:
    totals = await kpis.sales_totals(FEB, ALL)
    # O1 (23:30 UTC on 31 Jan = February in Vietnam) 2×50k, O3 3×60k + 1×20k, O6 2×70k, O8 1×90k;
    # O4 cancelled, O5 returned, O2 is January, O7 (17:00 UTC 28 Feb) is March.
    assert triple(totals) == (4, 9, 530_000)
    assert (totals.cancelled_orders, totals.returned_orders) == (1, 1)
    previous = await kpis.sales_totals(FEB.previous(), ALL)
    assert triple(previous) == (1, 1, 50_000)


async def test_by_month_buckets_on_the_vietnamese_calendar(seeded: Seed) -> None:
    rows = await kpis.sales_by("month", parse_period("2026-Q1"), ALL)
    assert [(r.key, *triple(r)) for r in rows] == [
        ("2026-01", 1, 1, 50_000), ("2026-02", 4, 9, 530_000), ("2026-03", 2, 6, 330_000)]
    assert [r.label for r in rows] == ["01/2026", "02/2026", "03/2026"]


async def test_breakdowns(seeded: Seed) -> None:
    by_mp = {r.key: triple(r) for r in await kpis.sales_by("marketplace", FEB, ALL)}
    assert by_mp == {"shopee": (2, 4, 240_000), "lazada": (1, 4, 200_000), "tiki": (1, 1, 90_000)}
    by_commune = {r.key: triple(r) for r in await kpis.sales_by("commune", FEB, ALL)}
    assert by_commune == {str(COMMUNE_A): (2, 6, 300_000), str(COMMUNE_B): (1, 2, 140_000),
                          str(COMMUNE_H): (1, 1, 90_000)}
    communes = {r.key: r.label for r in await kpis.sales_by("commune", FEB, ALL)}
    assert communes[str(COMMUNE_A)] == "Phường Quy Nhơn"
    by_group = {r.key: triple(r) for r in await kpis.sales_by("group", FEB, ALL)}
    # the O3 line without a listing has no product, hence no group and no stars
    assert by_group == {"1": (3, 6, 370_000), "2": (1, 2, 140_000), "": (1, 1, 20_000)}
    by_stars = {r.key: triple(r) for r in await kpis.sales_by("stars", FEB, ALL)}
    # X1's latest certificate has 4 stars (its older 3-star one does not count)
    assert by_stars == {"4": (3, 6, 370_000), "3": (1, 2, 140_000), "": (1, 1, 20_000)}


async def test_an_order_counts_once_per_group_stars_and_product(seeded: Seed) -> None:
    """March: O7 (Y1, group 2, 3★, 1×70k) and O9 (X1 twice 1+2×50k, X3 1×30k — both group 1, 4★ —
    and X2 1×80k, group 2, 5★)."""
    march = parse_period("2026-03")
    ids = seeded.ids
    assert triple(await kpis.sales_totals(march, ALL)) == (2, 6, 330_000)
    assert {r.key: triple(r) for r in await kpis.sales_by("group", march, ALL)} == {
        "1": (1, 4, 180_000), "2": (2, 2, 150_000)}
    assert {r.key: triple(r) for r in await kpis.sales_by("stars", march, ALL)} == {
        "4": (1, 4, 180_000), "5": (1, 1, 80_000), "3": (1, 1, 70_000)}
    assert [(r.id, *triple(r)) for r in await kpis.top_products(march, ALL)] == [
        (ids["X1"], 1, 3, 150_000), (ids["X2"], 1, 1, 80_000), (ids["Y1"], 1, 1, 70_000), (ids["X3"], 1, 1, 30_000)]
    assert {r.key: triple(r) for r in await kpis.sales_by("commune", march, ALL)} == {
        str(COMMUNE_A): (1, 5, 260_000), str(COMMUNE_B): (1, 1, 70_000)}
    assert triple(await kpis.sales_totals(march, ALL, Filters(ocop_group=1))) == (1, 4, 180_000)
    assert triple(await kpis.sales_totals(march, ALL, Filters(ocop_group=2))) == (2, 2, 150_000)
    assert triple(await kpis.sales_totals(march, ALL, Filters(stars=4))) == (1, 4, 180_000)
    assert triple(await kpis.sales_totals(march, ALL, Filters(ocop_group=2, stars=5))) == (1, 1, 80_000)


async def test_top_products_and_producers(seeded: Seed) -> None:
    ids = seeded.ids
    products = await kpis.top_products(FEB, ALL)
    assert [(r.id, *triple(r)) for r in products] == [
        (ids["X1"], 2, 5, 280_000), (ids["Y1"], 1, 2, 140_000), (ids["Z1"], 1, 1, 90_000)]
    producers = await kpis.top_producers(FEB, ALL, limit=2)
    assert [(r.id, *triple(r)) for r in producers] == [(ids["P1"], 2, 6, 300_000), (ids["P2"], 1, 2, 140_000)]


async def test_filters(seeded: Seed) -> None:
    shopee = await kpis.sales_totals(FEB, ALL, Filters(marketplace="shopee"))
    assert triple(shopee) == (2, 4, 240_000)
    assert (shopee.cancelled_orders, shopee.returned_orders) == (1, 1)
    assert triple(await kpis.sales_totals(FEB, ALL, Filters(ocop_group=1))) == (3, 6, 370_000)
    assert triple(await kpis.sales_totals(FEB, ALL, Filters(stars=3))) == (1, 2, 140_000)
    assert triple(await kpis.sales_totals(FEB, ALL, Filters(commune_codes=(COMMUNE_B, COMMUNE_H)))) == (2, 3, 230_000)
    both = Filters(marketplace="lazada", ocop_group=1, stars=4)
    assert triple(await kpis.sales_totals(FEB, ALL, both)) == (1, 3, 180_000)


async def test_scopes_limit_every_figure(seeded: Seed) -> None:
    assert triple(await kpis.sales_totals(FEB, GIA_LAI_STAFF)) == (3, 8, 440_000)
    commune_staff = Scope(province_code=GIA_LAI, commune_codes=(COMMUNE_A,), label="commune")
    assert triple(await kpis.sales_totals(FEB, commune_staff)) == (2, 6, 300_000)
    producer = Scope(producer_id=seeded.ids["P2"], label="producer")
    assert triple(await kpis.sales_totals(FEB, producer)) == (1, 2, 140_000)
    assert [r.id for r in await kpis.top_products(FEB, producer)] == [seeded.ids["Y1"]]
    # a staff filter on a commune outside the area finds nothing
    outside = await kpis.sales_totals(FEB, commune_staff, Filters(commune_codes=(COMMUNE_H,)))
    assert triple(outside) == (0, 0, 0)
    online = await kpis.online_figures(FEB, GIA_LAI_STAFF)
    assert (online.products_online.current, online.products_online.previous) == (2, 1)
    assert (online.products_registered.current, online.products_registered.previous) == (4, 3)
    assert (online.online_share_pct.current, online.online_share_pct.previous) == (50.0, 33.3)


async def test_online_figures(seeded: Seed) -> None:
    online = await kpis.online_figures(FEB, ALL)
    assert (online.products_online.current, online.products_online.previous) == (3, 2)
    assert (online.products_registered.current, online.products_registered.previous) == (5, 4)
    assert (online.online_share_pct.current, online.online_share_pct.previous) == (60.0, 50.0)
    assert (online.producers_with_shop.current, online.producers_with_shop.previous) == (2, 1)
    assert (online.producers_online.current, online.producers_online.previous) == (3, 2)
    tiki = await kpis.online_figures(FEB, ALL, Filters(marketplace="tiki"))
    assert tiki.products_online.current == 1 and tiki.producers_with_shop.current == 1


async def test_listings_and_rejections(seeded: Seed) -> None:
    counts = {(r.marketplace, r.state): r.listings for r in await kpis.listings_by_state(ALL)}
    assert counts == {("shopee", "live"): 2, ("shopee", "rejected"): 2, ("shopee", "unlisted"): 1,
                      ("lazada", "live"): 1, ("lazada", "rejected"): 1, ("tiki", "live"): 1}
    reasons = await kpis.rejection_reasons(ALL)
    assert [(r.reason, r.listings) for r in reasons] == [("Thiếu ảnh", 2), ("Sai danh mục", 1)]
    assert [(r.reason, r.listings) for r in await kpis.rejection_reasons(ALL, Filters(ocop_group=3))] == [
        ("Sai danh mục", 1)]


async def test_certificates_expiring_within_90_days(seeded: Seed) -> None:
    count, rows = await kpis.expiring_certificates(ALL, today=TODAY)
    assert count == 2
    assert [(r.product_id, r.stars, r.expires_on, r.days_left) for r in rows] == [
        (seeded.ids["X1"], 4, date(2026, 3, 17), 30), (seeded.ids["Y1"], 3, date(2026, 5, 15), 89)]
    count, _ = await kpis.expiring_certificates(Scope(producer_id=seeded.ids["P1"]), today=TODAY)
    assert count == 1


async def test_dashboard_on_an_empty_database(db: object) -> None:
    board = await kpis.dashboard(FEB, ALL, today=TODAY)
    assert triple(board.sales) == (0, 0, 0)
    assert [r.key for r in board.by_month] == ["2026-02"]
    assert board.online.online_share_pct.current == 0.0
    assert board.expiring == [] and board.listings == []


async def test_dashboard_assembles_everything(seeded: Seed) -> None:
    board = await kpis.dashboard(FEB, ALL, today=TODAY)
    assert triple(board.sales) == (4, 9, 530_000)
    assert triple(board.sales_previous) == (1, 1, 50_000)
    assert board.previous_period.key == "2026-01"
    assert sum(r.revenue_vnd for r in board.by_marketplace) == board.sales.revenue_vnd
    assert sum(r.orders for r in board.by_commune) == board.sales.orders
    assert board.expiring_count == 2


async def test_online_in_the_past_follows_the_listing_trail(seeded: Seed) -> None:
    """A listing live in January and rejected late in February counts as online at the start of
    February, not at its end; a re-push of a live item (live → pending → publishing) keeps it online."""
    from datetime import UTC, datetime

    from ocop.marketplace.tables import Listing, ListingEvent

    def event(listing: str, from_state: str, to_state: str, at: datetime) -> ListingEvent:
        return ListingEvent(listing=seeded.ids[listing], from_state=from_state, to_state=to_state, cause="test", at=at)

    await ListingEvent.insert(
        event("L6", "in_review", "live", datetime(2026, 1, 20, tzinfo=UTC)),  # Y2 (producer P2)
        event("L6", "live", "rejected", datetime(2026, 2, 25, tzinfo=UTC)),
        event("L1", "in_review", "live", datetime(2026, 1, 10, tzinfo=UTC)),
        event("L1", "live", "pending", datetime(2026, 2, 26, tzinfo=UTC)),
        event("L1", "pending", "publishing", datetime(2026, 2, 26, 0, 1, tzinfo=UTC)),
        event("L2", "in_review", "live", datetime(2026, 2, 5, tzinfo=UTC)),
        event("L2", "live", "unlisted", datetime(2026, 3, 5, tzinfo=UTC)),
    )
    await Listing.update({Listing.state: "publishing"}).where(Listing.id == seeded.ids["L1"])
    await Listing.update({Listing.state: "unlisted"}).where(Listing.id == seeded.ids["L2"])
    online = await kpis.online_figures(FEB, ALL)
    # End of February: X1 (L1 mid re-push, and L2), Y1, Z1; end of January: X1, Z1 and now Y2.
    assert (online.products_online.current, online.products_online.previous) == (3, 3)
    assert (online.producers_online.current, online.producers_online.previous) == (3, 3)
    # The trail, not today's state: X1's L2 was unlisted in March and L1 is "publishing" today, yet
    # X1 is online (a re-push does not take the item off the marketplace).
    march = await kpis.online_figures(parse_period("2026-03"), ALL)
    assert march.products_online.current == 3
