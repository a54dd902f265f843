"""ZIP limits (issue 8): hostile photo ZIPs and hostile XLSX workbooks are refused as a file-level
import error, in Vietnamese and English, before anything is extracted and without big allocations.

The hostile files are real ZIPs written here byte by byte (APPNOTE.TXT layout), so the directory can
say what an attacker wants: a 2 GB member made of a repeated full-flushed deflate segment costs ~2 MB
on disk and a few milliseconds to build (only its CRC needs a pass over 2 GB of zeros, done once).
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import tracemalloc
import zipfile
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ocop.catalog.tables import Product
from ocop.imports.images import zip_index
from ocop.imports.readers import UnreadableFile, read_file
from ocop.imports.service import ImportSource, run_import
from ocop.imports.tables import ImportBatch
from ocop.imports.zip_guard import PHOTO_ZIP, WORKBOOK, ZipRefused, open_checked, read_member
from tests.ocop.imports.conftest import csv_text, product_row, write_xlsx
from tests.support.servers import own_redis_db

MiB = 1024 * 1024
REPO = Path(__file__).resolve().parents[3]
sqlite_only = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def ocop(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    """``ocop`` as a real process on the test's database (state under its folder, not the checkout)."""
    env = dict(os.environ, OCOP_DATABASE_URL=url, OCOP_VAR_DIR=str(Path(url.removeprefix("sqlite:///")).parent))
    return subprocess.run([sys.executable, "-m", "ocop.cli.main", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)


@dataclass
class Member:
    name: str
    raw: bytes
    """The bytes stored in the archive (a raw deflate stream, or the data itself when stored)."""
    size: int
    """Declared uncompressed size (may lie)."""
    crc: int
    method: int = zipfile.ZIP_DEFLATED
    mode: int = 0o100644
    flags: int = 0


def deflated(name: str, data: bytes) -> Member:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Member(name, c.compress(data) + c.flush(), len(data), zlib.crc32(data))


def repeated(name: str, segment: bytes, count: int, head: bytes = b"", tail: bytes = b"") -> Member:
    """``head + segment * count + tail`` deflated without compressing ``count`` segments: after a
    full flush a deflate compressor keeps no history, so one compressed segment can be repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    one = c.compress(segment) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(segment) + c.flush(zlib.Z_FULL_FLUSH) == one  # the trick holds
    last = c.compress(tail) + c.flush()
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(segment, crc)
    return Member(name, first + one * count + last, len(head) + len(segment) * count + len(tail),
                  zlib.crc32(tail, crc))


def build_zip(members: list[Member], *, declared_entries: int | None = None) -> bytes:
    out, central = bytearray(), bytearray()
    for m in members:
        name = m.name.encode()
        offset = len(out)
        flags = m.flags | 0x800  # UTF-8 names
        out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, flags, m.method, 0, 0x21, m.crc, len(m.raw), m.size,
                           len(name), 0) + name + m.raw
        central += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", (3 << 8) | 20, 20, flags, m.method, 0, 0x21, m.crc,
                               len(m.raw), m.size, len(name), 0, 0, 0, 0, m.mode << 16, offset) + name
    n = len(members) if declared_entries is None else declared_entries
    return bytes(out + central + struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, n, n, len(central), len(out), 0))


@cache
def two_gb_of_zeros() -> Member:
    return repeated("zeros.bin", bytes(MiB), 2048)


def photo() -> bytes:
    return b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8  # bytes are never decoded here


async def refused_import(*, images_zip: bytes | None = None, xlsx: bytes | None = None) -> UnreadableFile:
    """Run the real import service (the CLI, the web job and the API all call it) and return its
    file-level error; the refusal comes before any row is read, so no database is needed."""
    name, data = ("catalogue.xlsx", xlsx) if xlsx is not None else (
        "catalogue.csv", csv_text([product_row(images="a.jpg")]).encode())
    with pytest.raises(UnreadableFile) as caught:
        await run_import(ImportSource(name, data, images_zip), actor_user_id=None, dry_run=True)
    return caught.value


def test_the_handmade_zips_are_real_zips() -> None:
    small = repeated("z.bin", b"abc" * 1000, 5, head=b"<x>", tail=b"</x>")
    archive = zipfile.ZipFile(io.BytesIO(build_zip([deflated("a.jpg", photo()), small])))
    assert archive.testzip() is None
    assert archive.read("z.bin") == b"<x>" + b"abc" * 5000 + b"</x>"


# --------------------------------------------------------------------------- the photo ZIP


async def test_a_2_gb_member_refuses_the_photo_zip_without_unpacking_it() -> None:
    bomb = build_zip([deflated("a.jpg", photo()), two_gb_of_zeros()])
    assert len(bomb) < 3 * MiB
    tracemalloc.start()
    try:
        error = await refused_import(images_zip=bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * MiB
    assert error.message_vi.startswith("Tệp ZIP ảnh bị từ chối") and "zeros.bin" in error.message_vi
    assert "zeros.bin in the ZIP unpacks to more than 64 MB" in error.message_en


async def test_a_bomb_streamed_by_zipfile_is_refused_too() -> None:
    """The same refusal for an archive written by Python's own zipfile (streaming, ZIP64 extras)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("a.jpg", photo())
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            for _ in range(80):
                member.write(bytes(MiB))
    error = await refused_import(images_zip=out.getvalue())
    assert "zeros.bin in the ZIP unpacks to more than 64 MB" in error.message_en


async def test_a_highly_compressed_member_is_refused_as_a_bomb() -> None:
    bomb = build_zip([deflated("a.jpg", photo()), repeated("b.jpg", bytes(MiB), 50)])  # 50 MB in ~50 KB
    error = await refused_import(images_zip=bomb)
    assert "nghi là bom nén" in error.message_vi and "ZIP bomb" in error.message_en


async def test_the_total_unpacked_size_is_limited() -> None:
    """36 members of a declared 60 MB each (ratio 60, under the bomb rule) add up to over 2 GB."""
    stored = bytes(MiB)
    members = [Member(f"p{i}.jpg", stored, 60 * MiB, 0) for i in range(36)]
    error = await refused_import(images_zip=build_zip(members))
    assert "The ZIP unpacks to more than 2048 MB" in error.message_en
    assert "Tổng dung lượng giải nén" in error.message_vi


@pytest.mark.parametrize("name", ["../../etc/cron.d/x.jpg", "/etc/passwd.jpg", "C:\\Windows\\a.jpg",
                                  "photos\\..\\..\\a.jpg", "a.jpg\x00.png"])
async def test_traversal_and_absolute_names_are_refused(name: str) -> None:
    error = await refused_import(images_zip=build_zip([deflated("a.jpg", photo()), deflated(name, photo())]))
    assert "Unsafe file name in the ZIP" in error.message_en and "không an toàn" in error.message_vi


async def test_symlinks_and_encrypted_members_are_refused() -> None:
    link = Member("a.jpg", b"/etc/passwd", 11, zlib.crc32(b"/etc/passwd"), method=zipfile.ZIP_STORED, mode=0o120777)
    error = await refused_import(images_zip=build_zip([link]))
    assert "symbolic link" in error.message_en and "symlink" in error.message_vi
    locked = deflated("a.jpg", photo())
    locked.flags = 0x1
    error = await refused_import(images_zip=build_zip([locked]))
    assert "password-protected" in error.message_en


async def test_too_many_entries_are_refused_even_when_the_end_record_lies() -> None:
    members = [Member(f"{i}.jpg", b"", 0, 0, method=zipfile.ZIP_STORED) for i in range(PHOTO_ZIP.max_entries + 1)]
    error = await refused_import(images_zip=build_zip(members))
    assert "The ZIP has more than 10000 files" in error.message_en and "hơn 10000 tệp" in error.message_vi
    lying = build_zip(members, declared_entries=3)  # the end record says 3; the directory holds 10,001
    assert "more than 10000 files" in (await refused_import(images_zip=lying)).message_en


def test_nested_archives_are_not_photos() -> None:
    inner = build_zip([deflated("a.jpg", photo())])
    archive = open_checked(build_zip([deflated("b.jpg", photo()), deflated("more.zip", inner)]), PHOTO_ZIP)
    assert zip_index(archive) == {"b.jpg": "b.jpg"}


def test_a_member_that_inflates_past_its_declared_size_is_cut_off() -> None:
    """The directory says 1 KB; the stream holds 100 MB. Reading stops at the declared size and the
    damage is reported (on the photo's row, by the import) instead of inflating 100 MB."""
    liar = repeated("a.jpg", bytes(MiB), 100)
    liar.size = 1024
    archive = open_checked(build_zip([liar]), PHOTO_ZIP)
    tracemalloc.start()
    try:
        with pytest.raises(ZipRefused) as caught:
            read_member(archive, archive.getinfo("a.jpg"), 20 * MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "zip_member_damaged" and peak < 8 * MiB
    honest = open_checked(build_zip([repeated("b.jpg", b"x" * 1000, 25 * 1000)]), PHOTO_ZIP)
    with pytest.raises(ZipRefused) as caught:
        read_member(honest, honest.getinfo("b.jpg"), 20 * MiB)
    assert caught.value.code == "zip_entry_too_large"


# --------------------------------------------------------------------------- XLSX workbooks


@pytest.fixture
def workbook_parts(tmp_path: Path) -> list[tuple[str, bytes]]:
    """The parts of a real one-row catalogue written by XlsxWriter."""
    path = write_xlsx(tmp_path / "real.xlsx", [product_row()])
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def rebuilt(parts: list[tuple[str, bytes]], sheet: Member | None = None, extra: list[Member] | None = None) -> bytes:
    members = [sheet if sheet is not None and name == "xl/worksheets/sheet1.xml" else deflated(name, data)
               for name, data in parts]
    return build_zip(members + (extra or []))


def sheet_bomb(parts: list[tuple[str, bytes]], count: int, segment: int = MiB) -> Member:
    """sheet1.xml with ``count * segment`` bytes of whitespace inside <sheetData>: still well-formed XML."""
    xml = dict(parts)["xl/worksheets/sheet1.xml"]
    head, tail = xml.split(b"<sheetData>", 1)
    return repeated("xl/worksheets/sheet1.xml", b" " * segment, count, head=head + b"<sheetData>", tail=tail)


def test_the_rebuilt_workbook_still_reads(tmp_path: Path, workbook_parts: list[tuple[str, bytes]]) -> None:
    """Control: rebuilt the same way, its sheet padded with 400 KB of whitespace (under the 1 MB
    below which ratios are not judged), the workbook reads as the original."""
    original = read_file(write_xlsx(tmp_path / "again.xlsx", [product_row()]))
    padded = read_file("ok.xlsx", rebuilt(workbook_parts, sheet_bomb(workbook_parts, 100, segment=4096)))
    assert padded.header == original.header
    assert list(padded.rows) == list(original.rows)


async def test_an_xlsx_whose_sheet_xml_unpacks_to_2_gb_is_refused(workbook_parts: list[tuple[str, bytes]]) -> None:
    zeros = two_gb_of_zeros()
    bomb = Member("xl/worksheets/sheet1.xml", zeros.raw, zeros.size, zeros.crc)
    tracemalloc.start()
    try:
        error = await refused_import(xlsx=rebuilt(workbook_parts, bomb))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * MiB
    assert error.message_vi.startswith("Bảng tính bị từ chối")
    assert "xl/worksheets/sheet1.xml in the ZIP unpacks to more than 200 MB" in error.message_en


async def test_an_xlsx_sheet_bomb_under_the_size_limit_is_refused_by_its_ratio(
        workbook_parts: list[tuple[str, bytes]]) -> None:
    error = await refused_import(xlsx=rebuilt(workbook_parts, sheet_bomb(workbook_parts, 150)))
    assert "ZIP bomb" in error.message_en and "xl/worksheets/sheet1.xml" in error.message_en


async def test_an_xlsx_sheet_that_lies_about_its_size_is_caught_while_inflating(
        workbook_parts: list[tuple[str, bytes]]) -> None:
    """The directory declares the honest sheet's size; the stream inflates to 1 GB of whitespace.
    python-calamine would be handed that stream: the guard inflates (in 1 MB chunks) and stops."""
    liar = sheet_bomb(workbook_parts, 1024)
    liar.size = len(dict(workbook_parts)["xl/worksheets/sheet1.xml"])
    tracemalloc.start()
    try:
        error = await refused_import(xlsx=rebuilt(workbook_parts, liar))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * MiB
    assert "larger than it declares" in error.message_en and "lớn hơn kích thước khai báo" in error.message_vi


def test_xlsx_traversal_names_and_entry_count_are_refused(workbook_parts: list[tuple[str, bytes]]) -> None:
    with pytest.raises(UnreadableFile) as caught:
        read_file("x.xlsx", rebuilt(workbook_parts, extra=[deflated("../../x.xml", b"<x/>")]))
    assert "Unsafe file name" in caught.value.message_en
    padding = [Member(f"pad/{i}.xml", b"", 0, 0, method=zipfile.ZIP_STORED) for i in range(WORKBOOK.max_entries)]
    with pytest.raises(UnreadableFile) as caught:
        read_file("x.xlsx", rebuilt(workbook_parts, extra=padding))
    assert "more than 1000 files" in caught.value.message_en


# --------------------------------------------------------------------------- end to end


@sqlite_only
async def test_ocop_import_reports_a_bomb_as_a_file_error(db: Any, tmp_path: Path) -> None:
    """``ocop import`` (a real process): exit status 2 and the reason, nothing written."""
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(csv_text([product_row(images="a.jpg")]), encoding="utf-8")
    images = tmp_path / "photos.zip"
    images.write_bytes(build_zip([deflated("a.jpg", photo()), two_gb_of_zeros()]))
    done = ocop("import", str(catalogue), "--images", str(images), "--json", url=db.url)
    assert done.returncode == 2, done.stderr
    assert "zeros.bin" in json.loads(done.stdout)["error"]
    assert await ImportBatch.count() == 0 and await Product.count() == 0


@pytest.fixture
async def zip_redis(redis_url: str) -> AsyncIterator[str]:
    async with own_redis_db(redis_url, 9) as url:
        yield url


@sqlite_only
async def test_web_uploads_explain_the_refusal(db: Any, app_client: Any, zip_redis: str, tmp_path: Path,
                                               workbook_parts: list[tuple[str, bytes]]) -> None:
    """The staff upload page refuses a bomb workbook and a bomb photo ZIP with the form (400, the
    reason shown); nothing is written and no job is queued."""
    from tests.ocop.imports.test_pages import staff_client, upload

    async with app_client(database_url=db.url, redis_url=zip_redis) as (app, client):
        await staff_client(client)
        page = await upload(client, "danh-muc.xlsx", rebuilt(workbook_parts, sheet_bomb(workbook_parts, 150)))
        assert page.status_code == 400 and "Bảng tính bị từ chối" in page.text and "bom nén" in page.text

        bomb = build_zip([deflated("a.jpg", photo()), two_gb_of_zeros()])
        refused = await upload(client, "a.csv", csv_text([product_row(images="a.jpg")]).encode(), images=bomb)
        assert refused.status_code == 400 and "Tệp ZIP ảnh bị từ chối" in refused.text and "zeros.bin" in refused.text
        assert await app.state.queue.redis.zcard("arq:queue") == 0
        assert await ImportBatch.count() == 0 and await Product.count() == 0
