"""normalize(): bytes from a producer's phone → one rendition per profile.

Fixed sequence of small pure steps, so each is tested alone and their order is
visible in one place:
sniff → limits (header only) → one reduced-scale decode for all profiles →
EXIF orientation → sRGB on white → per profile: fit, pad, encode in budget.

Refusals of the *source* (not an image, bomb, corrupt) raise
:class:`~media.errors.MediaRejected`. A source that is fine but too small (or
incompressible) for one profile is reported in ``Normalized.refused`` for that
profile only, so a photo can be ready for TikTok (≥ 300 px) but not for Shopee.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from PIL import Image

from media.colour import to_srgb
from media.decode import decode, oriented_size, open_checked, orientation
from media.encode import Encodings, encode
from media.errors import MediaRejected, rejected
from media.geometry import fit, fitted_long_side, pad
from media.limits import DEFAULT_LIMITS, Limits
from media.phash import phash
from media.profiles import Profile
from media.sniff import CONTENT_TYPES, ImageFormat, sniff

_WHITE = (255, 255, 255)
_RESAMPLE = Image.Resampling.LANCZOS


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What the header says about an upload (no pixels decoded)."""

    format: ImageFormat
    width: int
    """After EXIF orientation."""
    height: int
    frames: int
    mode: str
    orientation: int
    has_icc: bool
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Rendition:
    """One encoded output: metadata-free, within its profile's size and byte rules."""

    profile: str
    data: bytes
    width: int
    height: int
    format: str
    """"JPEG" or "WEBP"."""
    quality: int
    """The encoder quality the budget search settled on."""
    sha256: str
    """Content address (the key ``media.store`` files it under)."""

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


@dataclass(frozen=True, slots=True)
class Normalized:
    source: SourceInfo
    phash: int
    renditions: dict[str, Rendition] = field(default_factory=dict)
    refused: dict[str, MediaRejected] = field(default_factory=dict)


def _source_info(data: bytes, fmt: ImageFormat, im: Image.Image) -> SourceInfo:
    width, height = oriented_size(im)
    return SourceInfo(
        format=fmt,
        width=width,
        height=height,
        frames=int(getattr(im, "n_frames", 1)),
        mode=im.mode,
        orientation=orientation(im),
        has_icc=bool(im.info.get("icc_profile")),
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def inspect(data: bytes, limits: Limits = DEFAULT_LIMITS) -> SourceInfo:
    """Sniff and check an upload from its header only; raises MediaRejected."""
    fmt = sniff(data)
    with open_checked(data, fmt, limits) as im:
        return _source_info(data, fmt, im)


class _Renderer:
    """Renders profiles from one decoded picture, sharing canvases and encodings
    between profiles that ask for the same geometry."""

    def __init__(self, picture: Image.Image, source: SourceInfo) -> None:
        self.picture = picture
        self.source = source
        self.canvases: dict[tuple[int, tuple[int, int] | None], Image.Image] = {}
        self.encodings: Encodings = {}

    def canvas(self, long_side: int, aspect: tuple[int, int] | None) -> Image.Image:
        """The picture resized to ``long_side`` and padded to ``aspect`` with white."""
        key = (long_side, aspect)
        if key not in self.canvases:
            size = fit(*self.picture.size, long_side)
            resized = (
                self.picture
                if size == self.picture.size
                else self.picture.resize(size, _RESAMPLE, reducing_gap=3.0)
            )
            canvas_size = pad(*size, aspect)
            if canvas_size == size:
                canvas = resized
            else:
                canvas = Image.new("RGB", canvas_size, _WHITE)
                canvas.paste(resized, ((canvas_size[0] - size[0]) // 2, (canvas_size[1] - size[1]) // 2))
            self.canvases[key] = canvas
        return self.canvases[key]

    def render(self, profile: Profile) -> Rendition:
        """One profile's rendition; raises ``too_small`` or ``over_budget``."""
        source = self.source
        long_side = max(source.width, source.height)
        if long_side < profile.refuse_below:
            raise rejected(
                "too_small",
                width=source.width,
                height=source.height,
                minimum=profile.refuse_below,
                profile=profile.name,
            )
        target = fitted_long_side(long_side, profile)

        def place(scale: float) -> tuple[Hashable, Image.Image]:
            side = max(1, int(target * scale))
            return (side, profile.aspect), self.canvas(side, profile.aspect)

        data, quality, canvas = encode(place, profile, self.encodings)
        return Rendition(
            profile=profile.name,
            data=data,
            width=canvas.width,
            height=canvas.height,
            format=profile.format,
            quality=quality,
            sha256=hashlib.sha256(data).hexdigest(),
        )


def normalize(data: bytes, profiles: Sequence[Profile], limits: Limits = DEFAULT_LIMITS) -> Normalized:
    """Decode ``data`` once and render it for every profile.

    Raises MediaRejected when the source itself is refused; per-profile
    refusals (too small, over budget) are in ``Normalized.refused``.
    """
    fmt = sniff(data)
    with open_checked(data, fmt, limits) as im:
        source = _source_info(data, fmt, im)
        picture = to_srgb(decode(im, profiles))
    result = Normalized(source=source, phash=phash(picture))
    renderer = _Renderer(picture, source)
    for profile in profiles:
        try:
            result.renditions[profile.name] = renderer.render(profile)
        except MediaRejected as refusal:
            result.refused[profile.name] = refusal
    return result
