"""The province import template (``ocop import --template PATH``), written with XlsxWriter.

Sheet 1 holds the header row of the province template (no sample row, so a forgotten example is never imported);
sheet 2 explains each column in Vietnamese; a hidden sheet holds the closed lists that the
drop-down validations of sheet 1 point to (Excel limits an inline list to 255 characters, too short
for 135 communes).
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from ocop.domain import admin_units
from ocop.domain.ocop import GROUPS, ProducerKind, STARS
from ocop.domain.units import UNITS
from ocop.imports.columns import ALL_COLUMNS, BY_KEY, COLUMNS
from ocop.imports.safe_xlsx import write_cell

DATA_ROWS = 10_000
SHEET_DATA, SHEET_HELP, SHEET_LISTS = "Sản phẩm", "Hướng dẫn", "Danh mục"


def closed_lists(province: str | None = None) -> dict[str, list[str]]:
    """The values offered in drop-downs, per column key."""
    lists: dict[str, list[str]] = {
        "producer_kind": [k.label_vi for k in ProducerKind],
        "group": [g.name_vi for g in GROUPS],
        "stars": [str(s) for s in STARS],
        "unit": [u.code for u in UNITS],
        "province": [p.name for p in admin_units.provinces()],
    }
    if province:
        lists["commune"] = [w.name for w in admin_units.wards_of(admin_units.find_province(province))]
    return lists


def write_template(path: Path | str, *, province: str | None = "Gia Lai") -> None:
    """Write the template; with ``province`` the ``Xã/Phường`` column offers that province's communes."""
    workbook = xlsxwriter.Workbook(str(path))
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    text = workbook.add_format({"num_format": "@"})

    data = workbook.add_worksheet(SHEET_DATA)
    helps = workbook.add_worksheet(SHEET_HELP)
    lists_sheet = workbook.add_worksheet(SHEET_LISTS)

    for col, column in enumerate(ALL_COLUMNS):
        write_cell(data, 0, col, column.header, cell_format=bold)
        data.set_column(col, col, max(12, len(column.header) + 2))
    # Codes typed as text keep their leading zeros (tax codes, phones).
    for key in ("tax_code", "phone", "sku", "variant_sku"):
        index = ALL_COLUMNS.index(BY_KEY[key])
        data.set_column(index, index, 18, text)
    data.freeze_panes(1, 0)

    lists = closed_lists(province)
    for list_col, (key, values) in enumerate(lists.items()):
        write_cell(lists_sheet, 0, list_col, BY_KEY[key].header, cell_format=bold)
        for row, value in enumerate(values, start=1):
            write_cell(lists_sheet, row, list_col, value)
        letter = xlsxwriter.utility.xl_col_to_name(list_col)
        source = f"='{SHEET_LISTS}'!${letter}$2:${letter}${len(values) + 1}"
        target = COLUMNS.index(BY_KEY[key])
        data.data_validation(1, target, DATA_ROWS, target, {
            "validate": "list",
            "source": source,
            "error_type": "warning",  # allow aliases and old names; the import checks them
            "error_title": BY_KEY[key].header,
            "error_message": "Giá trị không có trong danh mục. Vẫn giữ?",
        })
    lists_sheet.hide()

    for col, title in enumerate(("Cột", "Bắt buộc", "Giải thích", "Ví dụ", "Tên tiếng Anh được nhận")):
        write_cell(helps, 0, col, title, cell_format=bold)
    for row, column in enumerate(ALL_COLUMNS, start=1):
        write_cell(helps, row, 0, column.header, cell_format=wrap)
        write_cell(helps, row, 1, "Có" if column.required else "Không", cell_format=wrap)
        write_cell(helps, row, 2, column.help_vi, cell_format=wrap)
        write_cell(helps, row, 3, column.example, cell_format=wrap)
        write_cell(helps, row, 4, ", ".join(column.aliases), cell_format=wrap)
    helps.set_column(0, 0, 26)
    helps.set_column(1, 1, 10)
    helps.set_column(2, 2, 80)
    helps.set_column(3, 4, 30)
    workbook.close()
