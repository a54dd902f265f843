"""The sandbox marketplace: all four protocols on their real paths, for tests, demos and training."""

from connectors.sandbox.app import create_sandbox_app
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.server import run, start_in_thread

__all__ = ["FaultConfig", "SandboxConfig", "create_sandbox_app", "run", "start_in_thread"]
