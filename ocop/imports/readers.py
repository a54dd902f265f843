"""Read a catalogue file into rows of cell values, whatever Excel or a person saved it as.

- XLSX/XLSM/XLS/ODS: python-calamine (Rust, streams rows; 10–20× faster than openpyxl). Cells come
  back as str, float, int, bool, date or datetime; formula cells as their cached value, so nothing
  in a file is ever evaluated.
- CSV/TXT: UTF-8 with or without BOM; UTF-16 with BOM (Excel "Unicode text", tab-separated);
  otherwise Windows-1258, Excel's "CSV" on Vietnamese Windows, which writes tone marks as
  combining characters — hence NFC after decoding. The delimiter (tab, comma, semicolon) is sniffed
  from the first line.

Row numbers are the spreadsheet's own (1-based), so the report points at the row people see.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from python_calamine import CalamineError, CalamineWorkbook

from ocop.domain.text import nfc
from ocop.imports.zip_guard import WORKBOOK, ZipRefused, open_checked, verify_sizes

Cell = object  # str | int | float | bool | date | datetime | None
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
ZIP_MAGIC = b"PK\x03\x04"


class UnreadableFile(Exception):
    """The file cannot be read at all (CLI exit status 2)."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass(slots=True)
class Sheet:
    """The header row and an iterator over the data rows ``(row_number, cells)``."""

    header_row: int
    header: list[Cell]
    rows: Iterator[tuple[int, list[Cell]]]
    encoding: str  # "xlsx", "utf-8", "utf-8-sig", "utf-16", "cp1258"


def _is_blank(cells: list[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _split_header(numbered: Iterator[tuple[int, list[Cell]]], encoding: str) -> Sheet:
    for number, cells in numbered:
        if not _is_blank(cells):
            return Sheet(number, cells, (r for r in numbered if not _is_blank(r[1])), encoding)
    raise UnreadableFile("Tệp không có dòng tiêu đề", "The file has no header row")


def read_spreadsheet(data: bytes) -> Sheet:
    """First sheet of an XLSX/XLS/ODS workbook. XLSX and ODS are ZIPs: they pass
    :func:`guard_workbook` before calamine sees a byte."""
    if data.startswith(ZIP_MAGIC):
        guard_workbook(data)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except (CalamineError, ValueError, OSError, IndexError) as exc:
        raise UnreadableFile(f"Không đọc được bảng tính: {exc}", f"Cannot read the spreadsheet: {exc}") from exc
    # calamine yields every row from the sheet's first row (row 1), so numbers are position + 1.
    return _split_header(((i + 1, list(r)) for i, r in enumerate(rows)), "xlsx")


def guard_workbook(data: bytes) -> None:
    """Refuse a workbook ZIP that breaks :data:`ocop.imports.zip_guard.WORKBOOK` (entry count,
    sizes, ratio, names), checking the real inflated sizes too: calamine trusts the ZIP more than
    we may (an XLSX whose sheet XML is a compression bomb must not reach it)."""
    try:
        with open_checked(data, WORKBOOK) as archive:
            verify_sizes(data, archive, WORKBOOK)
    except ZipRefused as exc:
        raise UnreadableFile(f"Bảng tính bị từ chối: {exc.message_vi}",
                             f"The spreadsheet was refused: {exc.message_en}") from exc


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes; return ``(text, encoding)``."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1258", errors="replace"), "cp1258"


def read_delimited(data: bytes) -> Sheet:
    """CSV or Excel "Unicode text" (tab-separated UTF-16)."""
    text, encoding = decode_text(data)
    if "\x00" in text:
        raise UnreadableFile("Tệp văn bản chứa dữ liệu nhị phân", "The text file contains binary data")
    first_line = text.split("\n", 1)[0]
    delimiter = max("\t,;", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _split_header(_numbered(reader), encoding)


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[Cell]]]:
    """Rows with their record index (not ``reader.line_num``: a quoted multi-line cell is still one
    spreadsheet row). A row the csv module cannot parse (a cell over its 128 KiB field limit, or
    binary garbage) makes the whole file unreadable, with the row named; nothing is written then."""
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, [nfc(c) if c else None for c in cells]
    except csv.Error as exc:
        row = number + 1
        raise UnreadableFile(
            f"Tệp CSV hỏng ở dòng {row}: ô quá dài (trên 128 KB) hoặc dấu ngoặc kép không đóng",
            f"The CSV file is broken at row {row}: {exc}",
        ) from exc


def read_file(path: Path | str, data: bytes | None = None) -> Sheet:
    """Pick the reader from the name (and the bytes: an XLSX renamed .csv still reads)."""
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadableFile(f"Không mở được tệp: {exc.strerror}", f"Cannot open the file: {exc.strerror}") from exc
    if not data:
        raise UnreadableFile("Tệp rỗng", "The file is empty")
    suffix = path.suffix.lower()
    if data.startswith(ZIP_MAGIC) or data.startswith(b"\xd0\xcf\x11\xe0") or suffix in SPREADSHEET_SUFFIXES:
        return read_spreadsheet(data)
    if suffix in TEXT_SUFFIXES or suffix == "":
        return read_delimited(data)
    raise UnreadableFile(f"Định dạng tệp không hỗ trợ: {suffix}", f"Unsupported file type: {suffix}")
