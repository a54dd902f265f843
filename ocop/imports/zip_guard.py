"""Checks on every ZIP the import opens (the photo ZIP, and XLSX/ODS workbooks, which are ZIPs too),
made before anything is extracted, so a hostile archive is refused with a clear message instead of
exhausting memory or disk.

ZIP limits: entry count, total uncompressed size, no path traversal. What is
checked, and why each rule exists:

- **Entry count and central-directory size**, read from the end-of-central-directory record (and
  its ZIP64 form, APPNOTE.TXT §4.3.14–16) *before* :class:`zipfile.ZipFile` parses the directory:
  zipfile builds one ``ZipInfo`` object per entry, so a 200 MB directory of tiny entries would
  cost gigabytes before any count could be checked.
- **Per-entry and total uncompressed size, and compression ratio** from the central directory
  (OWASP "File Upload Cheat Sheet" and CWE-409, "Improper Handling of Highly Compressed Data").
  The ratio rule only looks at entries over 1 MiB: small XML parts compress wildly and are harmless.
- **The directory can lie**, so sizes are enforced again while reading: :func:`read_member` stops at
  its limit (zipfile itself also stops at the declared size and then fails the CRC), and
  :func:`verify_sizes` inflates every member of a workbook in bounded chunks, refusing one whose real
  size exceeds the declared one — python-calamine's Rust reader, not zipfile, reads workbooks.
- **Names**: absolute paths, drive letters, ``..`` parts, NUL bytes and symlink entries are refused
  (CWE-22 "Zip Slip"); nothing is ever written to disk, but such names only come from crafted files.
- **Encrypted entries** cannot be read and are refused; **nested ZIPs** in the photo ZIP are simply
  not used as photos (see :func:`ocop.imports.images.zip_index`).
"""

from __future__ import annotations

import io
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from ocop.domain.errors import Explained

MiB = 1024 * 1024
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_LOCAL_HEADER = b"PK\x03\x04"
_MAX_COMMENT = 65_535
_DIRECTORY_BYTES_PER_ENTRY = 1024
"""A central-directory record is 46 bytes plus name, extra and comment; real names stay far below
this average, so a directory larger than ``max_entries * 1 KiB`` is refused before it is parsed."""
_CHUNK = 1 * MiB
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_entries: int
    max_entry_bytes: int
    max_total_bytes: int
    max_ratio: int
    ratio_floor_bytes: int = 1 * MiB


PHOTO_ZIP = ZipLimits(max_entries=10_000, max_entry_bytes=64 * MiB, max_total_bytes=2048 * MiB, max_ratio=100)
"""Photos of a province's catalogue (the upload itself is capped at 200 MB): up to 10,000 files
(1,000 products × 9 photos, Shopee's maximum). JPEG/PNG/HEIC barely compress, so a ratio over
100 is a bomb. A photo over 20 MB is refused on its row later (the marketplaces' image limit);
only an entry over 64 MB, which no photo is, refuses the whole ZIP here."""

WORKBOOK = ZipLimits(max_entries=1_000, max_entry_bytes=200 * MiB, max_total_bytes=400 * MiB, max_ratio=200)
"""An XLSX/ODS catalogue (upload capped at 50 MB): a few dozen parts in practice; sheet XML
compresses 5–20×, rarely 100×, and a 200 MB sheet already holds several hundred thousand rows."""


class ZipRefused(Explained):
    """The archive (or one member) breaks a limit; ``message_vi``/``message_en`` say which."""


def _shown(name: str) -> str:
    printable = "".join(c if c.isprintable() else "?" for c in name)
    return printable if len(printable) <= 80 else printable[:77] + "..."


def _mb(n: int) -> str:
    return f"{n // MiB} MB"


def _corrupt() -> ZipRefused:
    return ZipRefused("zip_invalid", "Tệp ZIP hỏng hoặc không phải ZIP", "The ZIP file is damaged or not a ZIP")


def directory_counts(data: bytes) -> tuple[int, int]:
    """``(entries, central_directory_bytes)`` as the end-of-central-directory record declares them."""
    pos = data.rfind(_EOCD, max(0, len(data) - 22 - _MAX_COMMENT))
    if pos < 0 or pos + 22 > len(data):
        raise _corrupt()
    entries, size = struct.unpack_from("<HI", data, pos + 10)
    locator = pos - 20
    if locator >= 0 and data[locator:locator + 4] == _EOCD64_LOCATOR:
        (offset,) = struct.unpack_from("<Q", data, locator + 8)
        if offset + 56 <= len(data) and data[offset:offset + 4] == _EOCD64:
            entries, size = struct.unpack_from("<QQ", data, offset + 32)
    return entries, size


def _unsafe_name(name: str) -> bool:
    """NUL bytes, absolute paths (``/x``, ``\\x``, ``C:x``) or a ``..`` part (either separator)."""
    posix = name.replace("\\", "/")
    return "\x00" in name or posix.startswith("/") or bool(_DRIVE.match(posix)) or ".." in posix.split("/")


def check_members(infos: Iterable[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """The central-directory rules (names, symlinks, encryption, sizes, ratio, count, total)."""
    total = 0
    for count, info in enumerate(infos, start=1):
        if count > limits.max_entries:
            raise too_many_entries(limits)
        name = info.orig_filename
        if _unsafe_name(name):
            raise ZipRefused(
                "zip_unsafe_name",
                f"Tên tệp trong ZIP không an toàn (đường dẫn tuyệt đối hoặc '..'): {_shown(name)}",
                f"Unsafe file name in the ZIP (absolute path or '..'): {_shown(name)}",
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ZipRefused("zip_symlink", f"ZIP chứa liên kết tượng trưng (symlink): {_shown(name)}",
                             f"The ZIP contains a symbolic link: {_shown(name)}")
        if info.flag_bits & 0x1:
            raise ZipRefused("zip_encrypted", f"ZIP có tệp được đặt mật khẩu: {_shown(name)}",
                             f"The ZIP contains a password-protected file: {_shown(name)}")
        if info.file_size > limits.max_entry_bytes:
            raise entry_too_large(name, limits.max_entry_bytes)
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise ZipRefused(
                "zip_bomb",
                f"Tệp {_shown(name)} trong ZIP bị nén bất thường (hơn {limits.max_ratio} lần): nghi là bom nén",
                f"{_shown(name)} in the ZIP is compressed more than {limits.max_ratio}x: a likely ZIP bomb",
            )
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ZipRefused(
                "zip_too_large",
                f"Tổng dung lượng giải nén của ZIP vượt {_mb(limits.max_total_bytes)}",
                f"The ZIP unpacks to more than {_mb(limits.max_total_bytes)}",
            )


def too_many_entries(limits: ZipLimits) -> ZipRefused:
    return ZipRefused("zip_too_many_entries", f"ZIP có hơn {limits.max_entries} tệp",
                      f"The ZIP has more than {limits.max_entries} files")


def entry_too_large(name: str, max_bytes: int) -> ZipRefused:
    return ZipRefused("zip_entry_too_large",
                      f"Tệp {_shown(name)} trong ZIP lớn hơn {_mb(max_bytes)} khi giải nén",
                      f"{_shown(name)} in the ZIP unpacks to more than {_mb(max_bytes)}")


def open_checked(data: bytes, limits: ZipLimits) -> zipfile.ZipFile:
    """Open ``data`` as a ZIP after every directory rule passed; raises :class:`ZipRefused`."""
    entries, directory_bytes = directory_counts(data)
    if entries > limits.max_entries or directory_bytes > limits.max_entries * _DIRECTORY_BYTES_PER_ENTRY:
        raise too_many_entries(limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _corrupt() from exc
    check_members(archive.infolist(), limits)
    return archive


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> bytes:
    """A member's bytes, read in chunks and never more than ``max_bytes`` (whatever the directory
    says); a damaged member raises :class:`ZipRefused` ``zip_member_damaged``."""
    if info.file_size > max_bytes:
        raise entry_too_large(info.filename, max_bytes)
    out = bytearray()
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(min(_CHUNK, max_bytes + 1 - len(out))):
                out += chunk
                if len(out) > max_bytes:
                    raise entry_too_large(info.filename, max_bytes)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise ZipRefused("zip_member_damaged", f"Tệp {_shown(info.filename)} trong ZIP bị hỏng",
                         f"{_shown(info.filename)} in the ZIP is damaged") from exc
    return bytes(out)


def _raw_member(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    start = info.header_offset
    if data[start:start + 4] != _LOCAL_HEADER:
        raise _corrupt()
    name_len, extra_len = struct.unpack_from("<HH", data, start + 26)
    begin = start + 30 + name_len + extra_len
    return memoryview(data)[begin:begin + info.compress_size]


def verify_sizes(data: bytes, archive: zipfile.ZipFile, limits: ZipLimits) -> None:
    """Inflate every member in bounded chunks and refuse any whose real size is larger than its
    declared size (or the limits). For readers that trust the directory less carefully than
    zipfile does (python-calamine's Rust ``zip`` reader). Memory stays at one chunk."""
    total = 0
    for info in archive.infolist():
        allowed = min(info.file_size, limits.max_entry_bytes)
        raw = _raw_member(data, info)
        if info.compress_type == zipfile.ZIP_STORED:
            real = len(raw)
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            real = _inflated_size(raw, allowed)
        else:
            raise ZipRefused("zip_method", f"Tệp {_shown(info.filename)} dùng kiểu nén không hỗ trợ",
                             f"{_shown(info.filename)} uses an unsupported compression method")
        if real > allowed:
            raise ZipRefused(
                "zip_size_mismatch",
                f"Tệp {_shown(info.filename)} trong ZIP lớn hơn kích thước khai báo: tệp bị sửa đổi hoặc là bom nén",
                f"{_shown(info.filename)} in the ZIP is larger than it declares: a tampered file or ZIP bomb",
            )
        total += real
        if total > limits.max_total_bytes:
            raise ZipRefused("zip_too_large", f"Tổng dung lượng giải nén của ZIP vượt {_mb(limits.max_total_bytes)}",
                             f"The ZIP unpacks to more than {_mb(limits.max_total_bytes)}")


def _inflated_size(raw: memoryview, allowed: int) -> int:
    """Size of the raw deflate stream's output, counting stops just past ``allowed``."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    real = 0
    try:
        for offset in range(0, len(raw), _CHUNK):
            pending = bytes(raw[offset:offset + _CHUNK])
            while pending:
                real += len(inflater.decompress(pending, _CHUNK))
                if real > allowed:
                    return real
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
        real += len(inflater.flush())
    except zlib.error as exc:
        raise _corrupt() from exc
    return real
