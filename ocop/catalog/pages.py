"""Product pages: list with search and filters, the product + certificate form, photos, readiness."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from media.errors import MediaRejected
from media.sniff import sniff_scan
from ocop import db
from ocop.accounts.access import owner_for_new_product
from ocop.catalog.access import get_product
from ocop.accounts.audit import record
from ocop.accounts.auth import Me, requires_user
from ocop.catalog.certificates import current_certificate
from ocop.catalog.forms import check_product_form
from ocop.catalog.photos import (
    UPLOAD_BODY_LIMIT,
    PhotoRefused,
    add_photo,
    delete_photo,
    move_photo,
    set_cover,
)
from ocop.catalog.readiness import readiness
from ocop.marketplace.jobs import kick
from ocop.catalog.services import (
    ProductQuery,
    SkuTaken,
    images_of,
    save_product,
    search_products,
    sku_error,
)
from ocop.catalog.tables import Certificate, Image
from ocop.catalog import variant_form
from ocop.catalog.variant_store import check_images, taken_skus, variants_by_product, variants_of, variation_of
from ocop.catalog.variants import MAX_ATTRIBUTES, Variation, read_variation, rollup, summary
from ocop.marketplaces import NAMES
from ocop.domain.dates import today_vn
from ocop.domain.ocop import CERTIFICATE_VALIDITY_MONTHS, GROUPS
from ocop.web.i18n import format_date, pick
from ocop.web.render import client_ip, locale, render, see_other

PAGE = {"include_in_schema": False, "guards": [requires_user]}
MAX_SCAN_BYTES = 20 * 1024 * 1024


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


@get("/products", **PAGE)
async def product_list(request: Request[Any, Any, Any], me: Me) -> Template:
    params = request.query_params
    query = ProductQuery(
        q=params.get("q", ""),
        group=_int(params.get("group")),
        stars=_int(params.get("stars")),
        status=params.get("status", ""),
        expiring=params.get("expiring") == "1",
        marketplace=params.get("marketplace", "") if params.get("marketplace") in NAMES else "",
        sort=params.get("sort", "name"),
        desc=params.get("desc") == "1",
        page=_int(params.get("page")) or 1,
        # Staff acting for a producer work on that producer's catalogue, not their whole area's.
        producer_id=me.acting_for_producer_id,
    )
    page = await search_products(me, query)
    with_variants = await variants_by_product(p["id"] for p in page.items if variation_of(p))
    for item in page.items:
        item["variants"] = summary(with_variants[item["id"]]) if item["id"] in with_variants else None
    template = "catalog/_results.html" if request.headers.get("hx-request") else "catalog/list.html"
    return render(template, page=page, query=query, groups=GROUPS, args=dict(params), marketplaces=NAMES)


def _form_from_row(product: dict[str, Any], cert: dict[str, Any] | None) -> dict[str, str]:
    form = {
        k: "" if product.get(k) is None else str(product[k])
        for k in (
            "sku",
            "name",
            "sub_group",
            "description",
            "unit",
            "net_quantity",
            "ingredients",
            "ocop_group",
            "stock",
            "stock_buffer",
            "shelf_life_days",
            "status",
        )
    }
    form["price"] = variant_form.price_text(product.get("price_vnd"))
    form["weight"] = "" if product.get("weight_g") is None else str(product["weight_g"])
    for dim in ("length", "width", "height"):
        form[dim] = variant_form.cm_text(product.get(f"{dim}_mm"))
    if cert:
        form.update(
            cert_stars=str(cert["stars"] or ""),
            cert_decision_number=cert["decision_number"],
            cert_issuing_body=cert["issuing_body"],
            cert_issued_on=format_date(cert["issued_on"]),
        )
        if cert["issued_on"] and cert["expires_on"]:
            months = (
                (cert["expires_on"].year - cert["issued_on"].year) * 12
                + cert["expires_on"].month
                - cert["issued_on"].month
            )
            form["cert_validity_months"] = str(months)
    return form


async def _form_page(
    form: dict[str, str],
    errors: dict[str, str],
    product: dict[str, Any] | None,
    status_code: int = 200,
    cert: dict[str, Any] | None = None,
    variants: variant_form.VariantForm | None = None,
) -> Template:
    form.setdefault("cert_validity_months", str(CERTIFICATE_VALIDITY_MONTHS))
    photos = [r for r in await images_of(product["id"]) if r["status"] == "ready"] if product else []
    return render(
        "catalog/form.html",
        status_code=status_code,
        form=form,
        errors=errors,
        product=product,
        groups=GROUPS,
        cert=cert,
        vf=variants or variant_form.VariantForm(),
        photos=photos,
        max_attributes=MAX_ATTRIBUTES,
    )


@get("/products/new", **PAGE)
async def product_new(me: Me) -> Template:
    await owner_for_new_product(me)
    return await _form_page({}, {}, None)


@get("/products/{product_id:int}/edit", **PAGE)
async def product_edit(me: Me, product_id: FromPath[int]) -> Template:
    product = await get_product(me, product_id)
    cert = await current_certificate(product_id)
    variants = variant_form.from_rows(variation_of(product), await variants_of(product_id))
    return await _form_page(_form_from_row(product, cert), {}, product, cert=cert, variants=variants)


async def _scan_upload(request: Request[Any, Any, Any], form: Any) -> tuple[str, dict[str, str]]:
    scan = form.get("cert_scan")
    if not isinstance(scan, UploadFile) or not scan.filename:
        return "", {}
    data = await scan.read()
    if not data:
        return "", {}
    lang = locale(request)
    if len(data) > MAX_SCAN_BYTES:
        return "", {
            "cert_scan": pick(lang, "Tệp quá lớn (tối đa 20 MB).", "The file is too large (20 MB at most).")
        }
    try:  # the bytes decide, not the declared type (HTML sent as application/pdf is refused)
        sniff_scan(data)
    except MediaRejected as exc:
        return "", {"cert_scan": pick(lang, exc.message_vi, exc.message_en)}
    return await request.app.state.media.put(data), {}


async def _submit(request: Request[Any, Any, Any], me: Me, product_id: int | None) -> Template | Redirect:
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str) and k != "_csrf_token"}
    product = await get_product(me, product_id) if product_id is not None else None
    producer_id = int(product["producer"]) if product else await owner_for_new_product(me)
    draft = form.get("action") == "draft"
    vf = variant_form.from_form(form)
    if form.get("op"):  # a structural change to the variants: draw the form again, save nothing
        vf = variant_form.apply(form["op"], vf, parent_sku=form.get("sku", "").strip())
        return await _form_page(form, {}, product, variants=vf)
    variation = await _read_variants(form, vf, producer_id, product)
    checked = check_product_form(_with_rollup(form, variation), draft=draft, before=product)
    if variation is not None:
        if variation.variants:  # the product's price and stock are its variants'
            checked.errors = [e for e in checked.errors if e.field not in ("price", "stock")]
        checked.errors += variant_form.form_errors(variation.errors)
    lang = locale(request)
    errors = {e.field: pick(lang, e.message_vi, e.message_en) for e in checked.errors}
    scan_key, scan_errors = await _scan_upload(request, raw)
    errors.update(scan_errors)
    if not errors:
        try:
            product_id = await save_product(
                me, producer_id, product_id, checked, scan_key=scan_key, ip=client_ip(request), variation=variation
            )
        except SkuTaken:
            e = sku_error()
            errors[e.field] = pick(lang, e.message_vi, e.message_en)
    if errors:
        return await _form_page(form, errors, product, status_code=400, variants=vf)
    await kick(request.app.state.queue.redis)  # price, stock and content edits go out now
    repushed = getattr(product_id, "repushed", 0)
    return see_other(f"/products/{product_id}" + (f"?repushed={repushed}" if repushed else ""))


async def _read_variants(
    form: dict[str, str], vf: variant_form.VariantForm, producer_id: int, product: dict[str, Any] | None
) -> Variation | None:
    """The form's attributes and variants, checked; None when the product has none and had none."""
    if not vf.attributes and not (product and variation_of(product)):
        return None
    product_id = int(product["id"]) if product else None
    parent = form.get("sku", "").strip() or (product or {}).get("sku", "")
    variation = read_variation(vf.attributes, vf.variants, names=variant_form.VARIANT_FIELDS,
                               taken_skus=await taken_skus(producer_id, product_id, parent))
    variation.errors += await check_images(product_id, variation.variants, "image")
    return variation


def _with_rollup(form: dict[str, str], variation: Variation | None) -> dict[str, str]:
    """The form as the product's rules read it: with variants, its price and stock are theirs."""
    if variation is None or not variation.variants:
        return form
    step = rollup(variation.variants)
    return {**form, "price": "" if step.price_vnd is None else str(step.price_vnd), "stock": str(step.stock)}


@post("/products/new", request_max_body_size=MAX_SCAN_BYTES + 1024 * 1024, **PAGE)
async def product_create(request: Request[Any, Any, Any], me: Me) -> Template | Redirect:
    return await _submit(request, me, None)


@post("/products/{product_id:int}/edit", request_max_body_size=MAX_SCAN_BYTES + 1024 * 1024, **PAGE)
async def product_update(
    request: Request[Any, Any, Any], me: Me, product_id: FromPath[int]
) -> Template | Redirect:
    return await _submit(request, me, product_id)


async def _photos_context(product: dict[str, Any]) -> dict[str, Any]:
    """The photo list, and the readiness it changes: HTMX swaps the readiness list too (out of band),
    so after an upload, once the renditions exist, "needs a photo" goes away without a reload."""
    images = await images_of(product["id"])
    cert = await current_certificate(product["id"])
    variants = await variants_of(product["id"])
    return {"images": images, "readiness": readiness(product, cert, images, today_vn(), variants), "oob": True}


@get("/products/{product_id:int}", **PAGE)
async def product_detail(request: Request[Any, Any, Any], me: Me, product_id: FromPath[int]) -> Template:
    product = await get_product(me, product_id)
    cert = await current_certificate(product_id)
    images = await images_of(product_id)
    variants = await variants_of(product_id)
    return render(
        "catalog/detail.html",
        product=product,
        cert=cert,
        images=images,
        variation=variation_of(product),
        variants=variants,
        variant_summary=summary(variants) if variants else None,
        readiness=readiness(product, cert, images, today_vn(), variants),
        group=next((g for g in GROUPS if g.code == product["ocop_group"]), None),
        repushed=request.query_params.get("repushed", "").isdigit(),
    )


@get("/products/{product_id:int}/photos", **PAGE)
async def photos_fragment(me: Me, product_id: FromPath[int]) -> Template:
    product = await get_product(me, product_id)
    return render("catalog/_photos.html", product=product, refused=[], **await _photos_context(product))


@post("/products/{product_id:int}/photos", request_max_body_size=UPLOAD_BODY_LIMIT, **PAGE)
async def photos_upload(
    request: Request[Any, Any, Any], me: Me, product_id: FromPath[int]
) -> Template | Redirect:
    """Several photos at once; each refused one is listed with its reason, the others are kept."""
    product = await get_product(me, product_id)
    form = await request.form()
    files = (
        [f for f in form.getall("photos") if isinstance(f, UploadFile) and f.filename]
        if "photos" in form
        else []
    )
    lang = locale(request)
    refused: list[tuple[str, str]] = []
    added = []
    for upload in files[:10]:
        data = await upload.read()
        try:
            row = await add_photo(
                request.app.state.media, request.app.state.queue, product_id, data, upload.filename
            )
            added.append(row["id"])
        except PhotoRefused as exc:
            refused.append((upload.filename, pick(lang, exc.message_vi, exc.message_en)))
    if added:
        await record(
            me,
            "image.add",
            "product",
            product_id,
            producer_id=product["producer"],
            changes={"images": added},
            ip=client_ip(request),
        )
    if not request.headers.get("hx-request"):
        if refused:
            return render(
                "catalog/_photos.html",
                status_code=400,
                product=product,
                refused=refused,
                **await _photos_context(product),
            )
        return see_other(f"/products/{product_id}")
    return render(
        "catalog/_photos.html",
        status_code=200 if not refused else 422,
        product=product,
        refused=refused,
        **await _photos_context(product),
    )


async def _photo_action(
    request: Request[Any, Any, Any],
    me: Me,
    product_id: int,
    image_id: int,
    action: str,
) -> Template | Redirect:
    product = await get_product(me, product_id)
    if not await Image.exists().where((Image.id == image_id) & (Image.product == product_id)):
        raise NotFoundException("Not found.")
    if action == "delete":
        await delete_photo(product_id, image_id)
    elif action == "cover":
        await set_cover(product_id, image_id)
    else:
        await move_photo(product_id, image_id, -1 if action == "up" else 1)
    await record(
        me,
        f"image.{action}",
        "product",
        product_id,
        producer_id=product["producer"],
        changes={"image": image_id},
        ip=client_ip(request),
    )
    if request.headers.get("hx-request"):
        return render(
            "catalog/_photos.html", product=product, refused=[], **await _photos_context(product)
        )
    return see_other(f"/products/{product_id}")


@post("/products/{product_id:int}/photos/{image_id:int}/{action:str}", **PAGE)
async def photo_action(
    request: Request[Any, Any, Any],
    me: Me,
    product_id: FromPath[int],
    image_id: FromPath[int],
    action: FromPath[str],
) -> Template | Redirect:
    if action not in ("delete", "cover", "up", "down"):
        raise NotFoundException("Not found.")
    return await _photo_action(request, me, product_id, image_id, action)


RENDITION_TYPES = {"JPEG": "image/jpeg", "WEBP": "image/webp"}


@get("/images/{image_id:int}/{profile:str}", **PAGE)
async def rendition(
    request: Request[Any, Any, Any], me: Me, image_id: FromPath[int], profile: FromPath[str]
) -> Response[bytes]:
    """A normalized rendition (never the raw upload), after the same access check as its product."""
    row = (
        await Image.select(Image.product, Image.renditions, Image.status).where(Image.id == image_id).first()
    )
    if row is None:
        raise NotFoundException("Not found.")
    await get_product(me, int(row["product"]))
    info = db.json_value(row["renditions"], {}).get(profile)
    if info is None:
        raise NotFoundException("Not found.")
    data = await request.app.state.media.get(info["key"])
    return Response(
        content=data,
        media_type=RENDITION_TYPES.get(info.get("format", "JPEG"), "image/jpeg"),
        headers={"cache-control": "private, max-age=86400"},
    )


@get("/products/{product_id:int}/certificate-scan", **PAGE)
async def certificate_scan(
    request: Request[Any, Any, Any], me: Me, product_id: FromPath[int]
) -> Response[bytes]:
    await get_product(me, product_id)
    cert = (
        await Certificate.select(Certificate.scan_key)
        .where((Certificate.product == product_id) & (Certificate.scan_key != ""))
        .order_by(Certificate.id, ascending=False)
        .first()
    )
    if cert is None:
        raise NotFoundException("Not found.")
    data = await request.app.state.media.get(cert["scan_key"])
    kind = "application/pdf" if data[:4] == b"%PDF" else "application/octet-stream"
    if kind != "application/pdf":
        from media.sniff import CONTENT_TYPES, sniff

        try:
            kind = CONTENT_TYPES.get(sniff(data), kind)
        except Exception:  # noqa: BLE001 - an unreadable scan is offered as a download
            pass
    return Response(
        content=data,
        media_type=kind,
        headers={
            "content-disposition": "attachment; filename=chung-nhan-ocop",
            "cache-control": "private, no-store",
        },
    )


ROUTES = [
    product_list,
    product_new,
    product_edit,
    product_create,
    product_update,
    product_detail,
    photos_fragment,
    photos_upload,
    photo_action,
    rendition,
    certificate_scan,
]
