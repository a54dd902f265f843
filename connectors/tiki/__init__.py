"""Tiki Open API (seller): OAuth 2, client, mapper."""

from connectors.tiki.client import TikiClient

__all__ = ["TikiClient"]
