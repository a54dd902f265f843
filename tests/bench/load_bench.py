"""Load: the product list and product create JSON endpoints of the real service on PostgreSQL,
against a bare Litestar hello-world on the same server settings, in one run.

    apt-get install -y wrk      # the load generator (Debian package ``wrk``; required, never skipped)
    .venv/bin/python tests/bench/load_bench.py [--requests 20000] [--duration 10] [--connections 16]

What runs (everything on 127.0.0.1, every server its own process):

* a throw-away PostgreSQL cluster and redis-server (``tests.support.servers``), migrated and seeded
  with 1 producer owning 200 products plus 50 other producers with 40 products each (so the
  producer scope filter has rows to skip); every product has a certificate and 3 photos with
  rendition metadata for the four marketplaces and the web thumbnail;
* the service as deployed: :func:`serve` calls ``ocop.cli.serve.serve`` (what ``ocop serve`` runs)
  configured through ``OCOP_*`` variables like production (external Redis, no in-process worker);
* a bare Litestar app with one ``GET /`` JSON handler, put in place of ``create_app`` in the same
  ``ocop.cli.serve.serve`` call, so both get identical ``uvicorn.run`` arguments whatever
  ``ocop serve`` passes today (the run checks they are equal and prints them): 1 worker, the
  event loop uvicorn picks ("auto": uvloop if installed, else asyncio) and ``ocop serve``'s HTTP
  protocol class;
* ``wrk`` (C, 1 thread, 16 connections) as the load generator in its own process, bounded in time
  (``-d``) and in count (its Lua script stops after ``--requests`` responses and times the span).

The service runs twice, as deployed (``OCOP_API_CACHE_MB`` default: token lookups and list
answers cached per process and dropped on the database's change notices, ``ocop.change_feed``) and
with caching off, so the run also shows what a request costs when nothing is cached (the first
request after a write). Both must give the same answer (checked before measuring).

Authentication is a personal API token (``Authorization: Bearer ocop_…``) of the producer user.
Printed per endpoint: req/s, p50/p99 latency, non-2xx and socket errors, the ratio to hello-world,
server CPU and PostgreSQL CPU per request (``/proc/PID/stat``: unlike req/s, barely moved by other
load on a shared machine) and the server's peak resident memory (``VmHWM``). ``ocop /healthz``
(the service's middleware stack, no database) separates stack cost from handler cost. Hello-world
and the product list alternate for ``--rounds`` rounds (3); each round's ratio is taken, and the
verdict uses the median round.

Target (issue 8): product list >= 40 % of hello-world's req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 0.40
SECRET_KEY = "load-bench-secret-key-0123456789abcdef"
MAIN_PRODUCTS = 200
OTHER_PRODUCERS = 50
OTHER_PRODUCTS_EACH = 40
PHOTOS_EACH = 3
PROFILES = ("shopee", "lazada", "tiktok", "tiki", "web_thumb")


# ------------------------------------------------------------------------------------ servers


SERVER_CPUS = {0}  # --server-cpu
LOADGEN_CPUS = (set(range(os.cpu_count() or 1)) - SERVER_CPUS) or SERVER_CPUS


def _pin(cpus: set[int]) -> Any:
    """A ``preexec_fn`` putting the child on ``cpus``. The server under test (hello-world or ours,
    one process each) gets one CPU (``--server-cpu``, 0) and the load generator the others, the
    same for every scenario:
    left to the scheduler, wrk and PostgreSQL land on the server's core at random moments, which
    moved the server's CPU time per request by up to 30 % between identical runs on the 2-core
    development machine."""
    return lambda: os.sched_setaffinity(0, cpus)


def serve(which: str, port: int) -> None:
    """Child process: ``ocop.cli.serve.serve`` (what ``ocop serve`` runs) for the service, or for the
    bare hello-world app put in place of ``create_app``, so both get whatever uvicorn settings
    ``ocop serve`` uses today. The ``uvicorn.run`` arguments are written to the log (first line) for
    the parent to compare and print."""
    import uvicorn

    import ocop.app
    from ocop.cli.serve import serve as ocop_serve
    from ocop.settings import get_settings

    real_run = uvicorn.run

    def run(app: Any, **kwargs: Any) -> None:
        shown = {k: v if isinstance(v, (str, int, float, bool, type(None))) else
                 f"{getattr(v, '__module__', '')}.{getattr(v, '__qualname__', type(v).__name__)}"
                 for k, v in kwargs.items() if k not in ("host", "port")}
        print("UVICORN_ARGS " + json.dumps(shown, sort_keys=True), flush=True)
        real_run(app, **kwargs)

    uvicorn.run = run  # type: ignore[assignment]
    if which == "hello":
        from litestar import Litestar, get

        @get("/", sync_to_thread=False)
        def hello() -> dict[str, str]:
            return {"hello": "world"}

        def create_app(settings: Any = None, **_: Any) -> Litestar:
            return Litestar(route_handlers=[hello])

        ocop.app.create_app = create_app  # type: ignore[assignment]
    ocop_serve(get_settings().listening_on("127.0.0.1", port))


def uvicorn_args(log: Path) -> str:
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("UVICORN_ARGS "):
            return line.removeprefix("UVICORN_ARGS ")
    raise RuntimeError(f"no uvicorn arguments in {log}")


def loop_flavour() -> str:
    """uvicorn's default ``loop="auto"`` picks uvloop when it is installed."""
    import importlib.util

    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {path}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer {path} within {timeout}s")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


@contextlib.contextmanager
def running(cmd: list[str], env: dict[str, str], port: int, ready_path: str, log: Path) -> Iterator[int]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=_pin(SERVER_CPUS))
        try:
            try:
                wait_http(port, ready_path, proc)
            except RuntimeError:
                out.flush()
                sys.stderr.write(log.read_text(errors="replace")[-3000:])
                raise
            yield proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ----------------------------------------------------------------------------------------- seed


@dataclass
class Seeded:
    producer_id: int
    token: str
    staff_token: str
    products: int


def _renditions(image_key: str) -> dict[str, dict[str, object]]:
    return {
        p: {"key": f"r/{image_key}/{p}.jpg", "width": 1024 if p != "web_thumb" else 320,
            "height": 1024 if p != "web_thumb" else 320, "bytes": 180_000 if p != "web_thumb" else 18_000}
        for p in PROFILES
    }


async def seed(url: str) -> Seeded:
    """Migrate and fill the database through the real tables (and the real user/token services)."""
    from ocop import db, piccolo_app
    from ocop.accounts.services import NewUser, create_user
    from ocop.accounts.tokens import create_token
    from ocop.catalog.tables import Certificate, Image, Product
    from ocop.domain.text import fold
    from ocop.producers.addresses import ward_options
    from ocop.producers.tables import Producer

    engine = db.engine_from_url(url)
    await piccolo_app.migrate(engine)
    await db.prepare(engine)
    wards = ward_options(52)  # Gia Lai: real 2025 commune codes
    producer_ids: list[int] = []
    for n in range(OTHER_PRODUCERS + 1):
        name = f"HTX Nông sản sạch số {n}"
        row = Producer(kind="htx", legal_name=name, name_folded=fold(name), tax_code=f"{4100000000 + n}",
                       phone="+84912345678", province_code=52, commune_code=wards[n % len(wards)].code)
        await row.save()
        producer_ids.append(int(row.id))
    main_id = producer_ids[0]
    names = ("Bánh tráng nước dừa", "Mật ong hoa cà phê", "Trà xanh Tân Cương", "Nước mắm Tam Quan",
             "Rượu bàu đá", "Hạt điều rang muối", "Tiêu đen Chư Sê", "Cà phê Robusta")
    today = date(2026, 11, 26)
    products: list[Product] = []
    for pid in producer_ids:
        for i in range(MAIN_PRODUCTS if pid == main_id else OTHER_PRODUCTS_EACH):
            name = f"{names[i % len(names)]} loại {i}"
            products.append(Product(
                producer=pid, sku=f"SP-{i:04d}", name=name, name_folded=fold(name), ocop_group=1 + i % 6,
                sub_group="Thực phẩm chế biến", description="Sản phẩm OCOP đặc trưng của địa phương. " * 8,
                unit="hộp", net_quantity="500 g", weight_g=550, length_mm=200, width_mm=150, height_mm=50,
                price_vnd=45_000 + 5_000 * (i % 30), stock=40 + i, shelf_life_days=365,
                ingredients="Nguyên liệu tự nhiên", status="active"))
    ids: list[int] = []
    for i in range(0, len(products), 500):
        ids += [r["id"] for r in await Product.insert(*products[i:i + 500]).returning(Product.id)]
    certs = [Certificate(product=p, stars=3 + p % 3, decision_number=f"{p}/QĐ-UBND",
                         issuing_body="UBND tỉnh Gia Lai", issued_on=today - timedelta(days=300 + p % 400),
                         expires_on=today + timedelta(days=800 - p % 900)) for p in ids]
    images = [Image(product=p, position=k, original_key=f"o/{p:06d}{k}", original_name=f"anh-{k}.jpg",
                    width=3000, height=4000, bytes=2_400_000, phash=f"{p:016x}", status="ready",
                    renditions=_renditions(f"{p}-{k}")) for p in ids for k in range(PHOTOS_EACH)]
    for rows in (certs, images):
        for i in range(0, len(rows), 500):
            await type(rows[0]).insert(*rows[i:i + 500])
    await engine.run_ddl("ANALYZE")  # planner statistics, as autovacuum keeps them in production
    user = await create_user(NewUser(username="bench-producer", password="mat-khau-an-toan-1",
                                     role="producer", producer_id=main_id))
    _, token = await create_token(int(user.id), "load bench")
    staff = await create_user(NewUser(username="bench-staff", password="mat-khau-an-toan-1", role="staff",
                                      area_province_code=52))
    _, staff_token = await create_token(int(staff.id), "load bench")
    await db.close(engine)
    return Seeded(producer_id=main_id, token=token, staff_token=staff_token, products=len(ids))


async def create_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


# ---------------------------------------------------------------------------------------- wrk

LUA = r"""
local max_responses = tonumber(os.getenv("BENCH_MAX_RESPONSES"))
local token = os.getenv("BENCH_TOKEN")
local method = os.getenv("BENCH_METHOD")
local path = os.getenv("BENCH_PATH")
-- globals (not locals): done() reads each thread's ``bad`` through thread:get
counter = 0
sent = 0
bad = 0
tid = 1
first_bad = ""
first_ns = 0
last_ns = 0
local threads = {}

-- wrk reports its whole -d duration even when a thread stops early, so time the measured span
-- ourselves (wall clock, read twice per thread)
local function now_ns()
  local p = io.popen("date +%s%N")
  local v = tonumber(p:read("*l"))
  p:close()
  return v
end

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
  wrk.headers["Accept"] = "application/json"
end

function request()
  if sent == 0 then first_ns = now_ns() end
  sent = sent + 1
  if method == "POST" then
    local body = string.format(
      '{"name":"Bánh tráng nước dừa mẻ %d","sku":"LB-%d-%d","ocop_group":1,"unit":"túi",' ..
      '"net_quantity":"500 g","price":"150.000","weight":"0,5 kg","length_cm":20,"width_cm":15,' ..
      '"height_cm":5,"stock":40}', sent, tid, sent)
    local headers = {["Content-Type"] = "application/json"}
    for k, v in pairs(wrk.headers) do headers[k] = v end
    return wrk.format("POST", path, headers, body)
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  counter = counter + 1
  if status < 200 or status > 299 then
    bad = bad + 1
    if bad == 1 then first_bad = status .. " " .. string.sub(body or "", 1, 300) end
  end
  if counter == max_responses then
    last_ns = now_ns()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  local bad_example = ""
  local span_us = summary.duration
  local t0, t1, all_stopped = nil, 0, true
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    local a, b = t:get("first_ns"), t:get("last_ns")
    if t0 == nil or a < t0 then t0 = a end
    if bad_example == "" then bad_example = t:get("first_bad") end
    if b == 0 then all_stopped = false elseif b > t1 then t1 = b end
  end
  if all_stopped and t0 ~= nil then span_us = math.floor((t1 - t0) / 1000) end
  if bad_example ~= "" then io.write("BENCH_FIRST_ERROR " .. bad_example .. "\n") end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non_2xx":%d,' ..
    '"socket_errors":%d}\n',
    summary.requests, span_us, latency:percentile(50), latency:percentile(99), bad_total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    server_cpu_s: float = 0.0
    db_cpu_s: float = 0.0
    peak_rss_mib: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def server_cpu_ms(self) -> float:
        """Server CPU per request: unlike req/s, barely moved by other load on a shared machine."""
        return 1000 * self.server_cpu_s / max(1, self.requests)

    @property
    def db_cpu_ms(self) -> float:
        return 1000 * self.db_cpu_s / max(1, self.requests)


_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2:].split()  # fields after "pid (comm) "


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """user+system CPU of each live pid (``/proc/PID/stat`` utime, stime)."""
    out: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = _stat(pid)
            out[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    return out


def postgres_pids(port: int) -> list[int]:
    """The postmaster listening on ``port`` and its children (backends of our pool included)."""
    postmaster = None
    procs: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            procs[int(entry.name)] = int(_stat(int(entry.name))[1])
            if argv and argv[0].endswith(b"postgres") and str(port).encode() in argv:
                postmaster = int(entry.name)
    if postmaster is None:
        raise RuntimeError(f"no postgres listening on {port}")
    return [postmaster, *(pid for pid, ppid in procs.items() if ppid == postmaster)]


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk not found: install it with `apt-get install -y wrk` (Debian package wrk)")
    return found


def run_wrk(name: str, url: str, *, method: str, token: str, script: Path, args: argparse.Namespace,
            max_responses: int | None = None) -> Result:
    env = {**os.environ, "BENCH_TOKEN": token, "BENCH_METHOD": method,
           "BENCH_PATH": urlsplit(url)._replace(scheme="", netloc="").geturl(),
           "BENCH_MAX_RESPONSES": str(max_responses or args.requests)}
    cmd = [wrk_binary(), "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s",
           "-s", str(script), url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.duration + 60,
                         check=False, preexec_fn=_pin(LOADGEN_CPUS))
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result: {out.stdout}\n{out.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    for x in out.stdout.splitlines():
        if x.startswith("BENCH_FIRST_ERROR "):
            print(f"{name}: first non-2xx answer: {x.removeprefix('BENCH_FIRST_ERROR ')}", file=sys.stderr)
    return Result(name=name, requests=data["requests"], seconds=data["duration_us"] / 1e6,
                  p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000, non_2xx=data["non_2xx"],
                  socket_errors=data["socket_errors"])


def measure(name: str, url: str, *, server_pid: int, pg_port: int, **kw: Any) -> Result:
    """One wrk run, with the CPU the server and PostgreSQL spent on it."""
    db_pids = postgres_pids(pg_port)
    before = cpu_seconds([server_pid, *db_pids])
    result = run_wrk(name, url, **kw)
    after = cpu_seconds([server_pid, *postgres_pids(pg_port)])
    result.server_cpu_s = after[server_pid] - before[server_pid]
    result.db_cpu_s = sum(v - before.get(pid, 0.0) for pid, v in after.items() if pid != server_pid)
    result.peak_rss_mib = peak_rss_mib(server_pid)
    return result


def same_answer(url: str, cold_url: str, token: str) -> None:
    """The cached server answers exactly like the uncached one (twice: the second may be a hit)."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    cold = httpx.get(cold_url, headers=headers, timeout=10).json()
    for _ in range(2):
        if httpx.get(url, headers=headers, timeout=10).json() != cold:
            raise RuntimeError("the cached and the uncached service answered the product list differently")


# --------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="max responses per scenario")
    parser.add_argument("--duration", type=int, default=10, help="max seconds per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=500, help="requests before each measured run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating hello-world / product list rounds")
    parser.add_argument("--server-cpu", type=int, default=0,
                        help="the CPU the servers run on; wrk gets the others")
    parser.add_argument("--log-level", default="info", help="OCOP_LOG_LEVEL of the served app")
    parser.add_argument("--serve", nargs=2, metavar=("APP", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    global SERVER_CPUS, LOADGEN_CPUS
    SERVER_CPUS = {args.server_cpu}
    LOADGEN_CPUS = (set(range(os.cpu_count() or 1)) - SERVER_CPUS) or SERVER_CPUS
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    wrk_binary()

    from tests.support.servers import postgres_server, redis_server

    with tempfile.TemporaryDirectory(prefix="ocop-load-") as tmp_s, redis_server() as redis_url, \
            postgres_server() as pg:
        tmp = Path(tmp_s)
        script = tmp / "bench.lua"
        script.write_text(LUA)
        asyncio.run(create_database(pg.url(), "ocop_load"))
        database_url = pg.url("ocop_load")
        started = time.perf_counter()
        seeded = asyncio.run(seed(database_url))
        print(f"seeded {seeded.products} products ({MAIN_PRODUCTS} for the benched producer) "
              f"in {time.perf_counter() - started:.1f} s", flush=True)
        port, hello_port = free_port(), free_port()
        env = {**os.environ, "OCOP_DATABASE_URL": database_url, "OCOP_REDIS_URL": redis_url,
               "OCOP_VAR_DIR": str(tmp / "var"), "OCOP_SECRET_KEY": SECRET_KEY, "OCOP_RUN_SANDBOX": "false",
               "OCOP_LOG_LEVEL": args.log_level,
               # measure throughput, not the per-token API limit: a pace no run can reach keeps the
               # limiter's per-request Redis check in the measured path without ever refusing
               "OCOP_API_RATE_PER_MIN": "100000000", "OCOP_API_RATE_BURST": "100000000",
               "PYTHONPATH": str(ROOT)}
        base = f"http://127.0.0.1:{port}"
        hello_url = f"http://127.0.0.1:{hello_port}/"
        list_url = f"{base}/api/v1/products?per_page=20"
        common = dict(script=script, args=args, pg_port=pg.port)
        # All servers stay up for the whole run (an idle one costs nothing).
        me = [sys.executable, str(Path(__file__).resolve()), "--serve"]
        cold_port = free_port()
        cold_base = f"http://127.0.0.1:{cold_port}"
        with running([*me, "ocop", str(port)], env, port, "/readyz", tmp / "ocop.log") as pid, \
                running([*me, "ocop", str(cold_port)], {**env, "OCOP_API_CACHE_MB": "0"}, cold_port,
                        "/readyz", tmp / "ocop-cold.log") as cold_pid, \
                running([*me, "hello", str(hello_port)], env, hello_port, "/", tmp / "hello.log") as h_pid:
            same_answer(list_url, list_url.replace(base, cold_base), seeded.token)
            server_args = uvicorn_args(tmp / "ocop.log")
            if server_args != uvicorn_args(tmp / "hello.log"):
                raise RuntimeError("the two servers got different uvicorn arguments")
            run_wrk("warm-up", hello_url, method="GET", token="", script=script, args=args,
                    max_responses=args.warmup)
            for url in (list_url, list_url.replace(base, cold_base)):
                run_wrk("warm-up", url, method="GET", token=seeded.token, script=script, args=args,
                        max_responses=args.warmup)
            # hello-world and the product list alternate, round after round: a neighbour's load on a
            # shared machine then moves both figures of a round together, and the verdict takes the
            # median round instead of whichever moment one scenario happened to run at
            rounds = [(measure("hello-world", hello_url, method="GET", token="", server_pid=h_pid, **common),
                       measure("product list", list_url, method="GET", token=seeded.token, server_pid=pid,
                               **common))
                      for _ in range(args.rounds)]
            others = [
                measure("list, no cache", list_url.replace(base, cold_base), method="GET", token=seeded.token,
                        server_pid=cold_pid, **common),
                # provincial staff see every producer of the province (all 2,200 products here)
                measure("list as staff", list_url, method="GET", token=seeded.staff_token, server_pid=pid,
                        **common),
                # the service's whole middleware stack with no database, auth or payload: the
                # ceiling for any endpoint of ours, separating stack cost from handler cost
                measure("ocop /healthz", f"{base}/healthz", method="GET", token="", server_pid=pid, **common),
                measure("product create", f"{base}/api/v1/products", method="POST", token=seeded.token,
                        server_pid=pid, **common),
            ]
    report(args, rounds, others, server_args)


def report(args: argparse.Namespace, rounds: list[tuple[Result, Result]], others: list[Result],
           server_args: str) -> None:
    hello_rps = statistics.median(h.rps for h, _ in rounds)
    print(f"\nboth servers: ocop.cli.serve.serve -> uvicorn.run, 1 worker, loop={loop_flavour()}, "
          f"identical arguments {server_args}\nload: wrk -t1 -c{args.connections}, "
          f"<= {args.requests} responses / {args.duration} s each; "
          f"ocop log level {args.log_level}; {args.rounds} rounds of hello-world then product list; "
          f"servers on CPU {sorted(SERVER_CPUS)}, wrk on CPU {sorted(LOADGEN_CPUS)}")
    print(f"{'endpoint':<16}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'non-2xx':>8}{'sockerr':>8}"
          f"{'vs hello':>9}{'srv CPU/req':>12}{'db CPU/req':>11}{'peak RSS':>10}")

    def row(r: Result, hello: float) -> None:
        print(f"{r.name:<16}{r.rps:>8,.0f}{r.p50_ms:>8.1f}{r.p99_ms:>8.1f}{r.non_2xx:>8}{r.socket_errors:>8}"
              f"{r.rps / hello:>9.0%}{r.server_cpu_ms:>9.2f} ms{r.db_cpu_ms:>8.2f} ms"
              f"{r.peak_rss_mib:>6.0f} MiB")

    for hello, listing in rounds:
        row(hello, hello.rps)
        row(listing, hello.rps)  # against its own round's hello-world
    for r in others:
        row(r, hello_rps)  # against the median hello-world
    ratios = sorted(listing.rps / hello.rps for hello, listing in rounds)
    cpu_ratios = sorted(hello.server_cpu_ms / listing.server_cpu_ms for hello, listing in rounds)
    ratio = statistics.median(ratios)
    verdict = "MET" if ratio >= TARGET_RATIO and not any(l.non_2xx for _, l in rounds) else "NOT MET"
    print(f"target: product list >= {TARGET_RATIO:.0%} of hello-world req/s, median of {len(rounds)} rounds: "
          f"{ratio:.0%} -> {verdict}  (rounds {', '.join(f'{x:.0%}' for x in ratios)}; server CPU per "
          f"request hello/list {', '.join(f'{x:.0%}' for x in cpu_ratios)})")
    bad = [r.name for r in [*(x for pair in rounds for x in pair), *others] if r.non_2xx or r.socket_errors]
    if bad:
        print(f"ERRORS in: {', '.join(bad)} (see the server log)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
