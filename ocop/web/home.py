"""The public home page: what the service is, and the province's headline figures."""

from __future__ import annotations

from typing import Any

from pathlib import Path

from litestar import Request, get
from litestar.response import File, Template

from ocop.catalog.tables import Product
from ocop.marketplace.tables import Listing
from ocop.producers.tables import Producer


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template:
    producers = await Producer.count()
    products = await Product.count()
    online = await Listing.count().where(Listing.state == "live")
    return Template(template_name="home.html",
                    context={"producers": producers, "products": products, "online": online})


FAVICON = Path(__file__).parent / "static" / "favicon.ico"


@get("/favicon.ico", include_in_schema=False, cache=False)
async def favicon() -> File:
    """Browsers ask for ``/favicon.ico`` on their own, before reading any page's icon link."""
    return File(path=FAVICON, media_type="image/x-icon", content_disposition_type="inline",
                headers={"Cache-Control": "public, max-age=86400"})


@get("/forgot", include_in_schema=False)
async def forgot_password() -> Template:
    """Accounts here are made and reset by staff (commune or province officers), not by e-mail: the
    page says whom to ask and what happens next, and what staff do to help."""
    return Template(template_name="accounts/forgot.html")
