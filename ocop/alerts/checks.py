"""Scheduled checks for what no write announces: time passing (an authorization or an OCOP
certificate nearing its end) and stock running low. Each finding is an outbox event with a key
that names the situation, so a check running again adds nothing until the situation changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocop.alerts.tables import StockAlertLevel
from ocop.catalog.certificates import current_certificates, products_whose_current
from ocop.catalog.tables import Product
from ocop.domain.dates import today_vn
from ocop.events import outbox
from ocop.events.tables import AlertEvent
from ocop.marketplace.stock import availability
from ocop.marketplace.tables import Listing, Shop
from ocop.settings import Settings

AUTH_WARNING = timedelta(days=7)
CERT_WARNING_DAYS = 30


async def authorizations_expiring(now: datetime | None = None) -> int:
    """Connected shops whose authorization ends within 7 days: one event per shop and expiry date.
    The end is the earlier of the refresh token's end (past it the shop must be connected again) and
    the end the marketplace announced in a push (Shopee warns 7 days ahead of a year's consent
    lapsing, ``Shop.authorization_expires_at``)."""
    now = now or datetime.now(UTC)
    soon = now + AUTH_WARNING
    shops = await Shop.select(Shop.id, Shop.producer, Shop.marketplace, Shop.name, Shop.refresh_expires_at,
                              Shop.authorization_expires_at).where(
        (Shop.status == "connected")
        & ((Shop.refresh_expires_at.is_not_null() & (Shop.refresh_expires_at > now) & (Shop.refresh_expires_at <= soon))
           | (Shop.authorization_expires_at.is_not_null() & (Shop.authorization_expires_at > now)
              & (Shop.authorization_expires_at <= soon))))
    for s in shops:
        ends = min(t for t in (s["refresh_expires_at"], s["authorization_expires_at"]) if t is not None and t > now)
        day = ends.date().isoformat()
        await outbox.record(outbox.AUTH_EXPIRING, s["producer"], shop=s["id"], dedupe_key=f"auth:{s['id']}:{day}",
                            payload={"marketplace": s["marketplace"], "shop_name": s["name"], "expires_on": day})
    return len(shops)


async def certificates_expiring(now: datetime | None = None) -> int:
    """Products whose *current* OCOP certificate (the one rule of ``ocop.catalog.certificates``)
    ends within 30 days: one event per certificate."""
    today = today_vn(now)
    ids = await products_whose_current("ps.expires_on >= {} AND ps.expires_on <= {}", today,
                                       today + timedelta(days=CERT_WARNING_DAYS))
    if not ids:
        return 0
    products = {p["id"]: p for p in await Product.select(Product.id, Product.producer, Product.name).where(
        Product.id.is_in(ids) & (Product.status != "archived"))}
    certs = await current_certificates(products)
    for pid, cert in certs.items():
        p = products[pid]
        expires = cert["expires_on"]
        await outbox.record(outbox.CERT_EXPIRING, p["producer"], product=pid,
                            dedupe_key=f"cert:{cert['id']}:{expires}",
                            payload={"product_name": p["name"], "expires_on": str(expires)})
    return len(certs)


async def stock_running_low(settings: Settings) -> int:
    """Products on sale somewhere whose available stock (``ocop.marketplace.stock``'s ledger) is
    at or under their level (their own, else ``OCOP_ALERT_LOW_STOCK``): one event per product and
    stock count the producer gave, so a restock starts a new watch."""
    on_sale = sorted({r["product"] for r in await Listing.select(Listing.product).where(
        (Listing.external_item_id != "") & (Listing.desired == "live") & Listing.state.is_in(["live", "in_review"]))})
    if not on_sale:
        return 0
    levels = {r["product"]: r["level"] for r in await StockAlertLevel.select().where(
        StockAlertLevel.product.is_in(on_sale))}
    numbers = await availability(on_sale)
    low = [pid for pid, a in numbers.items() if a.available <= levels.get(pid, settings.alert_low_stock)]
    if not low:
        return 0
    products = {p["id"]: p for p in await Product.select(Product.id, Product.producer, Product.name).where(
        Product.id.is_in(low))}
    for pid in low:
        a = numbers[pid]
        await outbox.record(outbox.STOCK_LOW, products[pid]["producer"], product=pid,
                            dedupe_key=f"stock:{pid}:{a.stock}",
                            payload={"product_name": products[pid]["name"], "available": max(0, a.available)})
    return len(low)


KEEP_EVENTS = timedelta(days=90)


async def forget_old_events(now: datetime | None = None) -> None:
    """The outbox keeps processed events (their keys stop a check repeating itself) for 90 days,
    longer than any warning period; the notifications made from them stay."""
    await AlertEvent.delete().where(AlertEvent.processed_at < (now or datetime.now(UTC)) - KEEP_EVENTS)


async def run_all(settings: Settings, now: datetime | None = None) -> dict[str, int]:
    await forget_old_events(now)
    return {"auth_expiring": await authorizations_expiring(now), "cert_expiring": await certificates_expiring(now),
            "stock_low": await stock_running_low(settings)}
