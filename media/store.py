"""Content-addressed storage for originals and renditions: ``./var/media/`` by
default, S3-compatible object storage in production.

The key of a blob is the SHA-256 hex of its bytes, so storing the same photo
twice costs nothing, a key can never point at changed content, and renditions
can always be re-derived from the kept original when a profile changes.
Objects are laid out as ``ab/cd/abcd…`` so no directory grows past 65,536
entries.

S3 client: ``obstore`` rather than ``aioboto3`` — it is one small wheel (Rust
``object_store`` underneath) with native ``async`` calls, retries and timeouts
built in, and no botocore/aiobotocore dependency tree whose versions must be
pinned together.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol


_KEY = re.compile(r"^[0-9a-f]{64}$")


def key_of(data: bytes) -> str:
    """The content address of ``data``."""
    return hashlib.sha256(data).hexdigest()


def relative_path(key: str) -> str:
    """``ab/cd/<key>`` for a valid key; refuses anything else (no path traversal)."""
    if not _KEY.match(key):
        raise ValueError(f"not a content key: {key!r}")
    return f"{key[:2]}/{key[2:4]}/{key}"


def _obstore() -> Any:
    import obstore

    return obstore


class Store(Protocol):
    """What the rest of the system may ask of a media store."""

    async def put(self, data: bytes, content_type: str | None = None) -> str:
        """Store ``data`` (idempotent) and return its key."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes under ``key``; ``KeyError`` when absent."""
        ...

    async def exists(self, key: str) -> bool: ...

    def url(self, key: str) -> str:
        """Where a browser or marketplace can fetch the blob."""
        ...


class LocalStore:
    """Blobs as files under ``root`` (the embedded, one-machine default)."""

    def __init__(self, root: str | os.PathLike[str], base_url: str = "/media") -> None:
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")

    def path(self, key: str) -> Path:
        return self.root / relative_path(key)

    def _write(self, key: str, data: bytes) -> None:
        target = self.path(key)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half a file, a crash leaves only a temp file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def put(self, data: bytes, content_type: str | None = None) -> str:
        key = key_of(data)
        await asyncio.to_thread(self._write, key, data)
        return key

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self.path(key).read_bytes)
        except FileNotFoundError:
            raise KeyError(key) from None

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)

    def url(self, key: str) -> str:
        return f"{self.base_url}/{relative_path(key)}"


class S3Store:
    """Blobs in an S3-compatible bucket (AWS, SeaweedFS, Ceph, R2, ...)."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint: str,
        access_key_id: str,
        secret_access_key: str,
        region: str = "us-east-1",
        prefix: str = "",
        public_base_url: str | None = None,
        timeout: timedelta = timedelta(seconds=30),
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.public_base_url = (public_base_url or f"{endpoint.rstrip('/')}/{bucket}").rstrip("/")
        # Imported here: obstore is the production extra (``ocop[prod]``); the embedded default
        # stores media in a local folder and must run without it.
        from obstore.store import S3Store as _ObstoreS3

        self._store = _ObstoreS3(
            bucket,
            endpoint=endpoint,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            region=region,
            # Self-hosted gateways are addressed by path, not by bucket sub-domain.
            virtual_hosted_style_request=False,
            client_options={"allow_http": endpoint.startswith("http://"), "timeout": timeout},
            retry_config={
                "max_retries": 3,
                "retry_timeout": timeout,
                "backoff": {
                    "init_backoff": timedelta(milliseconds=100),
                    "max_backoff": timedelta(seconds=2),
                    "base": 2,
                },
            },
        )

    def _path(self, key: str) -> str:
        rel = relative_path(key)
        return f"{self.prefix}/{rel}" if self.prefix else rel

    async def put(self, data: bytes, content_type: str | None = None) -> str:
        key = key_of(data)
        if not await self.exists(key):
            attributes = {"Content-Type": content_type} if content_type else None
            await _obstore().put_async(self._store, self._path(key), data, attributes=attributes)
        return key

    async def get(self, key: str) -> bytes:
        try:
            result = await _obstore().get_async(self._store, self._path(key))
            return bytes(await result.bytes_async())
        except FileNotFoundError:
            raise KeyError(key) from None

    async def exists(self, key: str) -> bool:
        try:
            await _obstore().head_async(self._store, self._path(key))
        except FileNotFoundError:
            return False
        return True

    def url(self, key: str) -> str:
        return f"{self.public_base_url}/{self._path(key)}"
