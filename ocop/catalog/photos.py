"""Product photos: accept an upload, keep the original in the media store, let the normalization
job make the renditions; reorder, delete, set cover.

Accepted: JPEG, PNG, WebP and HEIC (what phone cameras produce), at most 20 MB each.
The header is checked on upload (``media.inspect``: real type sniffed, bombs refused before any
decoding) so a refused photo is explained at once; the pixels are decoded only by the job.
"""

from __future__ import annotations

import asyncio
from typing import Any

from media.errors import MediaRejected
from media.pipeline import inspect
from media.store import Store
from ocop.catalog.tables import Image
from ocop.domain.errors import Explained

MAX_PHOTO_BYTES = 20 * 1024 * 1024
MAX_PHOTOS_PER_REQUEST = 10
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
UPLOAD_BODY_LIMIT = MAX_PHOTO_BYTES * MAX_PHOTOS_PER_REQUEST + 1024 * 1024
"""Per-route ``request_max_body_size`` of the upload handlers (the app-wide default stays 10 MB)."""


class PhotoRefused(Explained):
    """Why an upload is not an acceptable photo (shown with the form and on import rows)."""


def check_photo(data: bytes) -> None:
    """Raise PhotoRefused with the reason when an upload is not an acceptable photo."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRefused(
            "too_many_bytes", "Ảnh quá lớn (tối đa 20 MB mỗi ảnh).", "The photo is too large (20 MB at most)."
        )
    try:
        info = inspect(data)
    except MediaRejected as exc:
        raise PhotoRefused(exc.code, exc.message_vi, exc.message_en) from exc
    if info.format not in ACCEPTED_FORMATS:
        raise PhotoRefused(
            "unsupported_format",
            "Chỉ nhận ảnh JPEG, PNG, WebP hoặc HEIC.",
            "Only JPEG, PNG, WebP or HEIC photos are accepted.",
        )


def normalize_job_id(image_id: int, original_key: str) -> str:
    return f"normalize:{image_id}:{original_key[:16]}"


async def add_photo(store: Store, queue: Any, product_id: int, data: bytes, filename: str) -> dict[str, Any]:
    """Store the original and queue its normalization; returns the new Image row."""
    await asyncio.to_thread(check_photo, data)
    key = await store.put(data)
    last = (
        await Image.select(Image.position)
        .where(Image.product == product_id)
        .order_by(Image.position, ascending=False)
        .first()
    )
    row = Image(
        product=product_id,
        position=(last["position"] + 1) if last else 0,
        original_key=key,
        original_name=filename[:255],
        bytes=len(data),
        status="pending",
    )
    await row.save()
    await queue.enqueue("normalize_image", int(row.id), job_id=normalize_job_id(int(row.id), key))
    return row.to_dict()


async def _ordered_ids(product_id: int) -> list[int]:
    rows = (
        await Image.select(Image.id)
        .where(Image.product == product_id)
        .order_by(Image.position)
        .order_by(Image.id)
    )
    return [r["id"] for r in rows]


async def _write_order(ids: list[int]) -> None:
    async with Image._meta.db.transaction():
        for position, image_id in enumerate(ids):
            await Image.update({Image.position: position}).where(Image.id == image_id)


async def move_photo(product_id: int, image_id: int, offset: int) -> None:
    """Move one place earlier (-1) or later (+1)."""
    ids = await _ordered_ids(product_id)
    i = ids.index(image_id)
    j = max(0, min(len(ids) - 1, i + offset))
    ids[i], ids[j] = ids[j], ids[i]
    await _write_order(ids)
    await photos_changed(product_id)


async def set_cover(product_id: int, image_id: int) -> None:
    """The cover is the first photo."""
    ids = await _ordered_ids(product_id)
    ids.remove(image_id)
    await _write_order([image_id, *ids])
    await photos_changed(product_id)


async def delete_photo(product_id: int, image_id: int) -> None:
    """Removes the row; the blobs stay in the content-addressed store (other rows may share them)."""
    await Image.delete().where((Image.id == image_id) & (Image.product == product_id))
    await _write_order(await _ordered_ids(product_id))
    await photos_changed(product_id)


async def photos_changed(product_id: int) -> None:
    """Photos are content: listings whose payload changed are re-pushed (and reviewed again by the
    marketplace); a no-op where nothing the marketplace gets changed."""
    from ocop.marketplace.publishing import product_changed

    await product_changed(product_id, cause="photos")
