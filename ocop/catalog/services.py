"""Product services: save (product + certificate in one transaction, with an audit event), search
and the data behind a product page. Callers have already checked access (``ocop.accounts.access``)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ocop.accounts.access import combine, product_scope
from ocop.accounts.audit import diff, record
from ocop.accounts.auth import Principal
from ocop.catalog.forms import Checked
from ocop.catalog.tables import Certificate, Image, Product
from ocop.domain.dates import today_vn
from ocop.domain.errors import FieldError
from ocop.domain.text import fold

EXPIRING_DAYS = 90
SORTS = {
    "name": Product.name_folded,
    "updated": Product.updated_at,
    "price": Product.price_vnd,
    "created": Product.created_at,
}


class SkuTaken(Exception):
    pass


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def latest_certificate(product_id: int) -> dict[str, Any] | None:
    return (
        await Certificate.select()
        .where(Certificate.product == product_id)
        .order_by(Certificate.id, ascending=False)
        .first()
    )


async def images_of(product_id: int) -> list[dict[str, Any]]:
    rows = await Image.select().where(Image.product == product_id).order_by(Image.position).order_by(Image.id)
    for row in rows:
        row["renditions"] = _json(row["renditions"]) or {}
    return rows


async def save_product(
    me: Principal,
    producer_id: int,
    product_id: int | None,
    checked: Checked,
    *,
    scan_key: str = "",
    ip: str = "",
) -> int:
    """Insert or update the product and its latest certificate; returns the product id.
    Raises SkuTaken when the producer already uses the SKU for another product."""
    values = dict(checked.product)
    if not values.get("sku"):
        values["sku"] = "SP-" + secrets.token_hex(3).upper()
    clash = Product.select(Product.id).where(
        (Product.producer == producer_id) & (Product.sku == values["sku"])
    )
    if product_id is not None:
        clash = clash.where(Product.id != product_id)
    if await clash.first():
        raise SkuTaken(values["sku"])
    async with Product._meta.db.transaction():
        if product_id is None:
            row = Product(producer=producer_id, **values)
            await row.save()
            product_id = int(row.id)
            changes: dict[str, Any] = {k: v for k, v in values.items() if v not in (None, "")}
            action = "product.create"
        else:
            before = (
                await Product.select(*[getattr(Product, k) for k in values])
                .where(Product.id == product_id)
                .first()
            )
            changes = diff(before or {}, values)
            await Product.update(
                {**{getattr(Product, k): v for k, v in values.items()}, Product.updated_at: datetime.now(UTC)}
            ).where(Product.id == product_id)
            action = "product.update"
        cert = checked.certificate
        if cert is not None or scan_key:
            existing = await latest_certificate(product_id)
            cert_values: dict[str, Any] = {}
            if cert is not None:
                cert_values = {
                    "stars": cert.stars,
                    "decision_number": cert.decision_number,
                    "issuing_body": cert.issuing_body,
                    "issued_on": cert.issued_on,
                    "expires_on": cert.expires_on,
                }
            if scan_key:
                cert_values["scan_key"] = scan_key
            if existing is None:
                cert_values.setdefault("stars", 0)
                await Certificate.insert(Certificate(product=product_id, **cert_values))
            else:
                await Certificate.update({getattr(Certificate, k): v for k, v in cert_values.items()}).where(
                    Certificate.id == existing["id"]
                )
            changes["certificate"] = {k: v for k, v in cert_values.items() if v not in (None, "")}
        if changes:
            await record(me, action, "product", product_id, producer_id=producer_id, changes=changes, ip=ip)
    return product_id


def sku_error() -> FieldError:
    return FieldError(
        "sku", "sku_taken", "Mã SKU này đã dùng cho sản phẩm khác", "This SKU is used by another product"
    )


@dataclass
class ProductQuery:
    q: str = ""
    group: int | None = None
    stars: int | None = None
    status: str = ""
    expiring: bool = False
    marketplace: str = ""
    """Only products with a listing on this marketplace (shopee | lazada | tiktok | tiki)."""
    producer_id: int | None = None
    sort: str = "name"
    desc: bool = False
    page: int = 1
    per_page: int = 20


@dataclass
class PageOf:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


async def search_products(me: Principal, query: ProductQuery, *, today: date | None = None) -> PageOf:
    """Accent-insensitive search on ``name_folded`` ("banh trang" finds "Bánh tráng", "d" finds "đ"),
    filters and sort, limited to what ``me`` may see."""
    today = today or today_vn()
    clauses: list[Any] = [product_scope(me)]
    if query.q.strip():
        clauses.append(
            Product.name_folded.like(f"%{fold(query.q)}%") | Product.sku.like(f"%{query.q.strip()}%")
        )
    if query.group:
        clauses.append(Product.ocop_group == query.group)
    if query.status:
        clauses.append(Product.status == query.status)
    if query.producer_id:
        clauses.append(Product.producer == query.producer_id)
    if query.stars or query.expiring:
        cert = Certificate.select(Certificate.product)
        if query.stars:
            cert = cert.where(Certificate.stars == query.stars)
        if query.expiring:
            cert = cert.where(Certificate.expires_on <= today + timedelta(days=EXPIRING_DAYS))
        ids = sorted({r["product"] for r in await cert})
        clauses.append(Product.id.is_in(ids or [-1]))
    if query.marketplace:
        from ocop.marketplace.tables import Listing

        listed = await Listing.select(Listing.product).where(Listing.shop.marketplace == query.marketplace)
        clauses.append(Product.id.is_in(sorted({r["product"] for r in listed}) or [-1]))
    where = combine(*clauses)
    count_query = Product.count()
    select = Product.select(Product.all_columns(), Product.producer.legal_name.as_alias("producer_name"))
    if where is not None:
        count_query = count_query.where(where)
        select = select.where(where)
    total = await count_query
    sort_col = SORTS.get(query.sort, Product.name_folded)
    per_page = max(1, min(query.per_page, 100))
    page = max(1, query.page)
    items = (
        await select.order_by(sort_col, ascending=not query.desc)
        .order_by(Product.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    await _attach_summary(items)
    return PageOf(items=items, total=total, page=page, per_page=per_page)


async def _attach_summary(items: list[dict[str, Any]]) -> None:
    """Latest certificate stars/expiry and the cover thumbnail of each listed product."""
    ids = [row["id"] for row in items]
    if not ids:
        return
    certs = (
        await Certificate.select(Certificate.product, Certificate.stars, Certificate.expires_on)
        .where(Certificate.product.is_in(ids))
        .order_by(Certificate.id)
    )
    by_product = {c["product"]: c for c in certs}
    covers = (
        await Image.select(Image.id, Image.product, Image.renditions)
        .where(Image.product.is_in(ids) & (Image.status == "ready"))
        .order_by(Image.position, ascending=False)
        .order_by(Image.id, ascending=False)
    )
    cover_of = {c["product"]: c for c in covers}  # last write wins = lowest position
    for row in items:
        cert = by_product.get(row["id"])
        row["stars"] = cert["stars"] if cert else None
        row["expires_on"] = cert["expires_on"] if cert else None
        cover = cover_of.get(row["id"])
        row["cover_id"] = cover["id"] if cover and "web_thumb" in (_json(cover["renditions"]) or {}) else None
