"""Each marketplace at the root of a port of its own, for clients that sign the URL's whole path.

The TikTok Shop client here is independent of ``connectors.tiktok``: a few lines written from
TikTok's "Sign your API request" guide (HMAC-SHA256 with the app secret over
``secret + path + sorted name+value pairs except sign and access_token + body + secret``), signing
whatever path it sends, the way TikTok's generated SDKs do. It uses the API versions those SDKs use
today (product search 202502, product edit 202509, order detail 202507).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from connectors.sandbox.config import MARKETPLACES, SandboxConfig
from connectors.sandbox.server import default_marketplace_ports, free_port, start_in_thread
from connectors.shopee import signing as sp_signing
from tests.media import corpus
from tests.support.servers import sandbox_port


def tiktok_sign(secret: str, path: str, query: dict[str, str], body: bytes = b"") -> str:
    """TikTok's documented request signature, over exactly the path the request is sent to."""
    pairs = "".join(f"{name}{query[name]}" for name in sorted(query) if name not in ("sign", "access_token"))
    message = f"{secret}{path}{pairs}".encode() + body + secret.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def test_independent_signer_matches_tiktoks_worked_example() -> None:
    query = {"app_key": "29a39d", "timestamp": "1623812664"}
    assert tiktok_sign("e59af819cc", "/authorization/202309/shops", query) \
        == "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"


@dataclass
class WholePathClient:
    """A TikTok Shop client given one base URL; every path it signs is the URL's whole path."""

    base_url: str
    app_key: str
    app_secret: str
    token: str = ""
    cipher: str = ""

    def call(self, method: str, path: str, query: dict[str, str] | None = None, body: Any = None,
             cipher: bool = True) -> httpx.Response:
        url = self.base_url + path
        params = {"app_key": self.app_key, "timestamp": str(int(time.time())), **(query or {})}
        if cipher and self.cipher:
            params["shop_cipher"] = self.cipher
        raw = json.dumps(body).encode() if body is not None else b""
        params["sign"] = tiktok_sign(self.app_secret, urlsplit(url).path, params, raw)
        headers = {"x-tts-access-token": self.token, "content-type": "application/json"}
        return httpx.request(method, url, params=params, content=raw or None, headers=headers, timeout=10)

    def connect(self, shop_id: str) -> None:
        """Consent page → auth code → token → the shop's cipher, all at this base URL."""
        consent = httpx.post(f"{self.base_url}/oauth/authorize", timeout=10, data={
            "shop_id": shop_id, "query": urlencode({"app_key": self.app_key, "state": "s"})})
        code = re.search(r"<code id='code'>([^<]+)</code>", consent.text)
        assert consent.status_code == 200 and code, consent.text
        token = httpx.get(f"{self.base_url}/api/v2/token/get", timeout=10, params={
            "app_key": self.app_key, "app_secret": self.app_secret, "auth_code": code.group(1),
            "grant_type": "authorized_code"}).json()
        assert token["code"] == 0, token
        self.token = token["data"]["access_token"]
        shops = self.call("GET", "/authorization/202309/shops", cipher=False).json()
        assert shops["code"] == 0, shops
        self.cipher = shops["data"]["shops"][0]["cipher"]


OwnPorts = tuple[str, dict[str, str], SandboxConfig]
"""The combined base URL, each marketplace's root URL, and the sandbox's configuration."""


@pytest.fixture(scope="module")
def own_ports() -> Iterator[OwnPorts]:
    config = SandboxConfig.default(review_seconds=0.0, rejection_share=0.0, orders_per_hour=0.0)
    ports = {name: free_port() for name in MARKETPLACES}
    base_url, stop, _ = start_in_thread(config, quiet=True, marketplace_ports=ports)
    try:
        yield base_url, {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}, config
    finally:
        stop()


def _client(base_url: str, config: SandboxConfig) -> WholePathClient:
    app = config.app("tiktok")
    return WholePathClient(base_url, app.app_key, app.app_secret)


def test_a_whole_path_tiktok_client_works_at_the_root_of_tiktoks_port(own_ports: OwnPorts) -> None:
    combined, roots, config = own_ports
    client = _client(roots["tiktok"], config)
    shop_id = config.shops_of("tiktok")[0].shop_id
    client.connect(shop_id)

    # Its own image upload: the URL handed back is on the same root.
    photo = corpus.phone_photo(800, 800)
    params = {"app_key": client.app_key, "timestamp": str(int(time.time()))}
    # multipart: the body is not signed
    params["sign"] = tiktok_sign(client.app_secret, "/product/202309/images/upload", params)
    uploaded = httpx.post(f"{roots['tiktok']}/product/202309/images/upload", params=params, timeout=10,
                          headers={"x-tts-access-token": client.token},
                          files={"data": ("p.jpg", photo, "image/jpeg")},
                          data={"use_case": "MAIN_IMAGE"}).json()
    assert uploaded["code"] == 0, uploaded
    assert uploaded["data"]["url"].startswith(roots["tiktok"] + "/")

    product = {
        "title": "Rượu Bàu Đá truyền thống 500 ml", "description": "<p>Đặc sản Bình Định</p>",
        "category_id": "700101", "main_images": [{"uri": uploaded["data"]["uri"]}],
        "package_weight": {"value": "0.8", "unit": "KILOGRAM"},
        "product_attributes": [{"id": "100107", "values": [{"id": "1"}]}],
        "skus": [{"seller_sku": "WHOLE-PATH-1", "price": {"amount": "120000", "currency": "VND"},
                  "inventory": [{"warehouse_id": "7300000000000000001", "quantity": 5}]}],
    }
    created = client.call("POST", "/product/202309/products", body=product).json()
    assert created["code"] == 0, created
    product_id = created["data"]["product_id"]

    found = client.call("POST", "/product/202502/products/search", {"page_size": "20"},
                        body={"seller_skus": ["WHOLE-PATH-1"]}).json()
    assert found["code"] == 0, found
    assert [p["id"] for p in found["data"]["products"]] == [product_id]

    edited = client.call("PUT", f"/product/202509/products/{product_id}",
                         body={**product, "title": "Rượu Bàu Đá truyền thống chai 500 ml"}).json()
    assert edited["code"] == 0, edited
    detail = client.call("GET", f"/product/202309/products/{product_id}").json()
    assert detail["data"]["title"] == "Rượu Bàu Đá truyền thống chai 500 ml"

    orders = client.call("GET", "/order/202507/orders", {"ids": "1"}).json()
    assert orders["code"] == 0 and orders["data"]["orders"] == [], orders


def test_the_combined_prefix_breaks_a_whole_path_signature_and_says_so(own_ports: OwnPorts) -> None:
    """Why the own ports exist: the same client given ``…/tiktok`` signs ``/tiktok/…``, which the
    combined layout (correctly, as TikTok would for a proxy prefix) refuses."""
    combined, roots, config = own_ports
    rooted = _client(roots["tiktok"], config)
    rooted.connect(config.shops_of("tiktok")[0].shop_id)
    prefixed = _client(combined + "/tiktok", config)
    prefixed.token, prefixed.cipher = rooted.token, rooted.cipher
    answer = prefixed.call("POST", "/product/202502/products/search", {"page_size": "20"}, body={})
    assert answer.status_code == 401 and answer.json()["code"] == 106001


def test_an_unknown_tiktok_version_is_an_unknown_path(own_ports: OwnPorts) -> None:
    _, roots, config = own_ports
    client = _client(roots["tiktok"], config)
    client.connect(config.shops_of("tiktok")[0].shop_id)
    answer = client.call("POST", "/product/202212/products/search", {"page_size": "20"}, body={})
    assert answer.status_code == 404 and answer.json()["code"] == 36009009


def test_every_marketplace_answers_at_its_root_and_links_back_to_it(own_ports: OwnPorts) -> None:
    combined, roots, config = own_ports
    # Shopee signs the whole path too: at its root, the path is its own.
    app = config.app("shopee")
    ts = int(time.time())
    path = "/api/v2/shop/auth_partner"
    sign = sp_signing.sign(app.app_secret, app.app_key, path, ts)
    query = {"partner_id": app.app_key, "timestamp": ts, "sign": sign, "redirect": "http://127.0.0.1:9/cb"}
    page = httpx.get(roots["shopee"] + path, params=query, timeout=10)
    assert page.status_code == 200 and f"action='{roots['shopee']}/_consent'" in page.text
    # Lazada's consent form posts back to the root it was served from.
    lz = config.app("lazada")
    consent = httpx.get(roots["lazada"] + "/oauth/authorize", timeout=10, params={
        "response_type": "code", "client_id": lz.app_key, "redirect_uri": "http://127.0.0.1:9/cb"})
    assert consent.status_code == 200 and f"action='{roots['lazada']}/oauth/consent'" in consent.text
    # The combined layout still serves all four, and its links keep the prefix.
    combined_page = httpx.get(combined + "/shopee" + path, params={**query}, timeout=10)
    assert f"action='{combined}/shopee/_consent'" in combined_page.text
    assert httpx.get(combined + "/", timeout=10).status_code == 200
    assert httpx.get(roots["tiki"] + "/", timeout=10).status_code == 404  # a marketplace port has no overview


def test_default_ports_follow_the_combined_port() -> None:
    assert default_marketplace_ports(8765) == {"shopee": 8766, "lazada": 8767, "tiktok": 8768, "tiki": 8769}


def test_ocop_sandbox_prints_one_root_url_per_marketplace_and_serves_them(tmp_path: Path) -> None:
    port = free_port()
    ports = {name: free_port() for name in MARKETPLACES}
    spec = ",".join(f"{name}={p}" for name, p in ports.items())
    env = {**os.environ, "OCOP_VAR_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "ocop", "sandbox", "--port", str(port), "--marketplace-ports", spec],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(1 + len(MARKETPLACES))]
        for name, p in ports.items():
            line = next(line for line in lines if line.strip().startswith(name))
            assert f"base_url=http://127.0.0.1:{port}/{name}" in line
            assert f"root_url=http://127.0.0.1:{p}" in line
        deadline = time.monotonic() + 30
        while True:
            try:
                config = httpx.get(f"http://127.0.0.1:{port}/_admin/config", timeout=2).json()
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "ocop sandbox did not start"
                time.sleep(0.2)
        app = next(a for a in config["apps"] if a["marketplace"] == "tiktok")
        client = WholePathClient(f"http://127.0.0.1:{ports['tiktok']}", app["app_key"], app["app_secret"])
        client.connect(next(s for s in config["shops"] if s["marketplace"] == "tiktok")["shop_id"])
        found = client.call("POST", "/product/202502/products/search", {"page_size": "5"}, body={})
        assert found.json()["code"] == 0
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)


def test_ocop_sandbox_says_which_port_is_taken(tmp_path: Path) -> None:
    port, taken = sandbox_port(), free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        done = subprocess.run([sys.executable, "-m", "ocop", "sandbox", "--port", str(port),
                               "--marketplace-ports", f"tiktok={taken}"],
                              env={**os.environ, "OCOP_VAR_DIR": str(tmp_path)},
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"127.0.0.1:{taken}" in done.stderr and "already in use" in done.stderr


def test_a_busy_marketplace_neighbour_makes_the_sandbox_port_busy() -> None:
    """`ocop demo` moves its sandbox when any of the five ports is taken, not only the first."""
    from connectors.sandbox.server import free_sandbox_port, listen_socket, sandbox_ports_free

    base = free_sandbox_port()
    assert sandbox_ports_free(base)
    held = listen_socket("127.0.0.1", base + 3)  # tiktok's own port
    held.listen()
    try:
        assert not sandbox_ports_free(base)
        moved = free_sandbox_port()
        assert moved != base and not {base + 3} & set(range(moved, moved + 5))
    finally:
        held.close()
