"""Object-level checks, run on every request that names an object.

A producer sees only their own producer and what hangs off it; staff see producers whose address
is in their area (a province, optionally narrowed to communes); admins see everything. An object
outside your reach is answered with 404, exactly like a missing one, so ids leak nothing. A wrong
role is 403 (see the guards in ``ocop.accounts.auth``).

The rule is written once, over the producer an object hangs off: :func:`owned_by` takes the
foreign key to ``Producer`` of any table, so each feature limits its own rows with it (products:
``ocop.catalog.access``) instead of writing the area rule again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException
from piccolo.columns.combination import And

from ocop.accounts.auth import Principal
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


def owned_by(me: Principal, producer: Any) -> Clause | None:
    """The same limit on any table's rows, through ``producer``, its foreign key to Producer
    (e.g. ``Product.producer``); None = no limit (admin)."""
    if me.is_admin:
        return None
    if me.is_staff:
        return _area_clause(me, producer.province_code, producer.commune_code)
    return producer == (me.producer_id if me.producer_id is not None else -1)


def covers_area(me: Principal, province_code: int | None, commune_codes: Iterable[int]) -> bool:
    """Does ``me``'s reach hold the whole of an area (a province, narrowed to ``commune_codes``
    when any; none = the whole province)? Admins: always; producers: never. For what belongs to an
    area rather than to one producer (a staff member's import batch: ``ocop.imports.access``)."""
    if me.is_admin:
        return True
    if not me.is_staff or province_code is None or province_code != me.area_province_code:
        return False
    if not me.area_commune_codes:
        return True
    communes = set(commune_codes)
    return bool(communes) and communes <= set(me.area_commune_codes)


def scope_key(me: Principal) -> tuple[Any, ...]:
    """What :func:`owned_by` depends on, as a hashable key: two principals with the same key
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


async def owner_for_new_product(me: Principal) -> int:
    """Which producer a new product belongs to: a producer's own, or the producer staff/admin are
    acting for (chosen on the staff pages). 403 when staff have not chosen one."""
    if me.is_producer and me.producer_id is not None:
        return me.producer_id
    if me.acting_for_producer_id is not None:
        await get_producer(me, me.acting_for_producer_id)
        return me.acting_for_producer_id
    raise PermissionDeniedException("Choose a producer to act for first.")


async def acting_producer(me: Principal, requested: int | None) -> int:
    """The producer this request acts for: your own, or one in your area (staff/admin)."""
    if me.is_producer:
        if me.producer_id is None or (requested is not None and requested != me.producer_id):
            raise NotFoundException("Not found.")
        return me.producer_id
    producer_id = requested or me.acting_for_producer_id
    if producer_id is None:
        raise PermissionDeniedException("Choose a producer to act for first.")
    await get_producer(me, producer_id)
    return producer_id


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
    "covers_area",
    "acting_producer",
    "get_producer",
    "owned_by",
    "owner_for_new_product",
    "producer_scope",
]
