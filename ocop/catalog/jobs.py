"""The normalization job: original photo → one rendition per marketplace and web profile.

Idempotent (arq delivers at least once): renditions are content-addressed, and the row is simply
overwritten with the same result. A refused source is recorded on the row with its reason; the
job itself succeeds, since retrying a bad picture cannot help.
"""

from __future__ import annotations

from typing import Any

from media.errors import MediaRejected
from media.profiles import PROFILES
from media.service import rederive
from media.store import Store
from ocop.catalog.tables import Image
from ocop.jobs.registry import job
from ocop.storage import media_store


async def normalize_image_row(store: Store, image_id: int) -> str:
    """Render one Image row; returns its new status (ready | rejected), or "gone"."""
    row = await Image.select(Image.original_key).where(Image.id == image_id).first()
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
    message = "; ".join(f"{name}: {refusal.message_vi}" for name, refusal in result.refused.items())
    await Image.update(
        {
            Image.status: status,
            Image.renditions: renditions,
            Image.width: result.source.width,
            Image.height: result.source.height,
            Image.phash: f"{result.phash:016x}",
            Image.error_code: "too_small" if result.refused else "",
            Image.error_message: message[:500],
        }
    ).where(Image.id == image_id)
    return status


@job(timeout_s=120, max_tries=3)
async def normalize_image(ctx: dict[str, Any], image_id: int) -> str:
    return await normalize_image_row(media_store(ctx["settings"]), image_id)
