"""Helpers shared by the web tests: make producers and users, sign in through the real form."""

from __future__ import annotations

import re
from typing import Any

import httpx

from ocop.accounts.services import NewUser, create_user
from ocop.domain.text import fold
from ocop.producers.tables import Producer

PASSWORD = "mat-khau-an-toan-1"
# Real 2025 units: Gia Lai (52) with Phường Quy Nhơn, Hà Nội (1).
GIA_LAI = 52
HA_NOI = 1


async def ward_code(province: int, index: int = 0) -> int:
    from ocop.producers.addresses import ward_options

    return ward_options(province)[index].code


async def make_producer(name: str, tax_code: str, province: int = GIA_LAI, commune: int | None = None) -> int:
    commune = commune if commune is not None else await ward_code(province)
    row = Producer(
        kind="htx",
        legal_name=name,
        name_folded=fold(name),
        tax_code=tax_code,
        phone="+84912345678",
        province_code=province,
        commune_code=commune,
    )
    await row.save()
    return int(row.id)


async def make_user(
    username: str,
    role: str,
    *,
    producer_id: int | None = None,
    province: int | None = None,
    communes: tuple[int, ...] = (),
) -> int:
    user = await create_user(
        NewUser(
            username=username,
            password=PASSWORD,
            role=role,
            producer_id=producer_id,
            area_province_code=province,
            area_commune_codes=communes,
        )
    )
    return int(user.id)


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF input on the page"
    return match.group(1)


async def csrf(client: httpx.AsyncClient, path: str = "/login") -> str:
    page = await client.get(path, headers={"accept": "text/html"})
    return csrf_from(page.text)


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], *, from_page: str | None = None, **kw: Any
) -> httpx.Response:
    token = await csrf(client, from_page or "/login")
    return await client.post(path, data={**data, "_csrf_token": token}, headers={"accept": "text/html"}, **kw)


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    response = await post_form(client, "/login", {"username": username, "password": password})
    assert response.status_code == 303, response.text[:500]
    return response


def api_headers(client: httpx.AsyncClient) -> dict[str, str]:
    """Session-authenticated API writes send the CSRF cookie back as a header (double submit)."""
    return {"x-csrftoken": client.cookies.get("csrftoken", "")}


def jpeg(width: int = 800, height: int = 600, color: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    """A real JPEG photo-like image (a gradient, so it is not trivially compressible)."""
    import io

    from PIL import Image as PILImage

    im = PILImage.new("RGB", (width, height), color)
    for x in range(0, width, 8):
        for y in range(0, height, 8):
            im.putpixel((x, y), ((x * 3) % 256, (y * 5) % 256, (x + y) % 256))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.getvalue()


def cheaper_argon2(monkeypatch: Any) -> None:
    """Real argon2id with test-sized cost (the production parameters take ~0.25 s per hash)."""
    from argon2 import PasswordHasher

    import ocop.accounts.passwords as passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


async def drop_normalize_jobs(redis_url: str) -> None:
    """Photo uploads in tests queue normalization jobs on the session's shared Redis, where no
    worker of ours runs; remove them so no other test's worker picks them up."""
    import redis.asyncio as aioredis

    from ocop.jobs.queue import QUEUE_NAME

    client = aioredis.from_url(redis_url)
    try:
        ids = [m for m in await client.zrange(QUEUE_NAME, 0, -1) if m.startswith(b"normalize:")]
        if ids:
            await client.zrem(QUEUE_NAME, *ids)
            await client.delete(*[b"arq:job:" + i for i in ids])
    finally:
        await client.aclose()


async def audited_changes(action: str, entity_id: int) -> list[dict[str, Any]]:
    """The ``changes`` of every audit event of this action on this entity, oldest first."""
    import json

    from ocop.accounts.tables import AuditEvent

    rows = await (
        AuditEvent.select(AuditEvent.changes)
        .where((AuditEvent.action == action) & (AuditEvent.entity_id == entity_id))
        .order_by(AuditEvent.id)
    )
    return [json.loads(r["changes"]) if isinstance(r["changes"], str) else r["changes"] for r in rows]
