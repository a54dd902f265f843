"""``/api/v1/producers``: the producers you may see (yours, your area's, or all for admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch
from litestar.openapi.spec import Example
from litestar.params import Body, FromQuery, QueryParameter

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


class ProducerIn(msgspec.Struct):
    """Typed as people type them: ``phone`` "0912 345 678", ``tax_code`` with its check digit."""

    kind: str
    legal_name: str
    tax_code: str
    phone: str
    province_code: int
    commune_code: int
    address_line: str = ""
    email: str = ""
    representative: str = ""


class ProducerPage(msgspec.Struct):
    items: list[ProducerOut]
    total: int
    page: int
    per_page: int


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

    @patch("/{producer_id:int}")
    async def update(
        self, request: Request[Any, Any, Any], me: Me, producer_id: PathId,
        data: Annotated[ProducerIn, Body(examples=[PRODUCER_EXAMPLE])]
    ) -> ProducerOut:
        """Replace the producer's details (send them all); checked like the sign-up form."""
        await get_producer(me, producer_id)
        form = {k: "" if v is None else str(v) for k, v in msgspec.structs.asdict(data).items()}
        try:
            await update_producer(me, producer_id, form, ip=client_ip(request))
        except SignupInvalid as exc:
            raise invalid(exc.errors) from None
        return producer_out(await get_producer(me, producer_id))


ROUTES = [ProducerController]
