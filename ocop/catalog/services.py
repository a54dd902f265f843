"""Product services: save (product + certificate in one transaction, with an audit event), search
and the data behind a product page. Callers have already checked access (``ocop.accounts.access``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ocop import db
from ocop.accounts.access import combine
from ocop.catalog.access import product_scope
from ocop.accounts.audit import diff, record
from ocop.accounts.auth import Principal
from ocop.catalog.certificates import current_certificate, current_column, products_whose_current
from ocop.catalog.inputs import CertificateInput, Checked
from ocop.catalog.tables import Certificate, Image, Product, Variant
from ocop.catalog.variant_store import variation_of, write_variants
from ocop.catalog.variants import Variation, rollup, variation_json
from ocop.domain.dates import today_vn
from ocop.domain.errors import FieldError
from ocop.domain.text import fold

EXPIRING_DAYS = 90
SORTS = {"name": "name_folded", "updated": "updated_at", "price": "price_vnd", "created": "created_at"}
"""``sort`` parameter -> product column (a fixed list: the column name is written into the SQL)."""


class SkuTaken(Exception):
    pass


PARTIAL_FIELDS = frozenset({"price_vnd", "stock", "stock_buffer", "variant_prices", "variant_stock"})
"""Fields that reach the marketplaces through the partial price/stock push; any other change is a
content edit, which re-pushes the listing (and the marketplace reviews it again)."""


class SavedProduct(int):
    """The saved product's id, carrying how many listings an edit re-pushed for review."""

    repushed: int = 0


async def images_of(product_id: int) -> list[dict[str, Any]]:
    rows = await Image.select().where(Image.product == product_id).order_by(Image.position).order_by(Image.id)
    for row in rows:
        row["renditions"] = db.json_value(row["renditions"], {})
    return rows


async def save_product(
    me: Principal,
    producer_id: int,
    product_id: int | None,
    checked: Checked,
    *,
    scan_key: str = "",
    ip: str = "",
    variation: Variation | None = None,
) -> int:
    """Insert the product, or update the fields it was given (the others keep their stored value),
    and write its current certificate; returns the product id. ``checked`` has been read and checked
    against the stored product (``ocop.catalog.inputs``). The audit event names the changed fields.
    Raises SkuTaken when the producer already uses the SKU for another product.

    On the marketplaces: a new stock count settles the orders seen so far (the producer's count has
    them), and a price or stock change makes the product's listings due for the partial push, in
    this same transaction (:mod:`ocop.marketplace.stock`); a content change re-pushes the listings
    whose payload changed (``product_changed``), counted in the answer's ``repushed``.

    ``variation`` (checked by ``ocop.catalog.variants``): the product's attributes and variants
    become these, in the same transaction; the product's price and stock are then the lowest
    variant price and the sum of variant stocks. A variant's price or stock change goes out like
    the product's own; any other variant change is a content edit."""
    from ocop.marketplace import stock as market_stock
    from ocop.marketplace.publishing import product_changed

    values = checked.product.given()
    if variation is not None and variation.variants:
        step = rollup(variation.variants)
        values["price_vnd"], values["stock"] = step.price_vnd, step.stock
    if "name" in values:
        values["name_folded"] = fold(values["name"])
    if not values.get("sku") and (product_id is None or "sku" in values):
        values["sku"] = "SP-" + secrets.token_hex(3).upper()
    if "sku" in values:
        clash = Product.select(Product.id).where(
            (Product.producer == producer_id) & (Product.sku == values["sku"])
        )
        if product_id is not None:
            clash = clash.where(Product.id != product_id)
        if await clash.first():
            raise SkuTaken(values["sku"])
        variant_clash = Variant.select(Variant.id).where(
            (Variant.product.producer == producer_id) & (Variant.sku == values["sku"])
        )
        if product_id is not None and variation is not None:  # its own variants are being replaced
            variant_clash = variant_clash.where(Variant.product != product_id)
        if await variant_clash.first():
            raise SkuTaken(values["sku"])
    async with Product._meta.db.transaction():
        if variation is not None:
            values["variation"] = variation_json(variation.attributes)
        if product_id is None:
            row = Product(producer=producer_id, **values)
            await row.save()
            product_id = int(row.id)
            changes: dict[str, Any] = {k: v for k, v in values.items() if v not in (None, "", [])}
            action = "product.create"
            if variation is not None and variation.variants:
                changes.update((await write_variants(product_id, variation.variants)).audit())
        else:
            before = (
                await Product.select(*[getattr(Product, k) for k in values])
                .where(Product.id == product_id)
                .first()
            )
            changes = diff(before or {}, {k: v for k, v in values.items() if k != "variation"})
            if "variation" in values and variation_json(variation_of(before or {})) != values["variation"]:
                changes["variation"] = values["variation"]
            await Product.update(
                {**{getattr(Product, k): v for k, v in values.items()}, Product.updated_at: datetime.now(UTC)}
            ).where(Product.id == product_id)
            action = "product.update"
            if variation is not None:
                changes.update((await write_variants(product_id, variation.variants)).audit())
            if "stock" in changes or "variant_stock" in changes:
                await market_stock.stock_edited([product_id])
            if PARTIAL_FIELDS & changes.keys():
                await market_stock.bump([product_id])
        cert = checked.certificate
        if cert is not None or scan_key:
            existing = await current_certificate(product_id)
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
    saved = SavedProduct(product_id)
    if action == "product.update" and set(changes) - PARTIAL_FIELDS:
        requested = await product_changed(product_id, cause=f"user:{me.user_id}")
        saved.repushed = sum(1 for r in requested if r.changed)
    return saved


async def add_certificate(
    me: Principal, product_id: int, producer_id: int, cert: CertificateInput, *, ip: str = ""
) -> dict[str, Any]:
    """Record a new certification decision for the product (its earlier ones stay), with an audit
    event; returns the new row."""
    async with Certificate._meta.db.transaction():
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
            producer_id=producer_id,
            changes={"stars": cert.stars, "decision_number": cert.decision_number},
            ip=ip,
        )
    return row.to_dict()  # type: ignore[no-any-return]


def sku_error() -> FieldError:
    return FieldError(
        "sku", "sku_taken", "Mã SKU này đã dùng cho sản phẩm khác", "This SKU is used by another product"
    )


@dataclass(frozen=True)
class ProductQuery:
    q: str = ""
    group: int | None = None
    stars: int | None = None
    status: str = ""
    expiring: bool = False
    marketplace: str = ""
    """Only products with a listing on this marketplace (a code of ``ocop.marketplaces``)."""
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


async def search_products(
    me: Principal, query: ProductQuery, *, today: date | None = None, covers: bool = True
) -> PageOf:
    """Accent-insensitive search on ``name_folded`` ("banh trang" finds "Bánh tráng", "d" finds "đ"),
    filters and sort, limited to what ``me`` may see. Each item carries ``producer_name`` and its
    current certificate's ``stars``/``expires_on``; with ``covers`` (the pages' thumbnails) also
    ``cover_id``, which the JSON API does not show and so does not pay for."""
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
        conditions, args = [], []
        if query.stars:
            conditions.append("ps.stars = {}")
            args.append(query.stars)
        if query.expiring:
            conditions.append("ps.expires_on <= {}")
            args.append(today + timedelta(days=EXPIRING_DAYS))
        ids = await products_whose_current(" AND ".join(conditions), *args)
        clauses.append(Product.id.is_in(ids or [-1]))
    if query.marketplace:
        from ocop.marketplace.tables import Listing

        listed = await Listing.select(Listing.product).where(Listing.shop.marketplace == query.marketplace)
        clauses.append(Product.id.is_in(sorted({r["product"] for r in listed}) or [-1]))
    where = combine(*clauses)
    per_page = max(1, min(query.per_page, 100))
    page = max(1, query.page)
    direction = "DESC" if query.desc else "ASC"
    filtered = " WHERE {}" if where is not None else ""
    sql = (
        _PAGE_SQL.format(total=f"SELECT COUNT(*) {_FROM}{filtered}")
        + filtered
        + f' ORDER BY "product"."{SORTS.get(query.sort, "name_folded")}" {direction}, "product"."id" ASC'
        + " LIMIT {} OFFSET {}"
    )
    args = [where.querystring] * 2 if where is not None else []
    items = await db.fetch_dicts(Product, sql, *args, per_page, (page - 1) * per_page)
    if items:
        total = int(items[0]["total_rows"])
    elif page > 1:  # past the last page: no row brought the total along, ask for it
        count = Product.count()
        total = await (count.where(where) if where is not None else count)
    else:
        total = 0
    for row in items:
        _tidy(row)
    if covers:
        await _attach_covers(items)
    return PageOf(items=items, total=total, page=page, per_page=per_page)


# One statement per page instead of four (count, page, certificates, covers): under load the round
# trips and the ORM's per-statement build cost were most of the list endpoint's time
# (tests/bench/load_bench.py). The total is an uncorrelated scalar subquery, computed once by both
# SQLite and PostgreSQL (``COUNT(*) OVER ()`` would materialise every matching row before the
# LIMIT: 12 ms instead of 2 for a province's 2,200 products, EXPLAIN ANALYZE on PostgreSQL 15).
# The current certificate (``ocop.catalog.certificates``) comes from correlated subqueries on the
# indexed ``certificate.product``, evaluated for the page's rows only. The filters stay piccolo clauses
# (``product_scope`` is the one definition of who sees what): they render against piccolo's own
# join alias ``"product$producer"``, which FROM reuses.
_FROM = (
    'FROM "product" LEFT JOIN "producer" "product$producer"'
    ' ON "product"."producer" = "product$producer"."id"'
)
_PRODUCT_ID = '"product"."id"'
_PAGE_SQL = (
    "SELECT "
    + ", ".join(f'"product"."{c._meta.db_column_name}"' for c in Product._meta.columns)
    + ', "product$producer"."legal_name" AS "producer_name", ({total}) AS "total_rows"'
    + f', {current_column("stars", _PRODUCT_ID)} AS "stars"'
    + f', {current_column("expires_on", _PRODUCT_ID)} AS "expires_on" '
    + _FROM
)


def _tidy(row: dict[str, Any]) -> None:
    del row["total_rows"]
    if isinstance(row["expires_on"], str):  # SQLite: a subquery's value has no declared type
        row["expires_on"] = date.fromisoformat(row["expires_on"])


async def product_summary(product_id: int) -> dict[str, Any] | None:
    """One product as a search item (``producer_name``, current certificate's ``stars`` and
    ``expires_on``) in one statement: what the API answers after a create or update."""
    rows = await db.fetch_dicts(Product, _PAGE_SQL.format(total="SELECT 1") + ' WHERE "product"."id" = {}', product_id)
    if not rows:
        return None
    _tidy(rows[0])
    return rows[0]  # type: ignore[no-any-return]


async def _attach_covers(items: list[dict[str, Any]]) -> None:
    """The cover thumbnail of each listed product: its first ready photo with a web thumbnail."""
    ids = [row["id"] for row in items]
    if not ids:
        return
    covers = (
        await Image.select(Image.id, Image.product, Image.renditions)
        .where(Image.product.is_in(ids) & (Image.status == "ready"))
        .order_by(Image.position, ascending=False)
        .order_by(Image.id, ascending=False)
    )
    cover_of = {c["product"]: c for c in covers}  # last write wins = lowest position
    for row in items:
        cover = cover_of.get(row["id"])
        row["cover_id"] = cover["id"] if cover and "web_thumb" in db.json_value(cover["renditions"], {}) else None
