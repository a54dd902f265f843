"""Import photos through the media pipeline: the sink on its own, and ``ocop import --images``."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ocop.storage import media_store
from ocop.catalog.photos import normalize_job_id
from ocop.catalog.tables import Image, Product
from ocop.imports.images import ImageRef, ImageRefused
from ocop.imports.media_sink import MediaImageSink
from ocop.jobs.queue import QUEUE_NAME, open_queue
from ocop.settings import Settings
from tests.ocop.imports.conftest import csv_text, product_row
from tests.ocop.web.support import jpeg, make_producer
from tests.support.servers import own_redis_db

REPO = Path(__file__).resolve().parents[3]


async def new_product(sku: str = "BT-001") -> int:
    pid = await make_producer("HTX Tam Quan", "4100259564")
    product = Product(producer=pid, sku=sku, name="Bánh tráng", name_folded="banh trang")
    await product.save()
    return int(product.id)


class SlowFirstStore:
    """A real local store whose first ``put`` is slow, so photo 0 finishes after photo 1."""

    def __init__(self, root: Path) -> None:
        self.inner = media_store(Settings(var_dir=root))
        self.calls = 0

    async def put(self, data: bytes, content_type: str | None = None) -> str:
        self.calls += 1
        if self.calls == 1:
            await asyncio.sleep(0.2)
        return await self.inner.put(data, content_type)

    async def get(self, key: str) -> bytes:
        return await self.inner.get(key)

    async def exists(self, key: str) -> bool:
        return await self.inner.exists(key)

    def url(self, key: str) -> str:
        return self.inner.url(key)


@pytest.mark.parametrize("db", ["sqlite", "postgres"], indirect=True)
async def test_inline_sink_orders_dedupes_and_normalizes(db: Any, tmp_path: Path) -> None:
    product_id = await new_product()
    existing = Image(product=product_id, position=0, original_key="0" * 64, status="ready")
    await existing.save()
    store = SlowFirstStore(tmp_path)
    sink = MediaImageSink(store, None)
    first, second = jpeg(700, 700, (10, 100, 10)), jpeg(640, 480, (100, 10, 10))
    await asyncio.gather(
        sink.submit(product_id=product_id, position=0, ref=ImageRef("zip", "a/truoc.jpg"), data=first),
        sink.submit(product_id=product_id, position=1, ref=ImageRef("url", "https://example.vn/anh/sau.jpg?x=1"),
                    data=second),
    )
    rows = await Image.select().where(Image.product == product_id).order_by(Image.position)
    assert [(r["position"], r["original_name"], r["status"]) for r in rows] == [
        (0, "", "ready"), (1, "truoc.jpg", "ready"), (2, "sau.jpg", "ready")]
    assert rows[2]["source_url"] == "https://example.vn/anh/sau.jpg?x=1" and rows[1]["source_url"] == ""
    assert rows[1]["width"] == 700 and await store.get(rows[1]["original_key"]) == first
    renditions = rows[1]["renditions"] if isinstance(rows[1]["renditions"], dict) else json.loads(rows[1]["renditions"])
    assert renditions and all([await store.exists(r["key"]) for r in renditions.values()])

    # The same bytes again (a re-import of a changed row) add nothing.
    again = MediaImageSink(store, None)
    await again.submit(product_id=product_id, position=0, ref=ImageRef("zip", "khac.jpg"), data=first)
    assert await Image.count().where(Image.product == product_id) == 3 and again.added == []

    with pytest.raises(ImageRefused) as refused:
        await again.submit(product_id=product_id, position=1, ref=ImageRef("zip", "x.jpg"), data=b"<html>nope</html>")
    assert refused.value.code and refused.value.message_vi and refused.value.message_en
    assert await Image.count().where(Image.product == product_id) == 3


@pytest.fixture
async def sink_redis(redis_url: str) -> AsyncIterator[str]:
    async with own_redis_db(redis_url, 7) as url:
        yield url


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_queued_sink_leaves_the_photo_to_the_normalization_job(db: Any, tmp_path: Path, sink_redis: str) -> None:
    product_id = await new_product()
    queue = await open_queue(sink_redis)
    try:
        sink = MediaImageSink(media_store(Settings(var_dir=tmp_path)), queue)
        await sink.submit(product_id=product_id, position=0, ref=ImageRef("zip", "a.jpg"), data=jpeg())
        row = await Image.select().where(Image.product == product_id).first()
        assert row["status"] == "pending"
        queued = [m.decode() for m in await queue.redis.zrange(QUEUE_NAME, 0, -1)]
        assert queued == [normalize_job_id(row["id"], row["original_key"])]
    finally:
        await queue.close()


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_cli_images_become_normalized_product_photos(db: Any, tmp_path: Path) -> None:
    catalogue = tmp_path / "danh-muc.csv"
    catalogue.write_text(csv_text([product_row(images="mat-truoc.jpg"), product_row(sku="SP-2", images="hong.jpg")]),
                         encoding="utf-8")
    photos = tmp_path / "anh.zip"
    photo = jpeg(900, 700)
    photos.write_bytes(zip_of({"mat-truoc.jpg": photo, "hong.jpg": b"not a photo"}))
    var_dir = Path(db.url.removeprefix("sqlite:///")).parent
    env = {k: v for k, v in os.environ.items() if k != "OCOP_REDIS_URL"}
    env.update(OCOP_DATABASE_URL=db.url, OCOP_VAR_DIR=str(var_dir))
    done = subprocess.run([sys.executable, "-m", "ocop.cli.main", "import", str(catalogue), "--images", str(photos),
                           "--json"], env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr  # the refused photo is reported
    payload = json.loads(done.stdout)
    assert (payload["created"], payload["failed"]) == (2, 0)
    assert [(e["row"], e["value"]) for e in payload["errors"]] == [(3, "hong.jpg")]
    product = await Product.objects().get(Product.sku == "BT-001")
    image = await Image.select().where(Image.product == product.id).first()
    assert image["status"] == "ready" and image["width"] == 900 and image["original_name"] == "mat-truoc.jpg"
    store = media_store(Settings(var_dir=var_dir))
    assert await store.get(image["original_key"]) == photo
    renditions = image["renditions"] if isinstance(image["renditions"], dict) else json.loads(image["renditions"])
    assert "web_thumb" in renditions
    for rendition in renditions.values():
        assert await store.exists(rendition["key"])
