"""The import service end to end on SQLite and PostgreSQL (the lead's ``db`` fixture)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from ocop.catalog.tables import Certificate, Product
from ocop.imports.images import ImageRef
from ocop.imports.service import ImportSource, run_import
from ocop.imports.tables import ImportBatch
from ocop.producers.tables import Producer
from tests.ocop.imports.conftest import TAX_A, TAX_B, csv_text, product_row


def source(rows: list[dict[str, Any]], images_zip: bytes | None = None) -> ImportSource:
    return ImportSource("catalogue.csv", csv_text(rows).encode("utf-8"), images_zip)


async def counts() -> tuple[int, int, int, int]:
    return (await Producer.count(), await Product.count(), await Certificate.count(), await ImportBatch.count())


async def test_first_import_creates_everything(db: Any, rows: list[dict[str, Any]]) -> None:
    result = await run_import(source(rows), actor_user_id=None, dry_run=False)
    assert (result.rows, result.created, result.updated, result.unchanged, result.failed) == (3, 3, 0, 0, 0)
    assert await counts() == (2, 3, 3, 1)
    producer = await Producer.objects().get(Producer.tax_code == TAX_A)
    assert producer.kind == "htx" and producer.phone == "+84905123456" and producer.province_code == 52
    assert producer.name_folded == "htx nong nghiep tam quan"
    product = await Product.objects().get(Product.sku == "RUOU-01")
    assert (product.name, product.price_vnd, product.unit, product.producer) == ("Rượu Bàu Đá", 150_000, "chai", producer.id)
    assert product.name_folded == "ruou bau da"
    certificate = await Certificate.objects().get(Certificate.product == product.id)
    assert certificate.stars == 3 and certificate.decision_number == "1234/QĐ-UBND"
    batch = await ImportBatch.objects().first()
    assert batch is not None and batch.id == result.batch_id
    assert (batch.rows, batch.created, batch.updated, batch.unchanged, batch.failed, batch.status) == (3, 3, 0, 0, 0, "done")


async def test_reimport_of_the_same_file_changes_nothing(db: Any, rows: list[dict[str, Any]]) -> None:
    await run_import(source(rows), actor_user_id=None, dry_run=False)
    before = await Product.select(Product.id, Product.updated_at, Product.content_hash).order_by(Product.id)
    result = await run_import(source(rows), actor_user_id=None, dry_run=False)
    assert (result.created, result.updated, result.unchanged, result.failed) == (0, 0, 3, 0)
    assert await counts() == (2, 3, 3, 2)
    assert await Product.select(Product.id, Product.updated_at, Product.content_hash).order_by(Product.id) == before


async def test_changed_row_updates_only_what_changed(db: Any, rows: list[dict[str, Any]]) -> None:
    await run_import(source(rows), actor_user_id=None, dry_run=False)
    untouched = await Product.objects().get(Product.sku == "BT-001")
    rows[1] = dict(rows[1], price="175.000", stars=4)
    result = await run_import(source(rows), actor_user_id=None, dry_run=False)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    changed = await Product.objects().get(Product.sku == "RUOU-01")
    assert changed.price_vnd == 175_000 and changed.name == "Rượu Bàu Đá"
    certificates = await Certificate.select().where(Certificate.product == changed.id)
    assert [c["stars"] for c in certificates] == [4]  # same decision: corrected in place
    again = await Product.objects().get(Product.sku == "BT-001")
    assert again.updated_at == untouched.updated_at
    # A new decision number is a re-certification: a second certificate, nothing duplicated.
    rows[1] = dict(rows[1], decision_number="99/QĐ-UBND", stars=5)
    await run_import(source(rows), actor_user_id=None, dry_run=False)
    stars = sorted(c["stars"] for c in await Certificate.select().where(Certificate.product == changed.id))
    assert stars == [4, 5]
    assert await Product.count() == 3


async def test_producer_details_update(db: Any, rows: list[dict[str, Any]]) -> None:
    await run_import(source(rows), actor_user_id=None, dry_run=False)
    rows = [dict(r, phone="0935 000 111") if r.get("tax_code", TAX_A) == TAX_B else r for r in rows]
    result = await run_import(source(rows), actor_user_id=None, dry_run=False)
    assert (result.updated, result.unchanged) == (1, 2)
    producer = await Producer.objects().get(Producer.tax_code == TAX_B)
    assert producer.phone == "+84935000111"
    # An empty phone cell does not erase the stored one.
    rows = [dict(r, phone="") for r in rows]
    await run_import(source(rows), actor_user_id=None, dry_run=False)
    assert (await Producer.objects().get(Producer.tax_code == TAX_B)).phone == "+84935000111"


async def test_faulty_rows_reported_and_others_imported(db: Any, rows: list[dict[str, Any]]) -> None:
    rows.append(product_row(sku="BAD", price="abc"))
    rows.append(product_row())  # duplicate of the first row
    result = await run_import(source(rows), actor_user_id=None, dry_run=False)
    assert (result.rows, result.created, result.failed) == (5, 3, 2)
    assert [(e.row, e.column) for e in result.errors] == [(5, "Giá bán (VNĐ)"), (6, "Mã sản phẩm")]
    assert await Product.count() == 3
    batch = await ImportBatch.objects().first()
    assert batch is not None
    report = batch.report if isinstance(batch.report, list) else __import__("json").loads(batch.report)
    assert [(r["row"], r["code"]) for r in report] == [(5, "invalid_money"), (6, "duplicate_key")]
    assert result.to_json()["errors"][0] == {"row": 5, "column": "Giá bán (VNĐ)", "value": "abc",
                                             "message": result.errors[0].message_vi}


async def test_dry_run_writes_nothing_but_counts_exactly(db: Any, rows: list[dict[str, Any]]) -> None:
    result = await run_import(source(rows), actor_user_id=None, dry_run=True)
    assert (result.created, result.dry_run, result.batch_id) == (3, True, None)
    assert await counts() == (0, 0, 0, 0)
    await run_import(source(rows[:1]), actor_user_id=None, dry_run=False)
    result = await run_import(source(rows), actor_user_id=None, dry_run=True)
    assert (result.created, result.unchanged) == (2, 1)
    assert await counts() == (1, 1, 1, 1)


@dataclass
class RecordingSink:
    received: list[tuple[int, int, ImageRef, bytes]] = field(default_factory=list)

    async def submit(self, *, product_id: int, position: int, ref: ImageRef, data: bytes) -> None:
        self.received.append((product_id, position, ref, data))


async def test_zip_images_go_to_the_sink_once(db: Any) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("anh/banh-trang-1.jpg", b"jpeg-1")
        zf.writestr("banh-trang-2.jpg", b"jpeg-2")
    rows = [product_row(images="banh-trang-1.jpg; banh-trang-2.jpg")]
    sink = RecordingSink()
    result = await run_import(source(rows, archive.getvalue()), actor_user_id=None, dry_run=False, image_sink=sink)
    assert result.errors == []
    product = await Product.objects().first()
    assert product is not None
    assert [(pid, pos, ref.value, data) for pid, pos, ref, data in sink.received] == [
        (product.id, 0, "anh/banh-trang-1.jpg", b"jpeg-1"), (product.id, 1, "banh-trang-2.jpg", b"jpeg-2")]
    await run_import(source(rows, archive.getvalue()), actor_user_id=None, dry_run=False, image_sink=sink)
    assert len(sink.received) == 2  # unchanged row: photos not sent again


async def test_refused_image_url_is_reported_on_its_row(db: Any) -> None:
    rows = [product_row(images="http://127.0.0.1:9/a.jpg")]
    result = await run_import(source(rows), actor_user_id=None, dry_run=False, image_sink=RecordingSink())
    assert result.created == 1
    assert [(e.row, e.column, e.code) for e in result.errors] == [(2, "Ảnh", "address_refused")]
    assert result.exit_status == 1
    batch = await ImportBatch.objects().get(ImportBatch.id == result.batch_id)
    report = batch.report if isinstance(batch.report, list) else __import__("json").loads(batch.report)
    assert [(r["row"], r["code"]) for r in report] == [(2, "address_refused")]


def _legacy(rows: list[dict[str, Any]], table: dict[str, str]) -> list[dict[str, Any]]:
    from ocop.imports.validate import TEXT_COLUMNS

    reverse = {unicode: legacy for legacy, unicode in table.items()}
    return [{k: "".join(reverse.get(ch, ch) for ch in v) if k in TEXT_COLUMNS and isinstance(v, str) else v
             for k, v in row.items()} for row in rows]


async def test_same_catalogue_in_every_format_and_font_is_unchanged(db: Any, tmp_path: Any, rows: list[dict[str, Any]]) -> None:
    """Import the XLSX, then the same catalogue in every other encoding and legacy font: all unchanged."""
    import codecs

    from ocop.domain.legacy_fonts import TCVN3_TO_UNICODE
    from tests.ocop.imports.conftest import encode_cp1258, write_xlsx

    first = await run_import(ImportSource("c.xlsx", write_xlsx(tmp_path / "c.xlsx", rows).read_bytes()),
                             actor_user_id=None, dry_run=False)
    assert first.created == 3
    vni_pairs = {"Baùnh": "Bánh", "traùng": "tráng", "nöôùc": "nước", "döøa": "dừa", "Noâng": "Nông", "nghieäp": "nghiệp",
                 "Hôïp": "Hợp", "taùc": "tác", "xaõ": "xã", "Phöôøng": "Phường", "Thöïc": "Thực", "phaåm": "phẩm",
                 "goùi": "gói", "Röôïu": "Rượu", "Baøu": "Bàu", "Ñaù": "Đá", "Ñoà": "Đồ", "uoáng": "uống",
                 "Coâng": "Công", "Goø": "Gò", "Boài": "Bồi", "Doanh": "Doanh", "nghieäp,": "nghiệp,", "Xaõ": "Xã",
                 "Phöôùc": "Phước", "Nöôùc": "Nước", "maém": "mắm", "QÑ-UBND": "QĐ-UBND", "1234/QÑ-UBND": "1234/QĐ-UBND",
                 "nöôùng": "nướng", "gioøn,": "giòn,", "vò": "vị", "döøa.": "dừa."}
    unicode_to_vni = {u: v for v, u in vni_pairs.items()}
    vni_rows = [{k: " ".join(unicode_to_vni.get(w, w) for w in v.split(" ")) if isinstance(v, str) else v
                 for k, v in row.items()} for row in rows]
    variants = {
        "utf-8.csv": csv_text(rows).encode("utf-8"),
        "bom.csv": codecs.BOM_UTF8 + csv_text(rows).encode("utf-8"),
        "unicode-text.txt": csv_text(rows, delimiter="\t").encode("utf-16"),
        "cp1258.csv": encode_cp1258(csv_text(rows)),
        "tcvn3.csv": csv_text(_legacy(rows, TCVN3_TO_UNICODE)).encode("utf-8"),
        "vni.csv": csv_text(vni_rows).encode("utf-8"),
    }
    for name, data in variants.items():
        result = await run_import(ImportSource(name, data), actor_user_id=None, dry_run=False)
        assert (name, result.unchanged, result.failed, result.errors) == (name, 3, 0, []), result.errors
        expected_font = {"tcvn3.csv": "tcvn3", "vni.csv": "vni"}.get(name, "unicode")
        assert result.encoding == expected_font, name
    assert variants["tcvn3.csv"] != variants["utf-8.csv"] and b"\xc2\xb8" in variants["tcvn3.csv"]  # "¸" = á
    assert "Baùnh".encode() in variants["vni.csv"]
    assert await Product.count() == 3


async def test_batch_records_who_ran_it(db: Any, rows: list[dict[str, Any]]) -> None:
    from ocop.accounts.tables import User

    staff = (await User.insert(User(username="canbo", password_hash="x", role="staff")).returning(User.id))[0]["id"]
    result = await run_import(source(rows), actor_user_id=staff, dry_run=False)
    batch = await ImportBatch.objects().get(ImportBatch.id == result.batch_id)
    assert batch.created_by == staff and batch.file_name == "catalogue.csv" and len(batch.file_sha256) == 64
    assert batch.started_at <= batch.finished_at


async def test_concurrent_imports_of_one_file_do_not_duplicate(db: Any, rows: list[dict[str, Any]]) -> None:
    import asyncio

    results = await asyncio.gather(*(run_import(source(rows), actor_user_id=None, dry_run=False) for _ in range(2)))
    assert sorted((r.created, r.unchanged) for r in results) == [(0, 3), (3, 0)]
    assert await counts() == (2, 3, 3, 2)


async def test_old_commune_name_keeps_the_old_district(db: Any) -> None:
    await run_import(source([product_row(province="Bình Định", commune="Thị trấn Tuy Phước")]), actor_user_id=None, dry_run=False)
    producer = await Producer.objects().first()
    assert producer is not None
    assert (producer.province_code, producer.legacy_district) == (52, "Huyện Tuy Phước")
    # The same producer later typed with the 2025 name: the old district is not erased.
    result = await run_import(source([product_row(commune="Xã Tuy Phước")]), actor_user_id=None, dry_run=False)
    assert result.unchanged == 1
    assert (await Producer.objects().first()).legacy_district == "Huyện Tuy Phước"  # type: ignore[union-attr]
