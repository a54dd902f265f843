"""The dashboard's query string (shared by the page, the JSON API and the exports), checked.

``period`` (``2026-11``, ``2026-Q4``, ``2026``, ``2026-01-01..2026-03-31``; empty = this month in
Vietnam), ``marketplace``, ``commune`` (repeatable: ``?commune=A&commune=B``, 2025 ward codes, all
within the viewer's area — :func:`in_scope`), ``group`` (1–6), ``stars`` (3–5). Empty values mean
"all", so a plain HTML ``<select>`` with an empty first option works.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from litestar.di import NamedDependency
from litestar.params import FromQuery

from ocop.domain.ocop import GROUPS, STARS
from ocop.reports.period import Period, PeriodError, parse_period
from ocop.marketplaces import CODES as MARKETPLACES
from ocop.reports.scope import Filters, Scope, communes_outside
from ocop.web.errors import ApiError


@dataclass(frozen=True, slots=True)
class Query:
    period: Period
    filters: Filters

    def urlencode(self) -> str:
        """The same selection as a query string (for export links)."""
        pairs: list[tuple[str, str]] = [("period", self.period.key)]
        if self.filters.marketplace:
            pairs.append(("marketplace", self.filters.marketplace))
        pairs += [("commune", str(c)) for c in self.filters.commune_codes]
        if self.filters.ocop_group is not None:
            pairs.append(("group", str(self.filters.ocop_group)))
        if self.filters.stars is not None:
            pairs.append(("stars", str(self.filters.stars)))
        return urlencode(pairs)


#: The ``q`` dependency of the report handlers (registered with ``Provide(read_query)``).
Q = NamedDependency[Query]


def _bad(field: str, value: str, allowed: str) -> ApiError:
    return ApiError(400, "invalid_report_filter", f"Invalid {field}: {value!r} ({allowed}).",
                    f"Bộ lọc {field} không hợp lệ: {value!r} ({allowed}).")


def _int_in(field: str, value: str | None, allowed: tuple[int, ...]) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) not in allowed:
        raise _bad(field, text, "one of " + ", ".join(map(str, allowed)))
    return int(text)


def read_query(period: FromQuery[str | None] = None, marketplace: FromQuery[str | None] = None,
               commune: FromQuery[list[str] | None] = None, group: FromQuery[str | None] = None,
               stars: FromQuery[str | None] = None) -> Query:
    try:
        chosen = parse_period(period)
    except PeriodError as exc:
        raise ApiError(400, "invalid_period", str(exc), f"Kỳ báo cáo không hợp lệ: {period}") from exc
    market = (marketplace or "").strip().lower() or None
    if market is not None and market not in MARKETPLACES:
        raise _bad("marketplace", market, "one of " + ", ".join(MARKETPLACES))
    communes: list[int] = []
    for raw in commune or []:
        text = raw.strip()
        if not text:
            continue
        if not (text.isascii() and text.isdigit()):  # "²".isdigit() is True, int("²") fails
            raise _bad("commune", text, "a 2025 commune/ward code")
        communes.append(int(text))
    return Query(chosen, Filters(marketplace=market, commune_codes=tuple(sorted(set(communes))),
                                 ocop_group=_int_in("group", group, tuple(g.code for g in GROUPS)),
                                 stars=_int_in("stars", stars, STARS)))


def in_scope(q: Query, scope: Scope) -> Query:
    """``q`` if every chosen commune is within ``scope`` (see :func:`communes_outside`), else 400."""
    bad = communes_outside(scope, q.filters.commune_codes)
    if bad:
        codes = ", ".join(map(str, bad))
        raise ApiError(400, "invalid_report_filter", f"Commune(s) outside your area or unknown: {codes}.",
                       f"Xã/phường không thuộc địa bàn của bạn hoặc không tồn tại: {codes}.")
    return q
