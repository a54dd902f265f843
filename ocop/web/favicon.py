"""The site's icon at the address browsers ask for on their own, before reading any page."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.response import File

FAVICON = Path(__file__).parent / "static" / "favicon.ico"


@get("/favicon.ico", include_in_schema=False, cache=False)
async def favicon() -> File:
    return File(path=FAVICON, media_type="image/x-icon", content_disposition_type="inline",
                headers={"Cache-Control": "public, max-age=86400"})
