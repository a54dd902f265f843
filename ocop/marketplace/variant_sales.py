"""A product's sales split by variant: the product's orders, units and revenue, and the part of
each of its SKUs, so a producer sees which size or pack sells (the product's figures on the
dashboard are the sum of these rows).

Sales are counted as everywhere on the dashboard (:mod:`ocop.reports.sales`): lines of orders not
cancelled and not returned, revenue the sum of line totals in đồng. A line belongs to the product
when its listing is one of the product's (the order ingest maps a variant's SKU to its product's
listing), and to a variant by its seller SKU; lines sold under the product's own SKU (before it had
variants) make a row of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocop.catalog.tables import Variant
from ocop.catalog.variants import label
from ocop.marketplace.tables import Order


@dataclass(frozen=True, slots=True)
class VariantSales:
    sku: str
    label: str
    """The variant's options ("250 ml / Hũ"); empty for a SKU that is no variant (any more)."""
    orders: int
    units: int
    revenue_vnd: int


@dataclass(frozen=True, slots=True)
class ProductSales:
    orders: int
    units: int
    revenue_vnd: int
    by_variant: list[VariantSales]


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


async def product_sales(product_id: int, since: datetime | None = None, until: datetime | None = None) -> ProductSales:
    """The product's net sales (orders placed in ``[since, until)``, UTC; all time by default),
    whole and by SKU, variants first in their order."""
    where = ["li.product = {}", "o.status NOT IN ('cancelled', 'returned')"]
    args: list[Any] = [product_id]
    if since is not None:
        where.append("o.created_at >= {}")
        args.append(since)
    if until is not None:
        where.append("o.created_at < {}")
        args.append(until)
    condition = " AND ".join(where)
    base = f"FROM market_order_line l JOIN market_order o ON o.id = l.\"order\" JOIN listing li ON li.id = l.listing " \
           f"WHERE {condition}"
    per_sku = await Order.raw(f"SELECT l.seller_sku AS sku, COUNT(DISTINCT o.id) AS orders, SUM(l.quantity) AS units, "
                              f"SUM(l.total_vnd) AS revenue {base} GROUP BY l.seller_sku", *args)
    whole = await Order.raw(f"SELECT COUNT(DISTINCT o.id) AS orders, SUM(l.quantity) AS units, "
                            f"SUM(l.total_vnd) AS revenue {base}", *args)
    variants = await Variant.select(Variant.sku, Variant.option1, Variant.option2).where(
        Variant.product == product_id).order_by(Variant.position).order_by(Variant.id)
    sold = {r["sku"]: r for r in per_sku}
    rows = []
    for v in variants:
        r = sold.pop(v["sku"], {})
        rows.append(VariantSales(v["sku"], label(v["option1"], v["option2"]), _int(r.get("orders")),
                                 _int(r.get("units")), _int(r.get("revenue"))))
    for sku, r in sorted(sold.items()):
        rows.append(VariantSales(sku, "", _int(r["orders"]), _int(r["units"]), _int(r["revenue"])))
    total = whole[0] if whole else {}
    return ProductSales(_int(total.get("orders")), _int(total.get("units")), _int(total.get("revenue")), rows)
