"""Product variants in the database: reading them, the SKUs a producer already uses, and writing a
product's variants inside the save that changes it (``ocop.catalog.services.save_product``).

The rules are in :mod:`ocop.catalog.variants`; this module only reads and writes rows. Variant rows
keep their ids across edits (matched by SKU, then by option combination), so whatever refers to a
variant (stock holds, marketplace model ids) survives a rename or a new price.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocop import db
from ocop.catalog.tables import Image, Product, Variant
from ocop.catalog.variants import Attribute, VariantInput, normalise_variation, variant_path
from ocop.domain.errors import FieldError

CONTENT_FIELDS = ("position", "option1", "option2", "sku", "weight_g", "length_mm", "width_mm", "height_mm", "image")
"""A change to any of these re-pushes the listing; price and stock go out the partial way."""


def variation_of(product: dict[str, Any]) -> list[Attribute]:
    """A product row's attributes (``Product.variation`` as text on SQLite, data on PostgreSQL)."""
    return normalise_variation(db.json_value(product.get("variation"), []) or [])


async def variants_of(product_id: int) -> list[dict[str, Any]]:
    """The product's variant rows in order."""
    rows: list[dict[str, Any]] = (
        await Variant.select().where(Variant.product == product_id).order_by(Variant.position).order_by(Variant.id)
    )
    return rows


async def variants_by_product(product_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Variant rows of many products (a page of a list) in one query, by product id."""
    ids = sorted({int(i) for i in product_ids})
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = await Variant.select().where(Variant.product.is_in(ids)).order_by(Variant.position).order_by(Variant.id)
    for row in rows:
        out[int(row["product"])].append(row)
    return out


def as_input(row: dict[str, Any]) -> VariantInput:
    """A stored variant as the rules read it (to check a ``PATCH`` that does not resend it)."""
    return VariantInput(**{f: row[f] for f in VariantInput.__struct_fields__})


async def taken_skus(producer_id: int, product_id: int | None, parent_sku: str) -> dict[str, str]:
    """The producer's SKUs a variant of this product may not take, each with where it is used: every
    product's own SKU (this product's parent SKU too, the new one when it is being changed) and the
    variant SKUs of their other products."""
    taken: dict[str, str] = {}
    products = await Product.select(Product.id, Product.sku, Product.name).where(Product.producer == producer_id)
    names = {int(p["id"]): p["name"] for p in products}
    for p in products:
        if int(p["id"]) != product_id and p["sku"]:
            taken[p["sku"]] = p["name"]
    if parent_sku:
        taken[parent_sku] = names.get(product_id or 0, "") or parent_sku
    if names:
        others = await Variant.select(Variant.sku, Variant.product).where(
            Variant.product.is_in(list(names)) & (Variant.product != (product_id or 0)))
        for v in others:
            taken.setdefault(v["sku"], names.get(int(v["product"]), ""))
    return taken


async def check_images(product_id: int | None, variants: Sequence[VariantInput], name: str = "image") -> list[FieldError]:
    """A variant's photo must be one of the product's own photos."""
    wanted = {v.image for v in variants if v.image is not None}
    if not wanted:
        return []
    own: set[int] = set()
    if product_id is not None:
        own = {int(r["id"]) for r in await Image.select(Image.id).where(
            (Image.product == product_id) & Image.id.is_in(sorted(wanted)))}
    return [
        FieldError(variant_path(k, name), "invalid_image", "Chọn một ảnh của chính sản phẩm này",
                   "Choose one of this product's own photos")
        for k, v in enumerate(variants) if v.image is not None and v.image not in own
    ]


@dataclass
class VariantChanges:
    """What a save changed in a product's variants, by kind: content re-pushes the listing, price and
    stock go out the partial way."""

    content: list[str] = field(default_factory=list)
    prices: list[str] = field(default_factory=list)
    stock: list[str] = field(default_factory=list)

    def audit(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.content:
            out["variants"] = self.content
        if self.prices:
            out["variant_prices"] = self.prices
        if self.stock:
            out["variant_stock"] = self.stock
        return out


async def write_variants(product_id: int, variants: Sequence[VariantInput]) -> VariantChanges:
    """Make the product's variant rows ``variants`` (in this order), inside the caller's
    transaction. A stored row is kept (same id) when its SKU is sent again, or else its option
    combination; the rest are inserted or deleted."""
    stored = await variants_of(product_id)
    by_sku = {r["sku"].casefold(): r for r in stored}
    by_combo = {(r["option1"].casefold(), r["option2"].casefold()): r for r in stored}
    used: set[int] = set()
    changes = VariantChanges()
    now = datetime.now(UTC)
    for position, v in enumerate(variants):
        values = {**{f: getattr(v, f) for f in VariantInput.__struct_fields__}, "position": position}
        row = by_sku.get(v.sku.casefold())
        if row is None or row["id"] in used:
            row = by_combo.get((v.option1.casefold(), v.option2.casefold()))
        if row is not None and row["id"] in used:
            row = None
        if row is None:
            await Variant.insert(Variant(product=product_id, **values))
            changes.content.append(v.sku)
            continue
        used.add(row["id"])
        changed = {k: val for k, val in values.items() if row.get(k) != val}
        if not changed:
            continue
        if set(changed) & set(CONTENT_FIELDS):
            changes.content.append(v.sku)
        if "price_vnd" in changed:
            changes.prices.append(v.sku)
        if "stock" in changed:
            changes.stock.append(v.sku)
        await Variant.update({**{getattr(Variant, k): val for k, val in changed.items()}, Variant.updated_at: now}
                             ).where(Variant.id == row["id"])
    gone = [r["id"] for r in stored if r["id"] not in used]
    if gone:
        await Variant.delete().where(Variant.id.is_in(gone))
        changes.content += [r["sku"] for r in stored if r["id"] in gone]
    return changes
