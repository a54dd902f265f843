"""The error a service verb raises when it cannot start; ``ocop.cli.main`` prints its message as
the one-line reason and exits with status 1. Apart from the modules that raise it (serve, demo) so
that none of them imports the command line's wiring."""

from __future__ import annotations


class StartupError(Exception):
    """A service verb could not start; the message is the reason, shown as it is."""
