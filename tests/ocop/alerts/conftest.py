"""Alert tests run the real causes against the sandbox marketplace (over HTTP), messages against
the sandbox's Zalo emulation and e-mail against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from ocop.alerts.delivery import AlertRuntime
from ocop.alerts.zalo import ZaloSender, account, sandbox_app
from ocop.marketplace.runtime import cipher_for
from ocop.marketplace.sandbox import start_embedded_sandbox
from ocop.settings import Settings
from tests.ocop.marketplace.conftest import TEST_SECRET, Sandbox
from tests.ocop.marketplace.conftest import arq_redis, rt, sandbox  # noqa: F401 - fixtures used here
from tests.support.servers import free_port, sandbox_port


@pytest.fixture(scope="session")
def market_sandbox() -> Iterator[Sandbox]:
    """The marketplace sandbox with this service's Zalo Official Account and templates registered."""
    settings = Settings(secret_key=TEST_SECRET, sandbox_port=sandbox_port())
    url, stop, state = start_embedded_sandbox(settings, review_seconds=0.0, rejection_share=0.0, orders_per_hour=0.0,
                                              access_token_ttl_s=3600, zalo=sandbox_app(settings))
    try:
        yield Sandbox(url, state)
    finally:
        stop()


@dataclass
class Mailbox:
    url: str
    received: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.received.append(message_from_bytes(envelope.original_content, policy=policy.default))  # type: ignore[arg-type]
        self.received[-1]["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    port = free_port()
    box = Mailbox(url=f"smtp://127.0.0.1:{port}")
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def settings(tmp_path: Path, sandbox: Sandbox, mailbox: Mailbox) -> Settings:  # noqa: F811
    sandbox.admin("POST", "/zalo", {"clear": True, "next_errors": [], "reset_tokens": True})
    return Settings(var_dir=tmp_path / "var", secret_key=TEST_SECRET, sandbox=True, sandbox_url=sandbox.base_url,
                    base_url="http://127.0.0.1:8000", api_rate_per_min=0, smtp_url=mailbox.url)


@pytest.fixture
async def alerts_rt(settings: Settings) -> AsyncIterator[AlertRuntime]:
    acct = account(settings)
    assert acct is not None
    runtime = AlertRuntime(settings=settings, zalo=ZaloSender(acct, cipher_for(settings), timeout_s=5.0))
    try:
        yield runtime
    finally:
        await runtime.aclose()
