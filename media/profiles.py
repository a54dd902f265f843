"""Output profiles: one per marketplace, plus the web page's thumbnail and zoom.

Marketplace rules come from each marketplace's seller documentation of product
images (the project's marketplace reference):

========== ========= ================ ========== ==============================
profile    aspect    min – max side   budget     source
========== ========= ================ ========== ==============================
shopee     1:1       500 – 4096       2 MB       Shopee: square, ≥ 500×500 (1024+ recommended), ≤ 2 MB
lazada     1:1       330 – 5000       3 MB       Lazada: square, 330–5000 px, ≤ 3 MB
tiktok     1:1       300 – 20000*     5 MB       TikTok Shop: ≥ 300×300 (600+ recommended), square recommended, ≤ 5 MB
tiki       1:1       500 – 4096*      2 MB*      Tiki: square, ≥ 500×500, white background preferred
web_thumb  1:1       250 – 500        150 kB     ours: product grid cards (250 CSS px at 2× density)
web_zoom   original  500 – 2000       1 MB       ours: product page zoom
========== ========= ================ ========== ==============================

Shopee's 2 MB / JPG-PNG / 1024×1024-suggested rule is also what the Shopee API
docs copied into the ``shopee-client`` npm package say (``UploadRequest``:
"max 2.0 MB each. Image format accepted: JPG, JPEG, PNG. Suggested dimension:
1024 x 1024 px").

(*) not published: TikTok gives no maximum side, Tiki neither a maximum side nor
a byte limit; we use Shopee's 2 MB and 4096 px for Tiki, the strictest
published values, so a Tiki rendition would also pass elsewhere.
Budgets are decimal megabytes (2 MB = 2,000,000 bytes), which also stays below
2 MiB, whichever way a marketplace counts.

Why 2000 px (and 500 px) and not 2048 (or 512): the common input is a 12 MP
phone photo, 4000×3000 (Samsung, most Android) or 4032×3024 (iPhone). JPEG
decoders can shrink while decoding only by 1/2, 1/4 or 1/8 (libjpeg DCT
scaling, ``Image.draft``; libvips calls it shrink-on-load). 4000/2 = 2000 and
4000/8 = 500 exactly, so the long side lands on the target with no
resampling at all; 2048 would force a full-size decode (4000/2048 < 2) plus a
LANCZOS pass over 12 MP, roughly three times the work, for 2 % more pixels.
2000 px also clears every marketplace's "recommended" size (Shopee 1024,
TikTok 600) with room to zoom.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Profile:
    """How one destination wants its images.

    The long side is fitted to ``side`` (never enlarged beyond the source unless
    the source is below ``min_side``), then padded with white to ``aspect``.
    """

    name: str
    side: int
    """Preferred long side of the output, in pixels (before padding)."""
    min_side: int
    max_side: int
    max_bytes: int
    aspect: tuple[int, int] | None = (1, 1)
    """Width:height to pad to, or None to keep the photo's own aspect."""
    format: Literal["JPEG", "WEBP"] = "JPEG"
    quality: int = 85
    """Starting quality; lowered (down to ``min_quality``) to meet ``max_bytes``."""
    min_quality: int = 60

    @property
    def refuse_below(self) -> int:
        """Sources whose long side is below this are refused as too small (below half
        the profile's minimum side); between this and ``min_side``
        they are enlarged to ``min_side``."""
        return (self.min_side + 1) // 2

    @property
    def extension(self) -> str:
        return {"JPEG": "jpg", "WEBP": "webp"}[self.format]


SHOPEE = Profile("shopee", side=2000, min_side=500, max_side=4096, max_bytes=2_000_000)
LAZADA = Profile("lazada", side=2000, min_side=330, max_side=5000, max_bytes=3_000_000)
TIKTOK = Profile("tiktok", side=2000, min_side=300, max_side=20000, max_bytes=5_000_000)
TIKI = Profile("tiki", side=2000, min_side=500, max_side=4096, max_bytes=2_000_000)
WEB_THUMB = Profile(
    "web_thumb", side=500, min_side=250, max_side=500, max_bytes=150_000, format="WEBP", quality=80
)
WEB_ZOOM = Profile(
    "web_zoom",
    side=2000,
    min_side=500,
    max_side=2000,
    max_bytes=1_000_000,
    aspect=None,
    format="WEBP",
    quality=82,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (SHOPEE, LAZADA, TIKTOK, TIKI, WEB_THUMB, WEB_ZOOM)}
MARKETPLACE_PROFILES: tuple[Profile, ...] = (SHOPEE, LAZADA, TIKTOK, TIKI)
WEB_PROFILES: tuple[Profile, ...] = (WEB_THUMB, WEB_ZOOM)
