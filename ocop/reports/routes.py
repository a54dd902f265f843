"""The reports feature's handlers, for the app factory."""

from __future__ import annotations

from typing import Any

from ocop.reports.api import ROUTES as API_ROUTES
from ocop.reports.pages import ROUTES as PAGE_ROUTES

ROUTES: list[Any] = [*API_ROUTES, *PAGE_ROUTES]
