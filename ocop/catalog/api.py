"""``/api/v1`` products, certificates and images (upload).

Writes are read and checked like the form's (``ocop.catalog.inputs``): the API and the form accept
the same values and report the same field errors, each named by the body's own field, in the
shared error shape. ``PATCH`` changes only the fields it is sent.
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
from msgspec import UNSET, UnsetType

from ocop import db
from ocop.accounts.access import get_producer, owner_for_new_product, scope_key
from ocop.accounts.audit import record
from ocop.accounts.auth import Me, requires_user
from ocop.catalog.access import get_product
from ocop.catalog.certificates import current_certificate
from ocop.catalog.forms import PRODUCT_FIELDS as FORM_PRODUCT_FIELDS
from ocop.catalog.inputs import Checked, check_certificate, check_product
from ocop.catalog.photos import UPLOAD_BODY_LIMIT, PhotoRefused, add_photo
from ocop.catalog.readiness import readiness
from ocop.marketplace.jobs import kick
from ocop.catalog.services import (
    ProductQuery,
    SkuTaken,
    images_of,
    product_summary,
    save_product,
    search_products,
    sku_error,
)
from ocop.catalog.services import add_certificate as record_certificate
from ocop.catalog.tables import Certificate
from ocop.catalog.variant_store import (
    as_input,
    check_images,
    taken_skus,
    variants_by_product,
    variants_of,
    variation_of,
)
from ocop.catalog.variants import Variation, callers_names, check_variation, normalise_variation, read_variation
from ocop.change_feed import ChangeFeed, FeedCache
from ocop.domain.dates import today_vn
from ocop.domain.errors import FieldError
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


class AttributeIO(msgspec.Struct, forbid_unknown_fields=True):
    """A variation attribute: its name (≤ 14 characters) and its options (each ≤ 20), in order."""

    name: str
    options: list[str]


class VariantOut(msgspec.Struct):
    id: int
    position: int
    option1: str
    option2: str
    sku: str
    price_vnd: int
    stock: int
    weight_g: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    image_id: int | None


class VariantIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One variant, values typed as for a product (``price`` "150.000", ``weight`` "0,5 kg",
    ``length_cm`` "12,5"); ``option1``/``option2`` are options of the first and second attribute;
    ``image_id`` one of the product's photos."""

    sku: str = ""
    option1: str = ""
    option2: str = ""
    price: str | int | None = None
    stock: str | int | None = None
    weight: str | int | None = None
    length_cm: str | int | float | None = None
    width_cm: str | int | float | None = None
    height_cm: str | int | float | None = None
    image_id: RowId | None = None


VARIANT_FIELDS = {
    "sku": "sku", "option1": "option1", "option2": "option2", "price": "price_vnd", "stock": "stock",
    "weight": "weight_g", "length_cm": "length_mm", "width_cm": "width_mm", "height_cm": "height_mm",
    "image_id": "image",
}
"""Body field of a variant -> :class:`~ocop.catalog.variants.VariantInput` field."""


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
    stock_buffer: int = 0
    stars: int | None = None
    certificate_expires_on: date | None = None
    variation: list[AttributeIO] = msgspec.field(default_factory=list)
    """0–2 attributes; with any, ``price_vnd`` is the lowest variant price and ``stock`` their sum."""
    variants: list[VariantOut] = msgspec.field(default_factory=list)


class ProductPage(msgspec.Struct):
    items: list[ProductOut]
    total: int
    page: int
    per_page: int


class ProductPatch(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """A product's fields as an API client sends them, typed as people type them (``price``
    "150.000" or 150000, ``weight`` "0,5 kg", ``length_cm`` "12,5"). Every field is optional: a
    ``PATCH`` changes only those it is sent (``PATCH_DESCRIPTION``). A field this body does not have
    is refused (400) rather than ignored, so a misspelt field cannot look like a change that worked."""

    name: str | UnsetType = UNSET
    sku: str | UnsetType = UNSET
    ocop_group: int | None | UnsetType = UNSET
    sub_group: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    unit: str | UnsetType = UNSET
    net_quantity: str | UnsetType = UNSET
    price: str | int | None | UnsetType = UNSET
    weight: str | int | None | UnsetType = UNSET
    length_cm: str | int | float | None | UnsetType = UNSET
    width_cm: str | int | float | None | UnsetType = UNSET
    height_cm: str | int | float | None | UnsetType = UNSET
    stock: str | int | None | UnsetType = UNSET
    stock_buffer: str | int | None | UnsetType = UNSET
    shelf_life_days: str | int | None | UnsetType = UNSET
    ingredients: str | UnsetType = UNSET
    draft: bool | UnsetType = UNSET
    variation: list[AttributeIO] | UnsetType = UNSET
    variants: list[VariantIn] | UnsetType = UNSET


class ProductIn(ProductPatch, kw_only=True):
    """A new product, values typed as people type them (see ``ProductPatch``): active unless
    ``draft`` is true; ``producer_id`` is needed only by staff and admins."""

    name: str
    producer_id: RowId | None = None


PRODUCT_FIELDS = {
    f"{name}_cm" if name in ("length", "width", "height") else name: field
    for name, field in FORM_PRODUCT_FIELDS.items()
}
"""Body field -> :class:`~ocop.catalog.inputs.ProductInput` field: the form's names, with the
package sizes named in centimetres; ``status`` follows from ``draft``."""


class CertificateIn(msgspec.Struct):
    stars: int
    decision_number: str = ""
    issuing_body: str = ""
    issued_on: date | None = None
    validity_months: int = 36


CERTIFICATE_FIELDS = {name: name for name in CertificateIn.__struct_fields__}
"""Body field -> :class:`~ocop.catalog.inputs.CertificateInput` field (the same names)."""


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


VARIANTS_EXAMPLE = Example(
    summary="A product with variants: its price and stock are its variants'",
    value={
        "name": "Mật ong hoa cà phê Chư Sê",
        "sku": "MO-01",
        "ocop_group": 1,
        "unit": "hũ",
        "variation": [{"name": "Dung tích", "options": ["250 ml", "500 ml"]}],
        "variants": [
            {"sku": "MO-01-250", "option1": "250 ml", "price": "120.000", "stock": 10, "weight": "0,4 kg"},
            {"sku": "MO-01-500", "option1": "500 ml", "price": "210.000", "stock": 5, "weight": "0,7 kg"},
        ],
    },
)
PATCH_EXAMPLE = Example(summary="A new price, nothing else changes", value={"price": "120.000"})
PATCH_DESCRIPTION = (
    "Changes the fields sent and only those: `{\"price\": \"120.000\"}` changes the price. `null` (or \"\") "
    "empties a field. `draft`: true makes the product a draft, false makes it active. The product as "
    "changed is checked whole (an active product needs its group, unit and price) and each problem is "
    "named by its body field (422). A field the body does not have is refused (400). `variation` (0–2 "
    "attributes) and `variants` (one per combination sold, up to 50) replace the stored ones when sent; "
    "sent alone, either is checked with the other as stored. A product with variants takes its price and "
    "stock from them (lowest price, total stock): send those on each variant. Variant errors are named "
    "like `variants[3].sku` or `variation[0].options[1]`."
)


CERTIFICATE_EXAMPLE = Example(
    summary="A 4-star decision of the provincial People's Committee",
    value={"stars": 4, "decision_number": "1234/QĐ-UBND", "issuing_body": "UBND tỉnh Gia Lai",
           "issued_on": "2025-03-15", "validity_months": 36},
)


def variant_out(row: dict[str, Any]) -> VariantOut:
    return VariantOut(**{f: row[f] for f in VariantOut.__struct_fields__ if f != "image_id"}, image_id=row["image"])


def product_out(row: dict[str, Any], variants: list[dict[str, Any]] | None = None) -> ProductOut:
    fields = {f: row.get(f) for f in ProductOut.__struct_fields__ if f in row and f not in ("variation", "variants")}
    return ProductOut(
        **{**fields, "producer_id": row["producer"], "certificate_expires_on": row.get("expires_on")},
        variation=[AttributeIO(a.name, a.options) for a in variation_of(row)],
        variants=[variant_out(v) for v in variants or []],
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


def _read(data: ProductPatch, *, before: dict[str, Any] | None) -> Checked:
    """The body's fields that were sent, read like the form's and checked against ``before`` (the
    stored product; None for a new one, which is active unless ``draft``)."""
    raw: dict[str, Any] = {
        name: value for name in PRODUCT_FIELDS if (value := getattr(data, name, UNSET)) is not UNSET
    }
    draft = data.draft
    if draft is UNSET and before is None:
        draft = False  # a new product is active unless it says it is a draft
    if draft is not UNSET:
        raw["status"] = "draft" if draft else "active"
    return check_product(raw, PRODUCT_FIELDS, before=before)


async def _read_variation(
    data: ProductPatch, checked: Checked, producer_id: int, product: dict[str, Any] | None
) -> Variation | None:
    """The body's ``variation`` and ``variants`` over the stored ones, read and checked whole, or
    None when the body sends neither. With variants, the product's price and stock follow from
    them, so a body that sends those too is told where to put them."""
    product_id = int(product["id"]) if product else None
    stored_attributes = variation_of(product) if product else []
    if data.variation is UNSET and data.variants is UNSET:
        if stored_attributes:
            checked.errors += _set_per_variant(data)
        return None
    attributes: list[Any] = (
        [msgspec.structs.asdict(a) for a in data.variation] if data.variation is not UNSET else stored_attributes
    )
    parent = checked.product.sku if checked.product.sku is not UNSET else (product or {}).get("sku", "")
    taken = await taken_skus(producer_id, product_id, str(parent or ""))
    if data.variants is not UNSET:
        raw = [{k: v for k, v in msgspec.structs.asdict(item).items()} for item in data.variants]
        variation = read_variation(attributes, raw, names=VARIANT_FIELDS, taken_skus=taken)
    else:
        stored = [as_input(r) for r in await variants_of(product_id)] if product_id else []
        normalised = normalise_variation(attributes)
        variation = Variation(normalised, stored, check_variation(normalised, stored, taken_skus=taken))
        variation.errors = callers_names(variation.errors, VARIANT_FIELDS)
    variation.errors += await check_images(product_id, variation.variants, "image_id")
    if variation.variants:
        checked.errors = [e for e in checked.errors if e.field not in ("price", "stock")]
        checked.errors += _set_per_variant(data)
    checked.errors += variation.errors
    return variation


def _set_per_variant(data: ProductPatch) -> list[FieldError]:
    """A product with variants takes its price and stock from them."""
    return [
        FieldError(name, "set_per_variant", "Sản phẩm có phân loại: nhập giá và tồn kho ở từng phân loại",
                   "This product has variants: set the price and stock on each variant")
        for name in ("price", "stock") if getattr(data, name) is not UNSET
    ]


async def _save(
    request: Request[Any, Any, Any],
    me: Me,
    producer_id: int,
    product: dict[str, Any] | None,
    data: ProductPatch,
) -> ProductOut:
    checked = _read(data, before=product)
    variation = await _read_variation(data, checked, producer_id, product)
    if checked.errors:
        raise invalid(checked.errors)
    product_id = int(product["id"]) if product else None
    try:
        product_id = await save_product(
            me, producer_id, product_id, checked, ip=client_ip(request), variation=variation
        )
    except SkuTaken:
        raise invalid([sku_error()]) from None
    await kick(request.app.state.queue.redis)  # price, stock and content edits go out now
    return await _product_with_summary(product_id)


async def _product_with_summary(product_id: int) -> ProductOut:
    row = await product_summary(product_id)
    if row is None:
        raise NotFoundException("Not found.")
    return product_out(row, await variants_of(product_id))


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
            variants = await variants_by_product(r["id"] for r in result.items if variation_of(r))
            body = msgspec.json.encode(ProductPage(
                items=[product_out(r, variants.get(r["id"])) for r in result.items],
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
        data: Annotated[ProductIn, Body(examples=[PRODUCT_EXAMPLE, VARIANTS_EXAMPLE])],
    ) -> ProductOut:
        if data.producer_id is not None:
            producer_id = int((await get_producer(me, data.producer_id))["id"])
        else:
            producer_id = await owner_for_new_product(me)
        return await _save(request, me, producer_id, None, data)

    @get("/{product_id:int}")
    async def get_one(self, me: Me, product_id: PathId) -> ProductOut:
        await get_product(me, product_id)
        return await _product_with_summary(product_id)

    @patch("/{product_id:int}", description=PATCH_DESCRIPTION)
    async def update(
        self,
        request: Request[Any, Any, Any],
        me: Me,
        product_id: PathId,
        data: Annotated[ProductPatch, Body(examples=[PATCH_EXAMPLE, PRODUCT_EXAMPLE])],
    ) -> ProductOut:
        product = await get_product(me, product_id)
        return await _save(request, me, int(product["producer"]), product, data)

    @get("/{product_id:int}/readiness")
    async def readiness_(self, me: Me, product_id: PathId) -> list[ReadinessOut]:
        product = await get_product(me, product_id)
        result = readiness(
            product, await current_certificate(product_id), await images_of(product_id), today_vn(),
            await variants_of(product_id),
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
        cert, errors = check_certificate(msgspec.structs.asdict(data), CERTIFICATE_FIELDS)
        if errors:
            raise invalid(errors)
        row = await record_certificate(me, product_id, product["producer"], cert, ip=client_ip(request))
        return certificate_out(row)

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


ROUTES = [ProductController]
