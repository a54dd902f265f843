"""A small province written row by row, whose every figure is computed by hand in the tests.

Two Gia Lai producers (communes Quy Nhơn and Quy Nhơn Đông) and one in Hà Nội; February 2026 is the
period under test, January the previous one. Orders near midnight check the Vietnamese month
boundary: 2026-01-31 23:30 UTC is 1 February 06:30 in Vietnam; 2026-02-28 17:00 UTC is 1 March. An
order in March has several lines of one listing and of one OCOP group, so no order is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ocop.catalog.tables import Certificate, Product
from connectors.base import MarketOrder
from connectors.base import OrderLine as MarketLine
from ocop.marketplace.sync import ingest_orders
from ocop.marketplace.tables import Listing, Order, Shop
from ocop.producers.tables import Producer

GIA_LAI = 52
COMMUNE_A = 21583  # Phường Quy Nhơn
COMMUNE_B = 21601  # Phường Quy Nhơn Đông
HA_NOI = 1
COMMUNE_H = 70  # Phường Hoàn Kiếm
TODAY = date(2026, 2, 15)
INJECTION = '=HYPERLINK("http://evil.example","bấm")'


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


async def insert(table: Any, **values: Any) -> int:
    row = await table.insert(table(**values)).returning(table.id)
    return int(row[0]["id"])


@dataclass
class Seed:
    ids: dict[str, int] = field(default_factory=dict)


UNKNOWN_SKU = "NOT-OURS"


async def add_orders(shop: int, orders: list[tuple[str, str, datetime, list[tuple[int | None, int, int]]]]) -> None:
    """``orders``: (number, status, created, lines); ``lines``: (listing id or None for a SKU that is
    none of ours, quantity, unit price). They go through the real ingest (``ingest_orders``), which
    also writes their sales facts."""
    skus = {r["id"]: r["seller_sku"] for r in await Listing.select(Listing.id, Listing.seller_sku)}
    await ingest_orders(shop, [
        MarketOrder(order_id=number, status=status, raw_status=status,  # type: ignore[arg-type]
                    created_at=created, updated_at=created, total_vnd=sum(q * p for _, q, p in lines),
                    lines=tuple(MarketLine(seller_sku=skus[listing] if listing is not None else UNKNOWN_SKU,
                                           external_item_id="", name=f"line of {number}", quantity=quantity,
                                           unit_price_vnd=price, total_vnd=quantity * price)
                                for listing, quantity, price in lines))
        for number, status, created, lines in orders])


async def add_order(shop: int, number: str, status: str, created: datetime,
                    lines: list[tuple[int | None, int, int]]) -> int:
    """One order through :func:`add_orders`; its id."""
    await add_orders(shop, [(number, status, created, lines)])
    row = await Order.select(Order.id).where((Order.shop == shop) & (Order.marketplace_order_id == number)).first()
    assert row is not None
    return int(row["id"])


async def seed_province() -> Seed:
    s = Seed()
    ids = s.ids
    jan1 = utc(2026, 1, 1)
    ids["P1"] = await insert(Producer, kind="htx", legal_name="HTX Nem chợ Huyện", name_folded="htx nem cho huyen",
                             tax_code="0100233488", province_code=GIA_LAI, commune_code=COMMUNE_A)
    ids["P2"] = await insert(Producer, kind="doanh_nghiep", legal_name="Công ty Bánh tráng Tam Quan",
                             name_folded="cong ty banh trang tam quan", tax_code="0314409058",
                             province_code=GIA_LAI, commune_code=COMMUNE_B)
    ids["P3"] = await insert(Producer, kind="ho_kinh_doanh", legal_name="Hộ Trà Hà Nội", name_folded="ho tra ha noi",
                             tax_code="0101245486", province_code=HA_NOI, commune_code=COMMUNE_H)

    def product(producer: str, sku: str, name: str, group: int, created: datetime = jan1,
                status: str = "active") -> dict[str, Any]:
        return dict(producer=ids[producer], sku=sku, name=name, name_folded=name.lower(), ocop_group=group,
                    status=status, created_at=created, updated_at=created)

    ids["X1"] = await insert(Product, **product("P1", "X1", "Nem chợ Huyện", 1))
    ids["X2"] = await insert(Product, **product("P1", "X2", "Rượu Bàu Đá", 2))
    ids["Y1"] = await insert(Product, **product("P2", "Y1", INJECTION, 2))
    ids["Y2"] = await insert(Product, **product("P2", "Y2", "Trà thảo mộc", 3, created=utc(2026, 2, 10)))
    ids["W"] = await insert(Product, **product("P2", "W", "Bánh cũ", 1, status="archived"))
    ids["Z1"] = await insert(Product, **product("P3", "Z1", "Trà sen", 1))
    ids["X3"] = await insert(Product, **product("P1", "X3", "Nem chua", 1, status="archived"))

    async def cert(prod: str, stars: int, expires: date) -> None:
        await Certificate.insert(Certificate(product=ids[prod], stars=stars, expires_on=expires,
                                             decision_number=f"{stars}/QĐ-UBND"))

    await cert("X1", 3, TODAY + timedelta(days=10))  # older certificate, superseded
    await cert("X1", 4, TODAY + timedelta(days=30))
    await cert("X2", 5, TODAY + timedelta(days=200))
    await cert("Y1", 3, TODAY + timedelta(days=89))
    await cert("Z1", 4, TODAY + timedelta(days=91))
    await cert("W", 3, TODAY + timedelta(days=5))  # archived product: not reported
    await cert("Y2", 3, TODAY - timedelta(days=1))  # already expired
    await cert("X3", 4, TODAY + timedelta(days=400))

    async def shop(producer: str, marketplace: str, status: str, created: datetime) -> int:
        return await insert(Shop, producer=ids[producer], marketplace=marketplace, external_shop_id=f"{producer}-{marketplace}",
                            status=status, created_at=created, updated_at=created)

    ids["S1"] = await shop("P1", "shopee", "connected", jan1)
    ids["S2"] = await shop("P1", "lazada", "connected", jan1)
    ids["S3"] = await shop("P2", "shopee", "needs_reauth", jan1)
    ids["S4"] = await shop("P3", "tiki", "connected", utc(2026, 2, 3))

    async def listing(prod: str, shop_key: str, state: str, published: datetime | None = None,
                      error: str = "") -> int:
        return await insert(Listing, product=ids[prod], shop=ids[shop_key], seller_sku=prod, state=state,
                            last_error=error, published_at=published, updated_at=published or jan1)

    ids["L1"] = await listing("X1", "S1", "live", utc(2026, 1, 10))
    ids["L2"] = await listing("X1", "S2", "live", utc(2026, 2, 5))
    ids["L3"] = await listing("X2", "S1", "rejected", error="Thiếu ảnh")
    ids["L4"] = await listing("X2", "S2", "rejected", error="Thiếu ảnh")
    ids["L5"] = await listing("Y1", "S3", "live", utc(2026, 2, 20))
    ids["L6"] = await listing("Y2", "S3", "rejected", error="Sai danh mục")
    ids["L7"] = await listing("Z1", "S4", "live", utc(2026, 1, 5))
    ids["L8"] = await listing("X3", "S1", "unlisted")

    L = ids
    await add_order(L["S1"], "O1", "completed", utc(2026, 1, 31, 23, 30), [(L["L1"], 2, 50_000)])
    await add_order(L["S1"], "O2", "completed", utc(2026, 1, 31, 16, 59, 59), [(L["L1"], 1, 50_000)])
    await add_order(L["S2"], "O3", "delivered", utc(2026, 2, 10, 5), [(L["L2"], 3, 60_000), (None, 1, 20_000)])
    await add_order(L["S1"], "O4", "cancelled", utc(2026, 2, 11), [(L["L1"], 5, 50_000)])
    await add_order(L["S3"], "O5", "returned", utc(2026, 2, 12), [(L["L5"], 1, 70_000)])
    await add_order(L["S3"], "O6", "shipped", utc(2026, 2, 28, 16, 59), [(L["L5"], 2, 70_000)])
    await add_order(L["S3"], "O7", "completed", utc(2026, 2, 28, 17, 0), [(L["L5"], 1, 70_000)])
    await add_order(L["S4"], "O8", "completed", utc(2026, 2, 15), [(L["L7"], 1, 90_000)])
    # March: one order with the same listing twice and two products of group 1 / 4 stars (X1, X3)
    await add_order(L["S1"], "O9", "completed", utc(2026, 3, 10),
                    [(L["L1"], 1, 50_000), (L["L1"], 2, 50_000), (L["L8"], 1, 30_000), (L["L3"], 1, 80_000)])
    return s


@pytest.fixture
async def seeded(db: Any) -> Seed:
    return await seed_province()


# The sandbox marketplace and the marketplace runtime, shared with the order-sync tests (the
# reconciliation test syncs real sandbox orders).
from tests.ocop.marketplace.conftest import arq_redis, market_sandbox, rt, sandbox, settings  # noqa: E402,F401
