"""Schemathesis against our own OpenAPI schema, in-process, as anonymous and as every role.

Issue #8 ("API fuzzing"): zero 5xx, zero responses that break the schema (status code, content
type, body, headers), schema-invalid input refused, declared credentials enforced, and every
error answer in the one documented shape (:class:`ocop.web.errors.ErrorResponse`).

How it stays meaningful, bounded and reproducible:

* one fresh SQLite database per role (anonymous, producer, commune staff, province staff, admin),
  seeded with two producers (A inside the staff's commune, B in another province), products with
  certificates and a photo, a shop, listings and a month of orders: state-changing calls of one
  role cannot spoil the next role's run, and deletions run last within a role (one of them may
  revoke the very token the run uses);
* the schema is loaded from the running app (``/schema/openapi.json``) with
  ``schemathesis.openapi.from_asgi``; each operation gets one golden call (the first seeded row in
  the path, the schema's own request example as the body) and a small derandomized Hypothesis
  budget (no shrinking, no example database) of positive, seeded-id and negative cases;
* problems are collected over all operations and reported together, one failing request each;
* the golden reads must succeed for every signed-in role (401 for anonymous), so a broken seed or
  token cannot make the run pass vacuously, and :func:`test_fuzz_catches_planted_faults` shows
  every check firing on a planted fault.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar import Litestar, Response, get
from litestar.params import QueryParameter
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ocop import db as dbmod, piccolo_app
from ocop.accounts.tokens import create_token
from ocop.app import create_app
from ocop.catalog.jobs import normalize_image_row
from ocop.storage import media_store
from ocop.catalog.tables import Certificate, Image, Product
from ocop.domain.text import fold
from ocop.marketplace.tables import Listing, Order, OrderLine, Shop
from ocop.piccolo_app import TABLES
from ocop.settings import Settings
from ocop.web.errors import ErrorResponse
from ocop.accounts.sessions import SESSION_COOKIE
from tests.ocop.web.support import (
    GIA_LAI,
    HA_NOI,
    PASSWORD,
    csrf_from,
    jpeg,
    make_producer,
    make_user,
    ward_code,
)

PHOTO = jpeg(600, 600)
ROLES = ("anonymous", "producer", "commune_staff", "province_staff", "admin")
SESSION_ROLES = frozenset({"producer"})
"""Producers reach the API from the web pages, signed in (session cookie + x-csrftoken); staff and
admins from scripts, with personal API tokens. Each run uses its role's usual credential."""
EXAMPLES = 4
"""Generated calls per operation and signed-in run, besides the golden call: 34 operations x 5
signed-in runs (4 roles on SQLite, admin on PostgreSQL) x 5 calls, plus the anonymous run, make
~900 requests and ~20 s of CPU in all."""
ANONYMOUS_EXAMPLES = 1
"""Anonymous callers meet the 401 before anything else: the golden call and one generated call per
operation check its shape."""
REDIS_DB = 11
"""A Redis database of its own: publish requests enqueue jobs no worker of this test runs, and
no other test's worker may pick them up."""


@dataclass
class World:
    """Ids of the seeded objects, for biasing path parameters towards real rows."""

    ids: dict[str, list[Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)


async def _seed(settings: Settings) -> World:
    """Two producers (A in Gia Lai, inside the staff's area; B in Hà Nội, outside), a user per role
    with an API token, and A's catalogue: products, certificates, a normalized photo, a Shopee
    shop, listings in several states and a month of orders."""
    engine = piccolo_app.use_database(dbmod.engine_from_url(settings.effective_database_url))
    await dbmod.prepare(engine)
    try:
        commune = await ward_code(GIA_LAI)
        a = await make_producer("HTX Bánh tráng Tam Quan", "4100259564", GIA_LAI, commune)
        b = await make_producer("HTX Chè Thái Nguyên", "0100109106", HA_NOI)
        usernames = {role: f"fuzz_{role}" for role in ROLES if role != "anonymous"}
        users = {
            "producer": await make_user(usernames["producer"], "producer", producer_id=a),
            "commune_staff": await make_user(usernames["commune_staff"], "staff", province=GIA_LAI,
                                             communes=(commune,)),
            "province_staff": await make_user(usernames["province_staff"], "staff", province=GIA_LAI),
            "admin": await make_user(usernames["admin"], "admin"),
        }
        tokens = {role: await create_token(uid, "fuzz") for role, uid in users.items()}
        world = World(tokens={role: clear for role, (_, clear) in tokens.items()}, usernames=usernames)
        store = media_store(settings)
        products: list[int] = []
        for producer, sku, name, price in (
            (a, "BT-SEED", "Bánh tráng nước dừa", 150_000),  # not the schema example's SKU
            (a, "MO-02", "Mật ong bạc hà", 250_000),
            (b, "CHE-01", "Chè Tân Cương", 180_000),
        ):
            row = Product(producer=producer, sku=sku, name=name, name_folded=fold(name), ocop_group=1,
                          unit="túi", price_vnd=price, weight_g=500, length_mm=200, width_mm=150,
                          height_mm=50, stock=40, status="active")
            await row.save()
            products.append(int(row.id))
            await Certificate.insert(Certificate(product=row.id, stars=4, decision_number="1/QĐ-UBND",
                                                 issued_on=date(2025, 3, 15), expires_on=date(2028, 3, 15)))
        image = Image(product=products[0], original_key=await store.put(PHOTO), position=0)
        await image.save()
        await normalize_image_row(store, int(image.id))
        shop = Shop(producer=a, marketplace="shopee", external_shop_id="123456")
        await shop.save()
        listings: list[int] = []
        for product, state in ((products[0], "live"), (products[1], "rejected")):
            listing = Listing(product=product, shop=shop.id, seller_sku=f"OCOP-{product}", state=state,
                              external_item_id="9001" if state == "live" else "",
                              last_error="" if state == "live" else "Thiếu ảnh")
            await listing.save()
            listings.append(int(listing.id))
        now = datetime.now(UTC)
        for day in range(0, 30, 3):
            at = now - timedelta(days=day)
            order = Order(shop=shop.id, marketplace_order_id=f"SO-{day}", status="completed",
                          total_vnd=300_000, created_at=at, updated_at=at)
            await order.save()
            await OrderLine.insert(OrderLine(order=order.id, listing=listings[0], seller_sku=f"OCOP-{products[0]}",
                                             quantity=2, unit_price_vnd=150_000, total_vnd=300_000))
        world.ids = {  # path parameter -> seeded values; the first is visible to every signed-in role
            "producer_id": [a, b],
            "product_id": products,
            "listing_id": listings,
            "token_id": [row["id"] for row, _ in tokens.values()],
            "dimension": ["month", "marketplace", "commune", "group", "stars"],
        }
        return world
    finally:
        await dbmod.close(engine)


# -- checks ---------------------------------------------------------------------------------------


def error_shape(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> bool | None:
    """Every error answer of the API is an :class:`ErrorResponse` whose status is the HTTP status."""
    if response.status_code < 400:
        return None
    try:
        body = msgspec.json.decode(response.content, type=ErrorResponse)
    except msgspec.DecodeError as exc:
        raise AssertionError(f"error body is not the documented ErrorResponse: {exc}: "
                             f"{response.content[:300]!r}") from None
    assert body.error.status == response.status_code, f"error.status {body.error.status} != {response.status_code}"
    assert body.error.code and body.error.message and body.error.message_vi, "empty error code or message"
    return True


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection, error_shape]
GOLDEN_CHECKS = [*CHECKS, ignored_auth]
"""``ignored_auth`` replays a successful call without credentials and with invalid ones (three
more requests): once per operation and role is proof enough, so only golden calls run it."""


# -- the run ---------------------------------------------------------------------------------------


def _golden(operation: Any, world: World) -> schemathesis.Case | None:
    """One deterministic, valid call per operation: the first seeded row for each path id and the
    schema's own request example as the body. None when a path parameter names nothing we seeded."""
    names = [p.name for p in operation.path_parameters]
    if any(name not in world.ids for name in names):
        return None
    raw = operation.schema.raw_schema["paths"][operation.path][operation.method.lower()]
    content = raw.get("requestBody", {}).get("content", {})
    path = {name: world.ids[name][0] for name in names}
    if not content:
        return operation.Case(path_parameters=path)
    if "multipart/form-data" in content:  # the photo upload: a real JPEG
        return operation.Case(path_parameters=path, body={"file": PHOTO}, media_type="multipart/form-data")
    examples = content.get("application/json", {}).get("schema", {}).get("examples", [])
    assert examples, f"{operation.label}: document an example request body"
    return operation.Case(path_parameters=path, body=examples[0], media_type="application/json")


def _strategy(operation: Any, world: World) -> Any:
    """Positive cases, positive cases aimed at seeded rows (so handlers reach real objects, not
    only 404s), and negative cases (wrong types, out-of-range values, missing fields)."""
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    real = {p.name: world.ids[p.name] for p in operation.path_parameters if p.name in world.ids}
    if real:
        strategies.append(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in real.items()}).flatmap(
            lambda ids: operation.as_strategy(GenerationMode.POSITIVE, path_parameters=ids)))
    strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    return st.one_of(*strategies)


def _in_safe_order(operations: Iterator[Any]) -> list[Any]:
    """Deletions last: ``DELETE /api/v1/tokens/{id}`` may revoke the very token the fuzz runs with
    (a legitimate call), which would turn every later operation into a 401."""
    return sorted(operations, key=lambda op: op.method.upper() == "DELETE")


def _problems(exc: BaseException) -> list[tuple[str, str]]:
    """(title, detail) of each check that failed; schemathesis groups several in one exception."""
    parts = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
    return [(getattr(p, "title", type(p).__name__), str(p)[:600]) for p in parts]


@dataclass
class FuzzRun:
    """One role's run: every call is checked; problems are kept per (operation, problem) with the
    first request that showed them, and every status seen is tallied per operation."""

    world: World
    headers: dict[str, str]
    examples: int
    username: str = ""
    """Set: the run signs in with this user's session (``cookies``) instead of a token."""
    cookies: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    golden: dict[str, int] = field(default_factory=dict)

    def call(self, case: schemathesis.Case, checks: list[Any] = CHECKS) -> int:
        label = case.operation.label
        response = case.call(headers=self.headers, cookies=self.cookies)
        self.statuses.setdefault(label, Counter())[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks, headers=self.headers)
        except (AssertionError, Failure, FailureGroup) as exc:
            for title, detail in _problems(exc):
                self.problems.setdefault(f"{label} | {title}",
                                         f"{case.as_curl_command(headers=self.headers)}\n    {detail}")
        return response.status_code

    def operation(self, operation: Any) -> None:
        golden = _golden(operation, self.world)
        if golden is not None:
            self.golden[operation.label] = self.call(golden, GOLDEN_CHECKS)

        @given(case=_strategy(operation, self.world))
        @settings(max_examples=self.examples, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                  print_blob=False)
        def fuzz(case: schemathesis.Case) -> None:
            self.call(case)

        fuzz()

    def report(self) -> str:
        lines = [f"{label:55} {dict(sorted(counts.items()))}" for label, counts in self.statuses.items()]
        return "\n".join(lines)


@pytest.fixture
def fuzz_redis(redis_url: str) -> Iterator[str]:
    """The session's Redis server, in a database of its own, emptied before and after."""
    url = redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def _settings(tmp_path: Path, database_url: str, redis_url: str) -> Settings:
    """The app's settings for a run, with a rate limit the fuzz never meets."""
    return Settings(var_dir=tmp_path / "var", secret_key="fuzz-secret-key-0123456789abcdef",
                    run_sandbox=False, database_url=database_url, redis_url=redis_url,
                    api_rate_per_min=1_000_000, api_rate_burst=1_000_000)


def _fresh_database(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> str:
    """An empty migrated database: a copy of the session's SQLite template, or the session's
    PostgreSQL test database truncated with its ids restarted."""
    if kind == "sqlite":
        database = tmp_path / "ocop.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), database)
        return f"sqlite:///{database}"
    url: str = request.getfixturevalue("_postgres_test_url")

    async def truncate() -> None:
        engine = dbmod.engine_from_url(url)
        names = ", ".join(t._meta.tablename for t in TABLES)
        await engine.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")

    asyncio.run(truncate())
    return url


def _session_cookies(app: Litestar, username: str) -> dict[str, str]:
    """Sign in through the real login form: the session and CSRF cookies."""
    with schemathesis_asgi.get_client(app) as client:
        form = client.get("/login", headers={"accept": "text/html"})
        signed_in = client.post("/login", headers={"accept": "text/html"}, allow_redirects=False,
                                data={"username": username, "password": PASSWORD,
                                      "_csrf_token": csrf_from(form.text)})
        assert signed_in.status_code == 303, signed_in.text[:300]
        cookies = client.cookies.get_dict()
    return {SESSION_COOKIE: cookies[SESSION_COOKIE], "csrftoken": cookies["csrftoken"]}


def _fuzz(app: Litestar, run: FuzzRun, only: str = "") -> None:
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    if run.username:  # every session-authenticated API write also sends the CSRF cookie's value
        run.cookies = _session_cookies(app, run.username)
        run.headers = {"x-csrftoken": run.cookies["csrftoken"]}
        # no generated Bearer tokens / session ids: a bad token is a 401 even beside a good session
        schema.config.generation.update(with_security_parameters=False)
    try:
        operations = (result.ok() for result in schema.get_all_operations())
        for operation in _in_safe_order(op for op in operations if op.path.startswith(only)):
            run.operation(operation)
    finally:
        schemathesis_asgi.shutdown_lifespans()


@pytest.mark.parametrize(("role", "database"), [*((role, "sqlite") for role in ROLES), ("admin", "postgres")])
def test_api_fuzz(role: str, database: str, request: pytest.FixtureRequest, tmp_path: Path, fuzz_redis: str) -> None:
    """Every role on SQLite (the embedded default); the widest-seeing role on PostgreSQL too, whose
    32-bit integer columns and strict driver refuse values SQLite lets through."""
    settings = _settings(tmp_path, _fresh_database(request, database, tmp_path), fuzz_redis)
    world = asyncio.run(_seed(settings))
    anonymous = role == "anonymous"
    if anonymous:
        run = FuzzRun(world, {}, examples=ANONYMOUS_EXAMPLES)
    elif role in SESSION_ROLES:
        run = FuzzRun(world, {}, examples=EXAMPLES, username=world.usernames[role])
    else:
        run = FuzzRun(world, {"authorization": f"Bearer {world.tokens[role]}"}, examples=EXAMPLES)
    started = time.monotonic()
    _fuzz(create_app(settings, run_worker=False), run)
    calls = sum(sum(c.values()) for c in run.statuses.values())
    print(f"\n{role}: {calls} calls in {time.monotonic() - started:.1f} s\n{run.report()}")

    assert not run.problems, f"{len(run.problems)} problems as {role}:\n" + "\n".join(
        f"{k}\n  {v}" for k, v in run.problems.items())
    # the run was meaningful: the seeded rows are visible to every role (anonymous: to none)
    reads = {label: status for label, status in run.golden.items() if label.startswith("GET /api/")}
    assert len(reads) >= 15, reads
    if anonymous:
        assert set(reads.values()) == {401}, reads
    else:
        assert all(200 <= status < 300 for status in reads.values()), reads


def test_fuzz_catches_planted_faults(request: pytest.FixtureRequest, tmp_path: Path, fuzz_redis: str) -> None:
    """The harness itself can fail: API routes with one planted fault each are all reported."""

    @get("/api/v1/canary/crash", sync_to_thread=False)
    def crash() -> dict[str, int]:
        raise RuntimeError("planted")

    @get("/api/v1/canary/drift", sync_to_thread=False)
    def drift() -> dict[str, int]:
        return {"n": "not a number"}  # type: ignore[dict-item]

    @get("/api/v1/canary/teapot", sync_to_thread=False)
    def teapot() -> Response[dict[str, str]]:
        return Response({"detail": "short and stout"}, status_code=418)

    @get("/api/v1/canary/lax", sync_to_thread=False)
    def lax(n: Annotated[int, QueryParameter(schema_extra={"maximum": 5, "minimum": 1})]) -> dict[str, int]:
        return {"n": n}  # the schema promises 1..5; the handler takes any int

    @get("/api/v1/canary/open", sync_to_thread=False, security=[{"token": []}])
    def open_door() -> dict[str, int]:
        return {"n": 1}  # documented as needing a token, served to anybody

    app = create_app(_settings(tmp_path, _fresh_database(request, "sqlite", tmp_path), fuzz_redis), run_worker=False)
    for handler in (crash, drift, teapot, lax, open_door):
        app.register(handler)
    run = FuzzRun(World(), {}, examples=25)
    _fuzz(app, run, only="/api/v1/canary/")
    faulty = {key.split(" | ")[0] for key in run.problems}
    assert faulty == {"GET /api/v1/canary/crash", "GET /api/v1/canary/drift",
                          "GET /api/v1/canary/teapot", "GET /api/v1/canary/lax",
                          "GET /api/v1/canary/open"}, run.problems
    problems = set(run.problems)
    assert "GET /api/v1/canary/crash | Server error" in problems
    assert "GET /api/v1/canary/drift | Response violates schema" in problems
    assert "GET /api/v1/canary/teapot | Undocumented status code" in problems
    assert "GET /api/v1/canary/teapot | Custom check failed: `error_shape`" in problems
    assert "GET /api/v1/canary/lax | Schema-violating request accepted" in problems
    assert "GET /api/v1/canary/open | API accepts requests without authentication" in problems


def test_rate_limited_answer_is_the_documented_one(request: pytest.FixtureRequest, tmp_path: Path,
                                                    fuzz_redis: str) -> None:
    """The 429 of the per-caller API rate limit (a middleware, outside any handler) is documented
    on every API operation and arrives in the one error shape."""
    settings = _settings(tmp_path, _fresh_database(request, "sqlite", tmp_path), fuzz_redis)
    app = create_app(settings.with_overrides(api_rate_per_min=1, api_rate_burst=1), run_worker=False)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    run = FuzzRun(World(), {}, examples=0)
    try:
        operation = schema["/api/v1/me"]["GET"]
        seen = [run.call(operation.Case()) for _ in range(3)]
    finally:
        schemathesis_asgi.shutdown_lifespans()
    assert seen[0] == 401 and seen[-1] == 429, seen
    assert not run.problems, run.problems
