"""What the service is made of: every route handler and every background job, one list each.

The app factory (:mod:`ocop.app`) serves :data:`ROUTES`; every worker, inside ``ocop serve`` or as
``ocop worker``, runs :data:`WORKER`. A feature adds a page, an API controller or a job by adding it
here, and only here, so nothing registers itself behind an import and no package below this one
needs to know the features.
"""

from __future__ import annotations

from typing import Any

from ocop.accounts import api as account_api
from ocop.accounts import pages as account_pages
from ocop.alerts import jobs as alert_jobs
from ocop.alerts import pages as alert_pages
from ocop.catalog import api as catalog_api
from ocop.catalog import jobs as catalog_jobs
from ocop.catalog import pages as catalog_pages
from ocop.imports import jobs as import_jobs
from ocop.imports import pages as import_pages
from ocop.jobs import builtin
from ocop.jobs.registry import WorkerPlan
from ocop.marketplace import api as marketplace_api
from ocop.marketplace import jobs as marketplace_jobs
from ocop.marketplace import pages as marketplace_pages
from ocop.marketplace import pushes as marketplace_pushes
from ocop.staff import review_pages
from ocop.marketplace import stock as marketplace_stock
from ocop.producers import api as producer_api
from ocop.producers import pages as producer_pages
from ocop.reports import api as report_api
from ocop.reports import home
from ocop.reports import pages as report_pages
from ocop.staff import pages as staff_pages
from ocop.web.favicon import favicon
from ocop.web.health import healthz, readyz

ROUTES: list[Any] = [
    home.home,
    favicon,
    healthz,
    readyz,
    *account_pages.ROUTES,
    *account_api.ROUTES,
    *producer_pages.ROUTES,
    *staff_pages.ROUTES,
    *catalog_pages.ROUTES,
    *import_pages.ROUTES,
    *producer_api.ROUTES,
    *catalog_api.ROUTES,
    *marketplace_pages.ROUTES,
    *review_pages.ROUTES,
    *marketplace_api.ROUTES,
    *marketplace_pushes.ROUTES,
    *report_api.ROUTES,
    *report_pages.ROUTES,
    *alert_pages.ROUTES,
]
"""Pages and JSON API handlers of every feature (the app adds static files and ``/metrics``)."""

WORKER = WorkerPlan.of(
    jobs=[
        builtin.heartbeat,
        catalog_jobs.normalize_image,
        import_jobs.import_catalogue,
        marketplace_jobs.publish_listing,
        marketplace_stock.push_stock,
        marketplace_pushes.handle_push,
        alert_jobs.dispatch_alerts,
        alert_jobs.deliver_alert,
    ],
    cron=[
        marketplace_jobs.dispatch_outbox,
        marketplace_stock.dispatch_stock_outbox,
        marketplace_pushes.requeue_pushes,
        marketplace_jobs.sync_listing_status,
        marketplace_jobs.sync_orders,
        marketplace_jobs.reconcile_marketplaces,
        marketplace_jobs.backfill_order_history,
        marketplace_jobs.refresh_tokens,
        marketplace_jobs.unlist_expired_certificates,
        alert_jobs.dispatch_alerts_tick,
        alert_jobs.alert_checks,
    ],
    startup=[marketplace_jobs.start_market, alert_jobs.start_alerts],
    shutdown=[marketplace_jobs.stop_market, alert_jobs.stop_alerts],
)
"""Every job and cron job a worker runs, and the hooks that prepare its context."""
