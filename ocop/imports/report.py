"""The original file back as XLSX with an added error column, so staff fix rows and upload again.

Every original row is written (fixed rows re-import as "unchanged"), faulty rows are highlighted
and carry their messages in a last column. Text is written with ``write_string`` (see
:mod:`ocop.imports.safe_xlsx`): a cell that was ``=…`` in the upload stays text here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import xlsxwriter

from ocop.imports.readers import read_file
from ocop.imports.safe_xlsx import write_cell
from ocop.imports.validate import RowFault

ERROR_HEADER = "Lỗi / Errors"


def write_error_file(file_name: str, data: bytes, faults: Iterable[RowFault], out: Path | str | BinaryIO, *,
                     lang: str = "vi") -> None:
    """Write ``data`` (the uploaded file) back with an error column filled from ``faults``."""
    messages: dict[int, list[str]] = defaultdict(list)
    for fault in faults:
        text = fault.message_vi if lang == "vi" else fault.message_en
        messages[fault.row].append(f"{fault.column}: {text}")
    sheet = read_file(file_name, data)
    options = {"in_memory": True} if not isinstance(out, (str, Path)) else {}
    workbook = xlsxwriter.Workbook(out if isinstance(out, (str, Path)) else out, options)
    worksheet = workbook.add_worksheet("Sản phẩm")
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7"})
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    bad = workbook.add_format({"bg_color": "#FCE4D6"})
    bad_text = workbook.add_format({"bg_color": "#FCE4D6", "font_color": "#9C0006", "text_wrap": True})
    rows = list(sheet.rows)
    error_col = max([len(sheet.header), *(len(cells) for _, cells in rows)])
    for col, value in enumerate(sheet.header):
        write_cell(worksheet, 0, col, value, cell_format=bold)
    write_cell(worksheet, 0, error_col, ERROR_HEADER, cell_format=bold)
    for out_row, (number, cells) in enumerate(rows, start=1):
        row_messages = messages.get(number)
        for col, value in enumerate(cells):
            write_cell(worksheet, out_row, col, value, date_format=date_format, cell_format=bad if row_messages else None)
        if row_messages:
            write_cell(worksheet, out_row, error_col, "\n".join(row_messages), cell_format=bad_text)
    worksheet.set_column(error_col, error_col, 60)
    worksheet.freeze_panes(1, 0)
    workbook.close()
