"""Who sees which products: the area rule of ``ocop.accounts.access`` applied through the product's
producer."""

from __future__ import annotations

from typing import Any

from litestar.exceptions import NotFoundException

from ocop.accounts.access import Clause, get_producer, owned_by
from ocop.accounts.auth import Principal
from ocop.catalog.tables import Product


def product_scope(me: Principal) -> Clause | None:
    """A where-clause on Product limiting rows to what ``me`` may see; None = no limit (admin)."""
    return owned_by(me, Product.producer)


async def get_product(me: Principal, product_id: int) -> dict[str, Any]:
    """The product row, or 404 when it does not exist or is not yours to see."""
    row = await Product.select().where(Product.id == product_id).first()
    if row is None:
        raise NotFoundException("Not found.")
    await get_producer(me, int(row["producer"]))
    return row
