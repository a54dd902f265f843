"""Asking for a product to be published, re-pushed or unlisted: the transactional outbox.

A request only writes the database (listing → ``pending`` with a new payload version and
``next_attempt_at``); the dispatcher hands due listings to arq. So a request made while Redis is
down or restarting is not lost, and duplicate requests collapse on the arq job id
``publish_listing:{listing}:{version}:{attempts}`` (``ocop.marketplace.jobs.job_id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from ocop.catalog.certificates import current_certificates
from ocop.catalog.tables import Product
from ocop.domain.dates import today_vn
from ocop.domain.errors import Refused
from ocop.marketplace import listings
from ocop.marketplace.payload import build_draft
from ocop.marketplace.tables import Listing, Shop

REPUSH_FROM = ("live", "in_review", "rejected", "failed")


class PublishError(Refused):
    """A publish or unlist request cannot be accepted."""


@dataclass(frozen=True, slots=True)
class Requested:
    listing_id: int
    version: int
    changed: bool
    """False when the marketplace already has exactly this payload (nothing to do)."""


def seller_sku_for(product_sku: str, product_id: int) -> str:
    """The marketplace-side key: the producer's own SKU (unique per producer, and a shop belongs
    to one producer), kept on the listing so later SKU edits never orphan the item."""
    sku = "".join(ch for ch in product_sku if ch.isalnum() or ch in "-_.")[:48]
    return sku or f"OCOP-{product_id}"


async def request_publish(product_id: int, shop_id: int, *, cause: str, force: bool = False) -> Requested:
    product = await Product.select(Product.id, Product.sku, Product.producer).where(Product.id == product_id).first()
    shop = await Shop.select(Shop.id, Shop.producer, Shop.marketplace, Shop.status).where(Shop.id == shop_id).first()
    if product is None or shop is None:
        raise PublishError("not_found", "Product or shop not found.", "Không tìm thấy sản phẩm hoặc gian hàng.")
    if product["producer"] != shop["producer"]:
        raise PublishError("wrong_shop", "The shop belongs to another producer.",
                           "Gian hàng thuộc về chủ thể khác.")
    if shop["status"] != "connected":
        raise PublishError("shop_disconnected", "Reconnect the shop before publishing.",
                           "Cần kết nối lại gian hàng trước khi đăng bán.")
    listing = await Listing.objects().where((Listing.product == product_id) & (Listing.shop == shop_id)).first()
    if listing is None:
        listing = Listing(product=product_id, shop=shop_id, seller_sku=seller_sku_for(product["sku"], product_id),
                          state="draft")
        await listing.save()
    draft = await build_draft(product_id, shop["marketplace"], listing.seller_sku)
    already_there = listing.state in ("live", "in_review") and listing.pushed_hash == draft.hash
    if already_there and listing.desired == "live" and not force:
        return Requested(listing.id, listing.payload_version, changed=False)
    if listing.state in ("pending", "publishing") and listing.payload_hash == draft.hash and listing.desired == "live":
        return Requested(listing.id, listing.payload_version, changed=False)
    version = listing.payload_version + 1
    target = "pending"
    moved = await listings.move(listing.id, listing.state, target, cause=cause, values={
        Listing.payload_version: version, Listing.payload_hash: draft.hash, Listing.desired: "live",
        Listing.attempts: 0, Listing.next_attempt_at: datetime.now(UTC), Listing.last_error: ""})
    if not moved:
        raise PublishError("busy", "The listing changed meanwhile; try again.",
                           "Tin đăng vừa thay đổi, vui lòng thử lại.")
    return Requested(listing.id, version, changed=True)


async def request_unlist(listing_id: int, *, cause: str, reason: str = "") -> bool:
    listing = await Listing.objects().where(Listing.id == listing_id).first()
    if listing is None or listing.state in ("unlisted", "draft"):
        return False
    if not listing.external_item_id and listing.state in ("pending", "failed"):
        return await listings.move(listing.id, listing.state, "unlisted", cause=cause, reason=reason,
                                   values={Listing.next_attempt_at: None, Listing.desired: "unlisted"})
    return await listings.move(listing.id, listing.state, "pending", cause=cause, reason=reason, values={
        Listing.desired: "unlisted", Listing.payload_version: listing.payload_version + 1,
        Listing.attempts: 0, Listing.next_attempt_at: datetime.now(UTC)})


async def product_changed(product_id: int, *, cause: str) -> list[Requested]:
    """Re-push a changed product to every shop where it is (or was being) published, but only
    where the payload hash actually changed."""
    out = []
    for row in await Listing.select(Listing.shop).where((Listing.product == product_id)
                                                        & Listing.state.is_in(list(REPUSH_FROM))
                                                        & (Listing.desired == "live")):
        try:
            out.append(await request_publish(product_id, row["shop"], cause=cause))
        except PublishError:
            continue
    return out


async def unlist_expired(today: date | None = None) -> int:
    """Unlist every listed product whose current OCOP certificate has expired (Vietnam's day)."""
    today = today or today_vn()
    live = await Listing.select(Listing.id, Listing.product).where(Listing.state.is_in(["live", "in_review"])
                                                                   & (Listing.desired == "live"))
    certs = await current_certificates(row["product"] for row in live)
    count = 0
    for row in live:
        cert = certs.get(row["product"])
        if cert and cert["expires_on"] and cert["expires_on"] < today:
            count += await request_unlist(row["id"], cause="rule:certificate_expired",
                                          reason=f"Chứng nhận OCOP hết hạn ngày {cert['expires_on']:%d/%m/%Y} / "
                                                 "OCOP certificate expired")
    return count
