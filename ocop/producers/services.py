"""Producer sign-up: one transaction writes the producer and its first user account.

Every field is checked with the domain rules (tax code check digit, Vietnamese phone formats,
2025 administrative units) and all problems are reported at once, field by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ocop.accounts.audit import record
from ocop.accounts.auth import Principal
from ocop.accounts.services import AccountError, NewUser, create_user
from ocop.domain.errors import FieldError, InvalidValue, required
from ocop.domain.ocop import ProducerKind
from ocop.domain.phone import parse_phone
from ocop.domain.taxcode import parse_tax_code
from ocop.domain.text import clean, fold
from ocop.producers.addresses import province_options, ward_options
from ocop.producers.tables import Producer


class SignupInvalid(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(", ".join(e.field for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class ProducerFields:
    kind: str
    legal_name: str
    tax_code: str
    phone: str
    province_code: int
    commune_code: int
    address_line: str = ""
    email: str = ""
    representative: str = ""


FIELDS = tuple(ProducerFields.__dataclass_fields__)
"""The producer's own details: what the form and the API edit."""


def _text(raw: Mapping[str, object], name: str) -> str:
    value = raw.get(name)
    return "" if value is None else str(value)


def _code(raw: Mapping[str, object], name: str) -> int | None:
    """An administrative-unit code: a number from the API, digits from the form's select."""
    value = raw.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def validate_producer(form: Mapping[str, object]) -> tuple[ProducerFields | None, list[FieldError]]:
    """Check a producer's details, typed as people type them (the form's strings, or the API's
    strings and numbers); returns clean values or the list of field errors."""
    errors: list[FieldError] = []
    kinds = {k.value for k in ProducerKind}
    kind = _text(form, "kind")
    if kind not in kinds:
        errors.append(
            FieldError(
                "kind", "invalid_producer_kind", "Chọn loại hình chủ thể", "Choose the kind of producer"
            )
        )
    legal_name = clean(_text(form, "legal_name"))
    if not legal_name:
        errors.append(required("legal_name"))
    tax_code = phone = ""
    try:
        tax_code = parse_tax_code(_text(form, "tax_code")).value if _text(form, "tax_code").strip() else ""
        if not tax_code:
            errors.append(required("tax_code"))
    except InvalidValue as exc:
        errors.append(exc.for_field("tax_code"))
    try:
        phone = parse_phone(_text(form, "phone")) if _text(form, "phone").strip() else ""
        if not phone:
            errors.append(required("phone"))
    except InvalidValue as exc:
        errors.append(exc.for_field("phone"))
    province = _code(form, "province_code")
    commune = _code(form, "commune_code")
    if province is None or all(o.code != province for o in province_options()):
        errors.append(
            FieldError("province_code", "unknown_province", "Chọn tỉnh/thành phố", "Choose a province")
        )
    elif commune is None or all(o.code != commune for o in ward_options(province)):
        errors.append(
            FieldError(
                "commune_code",
                "unknown_ward",
                "Chọn xã/phường thuộc tỉnh đã chọn",
                "Choose a commune/ward of the chosen province",
            )
        )
    if errors:
        return None, errors
    return ProducerFields(
        kind=kind,
        legal_name=legal_name,
        tax_code=tax_code,
        phone=phone,
        province_code=province,
        commune_code=commune,  # type: ignore[arg-type]
        address_line=clean(_text(form, "address_line")),
        email=clean(_text(form, "email")),
        representative=clean(_text(form, "representative")),
    ), []


async def sign_up(form: dict[str, str]) -> tuple[dict[str, Any], int]:
    """Create the producer and its user; returns (producer row, user id). Raises SignupInvalid."""
    fields, errors = validate_producer(form)
    password, confirm = form.get("password", ""), form.get("confirm", "")
    if password != confirm:
        errors.append(
            FieldError("confirm", "password_mismatch", "Hai mật khẩu không khớp", "The two passwords differ")
        )
    if fields is not None and await Producer.exists().where(Producer.tax_code == fields.tax_code):
        errors.append(_tax_code_taken())
    if errors or fields is None:
        raise SignupInvalid(errors)
    async with Producer._meta.db.transaction():
        producer = Producer(**_columns(fields))
        await producer.save()
        try:
            user = await create_user(
                NewUser(
                    username=form.get("username", ""),
                    password=password,
                    role="producer",
                    display_name=fields.representative or fields.legal_name,
                    producer_id=producer.id,
                )
            )
        except AccountError as exc:
            field = {"username_taken": "username", "username_required": "username"}.get(exc.code, "password")
            raise SignupInvalid([FieldError(field, exc.code, exc.message_vi, exc.message_en)]) from exc
    return producer.to_dict(), int(user.id)


async def update_producer(
    me: Principal, producer_id: int, changes: Mapping[str, object], *, ip: str = ""
) -> dict[str, Any]:
    """Change the producer's details that are given in ``changes`` (the form gives them all, an API
    ``PATCH`` those it was sent); the others keep their stored value. The details as changed are
    checked whole, like sign-up's, and only the columns whose value differs are written and audited.
    Returns {column: [old, new]}. Raises SignupInvalid (field errors) like sign-up does."""
    before = await Producer.select().where(Producer.id == producer_id).first() or {}
    fields, errors = validate_producer({**{k: before.get(k) for k in FIELDS}, **changes})
    if fields is not None and await Producer.exists().where(
        (Producer.tax_code == fields.tax_code) & (Producer.id != producer_id)
    ):
        errors.append(_tax_code_taken())
    if errors or fields is None:
        raise SignupInvalid(errors)
    changed = {k: [before.get(k), v] for k, v in _columns(fields).items() if before.get(k) != v}
    if changed:
        await Producer.update({getattr(Producer, k): new for k, (_, new) in changed.items()}).where(
            Producer.id == producer_id
        )
        await record(me, "producer.update", "producer", producer_id, producer_id=producer_id, changes=changed,
                     ip=ip)
    return changed


def _columns(fields: ProducerFields) -> dict[str, Any]:
    """The producer row's columns from checked fields (sign-up and edit write the same ones)."""
    return {
        "kind": fields.kind,
        "legal_name": fields.legal_name,
        "name_folded": fold(fields.legal_name),
        "tax_code": fields.tax_code,
        "phone": fields.phone,
        "email": fields.email,
        "representative": fields.representative,
        "address_line": fields.address_line,
        "province_code": fields.province_code,
        "commune_code": fields.commune_code,
    }


def _tax_code_taken() -> FieldError:
    return FieldError(
        "tax_code", "tax_code_taken", "Mã số thuế này đã được đăng ký", "This tax code is already registered"
    )
