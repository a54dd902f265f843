"""Write spreadsheet cells so that nothing a user typed can run as a formula (CSV/formula injection).

OWASP "CSV Injection": a cell starting with ``=``, ``+``, ``-``, ``@`` (or tab / carriage return)
is evaluated by spreadsheet programs. In XLSX we write every text value with ``write_string``,
which stores a shared string and never a formula, so ``=HYPERLINK(…)`` stays visible text and
reads back unchanged. For CSV output there is no cell type, so :func:`neutralise_csv` prefixes
such values with an apostrophe, as OWASP recommends.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: str) -> bool:
    return value.startswith(FORMULA_TRIGGERS)


def neutralise_csv(value: str) -> str:
    """For CSV exports: ``=1+1`` -> ``'=1+1``; other values unchanged."""
    return "'" + value if looks_like_formula(value) else value


def write_cell(sheet: Worksheet, row: int, col: int, value: Any, date_format: Format | None = None,
               cell_format: Format | None = None) -> None:
    """Write ``value`` with an explicit type: numbers as numbers, dates as dates, everything else as text."""
    if value is None or value == "":
        sheet.write_blank(row, col, None, cell_format)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, cell_format)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value, cell_format)
    elif isinstance(value, (datetime, date)):
        sheet.write_datetime(row, col, value, date_format)
    else:
        sheet.write_string(row, col, str(value), cell_format)
