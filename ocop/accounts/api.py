"""``/api/v1/me`` and personal API tokens (create, list, revoke)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from litestar.exceptions import NotFoundException
from litestar.openapi.spec import Example
from litestar.params import Body

from ocop.accounts.auth import Me, require_session, requires_user
from ocop.accounts.tokens import create_token, list_tokens, revoke_token
from ocop.web.api_support import PathId


class MeOut(msgspec.Struct):
    id: int
    username: str
    role: str
    producer_id: int | None
    area_province_code: int | None
    area_commune_codes: list[int]
    locale: str


class TokenCreate(msgspec.Struct):
    name: str


TOKEN_EXAMPLE = Example(summary="A token for the nightly import script", value={"name": "import script"})


class TokenOut(msgspec.Struct):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class TokenCreated(msgspec.Struct):
    id: int
    name: str
    token: str
    """Shown once; only its hash is stored."""


class AccountController(Controller):
    path = "/api/v1"
    tags = ["accounts"]
    guards = [requires_user]

    @get("/me")
    async def me_(self, me: Me) -> MeOut:
        return MeOut(
            id=me.user_id,
            username=me.username,
            role=me.role,
            producer_id=me.producer_id,
            area_province_code=me.area_province_code,
            area_commune_codes=list(me.area_commune_codes),
            locale=me.locale,
        )

    @get("/tokens")
    async def tokens(self, me: Me) -> list[TokenOut]:
        return [msgspec.convert(row, TokenOut) for row in await list_tokens(me.user_id)]

    @post("/tokens", status_code=201)
    async def token_create(
        self, me: Me, data: Annotated[TokenCreate, Body(examples=[TOKEN_EXAMPLE])]
    ) -> TokenCreated:
        """Create a personal token for scripts: send it as ``Authorization: Bearer <token>``. Only a
        signed-in session may create one (403 for a call made with a token): a token that could mint
        tokens would outlive its own revocation through its offspring."""
        require_session(me)
        row, clear = await create_token(me.user_id, data.name)
        return TokenCreated(id=row["id"], name=row["name"], token=clear)

    @delete("/tokens/{token_id:int}", status_code=204)
    async def token_revoke(self, me: Me, token_id: PathId) -> None:
        if not await revoke_token(me.user_id, token_id):
            raise NotFoundException("Not found.")


ROUTES = [AccountController]
