"""Issue #8 "Secrets": passwords, tokens and full phone numbers never reach a log.

A full journey runs against the real service as processes, every one at OCOP_LOG_LEVEL=debug with
its stdout and stderr captured to test-output/log-secrets/<process>.log: ``ocop migrate``,
``ocop user create`` (admin; password typed on stdin), ``ocop serve`` (JSON lines) and
``ocop worker`` (console lines) on the session's Redis, ``ocop import`` of a catalogue with phone
numbers, and the sandbox marketplace on 127.0.0.1. Over HTTP: producer sign-up with a phone number,
a failed and a good log-in, a password change, a reset link made by the admin and used, staff made
by the admin, a personal API token used as ``Authorization: Bearer`` (and a forged one), a form
without its CSRF token, a Shopee shop connected through the marketplace's OAuth consent (and the
used code replayed), a product published after the marketplace expired the shop's access token (so
the worker refreshes it), orders synced, and a catalogue imported with phone numbers in its rows.

Every captured byte is then scanned for every secret the run handled, read back from where it
lives (pages, cookies, the sandbox's state: codes, access and refresh tokens, app secrets), for
OCOP_SECRET_KEY and for each phone number in every way it is written. The logs must also show the
journey really happened (requests, jobs, marketplace calls, debug lines), so the scan can fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis

from ocop.accounts.sessions import SESSION_COOKIE
from ocop.marketplace.sandbox import start_embedded_sandbox
from ocop.settings import Settings
from tests.ocop.imports.conftest import csv_text, product_row
from tests.ocop.marketplace.conftest import consent, jpeg
from tests.support.servers import free_port, sandbox_port

SECRET_KEY = "log-secrets-key-9f8e7d6c5b4a3210fedcba"
OCOP = [sys.executable, "-m", "ocop"]
HTML = {"accept": "text/html"}
LOGS = Path(__file__).resolve().parents[2] / "test-output" / "log-secrets"
GIA_LAI = 52

# (national significant number) → every way a person or a system writes it.
SIGNUP_PHONE = "912345678"
CLI_TAX_CODE = "0100000028"
IMPORT_PHONES = ("935234567", "987654321")


def phone_forms(nsn: str) -> set[str]:
    """0912345678, +84912345678, 84912345678, 091 234 5678, 0912.345.678 (and 0912 345 678)."""
    local = "0" + nsn
    return {local, "+84" + nsn, "84" + nsn, f"{local[:3]} {local[3:6]} {local[6:]}",
            f"{local[:4]}.{local[4:7]}.{local[7:]}", f"{local[:4]} {local[4:7]} {local[7:]}"}


@dataclass
class Secrets:
    """Everything the journey handled that must never be written to a log."""

    values: dict[str, str] = field(default_factory=dict)

    def add(self, what: str, value: str | None) -> None:
        assert value, f"the journey did not produce {what}"
        self.values[f"{what}#{len(self.values)}"] = value

    def add_cookies(self, client: httpx.Client) -> None:
        for cookie in client.cookies.jar:
            if cookie.value and len(cookie.value) >= 8:
                self.add(f"cookie {cookie.name}", cookie.value)


@dataclass
class Procs:
    env: dict[str, str]
    logs: Path
    running: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def start(self, name: str, args: list[str], stdin: str | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """A process whose stdout and stderr both go to ``<name>.log``; ``stdin`` is typed into it."""
        with self.log_file(name).open("ab") as out:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(OCOP + args, env={**self.env, **(env or {})}, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL)
        if stdin and proc.stdin:
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
        self.running.append((name, proc))
        return proc

    def finish(self, name: str, proc: subprocess.Popen[bytes], ok: tuple[int, ...] = (0,)) -> None:
        assert proc.wait(60) in ok, self.log_file(name).read_text()[-3000:]

    def stop_all(self) -> None:
        for _, proc in self.running:
            if proc.poll() is None:
                proc.terminate()
        for _, proc in self.running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(20)
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)


def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def csrf_of(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF input on the page"
    return match.group(1)


def post_form(client: httpx.Client, secrets: Secrets, page: str, path: str, data: dict[str, str],
              **kw: Any) -> httpx.Response:
    """Fetch the form page, take its CSRF token (remembered as a secret), post."""
    shown = client.get(page, headers=HTML)
    assert shown.status_code == 200, (page, shown.status_code, shown.text[:300])
    token = csrf_of(shown.text)
    secrets.add("csrf form token", token)
    return client.post(path, data={**data, "_csrf_token": token}, headers=HTML, **kw)


@contextlib.contextmanager
def marketplace_sandbox() -> Iterator[tuple[str, Any]]:
    settings = Settings(secret_key=SECRET_KEY, sandbox_port=sandbox_port())
    url, stop, state = start_embedded_sandbox(settings, review_seconds=0.0, rejection_share=0.0,
                                              orders_per_hour=0.0, access_token_ttl_s=3600)
    try:
        yield url, state
    finally:
        stop()


def db_value(path: Path, sql: str, *args: Any) -> Any:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
        row = conn.execute(sql, args).fetchone()
    return row[0] if row else None


def test_no_secret_reaches_any_log(redis_url: str, tmp_path: Path) -> None:
    secrets = Secrets()
    secrets.add("OCOP_SECRET_KEY", SECRET_KEY)
    logs = tmp_path / "logs"
    logs.mkdir()
    database = tmp_path / "ocop.db"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # A Redis database of our own on the session's server, so no other test's jobs reach our worker.
    own_redis = re.sub(r"/\d+$", "/11", redis_url)

    with marketplace_sandbox() as (sandbox_url, sandbox):
        for app in sandbox.config.apps:
            secrets.add(f"{app.marketplace} app secret", app.app_secret)
        env = {**os.environ, "OCOP_VAR_DIR": str(tmp_path / "var"),
               "OCOP_DATABASE_URL": f"sqlite:///{database}", "OCOP_REDIS_URL": own_redis,
               "OCOP_SECRET_KEY": SECRET_KEY, "OCOP_SANDBOX_URL": sandbox_url,
               "OCOP_BASE_URL": base, "OCOP_LOG_LEVEL": "debug", "OCOP_PUBLISH_BACKOFF_S": "0.2"}
        procs = Procs(env, logs)
        with contextlib.closing(redis.Redis.from_url(own_redis)) as r:
            r.flushdb()
        try:
            procs.finish("migrate", procs.start("migrate", ["migrate"]))
            admin_password, staff_password = "Quan-tri-vien-7#xk", "Can-bo-khuyen-cong-5%ab"
            secrets.add("admin password", admin_password)
            secrets.add("staff password", staff_password)
            # The service and the command-line tools start side by side (this is a 2-core machine).
            # The service writes JSON lines (production), the worker console lines: both renderers.
            serve = procs.start("serve", ["serve", "--host", "127.0.0.1", "--port", str(port)],
                                env={"OCOP_LOG_JSON": "true"})
            procs.start("worker", ["worker"])
            admin = procs.start("user-admin", ["user", "create", "quantri", "--role", "admin"],
                                stdin=admin_password + "\n")
            # A catalogue through ``ocop import`` too, whose output is what a cron job would mail.
            catalogue = tmp_path / "danh-muc-cli.csv"
            catalogue.write_text(csv_text([
                product_row(sku="CLI-01", tax_code=CLI_TAX_CODE, phone="0935.234.567"),
                product_row(sku="CLI-02", tax_code=CLI_TAX_CODE, phone="+84 987 654 32")]))
            cli_import = procs.start("import-cli", ["import", str(catalogue)])
            wait_for("ocop serve", lambda: _up(base, serve), timeout=30)
            procs.finish("user-admin", admin)
            journey(base, sandbox_url, sandbox, secrets, database, own_redis,
                    admin_password=admin_password, staff_password=staff_password)
            procs.finish("import-cli", cli_import, ok=(0, 1))  # 1: a row was refused (the short number)
        finally:
            procs.stop_all()
            shutil.rmtree(LOGS, ignore_errors=True)  # kept for people to read what a full run logs
            shutil.copytree(logs, LOGS, dirs_exist_ok=True)
        # Read back what the marketplace issued during the run: auth codes, access and refresh tokens.
        with sandbox.lock:
            issued = [*sandbox.codes, *sandbox.tokens, *sandbox.refresh_tokens]
        assert len(issued) >= 3, issued
        for value in issued:
            secrets.add("marketplace code/token", value)

    kinds = {name.split("#")[0] for name in secrets.values}
    wanted = {f"cookie {SESSION_COOKIE}", "cookie csrftoken", "API token", "reset token", "OAuth code"}
    assert wanted <= kinds, kinds
    captured = {p.stem: p.read_bytes() for p in sorted(logs.glob("*.log"))}
    needles = dict(secrets.values)
    for nsn in (SIGNUP_PHONE, *IMPORT_PHONES):
        for form in phone_forms(nsn):
            needles[f"phone {form}"] = form
    leaks = find_leaks(captured, needles)
    assert leaks == [], "\n\n".join(leaks)
    # The logs are real: the service logged requests, the worker ran jobs, marketplace calls happened.
    assert set(captured) == {"migrate", "user-admin", "import-cli", "serve", "worker"}, captured.keys()
    serve_log, worker_log = captured["serve"].decode(), captured["worker"].decode()
    assert serve_log.count("request") >= 20 and "/shops/callback/shopee" in serve_log, serve_log[-2000:]
    assert "/reset/***" in serve_log, "the reset request is not in the access log"
    assert "publish_listing" in worker_log and "import_catalogue" in worker_log, worker_log[-3000:]
    assert "sync_orders" in worker_log, worker_log[-3000:]
    assert "/shopee/api/v2/" in worker_log, "marketplace calls are not logged"
    assert "[debug" in worker_log, "OCOP_LOG_LEVEL=debug did not reach the worker's logging"


def find_leaks(captured: dict[str, bytes], needles: dict[str, str]) -> list[str]:
    """Every place a needle occurs in a log, with some context to find the line that leaked it."""
    leaks = []
    for log_name, data in captured.items():
        for name, value in needles.items():
            at = data.find(value.encode())
            while at >= 0:
                context = data[max(0, at - 160): at + len(value) + 80].decode(errors="replace")
                leaks.append(f"{log_name}.log: {name}: …{context}…")
                at = data.find(value.encode(), at + 1)
    return leaks


def test_the_scan_finds_a_planted_secret() -> None:
    """The scanner itself can fail: a token and a dotted phone number hidden in a line are found."""
    line = b"2026-11-26 [info] request path=/x note=goi 0912.345.678 token=abcDEF123456789xyz\n"
    needles = {"API token": "abcDEF123456789xyz"} | {f"phone {f}": f for f in phone_forms(SIGNUP_PHONE)}
    found = find_leaks({"serve": line}, needles)
    assert [f.split(":")[1].strip() for f in found] == ["API token", "phone 0912.345.678"]
    assert find_leaks({"serve": b"masked 091\xe2\x80\xa678 token=***"}, needles) == []


def _up(base: str, serve: subprocess.Popen[bytes]) -> bool:
    assert serve.poll() is None, "ocop serve exited"
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    return False


def journey(base: str, sandbox_url: str, sandbox: Any, secrets: Secrets, database: Path, redis_url: str, *,
            admin_password: str, staff_password: str) -> None:
    signup_password, changed_password, reset_password = "Mat-khau-dang-ky-1!", "Mat-khau-moi-2@", "Dat-lai-3$"
    wrong_password = "Sai-mat-khau-9^"
    for what, value in (("signup password", signup_password), ("changed password", changed_password),
                        ("reset password", reset_password), ("wrong password", wrong_password)):
        secrets.add(what, value)
    from ocop.producers.addresses import ward_options

    def client() -> httpx.Client:
        return httpx.Client(base_url=base, timeout=20)

    with client() as producer, client() as admin, client() as staff:
        # Sign-up: the phone typed the way people type it.
        done = post_form(producer, secrets, "/signup", "/signup", {
            "kind": "htx", "legal_name": "HTX Nhật ký Bí mật", "tax_code": "0100109106",
            "phone": "0912.345.678", "province_code": str(GIA_LAI),
            "commune_code": str(ward_options(GIA_LAI)[0].code), "address_line": "12 Lê Lợi",
            "username": "htx.bimat", "password": signup_password, "confirm": signup_password})
        assert done.status_code == 303, done.text[:1000]
        secrets.add_cookies(producer)

        # Log out, fail a log-in, log in, change the password.
        assert post_form(producer, secrets, "/account/password", "/logout", {}).status_code == 303
        bad = post_form(producer, secrets, "/login", "/login",
                        {"username": "htx.bimat", "password": wrong_password})
        assert bad.status_code == 400
        good = post_form(producer, secrets, "/login", "/login",
                         {"username": "htx.bimat", "password": signup_password})
        assert good.status_code == 303, good.text[:500]
        secrets.add_cookies(producer)
        changed = post_form(producer, secrets, "/account/password", "/account/password", {
            "current": signup_password, "new": changed_password, "confirm": changed_password})
        assert changed.status_code == 200, changed.text[:500]

        # The admin (made by ``ocop user create``) makes a reset link; the producer uses it.
        assert post_form(admin, secrets, "/login", "/login",
                         {"username": "quantri", "password": admin_password}).status_code == 303
        secrets.add_cookies(admin)
        users = admin.get("/admin/users", headers=HTML).text
        user_id = re.search(r'<td>htx\.bimat<br>.*?/admin/users/(\d+)/reset-link', users, re.S)
        assert user_id, users[:2000]
        made = post_form(admin, secrets, "/admin/users", f"/admin/users/{user_id.group(1)}/reset-link", {})
        link = re.search(r'value="([^"]*/reset/[^"]+)"', made.text)
        assert made.status_code == 200 and link, made.text[:1000]
        reset_path = urlsplit(link.group(1)).path
        secrets.add("reset token", reset_path.rsplit("/", 1)[-1])
        with client() as anonymous:
            used = post_form(anonymous, secrets, reset_path, reset_path,
                             {"new": reset_password, "confirm": reset_password})
            assert used.status_code == 200, used.text[:500]
            secrets.add_cookies(anonymous)
        # the reset ended the producer's session: the page sends them to sign in again
        assert producer.get("/products", headers=HTML).status_code == 303
        assert post_form(producer, secrets, "/login", "/login",
                         {"username": "htx.bimat", "password": reset_password}).status_code == 303
        secrets.add_cookies(producer)

        # A personal API token, used as a Bearer token.
        page = post_form(producer, secrets, "/account/tokens", "/account/tokens", {"name": "script"})
        token = re.search(r'class="copy" readonly value="([^"]+)"', page.text)
        assert page.status_code == 200 and token, page.text[:1000]
        secrets.add("API token", token.group(1))
        api = httpx.Client(base_url=base, timeout=20, headers={"authorization": f"Bearer {token.group(1)}"})
        with api:
            forged = {"authorization": f"Bearer {token.group(1)[:-4]}zzzz"}
            wrong = httpx.get(f"{base}/api/v1/me", headers=forged)
            assert wrong.status_code == 401, wrong.text
            no_csrf = producer.post("/account/tokens", data={"name": "no csrf"}, headers=HTML)
            assert no_csrf.status_code == 403, no_csrf.text[:300]
            me = api.get("/api/v1/me")
            assert me.status_code == 200 and me.json()["username"] == "htx.bimat", me.text
            created = api.post("/api/v1/products", json={
                "name": "Mật ong hoa cà phê", "sku": "MO-01", "ocop_group": 1, "unit": "chai",
                "description": "Mật ong nguyên chất từ vườn cà phê Gia Lai.", "net_quantity": "500 ml",
                "price": 180000, "weight": 700, "length_cm": 7, "width_cm": 7, "height_cm": 20, "stock": 30})
            assert created.status_code == 201, created.text
            product_id = created.json()["id"]
            cert = api.post(f"/api/v1/products/{product_id}/certificates", json={
                "stars": 4, "decision_number": "123/QĐ-UBND", "issuing_body": "UBND tỉnh Gia Lai",
                "issued_on": "2026-01-15"})
            assert cert.status_code == 201, cert.text
            photo = api.post(f"/api/v1/products/{product_id}/images",
                             files={"file": ("mat-ong.jpg", jpeg(), "image/jpeg")})
            assert photo.status_code == 201, photo.text
            images = f"/api/v1/products/{product_id}/images"
            wait_for("the photo renditions", lambda: api.get(images).json()[0]["status"] == "ready")

            # Connect a Shopee shop through the marketplace's OAuth consent page.
            start = producer.get("/shops/connect/shopee")
            assert start.status_code == 303, start.text
            assert start.headers["location"].startswith(sandbox_url), start.headers
            back = consent(start.headers["location"])
            secrets.add("OAuth code", back["code"])
            callback = producer.get("/shops/callback/shopee", params=back)
            assert callback.status_code == 303, callback.text
            assert "msg=connected" in callback.headers["location"], callback.headers
            replayed = producer.get("/shops/callback/shopee", params=back)  # a used code is refused
            assert replayed.status_code == 303 and "err=" in replayed.headers["location"], replayed.headers
            shops = api.get("/api/v1/shops").json()
            assert len(shops) == 1, shops

            # Publish with the token; the worker process pushes to the sandbox, after refreshing the
            # shop's access token, which the marketplace has expired meanwhile (refresh token in a body).
            with sandbox.lock:
                for record in sandbox.tokens.values():
                    record.expires_at = time.time() - 1
            published = api.post(f"/api/v1/products/{product_id}/publish",
                                 json={"shop_ids": [shops[0]["id"]]})
            assert published.status_code == 202, published.text
            settled = "SELECT state FROM listing WHERE state IN ('in_review', 'live', 'failed')"
            state = wait_for("the listing to go live", lambda: db_value(database, settled), timeout=30)
            assert state in ("in_review", "live"), db_value(database, "SELECT last_error FROM listing")

        # Orders from the marketplace, pulled by the worker's order sync.
        now = time.time()
        httpx.post(f"{sandbox_url}/_admin/orders", timeout=10, json={
            "marketplace": "shopee", "shop_id": shops[0]["external_shop_id"], "count": 5,
            "since": now - 4 * 86400 - 3600, "until": now - 86400}).raise_for_status()
        _enqueue(redis_url, "sync_orders")
        wait_for("orders synced", lambda: db_value(database, "SELECT count(*) FROM market_order") == 5, timeout=20)

        # Staff import a catalogue whose rows carry phone numbers.
        created = post_form(admin, secrets, "/admin/users", "/admin/users", {
            "username": "canbo", "password": staff_password, "role": "staff", "display_name": "Cán bộ",
            "area_province_code": str(GIA_LAI)})
        assert created.status_code == 200 and "canbo" in created.text, created.text[:1000]
        assert post_form(staff, secrets, "/login", "/login",
                         {"username": "canbo", "password": staff_password}).status_code == 303
        secrets.add_cookies(staff)
        rows = [product_row(phone="0935 234 567"),
                product_row(tax_code="0314409058", producer_name="Công ty TNHH Gò Bồi",
                            producer_kind="Doanh nghiệp", sku="NM-01", name="Nước mắm Gò Bồi",
                            phone="+84 987 654 321"),
                product_row(sku="BAD-01", phone="0987.654.321x")]  # refused: the report names the bad cell
        page = staff.get("/imports", headers=HTML)
        secrets.add("csrf form token", csrf_of(page.text))
        upload = staff.post("/imports", data={"_csrf_token": csrf_of(page.text)}, headers=HTML,
                            files={"file": ("danh-muc.csv", csv_text(rows).encode(), "text/csv")})
        assert upload.status_code == 303, upload.text[:500]
        web_batch = "FROM import_batch WHERE file_name = 'danh-muc.csv'"
        finished = f"SELECT status {web_batch} AND status != 'running'"
        wait_for("the import", lambda: db_value(database, finished), timeout=30)
        assert db_value(database, f"SELECT created || '/' || failed {web_batch}") == "2/1"
        for client in (producer, admin, staff):
            secrets.add_cookies(client)


def _enqueue(redis_url: str, job: str) -> None:
    """Ask the worker to run a cron job now, through arq as the scheduler would."""
    import asyncio

    from ocop.jobs.queue import open_queue

    async def go() -> None:
        queue = await open_queue(redis_url)
        try:
            assert await queue.enqueue(job, job_id=f"{job}:{time.time()}") is not None
        finally:
            await queue.close()

    asyncio.run(go())


@pytest.mark.parametrize("nsn", [SIGNUP_PHONE, "2563822123"])
def test_scrub_masks_every_way_of_writing_a_phone_number(nsn: str) -> None:
    from ocop.logs import scrub

    forms = phone_forms(nsn) if len(nsn) == 9 else {"0" + nsn, "+84" + nsn, "0256 3822 123", "0256.3822.123"}
    for form in forms:
        line = scrub(f"note=khách {form}, gọi lại")
        assert nsn[-4:] not in line.replace(" ", "").replace(".", ""), (form, line)
        assert "…" in line, (form, line)
    for text in (f"sdt=%2B84{nsn}&x=1", f"0{nsn} 5 items", f"goi 0{nsn}x"):  # URL-encoded; with neighbours
        assert nsn[-4:] not in scrub(text), text
    # Numbers that cannot be phone numbers stay readable: tax codes, timestamps, order ids.
    for value in ("0100109106", "1795656458", "2611230656380003", "2026-11-26T01:27:38.172026Z"):
        assert scrub(f"value={value}") == f"value={value}"


@pytest.mark.parametrize(("text", "secret"), [
    ("GET /shops/callback/shopee?code=C0DE123&shop_id=5&state=s", "C0DE123"),
    ("POST https://x/api/v2/auth?partner_id=1&timestamp=2&sign=ab12cd34", "ab12cd34"),
    ('body {"refresh_token": "R3FR3SH", "shop_id": 5}', "R3FR3SH"),
    ("authorization: Bearer T0KEN.abc", "T0KEN.abc"),
    ("x Bearer T0KEN.abc y", "T0KEN.abc"),
    ("form password=Hunter22&_csrf_token=CSRF99 new=N3W", "Hunter22"),
    ("form password=Hunter22&_csrf_token=CSRF99 new=N3W", "CSRF99"),
    ("cookie: session=SESS10N", "SESS10N"),
    ("path=/reset/R3S3T-token status=200", "R3S3T-token"),
    ('{"event": "body {\\"password\\": \\"Hunter22\\"}"}', "Hunter22"),  # JSON inside a JSON line
])
def test_scrub_masks_secret_values(text: str, secret: str) -> None:
    from ocop.logs import scrub

    clean = scrub(text)
    assert secret not in clean and "***" in clean, clean
    if text.startswith("{"):
        json.loads(clean)  # still one valid JSON line


def test_tracebacks_and_standard_logging_records_are_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    """Library records (httpx, uvicorn, arq) and exceptions rendered into the line go through the
    same scrubbing as structlog's own fields."""
    import logging

    from ocop.logs import configure_logging, log

    root, access = logging.getLogger(), logging.getLogger("uvicorn.access")
    before, level = list(root.handlers), root.level
    # uvicorn servers started earlier in this process configured its loggers: point ours at our handler.
    saved_access = (access.handlers, access.level, access.propagate, access.disabled)
    try:
        configure_logging("debug", json=False)
        ours = [h for h in root.handlers if h not in before]
        access.handlers, access.level, access.propagate, access.disabled = ours, logging.DEBUG, False, False
        url = "https://partner.shopeemobile.com/api/v2/shop/get?access_token=ACC3SS&sign=S1GNATURE"
        try:
            raise ValueError(f"refused {url} for 0912 345 678")
        except ValueError:
            log.exception("push_failed", shop=5)
            logging.getLogger("some.library").warning("calling %s", url, exc_info=True)
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET",
                                                 "/shops/callback/shopee?code=C0DE", "1.1", 303)
        logging.getLogger("some.library").debug("debug reaches the handler")
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
        root.setLevel(level)
        access.handlers, access.level, access.propagate, access.disabled = saved_access
    out = capsys.readouterr()
    text = out.out + out.err
    for secret in ("ACC3SS", "S1GNATURE", "C0DE", "0912 345 678"):
        assert secret not in text, (secret, text)
    assert text.count("access_token=***") >= 3 and "push_failed" in text and "Traceback" in text, text
    assert "debug reaches the handler" in text and "code=***" in text, text


def test_secret_fields_are_masked_and_useful_codes_kept(capsys: pytest.CaptureFixture[str]) -> None:
    from ocop.logs import configure_logging, log

    configure_logging("info", json=True)
    log.info("shop_connected", code="C0DE", access_token="ACC3SS", session_id="S3SS", app_secret="APPS3C",
             tax_code="0100109106", commune_code=22015, status_code=303, note="khách 0912345678")
    line = capsys.readouterr().err
    for secret in ("C0DE", "ACC3SS", "S3SS", "APPS3C", "0912345678"):
        assert secret not in line, (secret, line)
    for kept in ('"tax_code": "0100109106"', '"commune_code": 22015', '"status_code": 303'):
        assert kept in line, line
