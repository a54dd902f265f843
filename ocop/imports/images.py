"""The ``Ảnh`` column: image URLs or file names inside the ZIP given with ``--images``.

The import only collects references and bytes; turning photos into marketplace renditions is the
media pipeline's job (``media/``), reached through :class:`ImageSink`.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol

from ocop.domain.errors import Explained, InvalidValue

MAX_IMAGES_PER_PRODUCT = 9  # Shopee's limit, the strictest of the four marketplaces (reference/marketplaces.md)
_SPLIT = re.compile(r"[;\n\r|]+")
NESTED_ARCHIVES = frozenset({".zip", ".jar", ".7z", ".rar", ".tar", ".gz", ".tgz", ".xz", ".bz2"})


@dataclass(frozen=True, slots=True)
class ImageRef:
    kind: str  # "url" or "zip"
    value: str  # the URL, or the member name inside the ZIP


def parse_image_refs(cell: str, zip_names: Mapping[str, str] | None) -> tuple[ImageRef, ...]:
    """Split a cell into image references; file names must exist in the ZIP (matched case-insensitively)."""
    refs: list[ImageRef] = []
    for part in _SPLIT.split(cell):
        item = part.strip()
        if not item:
            continue
        lowered = item.lower()
        if lowered.startswith(("http://", "https://")):
            refs.append(ImageRef("url", item))
        elif "://" in item or lowered.startswith(("file:", "data:", "javascript:")):
            raise InvalidValue(
                "image_scheme", f"Chỉ nhận ảnh qua http/https: {item}", f"Only http/https image URLs are accepted: {item}"
            )
        elif zip_names is None:
            raise InvalidValue(
                "image_needs_zip",
                f"Ảnh {item} là tên tệp nhưng không có tệp ZIP ảnh kèm theo (--images)",
                f"Image {item} is a file name but no image ZIP was given (--images)",
            )
        else:
            member = _zip_member(item, zip_names)
            if member is None:
                raise InvalidValue("image_not_in_zip", f"Không có ảnh {item} trong tệp ZIP", f"Image {item} is not in the ZIP")
            refs.append(ImageRef("zip", member))
    if len(refs) > MAX_IMAGES_PER_PRODUCT:
        raise InvalidValue(
            "too_many_images",
            f"Tối đa {MAX_IMAGES_PER_PRODUCT} ảnh mỗi sản phẩm",
            f"At most {MAX_IMAGES_PER_PRODUCT} images per product",
        )
    return tuple(refs)


def _zip_member(name: str, zip_names: Mapping[str, str]) -> str | None:
    return zip_names.get(PurePosixPath(name.replace("\\", "/")).name.casefold())


def zip_index(archive: zipfile.ZipFile) -> dict[str, str]:
    """Case-folded base name -> member name, for regular files (no folders, no macOS forks, no
    nested archives: a ZIP inside the ZIP is never opened, so it cannot be a photo either). The
    archive has passed :mod:`ocop.imports.zip_guard` (sizes, names, symlinks) before this."""
    return {
        PurePosixPath(info.filename).name.casefold(): info.filename
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not PurePosixPath(info.filename).name.startswith(".")
        and PurePosixPath(info.filename).suffix.lower() not in NESTED_ARCHIVES
    }


class ImageRefused(Explained):
    """A sink refuses a photo (not an image, too large, …): reported on its row, the row stays."""


class ImageSink(Protocol):
    """Where collected photos go: :class:`ocop.imports.media_sink.MediaImageSink` hands them to the
    media pipeline. ``submit`` raises :class:`ImageRefused` for a photo it will not take."""

    async def submit(self, *, product_id: int, position: int, ref: ImageRef, data: bytes) -> None: ...
