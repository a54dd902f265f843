"""Writing audit events: who changed what, when, from where, and on whose behalf."""

from __future__ import annotations

from typing import Any

from ocop.accounts.auth import Principal
from ocop.accounts.tables import AuditEvent


async def record(
    me: Principal | None,
    action: str,
    entity: str,
    entity_id: int | None,
    *,
    producer_id: int | None = None,
    changes: dict[str, Any] | None = None,
    ip: str = "",
) -> None:
    """Append one event. Staff or admins working on a producer's data are marked ``on_behalf``."""
    data = dict(changes or {})
    if me is not None and not me.is_producer and producer_id is not None:
        data["on_behalf_of_producer"] = producer_id
    await AuditEvent.insert(
        AuditEvent(
            actor=me.user_id if me else None,
            actor_label=me.username if me else "system",
            action=action,
            entity=entity,
            entity_id=entity_id,
            producer_id=producer_id,
            changes=_jsonable(data),
            ip=ip[:64],
        )
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{field: [old, new]} for the fields that changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
