"""The one call a job or an upload handler needs: normalize off the event loop,
keep the original, store every rendition, return plain keys.

Refused sources are *not* stored (a decompression bomb or an HTML page has no
business in the media store); per-profile refusals come back with their code
and messages so the page can say why a photo is not ready for a marketplace.
Renditions are derived data: :func:`rederive` recreates them from the kept
original when a profile changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

from media.limits import DEFAULT_LIMITS, Limits
from media.pipeline import SourceInfo, normalize
from media.profiles import Profile
from media.sniff import CONTENT_TYPES
from media.store import Store


@dataclass(frozen=True, slots=True)
class StoredRendition:
    profile: str
    key: str
    width: int
    height: int
    bytes: int
    content_type: str
    format: str


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    message_vi: str
    message_en: str


@dataclass(frozen=True, slots=True)
class Ingested:
    original_key: str
    source: SourceInfo
    phash: int
    renditions: dict[str, StoredRendition] = field(default_factory=dict)
    refused: dict[str, Refusal] = field(default_factory=dict)


async def ingest(
    store: Store,
    data: bytes,
    profiles: Sequence[Profile],
    limits: Limits = DEFAULT_LIMITS,
    executor: Executor | None = None,
) -> Ingested:
    """Normalize ``data`` in ``executor`` (default: the loop's thread pool; Pillow
    releases the GIL while decoding and encoding), then store original and
    renditions. Raises :class:`~media.errors.MediaRejected` for a refused source,
    before anything is stored."""
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(executor, normalize, data, list(profiles), limits)
    original_key = await store.put(data, CONTENT_TYPES[result.source.format])
    stored = {}
    for name, rendition in result.renditions.items():
        key = await store.put(rendition.data, rendition.content_type)
        stored[name] = StoredRendition(
            name, key, rendition.width, rendition.height, len(rendition.data), rendition.content_type,
            rendition.format,
        )
    refused = {
        name: Refusal(refusal.code, refusal.message_vi, refusal.message_en)
        for name, refusal in result.refused.items()
    }
    return Ingested(original_key, result.source, result.phash, stored, refused)


async def rederive(
    store: Store,
    original_key: str,
    profiles: Sequence[Profile],
    limits: Limits = DEFAULT_LIMITS,
    executor: Executor | None = None,
) -> Ingested:
    """Recreate renditions from a kept original (e.g. after a profile changed)."""
    return await ingest(store, await store.get(original_key), profiles, limits, executor)
