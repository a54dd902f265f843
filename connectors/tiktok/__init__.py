"""TikTok Shop Partner API (202309): signing, client, mapper."""

from connectors.tiktok.client import TikTokClient

__all__ = ["TikTokClient"]
