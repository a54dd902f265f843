"""Reading the renditions a listing uploads to a marketplace."""

from __future__ import annotations

from ocop.settings import Settings
from ocop.storage import media_store


async def read_rendition(settings: Settings, key: str) -> bytes:
    return await media_store(settings).get(key)


def public_url(settings: Settings, key: str) -> str:
    url = media_store(settings).url(key)
    return url if url.startswith(("http://", "https://")) else f"{settings.base_url.rstrip('/')}{url}"
