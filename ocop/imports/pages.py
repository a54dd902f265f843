"""Staff pages of the bulk catalogue import (issue 4, "Web"): upload, live progress, the result with
its faults, the original file back with an error column, the history of batches, the template.

Flow: the upload is stored in the media store and an ``import_catalogue`` job queued under a fresh
token; the run page polls a small progress fragment (HTMX ``every 1s``) until the job finishes,
then sends the browser to the batch's result page (a dry run has no batch: its result is shown on
the run page itself, from the run state in Redis, see :mod:`ocop.imports.runs`).

Who sees what: admins every batch; staff the batches they ran and those run by staff whose whole
area lies inside theirs (the rule and its reason: ``ocop.imports.access``).
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from arq.jobs import JobStatus
from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ocop import db
from ocop.accounts.audit import record
from ocop.accounts.auth import Me, Principal, requires_staff
from ocop.domain import admin_units
from ocop.imports import runs, zip_guard
from ocop.imports.access import author_columns, batch_clause, can_see_batch
from ocop.imports.jobs import import_job_id
from ocop.imports.readers import SPREADSHEET_SUFFIXES, TEXT_SUFFIXES, UnreadableFile, read_file
from ocop.imports.report import write_error_file
from ocop.imports.tables import ImportBatch
from ocop.imports.template import write_template
from ocop.imports.validate import RowFault
from ocop.web.i18n import pick
from ocop.web.render import client_ip, locale, render, see_other

PAGE = {"include_in_schema": False, "guards": [requires_staff]}
MAX_FILE_BYTES = 50 * 1024 * 1024  # issue 4 brief: catalogues up to 50 MB
MAX_ZIP_BYTES = 200 * 1024 * 1024  # photos of a whole province's catalogue
UPLOAD_BODY_LIMIT = MAX_FILE_BYTES + MAX_ZIP_BYTES + 1024 * 1024
"""Per-route ``request_max_body_size`` of the upload (the app-wide default stays 10 MB)."""
HISTORY_LIMIT = 100
FAULTS_SHOWN = 500
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadRefused(Exception):
    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


async def _batch(me: Principal, batch_id: int) -> dict[str, Any]:
    query = ImportBatch.select(
        *ImportBatch.all_columns(), ImportBatch.created_by.username.as_alias("by"), *author_columns()
    ).where(ImportBatch.id == batch_id)
    scope = batch_clause(me)
    if scope is not None:
        query = query.where(scope)
    row = await query.first()
    if row is None or not can_see_batch(me, row):
        raise NotFoundException("Not found.")
    return row


async def _run(request: Request[Any, Any, Any], me: Principal, token: str) -> runs.RunState:
    state = await runs.load(request.app.state.queue.redis, token)
    if state is None or (state.user_id != me.user_id and not me.is_admin):
        raise NotFoundException("Not found.")
    queue = request.app.state.queue
    if state.status == "queued" and await queue.status(import_job_id(token)) is JobStatus.not_found:
        # The upload saved the run, then the server died before it queued the job: queue it now
        # (the job id is derived from the run, so a job queued meanwhile is not doubled).
        await queue.enqueue("import_catalogue", token, job_id=import_job_id(token))
    return state


def _check_file(name: str, data: bytes) -> None:
    """Refuse at once what cannot be a catalogue, so the message comes with the form."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in SPREADSHEET_SUFFIXES | TEXT_SUFFIXES:
        raise UploadRefused(
            "Chỉ nhận tệp Excel (.xlsx, .xls, .ods) hoặc CSV (.csv, .txt).",
            "Only Excel (.xlsx, .xls, .ods) or CSV (.csv, .txt) files are accepted.",
        )
    if not data:
        raise UploadRefused("Tệp rỗng.", "The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise UploadRefused("Tệp lớn hơn 50 MB.", "The file is larger than 50 MB.")
    try:
        read_file(name, data)  # header only: the rows are read by the job
    except UnreadableFile as exc:
        raise UploadRefused(exc.message_vi, exc.message_en) from exc


def _check_zip(data: bytes) -> None:
    if len(data) > MAX_ZIP_BYTES:
        raise UploadRefused("Tệp ZIP ảnh lớn hơn 200 MB.", "The photo ZIP is larger than 200 MB.")
    if not data.startswith(b"PK"):
        raise UploadRefused("Tệp ảnh không phải ZIP hợp lệ.", "The photo file is not a valid ZIP.")
    try:  # the directory rules, so a hostile archive is refused on the form, not later by the job
        zip_guard.open_checked(data, zip_guard.PHOTO_ZIP).close()
    except zip_guard.ZipRefused as exc:
        raise UploadRefused(f"Tệp ZIP ảnh bị từ chối: {exc.message_vi}",
                            f"The photo ZIP was refused: {exc.message_en}") from exc


async def _history(me: Principal) -> list[dict[str, Any]]:
    query = (
        ImportBatch.select(
            ImportBatch.id, ImportBatch.file_name, ImportBatch.dry_run, ImportBatch.rows, ImportBatch.created,
            ImportBatch.updated, ImportBatch.unchanged, ImportBatch.failed, ImportBatch.started_at,
            ImportBatch.created_by, ImportBatch.created_by.username.as_alias("by"), *author_columns(),
        )
        .order_by(ImportBatch.id, ascending=False)
        .limit(HISTORY_LIMIT)
    )
    scope = batch_clause(me)
    rows = await (query.where(scope) if scope is not None else query)
    return [row for row in rows if can_see_batch(me, row)]


async def _upload_page(me: Principal, *, status_code: int = 200, error: tuple[str, str] | None = None,
                       dry_run: bool = False) -> Template:
    return render("imports/upload.html", status_code=status_code, error=error, dry_run=dry_run,
                  batches=await _history(me))


@get("/imports", **PAGE)
async def import_page(me: Me) -> Template:
    return await _upload_page(me)


@post("/imports", request_max_body_size=UPLOAD_BODY_LIMIT, **PAGE)
async def import_upload(request: Request[Any, Any, Any], me: Me) -> Template | Redirect:
    form = await request.form()
    upload = form.get("file")
    photos = form.get("images")
    dry_run = form.get("dry_run") in ("1", "on", "true")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise UploadRefused("Hãy chọn tệp danh mục.", "Choose a catalogue file.")
        name = PurePath(upload.filename.replace("\\", "/")).name[:255]
        data = await upload.read()
        await asyncio.to_thread(_check_file, name, data)
        zip_data = b""
        if isinstance(photos, UploadFile) and photos.filename:
            zip_data = await photos.read()
            _check_zip(zip_data)
    except UploadRefused as exc:
        return await _upload_page(me, status_code=400, error=(exc.message_vi, exc.message_en), dry_run=dry_run)
    store = request.app.state.media
    state = runs.RunState(
        token=runs.new_token(),
        user_id=me.user_id,
        file_name=name,
        source_key=await store.put(data),
        images_key=await store.put(zip_data) if zip_data else "",
        dry_run=dry_run,
    )
    queue = request.app.state.queue
    await runs.save(queue.redis, state)
    await queue.enqueue("import_catalogue", state.token, job_id=import_job_id(state.token))
    await record(me, "import.upload", "import_batch", None,
                 changes={"file": name, "bytes": len(data), "photos": bool(zip_data), "dry_run": dry_run},
                 ip=client_ip(request))
    return see_other(f"/imports/runs/{state.token}")


@get("/imports/runs/{token:str}", **PAGE)
async def run_page(request: Request[Any, Any, Any], me: Me, token: FromPath[str]) -> Template | Redirect:
    state = await _run(request, me, token)
    if state.status == "done" and state.batch_id is not None:
        return see_other(f"/imports/{state.batch_id}")
    lang = locale(request)
    return render("imports/run.html", run=state, faults=_shown(state.faults, lang),
                  more=len(state.faults) > FAULTS_SHOWN, error=pick(lang, state.error_vi, state.error_en))


@get("/imports/runs/{token:str}/progress", **PAGE)
async def run_progress(request: Request[Any, Any, Any], me: Me, token: FromPath[str]) -> Template:
    """The polled fragment; once the run is finished it sends HTMX to the run page (HX-Redirect),
    which itself redirects to the batch's result."""
    state = await _run(request, me, token)
    headers = {"HX-Redirect": f"/imports/runs/{token}"} if state.finished else {}
    return Template(template_name="imports/_progress.html", context={"run": state}, headers=headers,
                    media_type=MediaType.HTML)


@get("/imports/runs/{token:str}/errors.xlsx", **PAGE)
async def run_error_file(request: Request[Any, Any, Any], me: Me, token: FromPath[str]) -> Response[bytes]:
    state = await _run(request, me, token)
    if not state.finished or state.status == "failed":
        raise NotFoundException("Not found.")
    return await _error_file(request, state.source_key, state.file_name, state.faults)


@get("/imports/{batch_id:int}", **PAGE)
async def batch_page(request: Request[Any, Any, Any], me: Me, batch_id: FromPath[int]) -> Template:
    batch = await _batch(me, batch_id)
    faults = _report(batch)
    return render("imports/result.html", batch=batch, faults=_shown(faults, locale(request)),
                  more=len(faults) > FAULTS_SHOWN)


@get("/imports/{batch_id:int}/errors.xlsx", **PAGE)
async def batch_error_file(request: Request[Any, Any, Any], me: Me, batch_id: FromPath[int]) -> Response[bytes]:
    batch = await _batch(me, batch_id)
    if not batch["source_key"]:
        raise NotFoundException("The original file of this batch was not kept (command-line import).")
    return await _error_file(request, batch["source_key"], batch["file_name"], _report(batch))


@get("/imports/template.xlsx", **PAGE)
async def template_file(me: Me) -> Response[bytes]:
    """The template; its commune drop-down lists the communes of the staff member's province."""
    province = next((p.name for p in admin_units.provinces() if p.code == me.area_province_code), None)

    def build() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "mau.xlsx"
            write_template(path, province=province)
            return path.read_bytes()

    return _download(await asyncio.to_thread(build), "mau-nhap-san-pham-ocop.xlsx")


async def _error_file(request: Request[Any, Any, Any], source_key: str, file_name: str,
                      faults: list[RowFault]) -> Response[bytes]:
    data = await request.app.state.media.get(source_key)
    lang = locale(request)

    def build() -> bytes:
        out = io.BytesIO()
        write_error_file(file_name, data, faults, out, lang=lang)
        return out.getvalue()

    stem = PurePath(file_name).stem or "catalogue"
    return _download(await asyncio.to_thread(build), f"{stem}-loi.xlsx")


def _download(data: bytes, filename: str) -> Response[bytes]:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return Response(content=data, media_type=XLSX, headers={
        "content-disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        "cache-control": "private, no-store",
    })


def _shown(faults: list[RowFault], lang: str) -> list[dict[str, Any]]:
    return [
        {"row": f.row, "column": f.column, "value": f.value, "message": pick(lang, f.message_vi, f.message_en)}
        for f in faults[:FAULTS_SHOWN]
    ]


def _report(batch: dict[str, Any]) -> list[RowFault]:
    """The batch's faults (piccolo returns JSON columns as text from ``select`` on some engines)."""
    return runs.faults_from_report(db.json_value(batch["report"], []))


ROUTES = [import_page, import_upload, run_page, run_progress, run_error_file, batch_page, batch_error_file,
          template_file]
