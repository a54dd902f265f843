"""The error a service verb raises when it cannot start; ``ocop.cli.main`` prints its message as
the one-line reason and exits with status 1. It lives at the bottom of the house so that whatever
raises it (``ocop.cli.serve``, ``ocop.demo.run``) imports nothing of the command line."""

from __future__ import annotations


class StartupError(Exception):
    """A service verb could not start; the message is the reason, shown as it is."""
