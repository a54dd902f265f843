import codecs
import unicodedata
from pathlib import Path

import pytest

from ocop.imports.readers import UnreadableFile, read_file
from tests.ocop.imports.conftest import HEADERS, csv_text, encode_cp1258, product_row, write_xlsx


def _first_row(sheet):  # type: ignore[no-untyped-def]
    return next(sheet.rows)


def test_xlsx_rows_keep_spreadsheet_row_numbers(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [product_row(), product_row(sku="B")])
    sheet = read_file(path)
    assert sheet.header_row == 1
    assert [c for c in sheet.header] == HEADERS
    numbers = [n for n, _ in sheet.rows]
    assert numbers == [2, 3]


def test_xlsx_blank_rows_are_skipped_but_numbers_stay_true(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "gap.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(1, 0, ["Mã sản phẩm", "Tên sản phẩm"])  # header on row 2
    sheet.write_row(2, 0, ["A", "x"])
    sheet.write_row(4, 0, ["B", "y"])  # row 4 left empty
    book.close()
    read = read_file(path)
    assert read.header_row == 2
    assert [(n, cells[0]) for n, cells in read.rows] == [(3, "A"), (5, "B")]


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("utf-8", csv_text([product_row()]).encode("utf-8")),
        ("utf-8-sig", codecs.BOM_UTF8 + csv_text([product_row()]).encode("utf-8")),
        ("utf-16", csv_text([product_row()], delimiter="\t").encode("utf-16")),  # Excel "Unicode text"
        ("cp1258", encode_cp1258(csv_text([product_row()]))),
        ("utf-8", csv_text([product_row()], delimiter=";").encode("utf-8")),
    ],
)
def test_text_files_in_every_encoding(encoding: str, data: bytes) -> None:
    sheet = read_file("c.csv", data)
    assert sheet.encoding == encoding
    assert sheet.header == HEADERS
    number, cells = _first_row(sheet)
    assert number == 2
    assert cells[7] == "Bánh tráng nước dừa Tam Quan"
    assert all(unicodedata.is_normalized("NFC", c) for c in cells if isinstance(c, str))


def test_cp1258_really_uses_combining_marks() -> None:
    raw = encode_cp1258("Bánh tráng nước dừa")
    assert raw.decode("cp1258") != "Bánh tráng nước dừa"  # decomposed before NFC
    sheet = read_file("c.csv", encode_cp1258("Tên sản phẩm\nBánh tráng nước dừa\n"))
    assert _first_row(sheet)[1] == ["Bánh tráng nước dừa"]


def test_multiline_cell_is_one_row() -> None:
    sheet = read_file("c.csv", 'Mã sản phẩm,Mô tả\nA,"dòng 1\ndòng 2"\nB,x\n'.encode())
    assert [n for n, _ in sheet.rows] == [2, 3]


@pytest.mark.parametrize(
    ("name", "data"),
    [("empty.csv", b""), ("c.xlsx", b"PK\x03\x04not really a zip"), ("c.pdf", b"%PDF-1.4"), ("blank.csv", b"\n\n")],
)
def test_unreadable(name: str, data: bytes) -> None:
    with pytest.raises(UnreadableFile) as info:
        read_file(name, data)
    assert info.value.message_vi and info.value.message_en


def test_missing_file() -> None:
    with pytest.raises(UnreadableFile):
        read_file("/nonexistent/c.xlsx")
