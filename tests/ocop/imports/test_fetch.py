"""SSRF defences of the image fetcher, against a real HTTP server on 127.0.0.1.

Loopback is exactly what production must refuse, so the positive cases use a test policy that
admits 127.0.0.1 only; everything else (127.0.0.2, ::1, private ranges) stays refused.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from ocop.imports.fetch import FetchLimits, FetchRefused, fetch_image, public_only

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000
SEEN_HOSTS: list[str] = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        SEEN_HOSTS.append(self.headers.get("Host", ""))
        port = self.server.server_address[1]
        routes = {
            "/img": lambda: self._send(200, PNG, length=True),
            "/big": lambda: self._send(200, b"x" * 5000, length=True),
            "/big-chunked": lambda: self._send(200, b"x" * 5000, length=False),
            "/missing": lambda: self._send(404, b"no", length=True),
            "/to-img": lambda: self._redirect("/img"),
            "/to-other-loopback": lambda: self._redirect(f"http://127.0.0.2:{port}/img"),
            "/to-metadata": lambda: self._redirect("http://169.254.169.254/latest/meta-data/"),
            "/to-file": lambda: self._redirect("file:///etc/passwd"),
            "/loop": lambda: self._redirect("/loop"),
            "/slow": self._slow,
        }
        routes.get(self.path, lambda: self._send(404, b"", length=True))()

    def _send(self, status: int, body: bytes, *, length: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "image/png")
        if length:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.protocol_version = "HTTP/1.1"
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 1000):
                piece = body[start : start + 1000]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _slow(self) -> None:
        time.sleep(2)
        self._send(200, PNG, length=True)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client hanging up on an oversized body is the point of those tests


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def only_127_0_0_1(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return str(address) == "127.0.0.1"


async def fetch(url: str, **kwargs: object) -> bytes:
    async with httpx.AsyncClient() as client:
        return await fetch_image(url, client=client, **kwargs)  # type: ignore[arg-type]


async def refused(url: str, **kwargs: object) -> str:
    with pytest.raises(FetchRefused) as info:
        await fetch(url, **kwargs)
    assert info.value.message_vi and info.value.message_en
    return info.value.code


async def test_fetches_with_test_policy(server: str) -> None:
    assert await fetch(f"{server}/img", policy=only_127_0_0_1) == PNG


async def test_production_policy_refuses_loopback_server(server: str) -> None:
    assert await refused(f"{server}/img") == "address_refused"


async def test_localhost_name_is_resolved_and_refused(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    assert await refused(f"http://localhost:{port}/img") == "address_refused"


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/a.jpg", "http://192.168.1.1/a.jpg", "http://172.16.0.1/",
     "http://[::1]/a.jpg", "http://100.64.0.1/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/",
     "http://224.0.0.1/", "http://2130706433/"],
)
async def test_private_loopback_link_local_literals_refused(url: str) -> None:
    assert await refused(url) in {"address_refused", "dns_failed"}


@pytest.mark.parametrize("url", ["ftp://example.com/a.jpg", "file:///etc/passwd", "gopher://x/", "http:///nohost"])
async def test_only_http_and_https(url: str) -> None:
    assert await refused(url) == "image_scheme"


async def test_credentials_in_url_refused(server: str) -> None:
    assert await refused(server.replace("http://", "http://user:pw@") + "/img", policy=only_127_0_0_1) == "url_credentials"


async def test_every_resolved_address_is_checked() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1", "10.0.0.1"]  # one allowed, one private: refuse

    assert await refused("http://images.example/a.jpg", policy=only_127_0_0_1, resolver=resolver) == "address_refused"


async def test_connects_to_checked_address_and_keeps_host_header(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    calls: list[str] = []

    async def resolver(host: str, p: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    SEEN_HOSTS.clear()
    assert await fetch(f"http://images.example:{port}/img", policy=only_127_0_0_1, resolver=resolver) == PNG
    assert calls == ["images.example"]  # resolved once, by us
    assert SEEN_HOSTS == [f"images.example:{port}"]


async def test_redirect_followed_and_rechecked(server: str) -> None:
    assert await fetch(f"{server}/to-img", policy=only_127_0_0_1) == PNG
    assert await refused(f"{server}/to-other-loopback", policy=only_127_0_0_1) == "address_refused"
    assert await refused(f"{server}/to-metadata", policy=only_127_0_0_1) == "address_refused"
    assert await refused(f"{server}/to-file", policy=only_127_0_0_1) == "image_scheme"
    assert await refused(f"{server}/loop", policy=only_127_0_0_1) == "too_many_redirects"


async def test_size_limit_with_and_without_content_length(server: str) -> None:
    limits = FetchLimits(max_bytes=4096)
    assert await refused(f"{server}/big", policy=only_127_0_0_1, limits=limits) == "image_too_large"
    assert await refused(f"{server}/big-chunked", policy=only_127_0_0_1, limits=limits) == "image_too_large"


async def test_time_limit(server: str) -> None:
    started = time.monotonic()
    assert await refused(f"{server}/slow", policy=only_127_0_0_1, limits=FetchLimits(timeout_s=0.3)) == "timeout"
    assert time.monotonic() - started < 1.5


async def test_http_error_status(server: str) -> None:
    assert await refused(f"{server}/missing", policy=only_127_0_0_1) == "http_status"


def test_public_only_policy() -> None:
    assert public_only(ipaddress.ip_address("8.8.8.8"))
    assert public_only(ipaddress.ip_address("2001:4860:4860::8888"))
    for private in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.0.1", "::1", "fe80::1", "fc00::1",
                    "::ffff:10.0.0.1", "100.64.0.1", "0.0.0.0", "239.1.1.1"):
        assert not public_only(ipaddress.ip_address(private)), private


def _self_signed(tmp_path: Path, host: str) -> tuple[Path, Path]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_https_to_the_checked_address_still_verifies_the_host_name(tmp_path: Path) -> None:
    """The connection goes to the resolved IP, yet TLS (SNI + certificate check) uses the name."""
    import ssl

    cert, key = _self_signed(tmp_path, "images.example")
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    httpd.socket = server_ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_address[1]

    async def resolver(host: str, p: int) -> list[str]:
        return ["127.0.0.1"]

    try:
        client_ctx = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(verify=client_ctx) as client:
            body = await fetch_image(f"https://images.example:{port}/img", client=client, policy=only_127_0_0_1,
                                     resolver=resolver)
            assert body == PNG
            with pytest.raises(FetchRefused) as info:  # a name the certificate does not hold is refused
                await fetch_image(f"https://other.example:{port}/img", client=client, policy=only_127_0_0_1,
                                  resolver=resolver)
            assert info.value.code == "fetch_failed"
    finally:
        httpd.shutdown()
        httpd.server_close()
