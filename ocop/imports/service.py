"""The import service the CLI, the web upload and the arq job all call.

``run_import`` reads the file, validates every row in memory, writes in one transaction
(:mod:`ocop.imports.persist`), and then hands photos of new or changed products to an
:class:`~ocop.imports.images.ImageSink` (the media pipeline's hook). Photo problems are reported
on their row but do not undo the row: the product data is right, only a photo is missing.
"""

from __future__ import annotations

import asyncio
import hashlib
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from piccolo.engine.base import Engine
from piccolo.query.functions.aggregate import Count

from ocop.catalog.tables import Image
from ocop.imports.columns import BY_KEY, HeaderMap, match_headers
from ocop.imports.fetch import AddressPolicy, FetchLimits, FetchRefused, fetch_image, public_only
from ocop.imports.images import ImageRef, ImageRefused, ImageSink, zip_index
from ocop.imports.persist import RowOutcome, sku_clashes, write_records
from ocop.imports.readers import Sheet, UnreadableFile, read_file
from ocop.imports.tables import ImportBatch
from ocop.imports.validate import MissingColumns, RowFault, RowRecord, ValidationResult, validate_sheet
from ocop.imports.zip_guard import PHOTO_ZIP, ZipRefused, open_checked, read_member
from ocop.producers.tables import Producer

Progress = Callable[[int, int], None]
RowGate = Callable[[list[RowRecord]], Awaitable[list[RowFault]]]
"""Refuses valid rows the caller may not write (e.g. staff outside their area); refused rows become faults."""
MAX_ZIP_MEMBER_BYTES = 20 * 1024 * 1024
"""A photo in the ZIP over 20 MB is refused on its row (the photo upload limit)."""


@dataclass(frozen=True, slots=True)
class ImportSource:
    """The uploaded or given file (name decides the reader together with its bytes) and optional photo ZIP."""

    file_name: str
    data: bytes
    images_zip: bytes | None = None

    @classmethod
    def from_paths(cls, path: Path, images: Path | None = None) -> ImportSource:
        try:
            return cls(path.name, path.read_bytes(), images.read_bytes() if images else None)
        except OSError as exc:
            raise UnreadableFile(f"Không mở được tệp: {exc.filename}", f"Cannot open the file: {exc.filename}") from exc


@dataclass(slots=True)
class ImportResult:
    rows: int
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: list[RowFault]
    unknown_columns: list[str] = field(default_factory=list)
    encoding: str = "unicode"
    batch_id: int | None = None
    dry_run: bool = False

    def to_json(self, lang: str = "vi") -> dict[str, Any]:
        """rows/created/updated/unchanged/failed and the row errors (``ocop import --json``, the API)."""
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "errors": [
                {"row": f.row, "column": f.column, "value": f.value, "message": f.message_vi if lang == "vi" else f.message_en}
                for f in self.errors
            ],
        }

    @property
    def exit_status(self) -> int:
        """0 when no row failed (and no photo failed), 1 otherwise (2 is for unreadable files)."""
        return 1 if self.failed or self.errors else 0


def _fault_report(faults: list[RowFault]) -> list[dict[str, Any]]:
    return [
        {"row": f.row, "column": f.column, "value": f.value, "code": f.code, "message_vi": f.message_vi, "message_en": f.message_en}
        for f in faults
    ]


async def run_import(
    source: ImportSource,
    *,
    actor_user_id: int | None,
    dry_run: bool,
    progress: Progress | None = None,
    engine: Engine | None = None,
    image_sink: ImageSink | None = None,
    http_client: httpx.AsyncClient | None = None,
    fetch_limits: FetchLimits = FetchLimits(),
    address_policy: AddressPolicy = public_only,
    source_key: str = "",
    row_gate: RowGate | None = None,
    resume_photos: bool = False,
) -> ImportResult:
    """Import one catalogue file. Raises :class:`UnreadableFile` when the file cannot be read at all.

    ``progress(done, total)`` is called as rows are validated (first half) and written (second half).
    With ``image_sink``, photos of created/updated rows are collected (ZIP member or URL fetched
    under :mod:`ocop.imports.fetch`'s SSRF defences) after the commit and submitted; photo faults
    are added to the result and the batch report without undoing their rows.

    Reading and validating run in a worker thread: they are pure CPU work, and in embedded mode the
    import job shares the event loop with the web pages (including this import's progress page).
    ``progress`` may therefore be called from that thread. ``source_key`` (the uploaded file's
    media-store key) is recorded on the batch so the web can offer the file back with errors.
    ``row_gate`` sees the valid rows before anything is written; the rows it refuses are faults.
    ``resume_photos`` (a run delivered again after its worker died): photos are also offered for
    unchanged rows whose product has fewer photos than the row names, because the dead run may have
    committed its rows and died while delivering photos; the sink skips photos already there.
    """
    engine = engine or Producer._meta.db
    started_at = datetime.now(timezone.utc)
    zip_archive = _open_zip(source.images_zip)
    zip_names = zip_index(zip_archive) if zip_archive else None
    sheet, header, validation = await asyncio.to_thread(_read_and_validate, source, zip_names, progress)
    total = validation.rows
    records, faults = validation.records, list(validation.faults)
    if row_gate is not None and records:
        refused = await row_gate(records)
        if refused:
            gated = {f.row for f in refused}
            records = [r for r in records if r.row not in gated]
            faults = sorted(faults + refused, key=lambda f: f.row)
    if records:  # a seller SKU given twice to a producer already in the database
        clashes = await sku_clashes(records)
        if clashes:
            clashed = {f.row for f in clashes}
            records = [r for r in records if not clashed & {r.row, *r.variant_rows}]
            faults = sorted(faults + clashes, key=lambda f: f.row)
    failed_rows = {f.row for f in faults}
    batch = {
        "created_by": actor_user_id,
        "file_name": source.file_name[:255],
        "file_sha256": hashlib.sha256(source.data).hexdigest(),
        "source_key": source_key,
        "status": "done",
        "started_at": started_at,
        "dry_run": dry_run,
        "rows": total,
        "failed": len(failed_rows),
        "report": _fault_report(faults),
        "finished_at": datetime.now(timezone.utc),
    }
    summary = await write_records(
        records,
        engine=engine,
        batch=batch,
        dry_run=dry_run,
        progress=(lambda done, n: progress(total + done, 2 * total)) if progress else None,
    )
    errors = list(faults)
    if image_sink is not None and not dry_run:
        by_row = {r.row: r for r in records}
        wanted = [(by_row[o.row], o.product_id) for o in summary.outcomes if o.has_images]
        if resume_photos:
            wanted += await _photos_missing(by_row, summary.outcomes)
        index = header.positions.get("images")
        label = str(sheet.header[index]).strip() if index is not None else BY_KEY["images"].header
        photo_faults = await _deliver_images(wanted, zip_archive, image_sink, http_client, fetch_limits, address_policy, label)
        if photo_faults and summary.batch_id is not None:
            report = _fault_report(sorted(faults + photo_faults, key=lambda f: f.row))
            await ImportBatch.update({ImportBatch.report: report}).where(ImportBatch.id == summary.batch_id)
        errors += photo_faults
    if progress:
        progress(2 * total, 2 * total)
    return ImportResult(
        rows=total,
        created=summary.count("created"),
        updated=summary.count("updated"),
        unchanged=summary.count("unchanged"),
        failed=len(failed_rows),
        errors=sorted(errors, key=lambda f: f.row),
        unknown_columns=validation.unknown_columns,
        encoding=validation.encoding.value,
        batch_id=summary.batch_id,
        dry_run=dry_run,
    )


async def _photos_missing(by_row: dict[int, RowRecord], outcomes: list[RowOutcome]) -> list[tuple[RowRecord, int]]:
    """Unchanged rows naming more photos than their product has (one grouped count per chunk)."""
    named = {o.product_id: by_row[o.row] for o in outcomes if o.status == "unchanged" and by_row[o.row].images}
    ids = list(named)
    have: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        rows = await (Image.select(Image.product, Count(Image.id, alias="n"))
                      .where(Image.product.is_in(ids[start:start + 500])).group_by(Image.product))
        have.update({r["product"]: r["n"] for r in rows})
    return [(record, pid) for pid, record in named.items() if have.get(pid, 0) < len(record.images)]


def _read_and_validate(
    source: ImportSource, zip_names: dict[str, str] | None, progress: Progress | None
) -> tuple[Sheet, HeaderMap, ValidationResult]:
    sheet = read_file(source.file_name, source.data)
    header = match_headers(sheet.header)
    try:
        validation = validate_sheet(
            sheet, header, zip_names=zip_names, progress=(lambda done, n: progress(done, 2 * n)) if progress else None
        )
    except MissingColumns as exc:
        raise UnreadableFile(exc.message_vi, exc.message_en) from exc
    return sheet, header, validation


def _open_zip(data: bytes | None) -> zipfile.ZipFile | None:
    """The photo ZIP, opened only after :mod:`ocop.imports.zip_guard` passed it (before any row is
    read): a hostile ZIP is a file-level error of the import, never a crash or a full memory."""
    if data is None:
        return None
    try:
        return open_checked(data, PHOTO_ZIP)
    except ZipRefused as exc:
        raise UnreadableFile(f"Tệp ZIP ảnh bị từ chối: {exc.message_vi}",
                             f"The photo ZIP was refused: {exc.message_en}") from exc


async def _deliver_images(
    wanted: list[tuple[RowRecord, int]],
    archive: zipfile.ZipFile | None,
    sink: ImageSink,
    client: httpx.AsyncClient | None,
    limits: FetchLimits,
    policy: AddressPolicy,
    column: str,
) -> list[RowFault]:
    """Collect each photo's bytes (ZIP member or fetched URL) and submit it; faults per photo."""
    faults: list[RowFault] = []
    gate = asyncio.Semaphore(8)
    own_client = client is None
    client = client or httpx.AsyncClient(timeout=limits.timeout_s, follow_redirects=False)

    async def one(record: RowRecord, product_id: int, position: int, ref: ImageRef) -> None:
        async with gate:
            try:
                data = _zip_bytes(archive, ref.value) if ref.kind == "zip" else await fetch_image(
                    ref.value, client=client, limits=limits, policy=policy
                )
                await sink.submit(product_id=product_id, position=position, ref=ref, data=data)
            except (FetchRefused, ImageRefused) as exc:
                faults.append(RowFault(record.row, column, ref.value, exc.code, exc.message_vi, exc.message_en))

    try:
        await asyncio.gather(*(one(r, pid, pos, ref) for r, pid in wanted for pos, ref in enumerate(r.images)))
    finally:
        if own_client:
            await client.aclose()
    return faults


def _zip_bytes(archive: zipfile.ZipFile | None, member: str) -> bytes:
    """One photo's bytes, read in bounded chunks (the declared size can lie); problems stay on the row."""
    assert archive is not None  # validation only yields ZIP refs when a ZIP was given
    try:
        return read_member(archive, archive.getinfo(member), MAX_ZIP_MEMBER_BYTES)
    except ZipRefused as exc:
        code = "image_too_large" if exc.code == "zip_entry_too_large" else exc.code
        raise FetchRefused(code, exc.message_vi, exc.message_en) from exc
