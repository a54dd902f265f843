"""The normalization job: original photo → one rendition per marketplace and web profile.

Idempotent (arq delivers at least once): renditions are content-addressed, and the row is simply
overwritten with the same result. A refused source is recorded on the row with its reason; the
job itself succeeds, since retrying a bad picture cannot help. So is a photo that looks the same as
another ready photo of the product (perceptual hash within ``media.phash.DUPLICATE_DISTANCE``):
marketplaces treat repeated pictures as low-quality listings, and a phone easily sends one twice.
"""

from __future__ import annotations

from typing import Any

from media.errors import MediaRejected
from media.phash import is_duplicate
from media.profiles import PROFILES
from media.service import rederive
from media.store import Store
from ocop.catalog.tables import Image
from ocop.jobs.registry import job
from ocop.storage import media_store


async def normalize_image_row(store: Store, image_id: int) -> str:
    """Render one Image row; returns its new status (ready | rejected), or "gone"."""
    row = await Image.select(Image.original_key, Image.product).where(Image.id == image_id).first()
    if row is None:
        return "gone"
    try:
        result = await rederive(store, row["original_key"], list(PROFILES.values()))
    except MediaRejected as exc:
        await Image.update(
            {
                Image.status: "rejected",
                Image.error_code: exc.code,
                Image.error_message: f"{exc.message_vi} / {exc.message_en}"[:500],
            }
        ).where(Image.id == image_id)
        return "rejected"
    renditions = {
        name: {"key": r.key, "width": r.width, "height": r.height, "bytes": r.bytes, "format": r.format}
        for name, r in result.renditions.items()
    }
    status = "ready" if "web_thumb" in renditions else "rejected"
    code = "too_small" if result.refused else ""
    message = "; ".join(f"{name}: {refusal.message_vi}" for name, refusal in result.refused.items())
    twin = await _ready_twin(row["product"], image_id, result.phash)
    if status == "ready" and twin is not None:
        status, code, renditions = "rejected", "duplicate", {}
        message = (f"Ảnh này giống ảnh số {twin + 1} của sản phẩm; hãy chụp góc khác / "
                   f"looks the same as photo {twin + 1} of this product: take another angle")
    await Image.update(
        {
            Image.status: status,
            Image.renditions: renditions,
            Image.width: result.source.width,
            Image.height: result.source.height,
            Image.phash: f"{result.phash:016x}",
            Image.error_code: code,
            Image.error_message: message[:500],
        }
    ).where(Image.id == image_id)
    if status == "ready":  # a new photo of a published product is a content change
        from ocop.catalog.photos import photos_changed

        await photos_changed(int(row["product"]))
    return status


async def _ready_twin(product_id: int, image_id: int, phash: int) -> int | None:
    """The place (from 0, in the order the product page shows photos) of another ready photo of the
    product that looks the same, if any."""
    photos = await (Image.select(Image.id, Image.status, Image.phash).where(Image.product == product_id)
                    .order_by(Image.position).order_by(Image.id))
    for place, other in enumerate(photos):
        if (other["id"] != image_id and other["status"] == "ready" and other["phash"]
                and is_duplicate(phash, int(other["phash"], 16))):
            return place
    return None


@job(timeout_s=120, max_tries=3)
async def normalize_image(ctx: dict[str, Any], image_id: int) -> str:
    return await normalize_image_row(media_store(ctx["settings"]), image_id)
