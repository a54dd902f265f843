"""Personal API tokens on the hot path (``ocop.accounts.auth``): one query finds token and user, and
``last_used_at`` is written at most once a minute instead of on every call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocop.accounts.tables import ApiToken, User
from ocop.accounts.tokens import create_token, revoke_token
from tests.ocop.web.support import make_producer, make_user


async def _last_used(token_id: int) -> datetime | None:
    row = await ApiToken.select(ApiToken.last_used_at).where(ApiToken.id == token_id).first()
    return row["last_used_at"]


async def test_token_signs_in_and_last_used_moves_at_most_once_a_minute(db, app_client, redis_url) -> None:
    producer = await make_producer("HTX Tam Quan", "4100259564")
    user = await make_user("tam_quan", "producer", producer_id=producer)
    token_row, token = await create_token(user, "script")
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):
        auth = {"authorization": f"Bearer {token}"}
        first = await client.get("/api/v1/products", headers=auth)
        assert first.status_code == 200, first.text
        touched = await _last_used(token_row["id"])
        assert touched is not None and datetime.now(UTC) - touched < timedelta(minutes=1)

        assert (await client.get("/api/v1/products", headers=auth)).status_code == 200
        assert await _last_used(token_row["id"]) == touched  # within the minute: no write

        old = datetime.now(UTC) - timedelta(minutes=2)
        await ApiToken.update({ApiToken.last_used_at: old}).where(ApiToken.id == token_row["id"])
        assert (await client.get("/api/v1/products", headers=auth)).status_code == 200
        assert await _last_used(token_row["id"]) > old + timedelta(minutes=1)


async def test_unknown_revoked_and_deactivated_tokens_are_refused(db, app_client, redis_url) -> None:
    producer = await make_producer("HTX Tam Quan", "4100259564")
    user = await make_user("tam_quan", "producer", producer_id=producer)
    kept_row, kept = await create_token(user, "kept")
    revoked_row, revoked = await create_token(user, "revoked")
    await revoke_token(user, revoked_row["id"])
    async with app_client(database_url=db.url, redis_url=redis_url) as (_, client):

        async def status(token: str) -> int:
            response = await client.get("/api/v1/products", headers={"authorization": f"Bearer {token}"})
            return response.status_code

        assert await status(kept) == 200
        assert await status(revoked) == 401
        assert await status(kept[:-2] + "xx") == 401
        assert await status("not-an-ocop-token") == 401
        await User.update({User.is_active: False}).where(User.id == user)
        assert await status(kept) == 401
