"""The media store this process uses: a local folder (embedded default) or S3-compatible object
storage when OCOP_MEDIA_S3_URL is set (production; several machines share it)."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from media.store import LocalStore, S3Store, Store
from ocop.settings import Settings, SettingsError


@cache
def media_store(settings: Settings) -> Store:
    if not settings.media_s3_url:
        return LocalStore(settings.effective_media_dir)
    parts = urlsplit(settings.media_s3_url)
    if parts.scheme != "s3" or not parts.netloc:
        raise SettingsError("OCOP_MEDIA_S3_URL must look like s3://bucket/prefix")
    if not settings.s3_endpoint:
        raise SettingsError("OCOP_S3_ENDPOINT is required with OCOP_MEDIA_S3_URL")
    return S3Store(parts.netloc, endpoint=settings.s3_endpoint, access_key_id=settings.s3_access_key_id,
                   secret_access_key=settings.s3_secret_access_key, region=settings.s3_region,
                   prefix=parts.path.strip("/"), public_base_url=settings.media_public_url or None)
