"""``/api/v1/producers``: the producers you may see (yours, your area's, or all for admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch
from litestar.openapi.spec import Example
from litestar.params import Body, FromQuery, QueryParameter
from msgspec import UNSET, UnsetType

from ocop.accounts.access import combine, get_producer, producer_scope
from ocop.accounts.auth import Me, requires_user
from ocop.domain.text import fold
from ocop.producers.services import SignupInvalid, update_producer
from ocop.producers.tables import Producer
from ocop.web.api_support import Page, PathId, PerPage, QueryCode, invalid
from ocop.web.render import client_ip


class ProducerOut(msgspec.Struct):
    id: int
    kind: str
    legal_name: str
    tax_code: str
    phone: str
    email: str
    representative: str
    address_line: str
    province_code: int | None
    commune_code: int | None
    created_at: datetime


class ProducerPatch(msgspec.Struct, forbid_unknown_fields=True):
    """The details to change; only those sent change, the others keep their value. Typed as people
    type them: ``phone`` "0912 345 678", ``tax_code`` with its check digit; a new ``province_code``
    comes with a ``commune_code`` of that province. The details as changed are checked like the
    sign-up form's, every problem named by its field. A field this body does not have is refused
    (400), not ignored."""

    kind: str | UnsetType = UNSET
    legal_name: str | UnsetType = UNSET
    tax_code: str | UnsetType = UNSET
    phone: str | UnsetType = UNSET
    province_code: int | UnsetType = UNSET
    commune_code: int | UnsetType = UNSET
    address_line: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    representative: str | UnsetType = UNSET


class ProducerPage(msgspec.Struct):
    items: list[ProducerOut]
    total: int
    page: int
    per_page: int


PHONE_EXAMPLE = Example(summary="A new phone number, nothing else changes", value={"phone": "0912 345 678"})
PRODUCER_EXAMPLE = Example(
    summary="A cooperative in Phường Quy Nhơn, Gia Lai",
    value={"kind": "htx", "legal_name": "HTX Bánh tráng Tam Quan", "tax_code": "4100259564",
           "phone": "0912 345 678", "province_code": 52, "commune_code": 21583,
           "address_line": "12 Trần Hưng Đạo", "email": "htx@example.vn", "representative": "Nguyễn Văn An"},
)


def producer_out(row: dict[str, object]) -> ProducerOut:
    return ProducerOut(**{f: row[f] for f in ProducerOut.__struct_fields__})  # type: ignore[arg-type]


class ProducerController(Controller):
    path = "/api/v1/producers"
    tags = ["producers"]
    guards = [requires_user]

    @get("")
    async def list_producers(
        self,
        me: Me,
        q: Annotated[
            str,
            QueryParameter(
                description="Accent-insensitive name search", examples=[Example(value="htx banh trang")]
            ),
        ] = "",
        province_code: QueryCode = None,
        commune_code: QueryCode = None,
        kind: FromQuery[str | None] = None,
        page: Page = 1,
        per_page: PerPage = 20,
    ) -> ProducerPage:
        clause = combine(
            producer_scope(me),
            Producer.name_folded.like(f"%{fold(q)}%") if q.strip() else None,
            Producer.province_code == province_code if province_code is not None else None,
            Producer.commune_code == commune_code if commune_code is not None else None,
            Producer.kind == kind if kind else None,
        )
        select, count = Producer.select(), Producer.count()
        if clause is not None:
            select, count = select.where(clause), count.where(clause)
        rows = (
            await select.order_by(Producer.name_folded)
            .order_by(Producer.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        return ProducerPage(
            items=[producer_out(r) for r in rows], total=await count, page=page, per_page=per_page
        )

    @get("/{producer_id:int}")
    async def get_one(self, me: Me, producer_id: PathId) -> ProducerOut:
        return producer_out(await get_producer(me, producer_id))

    @patch(
        "/{producer_id:int}",
        description="Changes the details sent and only those: `{\"phone\": \"0912 345 678\"}` changes the "
        "phone. The details as changed are checked like the sign-up form's, each problem named by its "
        "field (422); a new `province_code` needs a `commune_code` of that province. A field the body "
        "does not have is refused (400).",
    )
    async def update(
        self, request: Request[Any, Any, Any], me: Me, producer_id: PathId,
        data: Annotated[ProducerPatch, Body(examples=[PHONE_EXAMPLE, PRODUCER_EXAMPLE])]
    ) -> ProducerOut:
        await get_producer(me, producer_id)
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
        try:
            await update_producer(me, producer_id, changes, ip=client_ip(request))
        except SignupInvalid as exc:
            raise invalid(exc.errors) from None
        return producer_out(await get_producer(me, producer_id))


ROUTES = [ProducerController]
