"""``search_products`` in one statement: the total comes with the page, the latest certificate is
the one with the highest id, covers only when asked, and a page past the end still knows the total."""

from __future__ import annotations

from datetime import date

from ocop.accounts.auth import Principal
from ocop.catalog.services import ProductQuery, search_products
from ocop.catalog.tables import Certificate, Image, Product
from ocop.domain.text import fold
from tests.ocop.web.support import make_producer


async def _seed() -> tuple[Principal, list[int]]:
    mine = await make_producer("HTX Tam Quan", "4100259564")
    other = await make_producer("HTX Hà Nội", "0100109106")
    ids = []
    for i, name in enumerate(["Bánh tráng", "Mật ong", "Nước mắm"]):
        row = Product(
            producer=mine, sku=f"S{i}", name=name, name_folded=fold(name), price_vnd=10_000 * (i + 1)
        )
        await row.save()
        ids.append(int(row.id))
    await Product(producer=other, sku="X", name="Bánh tráng khác", name_folded=fold("Bánh tráng khác")).save()
    await Certificate.insert(
        Certificate(product=ids[0], stars=3, expires_on=date(2026, 1, 1)),
        Certificate(product=ids[0], stars=5, expires_on=date(2029, 5, 31)),  # the latest decision
    )
    await Image.insert(
        Image(product=ids[0], position=1, original_key="b", status="ready", renditions={"web_thumb": {}}),
        Image(product=ids[0], position=0, original_key="a", status="ready", renditions={"web_thumb": {}}),
        Image(product=ids[1], position=0, original_key="c", status="pending", renditions={}),
    )
    return Principal(user_id=1, username="u", role="producer", producer_id=mine), ids


async def test_page_total_latest_certificate_and_covers(db) -> None:
    me, ids = await _seed()
    page = await search_products(me, ProductQuery(sort="price", desc=True, per_page=2))
    assert page.total == 3 and [r["id"] for r in page.items] == [ids[2], ids[1]]
    assert all("cover_id" in r and r["producer_name"] == "HTX Tam Quan" for r in page.items)
    assert page.items[1]["cover_id"] is None  # its only photo is not ready

    first = (await search_products(me, ProductQuery(q="banh", per_page=2))).items
    assert [(r["stars"], r["expires_on"]) for r in first] == [(5, date(2029, 5, 31))]
    cover = await Image.select(Image.id).where(Image.original_key == "a").first()
    assert first[0]["cover_id"] == cover["id"]  # lowest position wins

    bare = await search_products(me, ProductQuery(q="banh"), covers=False)
    assert bare.total == 1 and "cover_id" not in bare.items[0] and bare.items[0]["stars"] == 5


async def test_a_page_past_the_end_is_empty_but_keeps_the_total(db) -> None:
    me, _ = await _seed()
    past = await search_products(me, ProductQuery(per_page=2, page=5))
    assert past.items == [] and past.total == 3 and past.pages == 2
    none = await search_products(me, ProductQuery(q="khong co"))
    assert none.items == [] and none.total == 0
