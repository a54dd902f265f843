"""Lazada's official SDK ``lazop-sdk`` (module ``lazop_sdk``) works unchanged against the sandbox.

Only the server URL changes. The SDK writes an error log under ``~/logs`` at
import time, so HOME points at a temporary directory while it is imported.
"""

from __future__ import annotations

import importlib
import sys
import time
from typing import Any

import pytest

from tests.connectors.conftest import Sandbox
from tests.connectors.helpers import grant, jpeg_bytes

SHOP = "200170002"


@pytest.fixture(scope="module")
def lazop(tmp_path_factory: pytest.TempPathFactory) -> Any:
    mp = pytest.MonkeyPatch()
    mp.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    try:
        sys.modules.pop("lazop_sdk.base", None)
        sys.modules.pop("lazop_sdk", None)
        yield importlib.import_module("lazop_sdk")
    finally:
        mp.undo()


def test_lazop_sdk_full_flow(lazop: Any, sandbox_clean: Sandbox) -> None:
    app = sandbox_clean.config.app("lazada")
    rest = sandbox_clean.url("lazada") + "/rest"
    client = lazop.LazopClient(rest, app.app_key, app.app_secret)

    query = f"response_type=code&force_auth=true&redirect_uri=http://127.0.0.1:9/cb&client_id={app.app_key}"
    code = grant(f"{sandbox_clean.url('lazada')}/oauth/authorize?{query}", SHOP)["code"]
    req = lazop.LazopRequest("/auth/token/create")
    req.add_api_param("code", code)
    token = client.execute(req)
    assert token.code == "0", token.body
    access, refresh = token.body["access_token"], token.body["refresh_token"]

    upload = lazop.LazopRequest("/image/upload")
    upload.add_file_param("image", jpeg_bytes())
    uploaded = client.execute(upload, access)
    assert uploaded.code == "0", uploaded.body
    url = uploaded.body["data"]["image"]["url"]

    sku = f"LAZOP-{time.time_ns()}"
    payload = (
        "<Request><Product><PrimaryCategory>10002</PrimaryCategory>"
        f"<Images><Image>{url}</Image></Images>"
        "<Attributes><name>Nước mắm Gò Bồi chai 500 ml</name><description>Nước mắm cá cơm, OCOP 4 sao</description>"
        "<brand>No Brand</brand></Attributes>"
        f"<Skus><Sku><SellerSku>{sku}</SellerSku><quantity>12</quantity><price>95000</price>"
        "<package_weight>0.7</package_weight><package_length>8</package_length><package_width>8</package_width>"
        "<package_height>30</package_height></Sku></Skus></Product></Request>"
    )
    create = lazop.LazopRequest("/product/create")
    create.add_api_param("payload", payload)
    created = client.execute(create, access)
    assert created.code == "0", created.body
    item_id = created.body["data"]["item_id"]

    get = lazop.LazopRequest("/products/get", "GET")
    get.add_api_param("filter", "all")
    get.add_api_param("sku_seller_list", f'["{sku}"]')
    listed = client.execute(get, access)
    assert [p["item_id"] for p in listed.body["data"]["products"]] == [item_id]

    orders = lazop.LazopRequest("/orders/get", "GET")
    orders.add_api_param("created_after", "2020-01-01T00:00:00+07:00")
    assert client.execute(orders, access).code == "0"

    refresh_req = lazop.LazopRequest("/auth/token/refresh")
    refresh_req.add_api_param("refresh_token", refresh)
    assert client.execute(refresh_req).code == "0"
    again = client.execute(refresh_req)  # rotated: refused in Lazada's words
    assert again.code == "IllegalRefreshToken" and again.type == "ISV"


def test_lazop_sdk_wrong_secret_gets_incomplete_signature(lazop: Any, sandbox_clean: Sandbox) -> None:
    app = sandbox_clean.config.app("lazada")
    client = lazop.LazopClient(sandbox_clean.url("lazada") + "/rest", app.app_key, "wrong")
    req = lazop.LazopRequest("/category/tree/get", "GET")
    answer = client.execute(req)
    assert answer.code == "IncompleteSignature" and answer.type == "ISV"
