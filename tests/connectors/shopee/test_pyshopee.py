"""The community client ``pyshopee`` (module ``pyshopee2``) works unchanged against the sandbox.

Only the base URL changes (``client.host``). pyshopee imports selenium at import
time without declaring it: a stub module stands in (it is only used by
``get_code``, which drives a desktop browser). Calls pyshopee gets wrong
(``upload_image`` as JSON, ``update_item`` on a video path) are not used.
"""

from __future__ import annotations

import sys
import time
import types
from typing import Any

import pytest

from tests.connectors.conftest import Sandbox
from tests.connectors.helpers import grant, jpeg_bytes

SHOP = "14701712"


@pytest.fixture(scope="module")
def pyshopee2() -> Any:
    stub = types.ModuleType("selenium")
    stub.webdriver = types.ModuleType("selenium.webdriver")  # type: ignore[attr-defined]
    saved = {k: sys.modules.get(k) for k in ("selenium", "selenium.webdriver")}
    sys.modules["selenium"], sys.modules["selenium.webdriver"] = stub, stub.webdriver  # type: ignore[attr-defined]
    try:
        import pyshopee2 as module

        yield module
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value


def make_client(pyshopee2: Any, sandbox: Sandbox) -> Any:
    app = sandbox.config.app("shopee")
    c = pyshopee2.Client(SHOP, app.app_key, app.app_secret, "http://127.0.0.1:9/cb")
    c.host = sandbox.url("shopee")
    return c


def test_pyshopee_auth_token_refresh_and_calls(pyshopee2: Any, sandbox_clean: Sandbox) -> None:
    c = make_client(pyshopee2, sandbox_clean)
    answer = grant(c.shop_authorization("http://127.0.0.1:9/cb"), SHOP)
    c.code = answer["code"]
    access, expire_in, refresh = c.get_token()
    assert access and refresh and expire_in == sandbox_clean.config.access_token_ttl_s

    listing = c.product.get_item_list(offset=0, page_size=10, item_status="NORMAL")
    assert listing["error"] == "" and "item" in listing["response"]

    # an item created through our own state appears through pyshopee's reads
    image = sandbox_clean.state.store_image("shopee", jpeg_bytes(), sandbox_clean.url("shopee"))
    sku = f"PYS-{time.time_ns()}"
    created = c.product.add_item(
        item_name="Nước mắm Gò Bồi chai 500 ml", description="Nước mắm cá cơm truyền thống. OCOP 4 sao.",
        original_price=95000, seller_stock=[{"stock": 20}], weight=0.7, category_id=100781,
        image={"image_id_list": [image.image_id]}, item_sku=sku,
        dimension={"package_length": 8, "package_width": 8, "package_height": 30},
        logistic_info=[{"logistic_id": 50021, "enabled": True}],
    )
    assert created["error"] == "", created
    item_id = created["response"]["item_id"]
    info = c.product.get_item_base_info(item_id_list=str(item_id))
    assert info["response"]["item_list"][0]["item_sku"] == sku
    found = c.product.search_item(item_sku=sku, offset=0, page_size=10)
    assert found["response"]["item_id_list"] == [item_id]

    now = int(time.time())
    made = sandbox_clean.admin("POST", "/orders", {"marketplace": "shopee", "shop_id": SHOP, "count": 3,
                                                   "since": now - 3600, "until": now - 60})["order_ids"]
    orders = c.order.get_order_list(time_range_field="create_time", time_from=now - 7200, time_to=now,
                                    page_size=100)
    assert set(made) <= {o["order_sn"] for o in orders["response"]["order_list"]}
    detail = c.order.get_order_detail(order_sn_list=",".join(made), response_optional_fields="item_list")
    assert {o["order_sn"] for o in detail["response"]["order_list"]} == set(made)

    new_access, _, new_refresh = c.get_access_token(SHOP, c.partner_id, c.partner_key, refresh)
    assert new_access != access and new_refresh != refresh
    # the rotated-out refresh token is refused in Shopee's words
    c.refresh_token = refresh
    with pytest.raises(KeyError):  # pyshopee reads resp['access_token'] without checking the error
        c.get_access_token(SHOP, c.partner_id, c.partner_key, refresh)


def test_pyshopee_wrong_key_gets_shopee_sign_error(pyshopee2: Any, sandbox_clean: Sandbox) -> None:
    app = sandbox_clean.config.app("shopee")
    c = pyshopee2.Client(SHOP, app.app_key, "wrong-key", "http://127.0.0.1:9/cb")
    c.host = sandbox_clean.url("shopee")
    c.access_token = "whatever"
    answer = c.product.get_item_list(offset=0, page_size=10, item_status="NORMAL")
    # pyshopee turns any non-2xx into {"error": <status>}; the status is Shopee's 403
    assert answer["error"] == 403
