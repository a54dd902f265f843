"""Object-level checks, run on every request that names an object.

A producer sees only their own producer and what hangs off it; staff see producers whose address
is in their area (a province, optionally narrowed to communes); admins see everything. An object
outside your reach is answered with 404, exactly like a missing one, so ids leak nothing
(issue 3, "Accounts and roles"). A wrong role is 403 (see the guards in ``ocop.accounts.auth``).
"""

from __future__ import annotations

from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException
from piccolo.columns.combination import And

from ocop.accounts.auth import Principal
from ocop.catalog.tables import Product
from ocop.producers.tables import Producer

Clause = Any  # a piccolo where-combination


def _area_clause(me: Principal, province: Any, commune: Any) -> Clause:
    clause = province == me.area_province_code
    if me.area_commune_codes:
        clause = clause & commune.is_in(list(me.area_commune_codes))
    return clause


def producer_scope(me: Principal) -> Clause | None:
    """A where-clause on Producer limiting rows to what ``me`` may see; None = no limit (admin)."""
    if me.is_admin:
        return None
    if me.is_staff:
        return _area_clause(me, Producer.province_code, Producer.commune_code)
    return Producer.id == (me.producer_id if me.producer_id is not None else -1)


def product_scope(me: Principal) -> Clause | None:
    """The same limit on Product (through its producer)."""
    if me.is_admin:
        return None
    if me.is_staff:
        return _area_clause(me, Product.producer.province_code, Product.producer.commune_code)
    return Product.producer == (me.producer_id if me.producer_id is not None else -1)


def scope_key(me: Principal) -> tuple[Any, ...]:
    """What :func:`product_scope` depends on, as a hashable key: two principals with the same key
    see the same products. Cached product answers are grouped by it (``ocop.catalog.api``); a
    ``("producer", id)`` group depends on that producer only, the others on every producer."""
    if me.is_admin:
        return ("all",)
    if me.is_staff:
        return ("area", me.area_province_code, me.area_commune_codes)
    return ("producer", me.producer_id if me.producer_id is not None else -1)


def can_see_producer(me: Principal, producer: dict[str, Any]) -> bool:
    if me.is_admin:
        return True
    if me.is_staff:
        return me.in_area(producer.get("province_code"), producer.get("commune_code"))
    return me.producer_id is not None and producer.get("id") == me.producer_id


async def get_producer(me: Principal, producer_id: int) -> dict[str, Any]:
    """The producer row, or 404 when it does not exist or is not yours to see."""
    row = await Producer.select().where(Producer.id == producer_id).first()
    if row is None or not can_see_producer(me, row):
        raise NotFoundException("Not found.")
    return row


async def get_product(me: Principal, product_id: int) -> dict[str, Any]:
    """The product row, or 404 when it does not exist or is not yours to see."""
    row = await Product.select().where(Product.id == product_id).first()
    if row is None:
        raise NotFoundException("Not found.")
    await get_producer(me, int(row["producer"]))
    return row


async def owner_for_new_product(me: Principal) -> int:
    """Which producer a new product belongs to: a producer's own, or the producer staff/admin are
    acting for (chosen on the staff pages). 403 when staff have not chosen one."""
    if me.is_producer and me.producer_id is not None:
        return me.producer_id
    if me.acting_for_producer_id is not None:
        await get_producer(me, me.acting_for_producer_id)
        return me.acting_for_producer_id
    raise PermissionDeniedException("Choose a producer to act for first.")


def combine(*clauses: Clause | None) -> Clause | None:
    """AND together the clauses that are not None."""
    result: Clause | None = None
    for clause in clauses:
        if clause is None:
            continue
        result = clause if result is None else And(result, clause)
    return result


__all__ = [
    "can_see_producer",
    "combine",
    "get_producer",
    "get_product",
    "owner_for_new_product",
    "producer_scope",
    "product_scope",
]
