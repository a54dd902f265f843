"""``/api/v1`` products, certificates, images (upload) and listings (read).

Writes go through the same checks as the pages (``ocop.catalog.forms``), so the API and the form
accept the same values and report the same field errors, in the shared error shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.openapi.spec import Example
from litestar.params import Body, FromQuery, QueryParameter

from ocop import db
from ocop.accounts.access import combine, get_producer, owner_for_new_product, scope_key
from ocop.accounts.audit import record
from ocop.accounts.auth import Me, requires_user
from ocop.catalog.access import get_product, product_scope
from ocop.catalog.certificates import current_certificate
from ocop.catalog.forms import check_product_form
from ocop.catalog.photos import UPLOAD_BODY_LIMIT, PhotoRefused, add_photo
from ocop.catalog.readiness import readiness
from ocop.catalog.services import (
    ProductQuery,
    SkuTaken,
    images_of,
    product_summary,
    save_product,
    search_products,
    sku_error,
)
from ocop.catalog.tables import Certificate, Product
from ocop.change_feed import ChangeFeed, FeedCache
from ocop.domain.dates import format_date, today_vn
from ocop.marketplace.tables import Listing
from ocop.marketplaces import CODES
from ocop.web.api_support import Page, PathId, PerPage, QueryId, RowId, invalid
from ocop.web.errors import ApiError
from ocop.web.render import client_ip


class CertificateOut(msgspec.Struct):
    id: int
    product_id: int
    stars: int
    decision_number: str
    issuing_body: str
    issued_on: date | None
    expires_on: date | None
    has_scan: bool


class ProductOut(msgspec.Struct):
    id: int
    producer_id: int
    sku: str
    name: str
    ocop_group: int | None
    sub_group: str
    description: str
    unit: str
    net_quantity: str
    weight_g: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    price_vnd: int | None
    stock: int
    shelf_life_days: int | None
    ingredients: str
    status: str
    updated_at: datetime
    stars: int | None = None
    certificate_expires_on: date | None = None


class ProductPage(msgspec.Struct):
    items: list[ProductOut]
    total: int
    page: int
    per_page: int


class ProductIn(msgspec.Struct, omit_defaults=True):
    """Values may be typed as people type them: ``price`` "150.000" or 150000, ``weight`` "0,5 kg"."""

    name: str
    producer_id: RowId | None = None
    sku: str = ""
    ocop_group: int | None = None
    sub_group: str = ""
    description: str = ""
    unit: str = ""
    net_quantity: str = ""
    price: str | int | None = None
    weight: str | int | None = None
    length_cm: str | int | float | None = None
    width_cm: str | int | float | None = None
    height_cm: str | int | float | None = None
    stock: str | int | None = None
    shelf_life_days: str | int | None = None
    ingredients: str = ""
    draft: bool = False


class CertificateIn(msgspec.Struct):
    stars: int
    decision_number: str = ""
    issuing_body: str = ""
    issued_on: date | None = None
    validity_months: int = 36


@dataclass
class PhotoUpload:
    """The multipart upload: one photo in the field ``file`` (typed, so the OpenAPI schema names
    the field the handler reads, and a missing file is refused with a 400 before any work)."""

    file: UploadFile


class ImageOut(msgspec.Struct):
    id: int
    position: int
    status: str
    width: int | None
    height: int | None
    error_code: str
    error_message: str
    renditions: dict[str, Any]


class ReadinessOut(msgspec.Struct):
    marketplace: str
    ready: bool
    missing: list[str]
    message_vi: str
    message_en: str


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


PRODUCT_EXAMPLE = Example(
    summary="A product as typed on a phone",
    value={
        "name": "Bánh tráng nước dừa Tam Quan",
        "sku": "BT-01",
        "ocop_group": 1,
        "unit": "túi",
        "net_quantity": "500 g",
        "price": "150.000",
        "weight": "0,5 kg",
        "length_cm": 20,
        "width_cm": 15,
        "height_cm": 5,
        "stock": 40,
    },
)


CERTIFICATE_EXAMPLE = Example(
    summary="A 4-star decision of the provincial People's Committee",
    value={"stars": 4, "decision_number": "1234/QĐ-UBND", "issuing_body": "UBND tỉnh Gia Lai",
           "issued_on": "2025-03-15", "validity_months": 36},
)


def product_out(row: dict[str, Any]) -> ProductOut:
    fields = {f: row.get(f) for f in ProductOut.__struct_fields__ if f in row}
    return ProductOut(
        **{**fields, "producer_id": row["producer"], "certificate_expires_on": row.get("expires_on")}
    )  # type: ignore[arg-type]


def certificate_out(row: dict[str, Any]) -> CertificateOut:
    return CertificateOut(
        id=row["id"],
        product_id=row["product"],
        stars=row["stars"],
        decision_number=row["decision_number"],
        issuing_body=row["issuing_body"],
        issued_on=row["issued_on"],
        expires_on=row["expires_on"],
        has_scan=bool(row["scan_key"]),
    )


def image_out(row: dict[str, Any]) -> ImageOut:
    renditions = db.json_value(row["renditions"], {})
    return ImageOut(
        id=row["id"],
        position=row["position"],
        status=row["status"],
        width=row["width"],
        height=row["height"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        renditions={k: {**v, "url": f"/images/{row['id']}/{k}"} for k, v in (renditions or {}).items()},
    )


def _as_form(data: ProductIn) -> dict[str, str]:
    def s(value: Any) -> str:
        return "" if value is None else str(value)

    return {
        "name": data.name,
        "sku": data.sku,
        "ocop_group": s(data.ocop_group),
        "sub_group": data.sub_group,
        "description": data.description,
        "unit": data.unit,
        "net_quantity": data.net_quantity,
        "price": s(data.price),
        "weight": s(data.weight),
        "length": s(data.length_cm),
        "width": s(data.width_cm),
        "height": s(data.height_cm),
        "stock": s(data.stock),
        "shelf_life_days": s(data.shelf_life_days),
        "ingredients": data.ingredients,
    }


async def _product_with_summary(product_id: int) -> ProductOut:
    row = await product_summary(product_id)
    if row is None:
        raise NotFoundException("Not found.")
    return product_out(row)


PRODUCT_PAGES = "product_pages"
"""``app.state`` key of the process's cache of product list answers (set up by ``ocop.app``)."""


def product_page_cache(feed: ChangeFeed, max_bytes: int) -> FeedCache[bytes]:
    """Encoded product list answers, grouped by who may see what (``scope_key``). A change to
    producer X's catalogue (``catalog:X``) drops X's own group and every staff/admin group, which
    may include X; ``catalog:*`` drops all (``ocop.change_feed``)."""

    def affected(scope: Any, payload: str) -> bool:
        if not payload.startswith("catalog:"):
            return False
        return scope[0] != "producer" or payload in ("catalog:*", f"catalog:{scope[1]}")

    return FeedCache(feed, affected, max_weight=max_bytes, weigh=len)


class ProductController(Controller):
    path = "/api/v1/products"
    tags = ["products"]
    guards = [requires_user]

    @get("")
    async def list_products(
        self,
        request: Request[Any, Any, Any],
        me: Me,
        q: Annotated[
            str,
            QueryParameter(
                description="Accent-insensitive: 'banh trang' finds 'Bánh tráng'",
                examples=[Example(value="banh trang")],
            ),
        ] = "",
        group: Annotated[int | None, QueryParameter(ge=1, le=6)] = None,
        stars: Annotated[int | None, QueryParameter(ge=3, le=5)] = None,
        status: FromQuery[str] = "",
        expiring: Annotated[bool, QueryParameter(description="certificate expires within 90 days")] = False,
        producer_id: QueryId = None,
        marketplace: Annotated[str, QueryParameter(pattern=f"^(|{'|'.join(CODES)})$")] = "",
        sort: Annotated[str, QueryParameter(pattern="^(name|updated|price|created)$")] = "name",
        desc: FromQuery[bool] = False,
        page: Page = 1,
        per_page: PerPage = 20,
    ) -> Response[ProductPage]:
        query = ProductQuery(q=q, group=group, stars=stars, status=status, expiring=expiring,
                             producer_id=producer_id, marketplace=marketplace, sort=sort, desc=desc,
                             page=page, per_page=per_page)
        cache: FeedCache[bytes] = request.app.state[PRODUCT_PAGES]
        today = today_vn()  # in the key: "expiring" moves with the date
        scope, key = scope_key(me), (query, today)
        body = cache.get(scope, key)
        if body is None:
            begun = cache.begin()
            # no thumbnails in ProductOut
            result = await search_products(me, query, today=today, covers=False)
            body = msgspec.json.encode(ProductPage(
                items=[product_out(r) for r in result.items],
                total=result.total,
                page=result.page,
                per_page=result.per_page,
            ))
            cache.put(scope, key, body, begun)
        return Response(content=body, media_type=MediaType.JSON)

    @post("", status_code=201)
    async def create(
        self,
        request: Request[Any, Any, Any],
        me: Me,
        data: Annotated[ProductIn, Body(examples=[PRODUCT_EXAMPLE])],
    ) -> ProductOut:
        if data.producer_id is not None:
            producer_id = int((await get_producer(me, data.producer_id))["id"])
        else:
            producer_id = await owner_for_new_product(me)
        return await self._save(request, me, producer_id, None, data)

    async def _save(
        self,
        request: Request[Any, Any, Any],
        me: Me,
        producer_id: int,
        product_id: int | None,
        data: ProductIn,
    ) -> ProductOut:
        checked = check_product_form(_as_form(data), draft=data.draft)
        if checked.errors:
            raise invalid(checked.errors)
        try:
            product_id = await save_product(me, producer_id, product_id, checked, ip=client_ip(request))
        except SkuTaken:
            raise invalid([sku_error()]) from None
        return await _product_with_summary(product_id)

    @get("/{product_id:int}")
    async def get_one(self, me: Me, product_id: PathId) -> ProductOut:
        await get_product(me, product_id)
        return await _product_with_summary(product_id)

    @patch("/{product_id:int}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        me: Me,
        product_id: PathId,
        data: Annotated[ProductIn, Body(examples=[PRODUCT_EXAMPLE])],
    ) -> ProductOut:
        """Replaces the product's fields with the ones sent (send the whole product)."""
        product = await get_product(me, product_id)
        return await self._save(request, me, int(product["producer"]), product_id, data)

    @get("/{product_id:int}/readiness")
    async def readiness_(self, me: Me, product_id: PathId) -> list[ReadinessOut]:
        product = await get_product(me, product_id)
        result = readiness(
            product, await current_certificate(product_id), await images_of(product_id), today_vn()
        )
        return [
            ReadinessOut(
                marketplace=r.marketplace,
                ready=r.ready,
                missing=list(r.missing),
                message_vi=r.message_vi,
                message_en=r.message_en,
            )
            for r in result
        ]

    @get("/{product_id:int}/certificates")
    async def certificates(self, me: Me, product_id: PathId) -> list[CertificateOut]:
        await get_product(me, product_id)
        rows = await Certificate.select().where(Certificate.product == product_id).order_by(Certificate.id)
        return [certificate_out(r) for r in rows]

    @post("/{product_id:int}/certificates", status_code=201)
    async def add_certificate(
        self,
        request: Request[Any, Any, Any],
        me: Me,
        product_id: PathId,
        data: Annotated[CertificateIn, Body(examples=[CERTIFICATE_EXAMPLE])],
    ) -> CertificateOut:
        """Records a new certification decision (the latest one is the product's current certificate)."""
        product = await get_product(me, product_id)
        form = {
            "cert_stars": str(data.stars),
            "cert_decision_number": data.decision_number,
            "cert_issuing_body": data.issuing_body,
            "cert_issued_on": format_date(data.issued_on) if data.issued_on else "",
            "cert_validity_months": str(data.validity_months),
            "name": "x",
        }
        checked = check_product_form(form, draft=True)
        cert = checked.certificate
        errors = [e for e in checked.errors if e.field.startswith("cert_")]
        if errors or cert is None:
            raise invalid(errors)
        row = Certificate(
            product=product_id,
            stars=cert.stars,
            decision_number=cert.decision_number,
            issuing_body=cert.issuing_body,
            issued_on=cert.issued_on,
            expires_on=cert.expires_on,
        )
        await row.save()
        await record(
            me,
            "certificate.create",
            "product",
            product_id,
            producer_id=product["producer"],
            changes={"stars": cert.stars, "decision_number": cert.decision_number},
            ip=client_ip(request),
        )
        return certificate_out(row.to_dict())

    @get("/{product_id:int}/images")
    async def images(self, me: Me, product_id: PathId) -> list[ImageOut]:
        await get_product(me, product_id)
        return [image_out(r) for r in await images_of(product_id)]

    @post(
        "/{product_id:int}/images",
        status_code=201,
        request_max_body_size=UPLOAD_BODY_LIMIT,
    )
    async def upload_image(
        self,
        request: Request[Any, Any, Any],
        me: Me,
        product_id: PathId,
        data: Annotated[PhotoUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ImageOut:
        """Multipart field ``file``: JPEG/PNG/WebP/HEIC up to 20 MB. Renditions appear once the
        normalization job has run (``status`` pending → ready | rejected)."""
        product = await get_product(me, product_id)
        upload = data.file
        try:
            row = await add_photo(
                request.app.state.media,
                request.app.state.queue,
                product_id,
                await upload.read(),
                upload.filename or "",
            )
        except PhotoRefused as exc:
            raise ApiError(422, exc.code, exc.message_en, exc.message_vi) from None
        await record(
            me,
            "image.add",
            "product",
            product_id,
            producer_id=product["producer"],
            changes={"images": [row["id"]]},
            ip=client_ip(request),
        )
        return image_out(row)


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


ROUTES = [ProductController, ListingController]
