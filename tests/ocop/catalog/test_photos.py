"""Which uploads are accepted, and a phone's HEIC going through the normalization job."""

from __future__ import annotations

import io

import pillow_heif
import pytest
from arq.jobs import JobStatus
from PIL import Image as PILImage

from ocop.catalog.jobs import normalize_image_row
from ocop.storage import media_store
from ocop.catalog.photos import MAX_PHOTO_BYTES, PhotoRefused, add_photo, check_photo
from ocop.catalog.tables import Image, Product
from ocop.jobs.queue import QUEUE_NAME, open_queue
from ocop.settings import Settings
from tests.ocop.web.support import make_producer

pillow_heif.register_heif_opener()


def encoded(fmt: str, size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, (30, 160, 60)).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_phone_formats_are_accepted(fmt: str) -> None:
    check_photo(encoded(fmt))


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"just text", "not_an_image"),
        (b"GIF89a" + b"\x00" * 20, None),
        (b"\xff\xd8\xff" + b"0" * MAX_PHOTO_BYTES, "too_many_bytes"),
    ],
)
def test_refusals_carry_a_reason(data: bytes, code: str | None) -> None:
    with pytest.raises(PhotoRefused) as refused:
        check_photo(data)
    assert refused.value.message_vi and refused.value.message_en
    if code:
        assert refused.value.code == code


def test_gif_is_refused_even_when_valid() -> None:
    with pytest.raises(PhotoRefused) as refused:
        check_photo(encoded("GIF"))
    assert refused.value.code == "unsupported_format"


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_heic_from_a_phone_becomes_renditions(db, tmp_path, redis_url) -> None:
    store = media_store(Settings(var_dir=tmp_path))
    pid = await make_producer("HTX A", "4100259564")
    product = Product(producer=pid, sku="A", name="A", name_folded="a")
    await product.save()
    queue = await open_queue(redis_url)
    try:
        row = await add_photo(store, queue, int(product.id), encoded("HEIF", (1200, 900)), "IMG_0001.HEIC")
        job_id = f"normalize:{row['id']}:{row['original_key'][:16]}"
        assert await queue.status(job_id) == JobStatus.queued  # no worker runs here; the job is run below
        assert await queue.enqueue("normalize_image", row["id"], job_id=job_id) is None  # duplicates collapse
        await queue.redis.delete(f"arq:job:{job_id}")
        await queue.redis.zrem(QUEUE_NAME, job_id)  # the session Redis is shared: leave no job behind
    finally:
        await queue.close()
    assert await normalize_image_row(store, row["id"]) == "ready"
    image = await Image.select().where(Image.id == row["id"]).first()
    assert image["width"] == 1200 and image["status"] == "ready"
    assert image["position"] == 0
    assert await normalize_image_row(store, 999_999) == "gone"


def _picture(quality: int, stripes: int = 8) -> bytes:
    """A striped 800×800 photo; the same picture saved at another quality has other bytes but the
    same look (perceptual hash)."""
    im = PILImage.new("RGB", (800, 800), (240, 230, 200))
    for i in range(0, 800, 800 // stripes):
        im.paste((120, 60, 20), (i, 0, i + 800 // (2 * stripes), 800))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    return out.getvalue()


async def test_a_photo_that_looks_like_another_of_the_product_is_refused_with_its_twin(db, tmp_path) -> None:
    store = media_store(Settings(var_dir=tmp_path))
    pid = await make_producer("HTX A", "4100259564")
    product = Product(producer=pid, sku="A", name="A", name_folded="a")
    await product.save()
    first, again, other = _picture(95), _picture(70), _picture(90, stripes=3)
    assert first != again
    ids = []
    for data in (first, again, other):
        image = Image(product=product.id, original_key=await store.put(data), position=len(ids))
        await image.save()
        ids.append(int(image.id))
    assert [await normalize_image_row(store, i) for i in ids] == ["ready", "rejected", "ready"]
    twin = await Image.select().where(Image.id == ids[1]).first()
    assert twin["error_code"] == "duplicate" and "ảnh số 1" in twin["error_message"]
    assert twin["renditions"] in ({}, "{}")  # never offered to a marketplace
    assert await normalize_image_row(store, ids[0]) == "ready"  # running a job again changes nothing
