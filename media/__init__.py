"""Image normalisation for marketplaces and a content-addressed store.

Knows nothing of ``ocop``: imports point one way, ``ocop`` → ``media``. Public API:

- :func:`normalize` / :func:`inspect` (``media.pipeline``)
- :class:`Profile` and the ``PROFILES`` table (``media.profiles``)
- :class:`MediaRejected` (``media.errors``), :class:`Limits` (``media.limits``)
- :func:`hamming`, :func:`is_duplicate` (``media.phash``; ``media.phash.phash`` hashes a
  Pillow image, and ``normalize`` already returns the hash)
- :class:`LocalStore`, :class:`S3Store` (``media.store``)
- :func:`ingest` / :func:`rederive` (``media.service``): normalize + store, for jobs
- ``media.cli``: ``configure(parser)`` / ``run(args)`` for ``ocop media normalize``
"""

from media.errors import MediaRejected
from media.limits import DEFAULT_LIMITS, Limits
from media.phash import hamming, is_duplicate
from media.pipeline import Normalized, Rendition, SourceInfo, inspect, normalize
from media.profiles import PROFILES, Profile

__all__ = [
    "DEFAULT_LIMITS",
    "PROFILES",
    "Limits",
    "MediaRejected",
    "Normalized",
    "Profile",
    "Rendition",
    "SourceInfo",
    "hamming",
    "inspect",
    "is_duplicate",
    "normalize",
]
