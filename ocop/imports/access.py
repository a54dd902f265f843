"""Who sees which import batches: the area rule of ``ocop.accounts.access`` applied to a batch
through the staff member who ran it.

An import batch keeps the file as uploaded: every row of it, with tax codes, names and phone
numbers, including rows the import refused as outside the uploader's area. So besides admins and
the staff member who ran it, only staff whose area holds the *whole* area of that staff member may
open it (:func:`ocop.accounts.access.covers_area`): province staff see their commune colleagues'
batches, commune staff see neither a province officer's nor a neighbouring commune's. A batch run
by an admin or from the command line (no staff area) stays with admins and its author.
"""

from __future__ import annotations

from typing import Any

from ocop import db
from ocop.accounts.access import Clause, covers_area
from ocop.accounts.auth import Principal
from ocop.imports.tables import ImportBatch


def batch_clause(me: Principal) -> Clause | None:
    """A where-clause on ImportBatch narrowing to the batches ``me`` may see (None: admins). Its
    rows still go through :func:`can_see_batch`, which SQL cannot say portably (the author's
    communes are a JSON list): select :func:`author_columns` with them."""
    if me.is_admin:
        return None
    mine = ImportBatch.created_by == me.user_id
    if not me.is_staff or me.area_province_code is None:
        return mine
    return mine | ((ImportBatch.created_by.role == "staff")
                   & (ImportBatch.created_by.area_province_code == me.area_province_code))


def author_columns() -> list[Any]:
    """The author's columns :func:`can_see_batch` reads, to add to a select on ImportBatch."""
    return [ImportBatch.created_by.role.as_alias("by_role"),
            ImportBatch.created_by.area_province_code.as_alias("by_province"),
            ImportBatch.created_by.area_commune_codes.as_alias("by_communes")]


def can_see_batch(me: Principal, batch: dict[str, Any]) -> bool:
    """May ``me`` open this batch (a row with ``created_by`` and :func:`author_columns`)?"""
    if me.is_admin or batch.get("created_by") == me.user_id:
        return True
    if batch.get("by_role") != "staff":
        return False
    communes = db.json_value(batch.get("by_communes"), [])
    return covers_area(me, batch.get("by_province"), (int(c) for c in communes))
