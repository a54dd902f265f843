from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from media import MediaRejected
from media.profiles import SHOPEE, TIKTOK, WEB_THUMB
from media.service import ingest, rederive
from media.store import LocalStore, S3Store
from tests.media import corpus
from tests.media.checks import assert_no_metadata
from tests.media.conftest import S3Server


async def test_ingest_keeps_original_and_stores_renditions(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    original = corpus.phone_photo(1600, 1200, orientation=6)
    done = await ingest(store, original, [SHOPEE, WEB_THUMB])
    assert await store.get(done.original_key) == original
    assert set(done.renditions) == {"shopee", "web_thumb"} and not done.refused
    shopee = done.renditions["shopee"]
    data = await store.get(shopee.key)
    assert len(data) == shopee.bytes and shopee.content_type == "image/jpeg"
    assert_no_metadata(data)
    assert done.renditions["web_thumb"].content_type == "image/webp"


async def test_small_photo_is_refused_for_one_marketplace_only(tmp_path: Path) -> None:
    done = await ingest(LocalStore(tmp_path), corpus.tiny(200), [SHOPEE, TIKTOK])
    assert set(done.renditions) == {"tiktok"}
    assert done.refused["shopee"].code == "too_small"
    assert "nhỏ" in done.refused["shopee"].message_vi


async def test_refused_source_is_not_stored(tmp_path: Path) -> None:
    with pytest.raises(MediaRejected) as caught:
        await ingest(LocalStore(tmp_path), corpus.polyglot_jpeg(), [SHOPEE])
    assert caught.value.code == "polyglot"
    assert not any(tmp_path.rglob("*"))


async def test_rederive_from_the_original_in_s3(s3_server: S3Server) -> None:
    store = S3Store(
        s3_server.bucket,
        endpoint=s3_server.endpoint,
        access_key_id=s3_server.access_key_id,
        secret_access_key=s3_server.secret_access_key,
    )
    first = await ingest(store, corpus.webp(), [SHOPEE])
    changed = dataclasses.replace(SHOPEE, side=600)
    again = await rederive(store, first.original_key, [changed])
    assert again.original_key == first.original_key
    assert (again.renditions["shopee"].width, again.renditions["shopee"].height) == (600, 600)
    assert again.renditions["shopee"].key != first.renditions["shopee"].key
    assert await store.exists(again.renditions["shopee"].key)
