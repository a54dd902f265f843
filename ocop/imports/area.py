"""Staff import only inside their area (``ocop.accounts.access``: staff work on the producers
of their province, optionally narrowed to communes; admins everywhere).

A row is refused when its producer's address is outside the area, or when the tax code already
belongs to a producer outside the area (an import must not move or rewrite someone else's
producer). Refused rows are reported like any other fault; the other rows are imported.
"""

from __future__ import annotations

from ocop.accounts.auth import Principal
from ocop.imports.columns import BY_KEY
from ocop.imports.service import RowGate
from ocop.imports.validate import RowFault, RowRecord
from ocop.producers.tables import Producer

_CHUNK = 500  # stays under SQLite's bound-parameter limit


def area_gate(me: Principal) -> RowGate | None:
    """The gate for ``me``'s imports; None for admins (no limit)."""
    if me.is_admin:
        return None

    async def gate(records: list[RowRecord]) -> list[RowFault]:
        tax_codes = sorted({r.producer.tax_code for r in records})
        existing: dict[str, tuple[int | None, int | None]] = {}
        for start in range(0, len(tax_codes), _CHUNK):
            rows = await Producer.select(Producer.tax_code, Producer.province_code, Producer.commune_code).where(
                Producer.tax_code.is_in(tax_codes[start:start + _CHUNK])
            )
            existing.update({r["tax_code"]: (r["province_code"], r["commune_code"]) for r in rows})
        faults: list[RowFault] = []
        for record in records:
            producer = record.producer
            stored = existing.get(producer.tax_code)
            if stored is not None and not me.in_area(*stored):
                faults.append(RowFault(
                    record.row, BY_KEY["tax_code"].header, producer.tax_code, "producer_outside_area",
                    "Chủ thể này thuộc địa bàn khác; bạn không được sửa",
                    "This producer belongs to another area; you cannot change it",
                ))
            elif not me.in_area(producer.province_code, producer.commune_code):
                faults.append(RowFault(
                    record.row, BY_KEY["commune"].header, _ward_name(producer.commune_code), "outside_area",
                    "Địa chỉ chủ thể nằm ngoài địa bàn bạn phụ trách",
                    "The producer's address is outside your area",
                ))
        return faults

    return gate


def _ward_name(code: int) -> str:
    from vietnam_provinces import Ward

    try:
        return str(Ward.from_code(code).name)
    except ValueError:  # an unknown code is still refused; only the shown value is missing
        return str(code)
