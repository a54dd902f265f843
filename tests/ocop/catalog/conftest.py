"""Photo uploads here leave no normalization job behind on the shared Redis (the web tests' fixture)."""

from tests.ocop.web.conftest import _no_leftover_jobs  # noqa: F401 - autouse fixture
