"""The rows of a product with variants, put together into one product (pure: no database).

One row per variant, grouped by the product key (producer tax code, ``Mã sản phẩm``). The first
row gives the product's own values; every row gives its variant's SKU, options, price, stock,
weight and size. The whole is checked by the same rules as the product form and the API
(:mod:`ocop.catalog.variants`), and each fault is reported at the row and column it comes from. A
product with a faulty variant is not imported at all (half a product on a marketplace is worse
than none): its other rows say which row to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from ocop.catalog.variants import Attribute, VariantInput, canonical, check_variation, normalise_variation, rollup
from ocop.domain.text import clean
from ocop.imports.validate import RowFault, RowRecord

_FIELD_COLUMN = {"sku": "variant_sku", "option1": "attr1_value", "option2": "attr2_value", "price_vnd": "price",
                 "stock": "stock"}


def _key(text: str) -> str:
    return clean(text).casefold()


def combine(
    grouped: Mapping[tuple[str, str], Sequence[RowRecord]],
    labels: Mapping[str, str],
    other_keys: Iterable[tuple[str, str]] = (),
) -> tuple[list[RowRecord], list[RowFault]]:
    """One record per product from its variant rows, and the faults of those that do not hold.
    ``other_keys``: the file's products without variants (tax code, code), whose codes a variant
    SKU may not take."""
    products: list[RowRecord] = []
    faults: list[RowFault] = []
    keys_of: dict[str, set[str]] = {}
    for tax, sku in [*grouped, *other_keys]:
        keys_of.setdefault(tax, set()).add(sku)
    used: dict[str, dict[str, str]] = {}  # tax code -> variant SKUs of products put together so far
    for key in sorted(grouped, key=lambda k: grouped[k][0].row):
        rows = grouped[key]
        found = _combine(rows, labels, {**{s: s for s in keys_of[key[0]]}, **used.get(key[0], {})})
        if isinstance(found, RowRecord):
            products.append(found)
            used.setdefault(key[0], {}).update({v.sku: key[1] for v in found.variants})
        else:
            faulty = {f.row for f in found}
            faults += found
            first = min(faulty)
            faults += [
                RowFault(r.row, labels["sku"], r.product.sku, "variant_product_not_imported",
                         f"Sản phẩm {r.product.sku} chưa được nhập: sửa lỗi ở dòng {first}",
                         f"Product {r.product.sku} was not imported: fix row {first}")
                for r in rows if r.row not in faulty
            ]
    return products, faults


def _fault(row: int, labels: Mapping[str, str], column: str, value: str, code: str, vi: str, en: str) -> RowFault:
    return RowFault(row, labels[column], value, code, vi, en)


def _combine(rows: Sequence[RowRecord], labels: Mapping[str, str], taken: Mapping[str, str]) -> RowRecord | list[RowFault]:
    first = rows[0]
    assert first.variant is not None
    names = first.variant.names
    faults: list[RowFault] = []
    for record in rows[1:]:
        assert record.variant is not None
        theirs = record.variant.names
        for n in range(max(len(names), len(theirs))):
            mine = names[n] if n < len(names) else ""
            other = theirs[n] if n < len(theirs) else ""
            if _key(mine) != _key(other):
                faults.append(_fault(record.row, labels, f"attr{n + 1}_name", other, "variation_differs",
                                     f"Tên phân loại {n + 1} phải giống dòng {first.row} ({mine or 'trống'})",
                                     f"Variation {n + 1} must be named as on row {first.row} ({mine or 'empty'})"))
    if faults:
        return faults
    options: list[list[str]] = [[] for _ in names]
    option_row: dict[tuple[int, str], int] = {}
    for record in rows:
        assert record.variant is not None
        for n, value in enumerate(record.variant.options):
            if value and _key(value) not in {_key(o) for o in options[n]}:
                options[n].append(value)
                option_row[(n, _key(value))] = record.row
    attributes = normalise_variation(Attribute(name, opts) for name, opts in zip(names, options))
    variants = [
        VariantInput(
            option1=r.variant.options[0] if r.variant else "",
            option2=r.variant.options[1] if r.variant and len(r.variant.options) > 1 else "",
            sku=r.variant.sku if r.variant else "",
            price_vnd=r.product.price_vnd, stock=r.product.stock, weight_g=r.product.weight_g,
            length_mm=r.product.length_mm, width_mm=r.product.width_mm, height_mm=r.product.height_mm,
        )
        for r in rows
    ]
    variants = canonical(attributes, variants)
    for error in check_variation(attributes, variants, taken_skus=taken):
        row, column, value = first.row, "variant_sku", ""
        if m := re.fullmatch(r"variants\[(\d+)\]\.(\w+)", error.field):
            k, field = int(m.group(1)), m.group(2)
            row, column = rows[k].row, _FIELD_COLUMN.get(field, "variant_sku")
            value = str(getattr(variants[k], field, "") or "")
        elif m := re.fullmatch(r"variation\[(\d+)\]\.options\[(\d+)\]", error.field):
            n, j = int(m.group(1)), int(m.group(2))
            value = attributes[n].options[j]
            row, column = option_row.get((n, _key(value)), first.row), f"attr{n + 1}_value"
        elif m := re.fullmatch(r"variation\[(\d+)\]\.\w+", error.field):
            n = int(m.group(1))
            column, value = f"attr{n + 1}_name", attributes[n].name
        faults.append(_fault(row, labels, column, value, error.code, error.message_vi, error.message_en))
    if faults:
        return faults
    step = rollup(variants)
    return replace(
        first,
        product=replace(first.product, price_vnd=step.price_vnd or 0, stock=step.stock),
        variant=None,
        variation=tuple(attributes),
        variants=tuple(variants),
        variant_rows=tuple(r.row for r in rows),
        images=first.images,
    )
