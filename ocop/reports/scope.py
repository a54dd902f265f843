"""Who sees which figures, and the dashboard's own filters, as SQL conditions.

The rule is the one of ``ocop.accounts.access``: admins see everything, staff see the
producers whose address is in their area (a province, optionally narrowed to communes), a producer
sees only their own producer. Here it is expressed on the ``producer`` row joined as ``pr`` in every
report query, so every figure — a count, a sum, a top-10 — is computed only over rows in reach.
Figures are grouped by today's (2025) administrative units: ``producer.commune_code``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vietnam_provinces import Ward

from ocop.accounts.auth import Principal



@dataclass(frozen=True, slots=True)
class Scope:
    """Limits on the producer rows; all empty = everything (admins)."""

    province_code: int | None = None
    commune_codes: tuple[int, ...] = ()
    producer_id: int | None = None
    label: str = ""

    @property
    def is_everything(self) -> bool:
        return self.province_code is None and not self.commune_codes and self.producer_id is None


#: A scope that matches no producer (a producer account not yet tied to a producer row).
NOBODY = Scope(producer_id=-1, label="—")


def scope_for(me: Principal) -> Scope:
    """The reporting scope of a signed-in user."""
    if me.is_admin:
        return Scope(label="all")
    if me.is_staff:
        if me.area_province_code is None:
            return NOBODY
        return Scope(province_code=me.area_province_code, commune_codes=tuple(me.area_commune_codes),
                     label="commune" if me.area_commune_codes else "province")
    if me.producer_id is None:
        return NOBODY
    return Scope(producer_id=me.producer_id, label="producer")


def communes_outside(scope: Scope, codes: tuple[int, ...]) -> tuple[int, ...]:
    """The commune codes a viewer may not filter by: codes that are no 2025 commune/ward
    (``vietnam-provinces``), and for staff those outside their area (their communes, or their
    province). A filter can only narrow the scope, never widen it (the SQL ANDs both), but asking
    for another area is a mistake worth telling the user about rather than showing zeros."""
    bad = []
    for code in codes:
        try:
            ward = Ward.from_code(code)
        except ValueError:  # vietnam-provinces: "Ward code N is invalid."
            bad.append(code)
            continue
        if scope.commune_codes and code not in scope.commune_codes:
            bad.append(code)
        elif scope.province_code is not None and int(ward.province_code) != scope.province_code:
            bad.append(code)
    return tuple(bad)


@dataclass(frozen=True, slots=True)
class Filters:
    """The dashboard's filters. ``ocop_group`` and ``stars`` narrow product-level figures (sales
    lines, listings, products); shop-level figures (producers with a connected shop) ignore them."""

    marketplace: str | None = None
    commune_codes: tuple[int, ...] = ()
    ocop_group: int | None = None
    stars: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"marketplace": self.marketplace, "commune_codes": list(self.commune_codes),
                "ocop_group": self.ocop_group, "stars": self.stars}


@dataclass
class Where:
    """SQL conditions with ``{}`` placeholders (piccolo's raw-query syntax) and their values."""

    parts: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add(self, sql: str, *args: Any) -> Where:
        self.parts.append(sql)
        self.args.extend(args)
        return self

    def add_in(self, column: str, values: tuple[int, ...]) -> Where:
        return self.add(f"{column} IN ({', '.join('{}' for _ in values)})", *values)

    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "1 = 1"


def scope_where(scope: Scope, where: Where, producer: str = "pr") -> Where:
    if scope.producer_id is not None:
        where.add(f"{producer}.id = {{}}", scope.producer_id)
    if scope.province_code is not None:
        where.add(f"{producer}.province_code = {{}}", scope.province_code)
    if scope.commune_codes:
        where.add_in(f"{producer}.commune_code", scope.commune_codes)
    return where


def filter_where(filters: Filters, where: Where, *, shop: str | None = "s", product: bool = True,
                 stars: str = "ps.stars", producer: str = "pr") -> Where:
    """``shop``: alias of the shop row (None when the query has none); ``product``: whether the
    query joins ``p`` (product) and the current-certificate row ``ps``."""
    if filters.marketplace and shop is not None:
        where.add(f"{shop}.marketplace = {{}}", filters.marketplace)
    if filters.commune_codes:
        where.add_in(f"{producer}.commune_code", filters.commune_codes)
    if product and filters.ocop_group is not None:
        where.add("p.ocop_group = {}", filters.ocop_group)
    if product and filters.stars is not None:
        where.add(f"{stars} = {{}}", filters.stars)
    return where
