"""A product's *current* OCOP certificate: the one rule every view uses.

A product can hold several certificates (a re-assessment issues a new decision, sometimes with other
stars). The current one is the certificate that is valid the longest: the latest ``expires_on``, a
certificate without an expiry date after every dated one, and among equals the newest row. The
product page, the marketplace payload, auto-unlisting, staff lists and the dashboard all take their
stars and expiry from it, so one product never shows two ratings.

The rule exists in three spellings that must agree, and a test holds them together on SQLite and
PostgreSQL: :func:`current_key` (Python, for rows already loaded), :data:`CURRENT_ORDER` (SQL
``ORDER BY``, for a correlated sub-query on one product) and :data:`CURRENT_CTE` (a window over all
products, for the reports). ``NULL`` ordering differs between the two engines, so the SQL never relies
on it: undated rows are put last explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from ocop import db
from ocop.catalog.tables import Certificate


def current_key(cert: Mapping[str, Any]) -> tuple[bool, date, int]:
    """Sort key whose maximum is the current certificate."""
    expires = cert["expires_on"]
    if isinstance(expires, str):  # SQLite sub-query values carry no declared type
        expires = date.fromisoformat(expires)
    return (expires is not None, expires or date.min, int(cert["id"]))


def order_by(alias: str) -> str:
    """The rule as an SQL ``ORDER BY`` list over certificate rows named ``alias``: first = current."""
    return (f"CASE WHEN {alias}.expires_on IS NULL THEN 1 ELSE 0 END, {alias}.expires_on DESC, "
            f"{alias}.id DESC")


CURRENT_ORDER = order_by("c")


def current_column(column: str, product_ref: str) -> str:
    """A scalar sub-query: ``column`` of the current certificate of the product ``product_ref`` (an
    SQL expression such as ``"product"."id"``), NULL when it has none."""
    return (f'(SELECT c."{column}" FROM "certificate" c WHERE c."product" = {product_ref} '
            f"ORDER BY {CURRENT_ORDER} LIMIT 1)")


CURRENT_CTE = f"""ps AS (
  SELECT product AS product_id, id AS cert_id, stars, expires_on FROM (
    SELECT c.product, c.id, c.stars, c.expires_on, ROW_NUMBER() OVER (
      PARTITION BY c.product ORDER BY {CURRENT_ORDER}) AS rn
    FROM certificate c) ranked
  WHERE rn = 1)"""
"""``WITH`` entry ``ps``: one row per product that has a certificate (``product_id``, ``cert_id``,
``stars``, ``expires_on``); window functions exist on SQLite >= 3.25 and PostgreSQL."""


def pick_current(certs: Iterable[Mapping[str, Any]]) -> Any:
    """The current one of a product's certificate rows, or None."""
    return max(certs, key=current_key, default=None)


async def current_certificate(product_id: int) -> dict[str, Any] | None:
    """Every column of the product's current certificate."""
    rows = await Certificate.select().where(Certificate.product == product_id)
    return pick_current(rows)  # type: ignore[no-any-return]


async def current_certificates(product_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The current certificate of each product that has one, by product id."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    by_product: dict[int, list[dict[str, Any]]] = {}
    for row in await Certificate.select().where(Certificate.product.is_in(ids)):
        by_product.setdefault(row["product"], []).append(row)
    return {pid: pick_current(rows) for pid, rows in by_product.items()}


async def products_whose_current(where_sql: str, *args: Any) -> list[int]:
    """Ids of the products whose current certificate (``ps``) satisfies ``where_sql``, e.g.
    ``"ps.stars = {}"``: filters by stars or expiry must look at the current certificate only."""
    rows = await db.fetch_dicts(Certificate, f"WITH {CURRENT_CTE} SELECT ps.product_id AS id FROM ps WHERE {where_sql}",
                                *args)
    return sorted(int(r["id"]) for r in rows)
