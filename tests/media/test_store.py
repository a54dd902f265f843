"""LocalStore on a real directory; S3Store against a real SeaweedFS S3 gateway."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

import obstore.exceptions
import pytest

from media.store import LocalStore, S3Store, key_of, relative_path
from tests.media.conftest import S3Server


def test_relative_path_layout_and_refuses_traversal() -> None:
    key = hashlib.sha256(b"x").hexdigest()
    assert relative_path(key) == f"{key[:2]}/{key[2:4]}/{key}"
    for bad in ("../etc/passwd", key.upper(), key[:-1], key + "0", ""):
        with pytest.raises(ValueError):
            relative_path(bad)


async def test_local_store_round_trip_and_idempotence(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "media", base_url="/media/")
    data = b"\xff\xd8\xff fake jpeg bytes"
    key = await store.put(data, "image/jpeg")
    assert key == hashlib.sha256(data).hexdigest()
    assert await store.exists(key)
    assert await store.get(key) == data
    assert store.path(key).read_bytes() == data
    assert store.url(key) == f"/media/{key[:2]}/{key[2:4]}/{key}"
    assert await store.put(data) == key  # same bytes, same key, no error
    assert [p.name for p in (tmp_path / "media").rglob("*") if p.is_file()] == [key]  # no temp files left


async def test_local_store_missing_key(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    missing = key_of(b"never stored")
    assert not await store.exists(missing)
    with pytest.raises(KeyError):
        await store.get(missing)


def _s3(server: S3Server, **overrides: str) -> S3Store:
    params = {
        "endpoint": server.endpoint,
        "access_key_id": server.access_key_id,
        "secret_access_key": server.secret_access_key,
    } | overrides
    return S3Store(server.bucket, prefix="originals", **params)


async def test_s3_store_round_trip(s3_server: S3Server) -> None:
    store = _s3(s3_server)
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100
    key = await store.put(data, "image/png")
    assert key == key_of(data)
    assert await store.exists(key)
    assert await store.get(key) == data
    assert await store.put(data, "image/png") == key
    url = store.url(key)
    assert url == f"{s3_server.endpoint}/{s3_server.bucket}/originals/{relative_path(key)}"
    missing = key_of(b"absent")
    assert not await store.exists(missing)
    with pytest.raises(KeyError):
        await store.get(missing)


async def test_s3_store_checks_credentials(s3_server: S3Server) -> None:
    """The gateway really verifies signatures: a wrong secret is refused, and an
    unsigned GET of a stored object is forbidden."""
    good = _s3(s3_server)
    key = await good.put(b"secret recipe photo")
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(good.url(key), timeout=5)
    assert anonymous.value.code == 403
    bad = _s3(s3_server, secret_access_key="wrong-secret-wrong-secret")
    with pytest.raises(obstore.exceptions.BaseError, match="403|SignatureDoesNotMatch"):
        await bad.get(key)
