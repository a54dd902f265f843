"""``/api/v1`` shops, listings and publishing: list shops, read listings, publish a product to
shops, unlist a listing.

Publishing answers 202: the request is recorded (outbox) and carried out by the workers; poll
``GET /api/v1/listings/{id}`` for the state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.openapi.spec import Example
from litestar.params import Body, FromQuery, QueryParameter

from ocop.accounts.access import combine, producer_scope
from ocop.catalog.access import get_product, product_scope
from ocop.accounts.audit import record
from ocop.accounts.auth import Me, requires_user
from ocop.catalog.tables import Product
from ocop.marketplace.jobs import kick
from ocop.marketplace.publishing import PublishError, request_publish, request_unlist
from ocop.marketplace.tables import Listing, Shop
from ocop.producers.tables import Producer
from ocop.web.api_support import Page, PathId, PerPage, QueryId, RowId, error_spec
from ocop.web.errors import ApiError
from ocop.web.render import client_ip


class ShopOut(msgspec.Struct):
    id: int
    producer_id: int
    marketplace: str
    external_shop_id: str
    status: str
    access_expires_at: datetime | None


class ListingOut(msgspec.Struct):
    id: int
    product_id: int
    shop_id: int
    marketplace: str
    seller_sku: str
    external_item_id: str
    state: str
    last_error: str
    published_at: datetime | None
    updated_at: datetime


class ListingPage(msgspec.Struct):
    items: list[ListingOut]
    total: int
    page: int
    per_page: int


class PublishIn(msgspec.Struct):
    shop_ids: list[RowId]


class PublishOut(msgspec.Struct):
    listing_id: int
    shop_id: int
    version: int
    changed: bool
    """False when the marketplace already holds exactly this payload."""


PUBLISH_EXAMPLE = Example(summary="Publish to two of the producer's shops", value={"shop_ids": [1, 2]})
PUBLISH_ERRORS = {
    404: error_spec("The product, or a shop in ``shop_ids``, is missing or not the product's producer's "
                    "(one answer for both: no existence leak)"),
    409: error_spec("A shop needs reconnecting, or the listing changed meanwhile; try again"),
}


class ShopController(Controller):
    path = "/api/v1/shops"
    tags = ["shops"]
    guards = [requires_user]

    @get("")
    async def list_shops(self, me: Me) -> list[ShopOut]:
        scope = producer_scope(me)
        producers = Producer.select(Producer.id)
        if scope is not None:
            producers = producers.where(scope)
        ids = [r["id"] for r in await producers] or [0]
        rows = await Shop.select().where(Shop.producer.is_in(ids)).order_by(Shop.id)
        return [ShopOut(id=r["id"], producer_id=r["producer"], marketplace=r["marketplace"],
                        external_shop_id=r["external_shop_id"], status=r["status"],
                        access_expires_at=r["access_expires_at"]) for r in rows]


class ListingController(Controller):
    path = "/api/v1/listings"
    tags = ["listings"]
    guards = [requires_user]

    @get("")
    async def list_listings(
        self,
        me: Me,
        product_id: QueryId = None,
        listing_state: Annotated[str | None, QueryParameter(name="state")] = None,
        marketplace: FromQuery[str | None] = None,
        page: Page = 1,
        per_page: PerPage = 20,
    ) -> ListingPage:
        scope = product_scope(me)
        clause = combine(
            _listing_scope(scope),
            Listing.product == product_id if product_id is not None else None,
            Listing.state == listing_state if listing_state else None,
            Listing.shop.marketplace == marketplace if marketplace else None,
        )
        select = Listing.select(Listing.all_columns(), Listing.shop.marketplace.as_alias("marketplace"))
        count = Listing.count()
        if clause is not None:
            select, count = select.where(clause), count.where(clause)
        rows = await select.order_by(Listing.id).limit(per_page).offset((page - 1) * per_page)
        return ListingPage(
            items=[_listing_out(r) for r in rows], total=await count, page=page, per_page=per_page
        )

    @get("/{listing_id:int}")
    async def get_one(self, me: Me, listing_id: PathId) -> ListingOut:
        row = (
            await Listing.select(Listing.all_columns(), Listing.shop.marketplace.as_alias("marketplace"))
            .where(Listing.id == listing_id)
            .first()
        )
        if row is None:
            raise NotFoundException("Not found.")
        await get_product(me, int(row["product"]))
        return _listing_out(row)


def _listing_scope(product_clause: Any) -> Any:
    if product_clause is None:
        return None
    ids = Product.select(Product.id).where(product_clause)
    return Listing.product.is_in(ids)


def _listing_out(row: dict[str, Any]) -> ListingOut:
    return ListingOut(
        id=row["id"],
        product_id=row["product"],
        shop_id=row["shop"],
        marketplace=row["marketplace"],
        seller_sku=row["seller_sku"],
        external_item_id=row["external_item_id"],
        state=row["state"],
        last_error=row["last_error"],
        published_at=row["published_at"],
        updated_at=row["updated_at"],
    )


class PublishController(Controller):
    path = "/api/v1"
    tags = ["listings"]
    guards = [requires_user]

    @post("/products/{product_id:int}/publish", status_code=202, responses=PUBLISH_ERRORS)
    async def publish(self, request: Request[Any, Any, Any], me: Me, product_id: PathId,
                      data: Annotated[PublishIn, Body(examples=[PUBLISH_EXAMPLE])]) -> list[PublishOut]:
        product = await get_product(me, product_id)
        out = []
        for shop_id in data.shop_ids:
            try:
                done = await request_publish(product_id, shop_id, cause=f"user:{me.user_id}")
            except PublishError as exc:
                if exc.code in ("not_found", "wrong_shop"):  # another producer's shop: same answer as none
                    raise NotFoundException("Not found.") from exc
                raise ApiError(409 if exc.code in ("shop_disconnected", "busy") else 422, exc.code,
                               exc.message_en, exc.message_vi) from exc
            out.append(PublishOut(listing_id=done.listing_id, shop_id=shop_id, version=done.version,
                                  changed=done.changed))
            if done.changed:
                await record(me, "listing.publish", "listing", done.listing_id, producer_id=product["producer"],
                             changes={"version": done.version}, ip=client_ip(request))
        await kick(request.app.state.queue.redis)
        return out

    @post("/listings/{listing_id:int}/unlist", status_code=202)
    async def unlist(self, request: Request[Any, Any, Any], me: Me, listing_id: PathId) -> dict[str, bool]:
        row = await Listing.select(Listing.product).where(Listing.id == listing_id).first()
        if row is None:
            raise NotFoundException("Not found.")
        product = await get_product(me, row["product"])
        requested = await request_unlist(listing_id, cause=f"user:{me.user_id}", reason="API")
        if requested:
            await record(me, "listing.unlist", "listing", listing_id, producer_id=product["producer"],
                         ip=client_ip(request))
            await kick(request.app.state.queue.redis)
        return {"requested": requested}


ROUTES = [ShopController, ListingController, PublishController]
