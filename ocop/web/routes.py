"""Every feature's pages and API routes, gathered for the app factory."""

from __future__ import annotations

from typing import Any


def feature_routes() -> list[Any]:
    from ocop.accounts.api import ROUTES as account_api
    from ocop.accounts.pages import ROUTES as account_pages
    from ocop.catalog.api import ROUTES as catalog_api
    from ocop.catalog.pages import ROUTES as catalog_pages
    from ocop.imports.pages import ROUTES as import_pages
    from ocop.marketplace.api import ROUTES as marketplace_api
    from ocop.marketplace.pages import ROUTES as marketplace_pages
    from ocop.marketplace.review_pages import ROUTES as review_pages
    from ocop.producers.api import ROUTES as producer_api
    from ocop.producers.pages import ROUTES as producer_pages
    from ocop.producers.staff_pages import ROUTES as staff_pages

    return [
        *account_pages,
        *account_api,
        *producer_pages,
        *staff_pages,
        *catalog_pages,
        *import_pages,
        *producer_api,
        *catalog_api,
        *marketplace_pages,
        *review_pages,
        *marketplace_api,
    ]
