"""The staff import pages through the real app, with a real arq worker (burst mode) on the session's
Redis: upload → job → live progress → result → error file → re-import; roles; bad files; photos."""

from __future__ import annotations

import asyncio
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from arq.worker import Worker
from litestar import Litestar
from PIL import Image as PILImage

import ocop.imports.jobs as import_jobs
import ocop.imports.pages as import_pages
from ocop.catalog.tables import Image, Product
from ocop.imports.columns import ALL_COLUMNS, COLUMNS
from ocop.imports.report import ERROR_HEADER
from ocop.imports.tables import ImportBatch
from ocop.assembly import WORKER
from ocop.jobs.worker import build_worker
from ocop.producers.tables import Producer
from tests.ocop.imports.conftest import csv_text, product_row, write_xlsx
from tests.ocop.web.support import GIA_LAI, HA_NOI, csrf_from, jpeg, login, make_producer, make_user
from tests.support.servers import own_redis_db

sqlite_only = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
HTML = {"accept": "text/html"}


@pytest.fixture
async def import_redis(redis_url: str) -> AsyncIterator[str]:
    async with own_redis_db(redis_url, 6) as url:
        yield url


async def run_jobs(app: Litestar, redis_url: str) -> Worker:
    """Run every queued job (the import, then the photo normalizations it queues) to completion."""
    worker = build_worker(app.state.settings, redis_url, plan=WORKER, burst=True, handle_signals=False,
                          ctx={"engine": app.state.engine, "queue": app.state.queue, "market": app.state.market})
    worker.poll_delay_s = 0.05
    try:
        await worker.main()
    finally:
        await worker.close()
    assert worker.jobs_failed == 0
    return worker


async def upload(client: httpx.AsyncClient, name: str, data: bytes, *, images: bytes | None = None,
                 dry_run: bool = False) -> httpx.Response:
    page = await client.get("/imports", headers=HTML)
    assert page.status_code == 200, page.text[:300]
    form = {"_csrf_token": csrf_from(page.text)}
    if dry_run:
        form["dry_run"] = "1"
    files: dict[str, Any] = {"file": (name, data, "application/octet-stream")}
    if images is not None:
        files["images"] = ("anh.zip", images, "application/zip")
    return await client.post("/imports", data=form, files=files, headers=HTML)


def token_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:500]
    match = re.fullmatch(r"/imports/runs/([\w-]+)", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


async def staff_client(client: httpx.AsyncClient, username: str = "canbo", province: int = GIA_LAI,
                       role: str = "staff") -> int:
    user_id = await make_user(username, role, province=province if role == "staff" else None)
    await login(client, username)
    return user_id


def catalogue(tmp_path: Path, rows: list[dict[str, Any]]) -> bytes:
    return write_xlsx(tmp_path / "danh-muc.xlsx", rows).read_bytes()


def counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', html)}


async def test_upload_progress_result_error_file_and_reimport(
    db: Any, app_client: Any, import_redis: str, tmp_path: Path, rows: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(import_jobs, "PROGRESS_EVERY_S", 0.01)
    many = rows + [product_row(sku=f"SP-{i:04d}", name=f"Sản phẩm {i}") for i in range(1500)]
    many.append(product_row(sku="X-7", stars="7"))  # spreadsheet row 1505: a fault
    data = catalogue(tmp_path, many)
    async with app_client(database_url=db.url, redis_url=import_redis) as (app, client):
        await staff_client(client)
        token = token_of(await upload(client, "danh-muc.xlsx", data))
        waiting = await client.get(f"/imports/runs/{token}", headers=HTML)
        assert waiting.status_code == 200 and 'data-status="queued"' in waiting.text
        assert f'hx-get="/imports/runs/{token}/progress"' in waiting.text

        seen: list[tuple[str, int]] = []
        worker = asyncio.create_task(run_jobs(app, import_redis))
        final: httpx.Response | None = None
        for _ in range(2000):  # bounded: at most ~100 s
            fragment = await client.get(f"/imports/runs/{token}/progress", headers={**HTML, "hx-request": "true"})
            status = re.search(r'data-status="(\w+)"', fragment.text)
            percent = re.search(r'<progress max="100" value="(\d+)"', fragment.text)
            assert status and percent, fragment.text
            seen.append((status.group(1), int(percent.group(1))))
            if "hx-redirect" in fragment.headers:
                final = fragment
                break
            await asyncio.sleep(0.02)
        await worker
        assert final is not None and final.headers["hx-redirect"] == f"/imports/runs/{token}"
        assert seen[-1] == ("done", 100)
        assert any(s == "running" and 0 < p < 100 for s, p in seen), seen  # live progress was visible
        assert [p for _, p in seen] == sorted(p for _, p in seen)  # never goes backwards

        done = await client.get(f"/imports/runs/{token}", headers=HTML)
        assert done.status_code == 303
        batch = await ImportBatch.objects().first()
        assert batch is not None and done.headers["location"] == f"/imports/{batch.id}"
        assert batch.source_key and (batch.rows, batch.created, batch.failed) == (1504, 1503, 1)
        result = await client.get(f"/imports/{batch.id}", headers=HTML)
        assert result.status_code == 200
        assert counts(result.text) == {"rows": 1504, "created": 1503, "updated": 0, "unchanged": 0, "failed": 1}
        assert "<td>1505</td><td>Số sao OCOP</td><td>7</td>" in result.text
        assert "Số sao OCOP phải là 3, 4 hoặc 5" in result.text
        assert await Product.count() == 1503

        # The fault message follows the user's language.
        english = await client.post("/lang", data={"lang": "en", "next": f"/imports/{batch.id}",
                                                   "_csrf_token": csrf_from(result.text)}, headers=HTML)
        assert english.status_code == 303
        result_en = await client.get(f"/imports/{batch.id}", headers=HTML)
        assert "Số sao OCOP phải là" not in result_en.text and "<td>1505</td>" in result_en.text
        english_message = re.search(r'<td>1505</td>.*?<td class="error">([^<]+)</td>', result_en.text, re.S)
        assert english_message and "3, 4" in english_message.group(1)

        download = await client.get(f"/imports/{batch.id}/errors.xlsx")
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert "attachment" in download.headers["content-disposition"]
        sheet = openpyxl.load_workbook(io.BytesIO(download.content), read_only=True).worksheets[0]
        table = list(sheet.iter_rows(values_only=True))
        assert table[0][: len(COLUMNS)] == tuple(c.header for c in COLUMNS) and table[0][-1] == ERROR_HEADER
        assert len(table) == 1505
        assert table[1504][-1] and "Số sao OCOP" in table[1504][-1] and "3, 4" in table[1504][-1]
        assert all(row[-1] is None for row in table[1:1504])

        # The same file again: every row unchanged, nothing duplicated.
        again = token_of(await upload(client, "danh-muc.xlsx", data))
        await run_jobs(app, import_redis)
        second = await client.get(f"/imports/runs/{again}", headers=HTML)
        assert second.status_code == 303
        page = await client.get(second.headers["location"], headers=HTML)
        assert counts(page.text) == {"rows": 1504, "created": 0, "updated": 0, "unchanged": 1503, "failed": 1}
        assert await Product.count() == 1503 and await Producer.count() == 2

        history = await client.get("/imports", headers=HTML)
        assert history.text.count("danh-muc.xlsx") == 2 and history.text.count("\"muted\">canbo · ") == 2


@sqlite_only
async def test_producers_are_refused(db: Any, app_client: Any, import_redis: str, tmp_path: Path,
                                     rows: list[dict[str, Any]]) -> None:
    async with app_client(database_url=db.url, redis_url=import_redis) as (_, client):
        pid = await make_producer("HTX Tam Quan", "4100259564")
        await make_user("nhasx", "producer", producer_id=pid)
        await login(client, "nhasx")
        for path in ("/imports", "/imports/template.xlsx", "/imports/1", "/imports/runs/abc/progress"):
            assert (await client.get(path, headers=HTML)).status_code == 403, path
        home = await client.get("/products", headers=HTML)
        posted = await client.post("/imports", data={"_csrf_token": csrf_from(home.text)},
                                   files={"file": ("a.xlsx", catalogue(tmp_path, rows), "application/octet-stream")},
                                   headers=HTML)
        assert posted.status_code == 403
        assert await ImportBatch.count() == 0


@sqlite_only
async def test_bad_files_get_a_clear_message(db: Any, app_client: Any, import_redis: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    async with app_client(database_url=db.url, redis_url=import_redis) as (app, client):
        await staff_client(client)
        with monkeypatch.context() as patched:
            patched.setattr(import_pages, "MAX_FILE_BYTES", 100)
            big = await upload(client, "lon.csv", csv_text([product_row()] * 3).encode())
        assert big.status_code == 400 and "Tệp lớn hơn 50 MB" in big.text
        garbage = await upload(client, "danh-muc.xlsx", b"this is not a spreadsheet at all")
        assert garbage.status_code == 400 and 'id="upload-error"' in garbage.text
        assert re.search(r'id="upload-error">[^<]*\w', garbage.text)
        pdf = await upload(client, "danh-muc.pdf", b"%PDF-1.7 ...")
        assert pdf.status_code == 400 and "Chỉ nhận tệp Excel" in pdf.text
        empty = await upload(client, "trong.csv", b"")
        assert empty.status_code == 400 and "Tệp rỗng" in empty.text
        bad_zip = await upload(client, "a.csv", csv_text([product_row()]).encode(), images=b"not a zip")
        assert bad_zip.status_code == 400 and "ZIP" in bad_zip.text

        # Readable, but not a catalogue: the job explains which columns are missing.
        token = token_of(await upload(client, "ghi-chu.csv", "Ghi chú\nx\n".encode()))
        await run_jobs(app, import_redis)
        failed = await client.get(f"/imports/runs/{token}", headers=HTML)
        assert failed.status_code == 200 and 'id="run-error"' in failed.text
        assert "Thiếu cột bắt buộc" in failed.text
        fragment = await client.get(f"/imports/runs/{token}/progress", headers=HTML)
        assert fragment.headers["hx-redirect"] == f"/imports/runs/{token}"
        assert (await client.get(f"/imports/runs/{token}/errors.xlsx")).status_code == 404

        # A cell beyond the csv module's field limit: the row is named, nothing is written.
        huge = csv_text([product_row(), product_row(sku="DAI", description="x" * 200_000)]).encode("utf-8")
        token = token_of(await upload(client, "dai.csv", huge))
        await run_jobs(app, import_redis)
        failed = await client.get(f"/imports/runs/{token}", headers=HTML)
        assert failed.status_code == 200 and "Tệp CSV hỏng ở dòng 3" in failed.text
        assert await ImportBatch.count() == 0 and await Product.count() == 0


def photo_zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("db", ["sqlite", "postgres"], indirect=True)
async def test_photo_zip_becomes_normalized_product_photos(
    db: Any, app_client: Any, import_redis: str, tmp_path: Path
) -> None:
    rows = [
        product_row(images="anh/mat-truoc.jpg; mat-sau.JPG"),
        product_row(sku="RUOU-01", name="Rượu Bàu Đá", images="ghi-chu.jpg"),  # not a photo
    ]
    front, back = jpeg(900, 900, (200, 30, 30)), jpeg(800, 600, (30, 30, 200))
    archive = photo_zip({"anh/mat-truoc.jpg": front, "mat-sau.jpg": back, "ghi-chu.jpg": b"just some text"})
    data = csv_text(rows).encode("utf-8")
    async with app_client(database_url=db.url, redis_url=import_redis) as (app, client):
        await staff_client(client)
        token = token_of(await upload(client, "anh.csv", data, images=archive))
        await run_jobs(app, import_redis)
        # The import and one normalization per accepted photo (a cron job that fell due is not counted).
        ran = Counter(r.function for r in await app.state.queue.redis.all_job_results())
        assert (ran["import_catalogue"], ran["normalize_image"]) == (1, 2), ran
        product = await Product.objects().get(Product.sku == "BT-001")
        images = await Image.select().where(Image.product == product.id).order_by(Image.position)
        assert [(i["position"], i["original_name"], i["status"]) for i in images] == [
            (0, "mat-truoc.jpg", "ready"), (1, "mat-sau.jpg", "ready")]
        store = app.state.media
        assert await store.get(images[0]["original_key"]) == front
        renditions = images[0]["renditions"]
        renditions = renditions if isinstance(renditions, dict) else json.loads(renditions)
        assert "web_thumb" in renditions and images[0]["width"] == 900
        for rendition in renditions.values():
            assert await store.exists(rendition["key"])
        rendered = await client.get(f"/images/{images[0]['id']}/web_thumb")
        assert rendered.status_code == 200
        with PILImage.open(io.BytesIO(rendered.content)) as thumb:
            assert thumb.size == (renditions["web_thumb"]["width"], renditions["web_thumb"]["height"])

        ruou = await Product.objects().get(Product.sku == "RUOU-01")
        assert await Image.count().where(Image.product == ruou.id) == 0  # the row itself is kept
        result = await client.get(await _result_location(client, token), headers=HTML)
        assert "ghi-chu.jpg" in result.text and counts(result.text)["created"] == 2

        # Importing the same file and photos again adds nothing.
        token_of(await upload(client, "anh.csv", data, images=archive))
        await run_jobs(app, import_redis)
        assert await Image.count() == 2


async def _result_location(client: httpx.AsyncClient, token: str) -> str:
    done = await client.get(f"/imports/runs/{token}", headers=HTML)
    assert done.status_code == 303
    return str(done.headers["location"])


@sqlite_only
async def test_dry_run_writes_nothing_and_still_reports(
    db: Any, app_client: Any, import_redis: str, tmp_path: Path, rows: list[dict[str, Any]]
) -> None:
    data = csv_text(rows + [product_row(sku="X", price="abc")]).encode("utf-8")
    async with app_client(database_url=db.url, redis_url=import_redis) as (app, client):
        await staff_client(client)
        token = token_of(await upload(client, "thu.csv", data, dry_run=True))
        await run_jobs(app, import_redis)
        page = await client.get(f"/imports/runs/{token}", headers=HTML)
        assert page.status_code == 200
        assert counts(page.text) == {"rows": 4, "created": 3, "updated": 0, "unchanged": 0, "failed": 1}
        assert "<td>5</td>" in page.text
        assert await Product.count() == 0 and await ImportBatch.count() == 0
        download = await client.get(f"/imports/runs/{token}/errors.xlsx")
        table = list(openpyxl.load_workbook(io.BytesIO(download.content)).worksheets[0].iter_rows(values_only=True))
        assert table[4][-1] and table[4][-1].startswith("Giá bán")


@sqlite_only
async def test_a_run_whose_job_was_never_queued_is_queued_when_looked_at(
    db: Any, app_client: Any, import_redis: str, rows: list[dict[str, Any]]
) -> None:
    """The server died between saving the run and queueing its job: the run's page queues it (once)."""
    from ocop.imports import runs

    async with app_client(database_url=db.url, redis_url=import_redis) as (app, client):
        user_id = await staff_client(client)
        token = runs.new_token()
        await runs.save(app.state.queue.redis, runs.RunState(
            token=token, user_id=user_id, file_name="mat-dien.csv",
            source_key=await app.state.media.put(csv_text(rows).encode()),
        ))
        assert await app.state.queue.depth() == 0
        for _ in range(2):
            assert (await client.get(f"/imports/runs/{token}/progress", headers=HTML)).status_code == 200
        assert await app.state.queue.depth() == 1
        await run_jobs(app, import_redis)
        assert "/imports/" in await _result_location(client, token)
        assert await Product.count() == len(rows)


@sqlite_only
async def test_batches_are_seen_by_their_area_and_admins(
    db: Any, app_client: Any, import_redis: str, rows: list[dict[str, Any]]
) -> None:
    data = csv_text(rows).encode("utf-8")
    async with app_client(database_url=db.url, redis_url=import_redis) as (app, client):
        await staff_client(client, "canbo-gialai")
        token = token_of(await upload(client, "gia-lai.csv", data))
        await run_jobs(app, import_redis)
        location = await _result_location(client, token)
        await make_user("canbo-gialai-2", "staff", province=GIA_LAI)
        await make_user("canbo-hanoi", "staff", province=HA_NOI)
        await make_user("quantri", "admin")
        for username, visible in (("canbo-gialai-2", True), ("canbo-hanoi", False), ("quantri", True)):
            client.cookies.clear()
            await login(client, username)
            assert (await client.get(location, headers=HTML)).status_code == (200 if visible else 404), username
            assert ("gia-lai.csv" in (await client.get("/imports", headers=HTML)).text) is visible
            # The run itself belongs to the person who uploaded (admins may look).
            run = await client.get(f"/imports/runs/{token}", headers=HTML)
            assert run.status_code == (303 if username == "quantri" else 404), username


@sqlite_only
async def test_template_download(db: Any, app_client: Any, import_redis: str) -> None:
    async with app_client(database_url=db.url, redis_url=import_redis) as (_, client):
        await staff_client(client)
        page = await client.get("/imports", headers=HTML)
        assert 'href="/imports/template.xlsx"' in page.text
        download = await client.get("/imports/template.xlsx")
        assert download.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(download.content))
        # the province's 23 columns, then the variant columns
        assert [c.value for c in book.worksheets[0][1]] == [c.header for c in ALL_COLUMNS]
        lists = list(book["Danh mục"].iter_cols(values_only=True))
        communes = next(col for col in lists if col[0] == "Xã/Phường")
        assert "Phường Quy Nhơn" in communes  # the communes of the staff member's province (Gia Lai)


@sqlite_only
async def test_staff_import_only_inside_their_area(
    db: Any, app_client: Any, import_redis: str, rows: list[dict[str, Any]]
) -> None:
    data = csv_text(rows).encode("utf-8")  # producers in Gia Lai
    async with app_client(database_url=db.url, redis_url=import_redis) as (app, client):
        await staff_client(client, "canbo-hanoi", province=HA_NOI)
        token = token_of(await upload(client, "gia-lai.csv", data))
        await run_jobs(app, import_redis)
        page = await client.get(await _result_location(client, token), headers=HTML)
        assert counts(page.text) == {"rows": 3, "created": 0, "updated": 0, "unchanged": 0, "failed": 3}
        assert page.text.count("Địa chỉ chủ thể nằm ngoài địa bàn bạn phụ trách") == 3
        assert await Product.count() == 0 and await Producer.count() == 0

        client.cookies.clear()
        await staff_client(client, "quantri", role="admin")
        token_of(await upload(client, "gia-lai.csv", data))
        await run_jobs(app, import_redis)
        assert await Product.count() == 3

        # Moving a Gia Lai producer to Hà Nội through an import is refused too.
        client.cookies.clear()
        await login(client, "canbo-hanoi")
        moved = csv_text([product_row(province="Hà Nội", commune="Phường Hoàn Kiếm")]).encode("utf-8")
        token = token_of(await upload(client, "chuyen.csv", moved))
        await run_jobs(app, import_redis)
        page = await client.get(await _result_location(client, token), headers=HTML)
        assert counts(page.text)["failed"] == 1 and "Chủ thể này thuộc địa bàn khác" in page.text
        assert await Producer.count().where(Producer.province_code == HA_NOI) == 0


@sqlite_only
async def test_uploads_beyond_the_app_wide_10_mb_limit_are_accepted(
    db: Any, app_client: Any, import_redis: str
) -> None:
    """The route's own body limit (50 MB catalogue + photo ZIP) applies, not the app's 10 MB."""
    rows = [product_row(sku=f"SP-{i:03d}", description="Bánh tráng nước dừa " * 1000) for i in range(550)]
    data = csv_text(rows).encode("utf-8")
    assert len(data) > 10 * 1024 * 1024
    async with app_client(database_url=db.url, redis_url=import_redis) as (app, client):
        await staff_client(client)
        token = token_of(await upload(client, "lon.csv", data))
        await run_jobs(app, import_redis)
        page = await client.get(await _result_location(client, token), headers=HTML)
        assert counts(page.text) == {"rows": 550, "created": 550, "updated": 0, "unchanged": 0, "failed": 0}
