"""Catalogue builders shared by the import tests: rows as people type them, written in every
format and encoding the importer accepts."""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from ocop.imports.columns import COLUMNS

HEADERS = [c.header for c in COLUMNS]
TAX_A = "0100233488"  # valid check digit (python-stdnum's own example)
TAX_B = "0314409058"


def product_row(**overrides: Any) -> dict[str, Any]:
    """One valid template row keyed by column key; override any cell."""
    row = {c.key: c.example for c in COLUMNS}
    row["images"] = ""
    row.update(overrides)
    return row


def as_cells(rows: list[dict[str, Any]], headers: list[str] | None = None) -> list[list[Any]]:
    keys = [c.key for c in COLUMNS]
    return [headers or HEADERS] + [[row.get(k, "") for k in keys] for row in rows]


def write_xlsx(path: Path, rows: list[dict[str, Any]], headers: list[str] | None = None) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for r, cells in enumerate(as_cells(rows, headers)):
        for c, value in enumerate(cells):
            if isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    book.close()
    return path


def csv_text(rows: list[dict[str, Any]], delimiter: str = ",", headers: list[str] | None = None) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(as_cells(rows, headers))
    return buf.getvalue()


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def encode_cp1258(text: str) -> bytes:
    """Encode like Windows does for Vietnamese: precomposed where cp1258 has the letter, otherwise
    the base letter (with its shape mark) followed by a combining tone mark."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
            tones = "".join(c for c in decomposed if c in _TONES)
            out += base.encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


@pytest.fixture
def rows() -> list[dict[str, Any]]:
    return [
        product_row(),
        product_row(sku="RUOU-01", name="Rượu Bàu Đá", group="Đồ uống", unit="chai", net_quantity="500 ml",
                    price="150.000đ", stars=3),
        product_row(tax_code=TAX_B, producer_name="Công ty TNHH Gò Bồi", producer_kind="Doanh nghiệp",
                    commune="Xã Tuy Phước", sku="NM-01", name="Nước mắm Gò Bồi", unit="chai", price="150,000 VNĐ"),
    ]
