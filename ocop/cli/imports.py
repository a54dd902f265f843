"""``ocop import FILE [--images ZIP] [--dry-run] [--json] [--template PATH]``.

Exit status: 0 when no row failed, 1 when some did, 2 when the file cannot be read at
all. ``--json`` prints exactly one JSON object on stdout. On a terminal a progress bar is drawn
on stderr. The database is the configured one (``OCOP_DATABASE_URL``); run ``ocop migrate`` first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ocop.imports.images import ImageRef
from ocop.imports.readers import UnreadableFile
from ocop.imports.tables import ImportBatch
from ocop.imports.service import ImportResult, ImportSource, run_import
from ocop.settings import Settings

if TYPE_CHECKING:
    from ocop.imports.media_sink import MediaImageSink
    from ocop.jobs.queue import JobQueue


class DatabaseNotReady(Exception):
    """The configured database has no schema yet (exit status 2, like an unreadable file)."""

    message_vi = "Cơ sở dữ liệu chưa có bảng: chạy `ocop migrate` trước"
    message_en = "The database has no schema yet: run `ocop migrate` first"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", type=Path, help="catalogue: .xlsx, .xls, .ods, .csv or .txt")
    parser.add_argument("--images", type=Path, metavar="ZIP", help="ZIP holding the photos named in the Ảnh column")
    parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    parser.add_argument("--template", type=Path, metavar="PATH", help="write the XLSX import template to PATH and exit")
    parser.add_argument("--province", default="Gia Lai", help="province whose communes the template offers")
    parser.add_argument("--lang", choices=["vi", "en"], default="vi", help="language of the messages")
    parser.add_argument("--errors-file", type=Path, metavar="PATH",
                        help="also write the original file back as XLSX with an error column")


def run(args: argparse.Namespace) -> int:
    if args.template is not None:
        from ocop.imports.template import write_template

        write_template(args.template, province=args.province)
        print(f"Đã ghi mẫu / template written: {args.template}")
        return 0
    if args.file is None:
        print("Cần tên tệp / a FILE is required", file=sys.stderr)
        return 2
    try:
        source = ImportSource.from_paths(args.file, args.images)
        result = asyncio.run(_run(source, dry_run=args.dry_run, show_progress=not args.json and sys.stderr.isatty()))
    except (UnreadableFile, DatabaseNotReady) as exc:
        message = exc.message_vi if args.lang == "vi" else exc.message_en
        if args.json:
            print(json.dumps({"error": message}, ensure_ascii=False))
        else:
            print(message, file=sys.stderr)
        return 2
    if args.errors_file is not None and result.errors:
        from ocop.imports.report import write_error_file

        write_error_file(source.file_name, source.data, result.errors, args.errors_file, lang=args.lang)
    if args.json:
        print(json.dumps(result.to_json(args.lang), ensure_ascii=False))
    else:
        _print_report(result, args.lang)
    return result.exit_status


async def _run(source: ImportSource, *, dry_run: bool, show_progress: bool) -> ImportResult:
    from ocop import db, piccolo_app
    from ocop.settings import get_settings

    settings = get_settings()
    engine = piccolo_app.use_database(db.engine_from_url(settings.effective_database_url))
    await db.prepare(engine)
    sink = _CommandLineSink(settings)
    try:
        if not await ImportBatch.table_exists():
            raise DatabaseNotReady
        if not show_progress:
            return await run_import(source, actor_user_id=None, dry_run=dry_run, engine=engine, image_sink=sink)
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                      console=_stderr_console()) as bar:
            task = bar.add_task(source.file_name, total=None)
            update: Callable[[int, int], None] = lambda done, total: bar.update(task, completed=done, total=total)
            return await run_import(source, actor_user_id=None, dry_run=dry_run, engine=engine, progress=update,
                                    image_sink=sink)
    finally:
        await sink.aclose()
        await db.close(engine)


class _CommandLineSink:
    """Photos go to this deployment's media store through :class:`MediaImageSink`. With
    OCOP_REDIS_URL the normalization jobs are queued for the workers; without it (embedded mode: no
    worker is reachable from a command) each photo is normalized right here, by the same job body.

    Built on the first photo: the media pipeline's imports and the Redis connection cost a
    catalogue without photos nothing (``tests/bench/import_bench.py`` measures the whole process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sink: MediaImageSink | None = None
        self.queue: JobQueue | None = None
        self._lock = asyncio.Lock()

    async def submit(self, *, product_id: int, position: int, ref: ImageRef, data: bytes) -> None:
        async with self._lock:
            if self.sink is None:
                from ocop.storage import media_store
                from ocop.imports.media_sink import MediaImageSink
                from ocop.jobs.queue import open_queue

                self.queue = await open_queue(self.settings.redis_url) if self.settings.redis_url else None
                self.sink = MediaImageSink(media_store(self.settings), self.queue)
        await self.sink.submit(product_id=product_id, position=position, ref=ref, data=data)

    async def aclose(self) -> None:
        if self.queue is not None:
            await self.queue.close()


def _stderr_console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True)


def _print_report(result: ImportResult, lang: str) -> None:
    vi = lang == "vi"
    prefix = ("(chạy thử, không ghi) " if vi else "(dry run, nothing written) ") if result.dry_run else ""
    if vi:
        print(f"{prefix}{result.rows} dòng: {result.created} mới, {result.updated} cập nhật, "
              f"{result.unchanged} không đổi, {result.failed} lỗi")
    else:
        print(f"{prefix}{result.rows} rows: {result.created} created, {result.updated} updated, "
              f"{result.unchanged} unchanged, {result.failed} failed")
    if result.unknown_columns:
        label = "Cột không nhận ra (bỏ qua)" if vi else "Unknown columns (ignored)"
        print(f"{label}: {', '.join(result.unknown_columns)}")
    if result.encoding != "unicode":
        print(("Đã chuyển phông cũ sang Unicode: " if vi else "Converted legacy font to Unicode: ") + result.encoding.upper())
    for fault in result.errors:
        message = fault.message_vi if vi else fault.message_en
        print(f"  {'dòng' if vi else 'row'} {fault.row} · {fault.column} · {fault.value!r}: {message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ocop import")
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
