"""Import photos become product photos by the same path as an upload on the product page.

Each photo is checked with :func:`ocop.catalog.photos.check_photo` (type sniffed, size and bomb
limits), its original kept in the media store, an ``Image`` row written as ``pending`` and the
catalogue's ``normalize_image`` job queued under the same job id a page upload would use, so the
renditions come from one pipeline, whether a photo was uploaded on a page or came with a catalogue.

Without a queue (``ocop import`` on a machine with no Redis configured) the same job body,
:func:`ocop.catalog.jobs.normalize_image_row`, runs inline right after the row is written.

Re-import safety: a photo whose bytes the product already has (content-addressed key) is not added
again, so importing a changed row with the same photos never duplicates them. The import adds
photos and never deletes one; removing is done on the product page.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import PurePosixPath
from typing import Any, Protocol
from urllib.parse import urlsplit

from media.store import Store, key_of
from ocop.catalog.jobs import normalize_image_row
from ocop.catalog.photos import PhotoRefused, check_photo, normalize_job_id
from ocop.catalog.tables import Image
from ocop.imports.images import ImageRef, ImageRefused


class Enqueuer(Protocol):
    async def enqueue(self, name: str, *args: Any, job_id: str | None = None, **kwargs: Any) -> str | None: ...


def _original_name(ref: ImageRef) -> str:
    path = urlsplit(ref.value).path if ref.kind == "url" else ref.value
    return (PurePosixPath(path).name or ref.value)[:255]


class MediaImageSink:
    """An :class:`~ocop.imports.images.ImageSink` writing real product photos.

    One instance serves one import run: it remembers, per product, where the run's photos start
    (after the photos the product already has), so ``position`` — the photo's place in the
    ``Ảnh`` cell — keeps the spreadsheet's order even though photos arrive concurrently.
    """

    def __init__(self, store: Store, queue: Enqueuer | None) -> None:
        self.store = store
        self.queue = queue
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._base: dict[int, int] = {}
        self.added: list[int] = []

    async def submit(self, *, product_id: int, position: int, ref: ImageRef, data: bytes) -> None:
        try:
            await asyncio.to_thread(check_photo, data)
        except PhotoRefused as exc:
            raise ImageRefused(exc.code, exc.message_vi, exc.message_en) from exc
        key = key_of(data)
        async with self._locks[product_id]:
            if await Image.exists().where((Image.product == product_id) & (Image.original_key == key)):
                return
            if product_id not in self._base:
                last = (
                    await Image.select(Image.position)
                    .where(Image.product == product_id)
                    .order_by(Image.position, ascending=False)
                    .first()
                )
                self._base[product_id] = (last["position"] + 1) if last else 0
            stored_key = await self.store.put(data)
            row = Image(
                product=product_id,
                position=self._base[product_id] + position,
                original_key=stored_key,
                original_name=_original_name(ref),
                source_url=ref.value[:1000] if ref.kind == "url" else "",
                bytes=len(data),
                status="pending",
            )
            await row.save()
        image_id = int(row.id)
        self.added.append(image_id)
        if self.queue is not None:
            await self.queue.enqueue("normalize_image", image_id, job_id=normalize_job_id(image_id, stored_key))
        else:
            await normalize_image_row(self.store, image_id)
