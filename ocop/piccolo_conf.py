"""Piccolo's configuration module (``PICCOLO_CONF=ocop.piccolo_conf``).

``DB`` is replaced by :func:`ocop.piccolo_app.use_database` when the service or a test picks a database, so
piccolo's migration machinery (which looks the engine up here) follows the same choice.
"""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from ocop.db import engine_from_url
from ocop.settings import get_settings

DB: Engine = engine_from_url(get_settings().effective_database_url)

APP_REGISTRY = AppRegistry(apps=["ocop.piccolo_app"])
