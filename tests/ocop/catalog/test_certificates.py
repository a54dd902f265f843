"""Every view of a product takes its stars and expiry from the same current certificate, on both
engines: the product list and API, the marketplace payload, staff attention, auto-unlisting and the
dashboard's SQL. The certificates below are chosen so that each rule the views once used (highest id,
newest issue date, latest expiry with the engine's own NULL ordering) picks a different one."""

from __future__ import annotations

from datetime import date

from ocop.accounts.auth import Principal
from ocop.catalog.certificates import (
    CURRENT_CTE,
    current_certificate,
    current_certificates,
    current_column,
    pick_current,
    products_whose_current,
)
from ocop.catalog.services import ProductQuery, product_summary, search_products
from ocop.catalog.tables import Certificate, Product
from ocop.domain.text import fold
from ocop.marketplace.payload import build_draft
from ocop.reports.kpis import expiring_certificates
from ocop.reports.scope import Scope
from tests.ocop.web.support import make_producer

TODAY = date(2026, 12, 3)


async def _seed() -> tuple[Principal, dict[str, int], dict[str, int]]:
    producer = await make_producer("HTX Tam Quan", "4100259564")
    products: dict[str, int] = {}
    for key, name in [("many", "Mật ong"), ("undated", "Trà"), ("expiring", "Nước mắm"), ("none", "Muối")]:
        row = Product(producer=producer, sku=key, name=name, name_folded=fold(name))
        await row.save()
        products[key] = int(row.id)
    certs: dict[str, int] = {}
    many = products["many"]
    for key, stars, decision, issued, expires in [
        ("old", 3, "QD-1", date(2023, 1, 1), date(2027, 6, 30)),
        ("undated", 4, "QD-2", None, None),           # first on PostgreSQL's expires_on DESC
        ("current", 5, "QD-3", date(2024, 6, 30), date(2027, 6, 30)),  # same expiry as "old", newer row
        ("recent", 3, "QD-4", date(2026, 6, 1), date(2027, 1, 1)),     # newest issue date and highest id
    ]:
        row = Certificate(product=many, stars=stars, decision_number=decision, issued_on=issued, expires_on=expires)
        await row.save()
        certs[key] = int(row.id)
    await Certificate(product=products["undated"], stars=4, decision_number="QD-5").save()
    await Certificate(product=products["expiring"], stars=3, decision_number="QD-6", expires_on=date(2026, 12, 20)).save()
    me = Principal(user_id=1, username="u", role="producer", producer_id=producer)
    return me, products, certs


async def test_every_view_agrees_on_the_current_certificate(db) -> None:
    me, products, certs = await _seed()
    many = products["many"]

    current = await current_certificate(many)
    assert current is not None and current["id"] == certs["current"] and current["stars"] == 5
    assert (await current_certificate(products["undated"]))["stars"] == 4
    assert await current_certificate(products["none"]) is None
    by_product = await current_certificates(products.values())
    assert {k: by_product.get(v, {}).get("decision_number") for k, v in products.items()} == {
        "many": "QD-3", "undated": "QD-5", "expiring": "QD-6", "none": None}

    # product list, API answer, and the stars filter
    listed = {r["id"]: r for r in (await search_products(me, ProductQuery(per_page=50))).items}
    assert (listed[many]["stars"], listed[many]["expires_on"]) == (5, date(2027, 6, 30))
    assert listed[products["undated"]]["stars"] == 4 and listed[products["undated"]]["expires_on"] is None
    assert listed[products["none"]]["stars"] is None
    summary = await product_summary(many)
    assert summary is not None and summary["stars"] == 5
    assert [r["id"] for r in (await search_products(me, ProductQuery(stars=5))).items] == [many]
    three = {r["id"] for r in (await search_products(me, ProductQuery(stars=3))).items}
    assert three == {products["expiring"]}  # "many" holds 3-star certificates, but not as its current one

    # marketplace payload
    draft = await build_draft(many, "shopee", "OCOP-many")
    assert (draft.product.ocop_stars, draft.product.certificate_number) == (5, "QD-3")

    # the SQL spellings: the reports' window and the correlated sub-query
    rows = await Certificate.raw(f"WITH {CURRENT_CTE} SELECT product_id, cert_id FROM ps")
    assert {int(r["product_id"]): int(r["cert_id"]) for r in rows} == {
        pid: int(cert["id"]) for pid, cert in by_product.items()}
    sub = await Certificate.raw(f"SELECT p.id AS id, {current_column('id', 'p.id')} AS cert FROM product p")
    assert {int(r["id"]): (int(r["cert"]) if r["cert"] is not None else None) for r in sub} == {
        pid: (int(by_product[pid]["id"]) if pid in by_product else None) for pid in products.values()}
    assert await products_whose_current("ps.stars = {}", 4) == [products["undated"]]

    # the dashboard's expiring list follows the current certificate only
    count, items = await expiring_certificates(Scope(), today=TODAY, days=90)
    assert count == 1 and [i.product_id for i in items] == [products["expiring"]]


def test_pick_current_puts_undated_last_and_breaks_ties_by_id() -> None:
    rows = [{"id": 1, "expires_on": date(2027, 1, 1)}, {"id": 2, "expires_on": None},
            {"id": 3, "expires_on": date(2027, 1, 1)}, {"id": 4, "expires_on": "2026-01-01"}]
    assert pick_current(rows)["id"] == 3
    assert pick_current([{"id": 9, "expires_on": None}])["id"] == 9
    assert pick_current([]) is None
