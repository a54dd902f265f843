"""The one error the media package raises for a file it will not accept.

Every refusal carries a stable machine code (stored on the Image row, shown by
the CLI, counted in metrics) and a human message in Vietnamese and English:
producers read the Vietnamese one on a phone, staff and logs use the code.
Callers never need to catch anything else from :func:`media.normalize` for a
bad *input*; other exceptions mean a bug in this package.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

ReasonCode = Literal[
    "not_an_image",
    "polyglot",
    "too_many_bytes",
    "too_many_pixels",
    "too_many_frames",
    "extreme_aspect",
    "not_a_scan",
    "corrupt",
    "too_small",
    "over_budget",
]

# code -> (Vietnamese, English). Placeholders are filled with str.format(**details).
_MESSAGES: dict[str, tuple[str, str]] = {
    "not_an_image": (
        "Tệp không phải là ảnh được hỗ trợ (chỉ nhận JPEG, PNG, WebP, GIF, TIFF, HEIC).",
        "The file is not a supported image (JPEG, PNG, WebP, GIF, TIFF or HEIC only).",
    ),
    "polyglot": (
        "Tệp ảnh có chứa mã HTML/script ẩn bên trong nên bị từ chối.",
        "The image file hides HTML or script content and is refused.",
    ),
    "too_many_bytes": (
        "Tệp quá lớn ({size} byte, tối đa {limit} byte).",
        "The file is too large ({size} bytes, at most {limit}).",
    ),
    "too_many_pixels": (
        "Ảnh quá nhiều điểm ảnh ({pixels} điểm ảnh, tối đa {limit}); có thể là tệp độc hại.",
        "The image has too many pixels ({pixels}, at most {limit}); it may be a decompression bomb.",
    ),
    "too_many_frames": (
        "Ảnh động có quá nhiều khung hình ({frames}, tối đa {limit}).",
        "The animation has too many frames ({frames}, at most {limit}).",
    ),
    "extreme_aspect": (
        "Ảnh quá dài hoặc quá hẹp ({width}×{height} px); cạnh dài được gấp tối đa {limit} lần cạnh ngắn.",
        "The image is too long or too narrow ({width}×{height} px); "
        "the long side may be at most {limit} times the short side.",
    ),
    "not_a_scan": (
        "Bản chụp giấy chứng nhận phải là tệp PDF, JPEG, PNG hoặc HEIC.",
        "The certificate scan must be a PDF, JPEG, PNG or HEIC file.",
    ),
    "corrupt": (
        "Tệp ảnh bị hỏng hoặc tải lên không trọn vẹn.",
        "The image file is corrupt or truncated.",
    ),
    "too_small": (
        "Ảnh quá nhỏ ({width}×{height} px); cạnh dài cần ít nhất {minimum} px cho {profile}.",
        "The image is too small ({width}×{height} px); "
        "the long side needs at least {minimum} px for {profile}.",
    ),
    "over_budget": (
        "Không thể nén ảnh xuống dưới {limit} byte cho {profile}.",
        "The image cannot be compressed below {limit} bytes for {profile}.",
    ),
}


class MediaRejected(Exception):
    """A refused input: ``code`` is stable, the messages are for people.

    A plain Exception subclass (not a frozen dataclass) so that it pickles
    across the CLI's process pool and accepts ``add_note``.
    """

    def __init__(self, code: ReasonCode, message_vi: str, message_en: str, detail: str = "") -> None:
        super().__init__(code, message_vi, message_en, detail)
        self.code: ReasonCode = code
        self.message_vi = message_vi
        self.message_en = message_en
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en}" + (f" ({self.detail})" if self.detail else "")


def rejected(code: ReasonCode, detail: str = "", **values: object) -> MediaRejected:
    """Build a :class:`MediaRejected` with both messages filled in (Vietnamese in NFC)."""
    vi, en = _MESSAGES[code]
    return MediaRejected(
        code=code,
        message_vi=unicodedata.normalize("NFC", vi.format(**values)),
        message_en=en.format(**values),
        detail=detail,
    )
