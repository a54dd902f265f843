"""The ZNS client against the sandbox's Zalo emulation over HTTP: Zalo's checks, its error codes
as typed outcomes, single-use refresh tokens, and what the emulation records and shows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.base import AuthExpiredError, PermanentError
from connectors.sandbox.config import SandboxConfig, ZaloAppConfig
from connectors.sandbox.server import start_in_thread
from connectors.zalo.client import ZaloError, ZnsClient

TEMPLATE = "310001"


@pytest.fixture(scope="module")
def zalo_sandbox() -> Iterator[tuple[str, Any, ZaloAppConfig]]:
    app = ZaloAppConfig(templates={TEMPLATE: ["product_name", "count"]})
    url, stop, state = start_in_thread(SandboxConfig.default(zalo=app), quiet=True, marketplace_ports={})
    try:
        yield url, state, app
    finally:
        stop()


def _client(url: str, app: ZaloAppConfig, secret: str | None = None) -> ZnsClient:
    return ZnsClient(app_id=app.app_id, secret_key=secret or app.secret_key, api_url=f"{url}/zalo/business",
                     oauth_url=f"{url}/zalo/oauth")


async def test_refresh_tokens_are_single_use_and_the_secret_is_checked(zalo_sandbox) -> None:
    url, state, app = zalo_sandbox
    state.zalo.refresh_tokens = {app.refresh_token}
    with pytest.raises(PermanentError):
        await _client(url, app, secret="wrong").refresh(app.refresh_token)
    client = _client(url, app)
    first = await client.refresh(app.refresh_token)
    assert first.access_token and first.refresh_token != app.refresh_token
    with pytest.raises(PermanentError, match="refresh_token is invalid"):
        await client.refresh(app.refresh_token)  # used once already
    second = await client.refresh(first.refresh_token)
    assert second.access_token != first.access_token
    await client.aclose()


async def test_sends_are_checked_as_zalo_documents_them(zalo_sandbox) -> None:
    url, state, app = zalo_sandbox
    state.zalo.refresh_tokens = {app.refresh_token}
    client = _client(url, app)
    token = (await client.refresh(app.refresh_token)).access_token
    good = {"product_name": "Nước mắm Gò Bồi", "count": "3"}
    with pytest.raises(AuthExpiredError):  # -124
        await client.send_template("not-a-token", phone="84912345678", template_id=TEMPLATE, template_data=good,
                                   tracking_id="t1")
    cases = [({"phone": "0912345678"}, "-108"), ({"template_id": "999"}, "-109"), ({"template_data": {}}, "-111"),
             ({"template_data": {"product_name": "x"}}, "-112"), ({"tracking_id": ""}, "-112")]
    for change, code in cases:
        args = {"phone": "84912345678", "template_id": TEMPLATE, "template_data": good, "tracking_id": "t2", **change}
        with pytest.raises(ZaloError) as refused:
            await client.send_template(token, **args)
        assert refused.value.code == code
    sent = await client.send_template(token, phone="84912345678", template_id=TEMPLATE, template_data=good,
                                      tracking_id="t3")
    assert sent.msg_id
    recorded = state.zalo.messages[-1]
    assert (recorded.phone, recorded.template_data["product_name"], recorded.tracking_id) == \
        ("84912345678", "Nước mắm Gò Bồi", "t3")
    page = httpx.get(f"{url}/", timeout=10).text
    assert "Zalo (ZNS)" in page and "Nước mắm Gò Bồi" in page and "84912345678" in page
    await client.aclose()
