"""The public home page: what the service is, and the province's headline figures."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

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
