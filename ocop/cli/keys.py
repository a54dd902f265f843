"""``ocop keys rotate``: re-encrypt every stored marketplace token (and the Zalo Official
Account's tokens of the alerts) under the current secret."""

from __future__ import annotations

import asyncio

from ocop import db, piccolo_app
from ocop.alerts.tables import ZaloOaToken
from ocop.marketplace.runtime import cipher_for
from ocop.marketplace.tables import Shop
from ocop.settings import Settings


async def _rotate(settings: Settings) -> int:
    engine = piccolo_app.use_database(db.engine_from_url(settings.effective_database_url))
    await db.prepare(engine)
    cipher = cipher_for(settings)
    try:
        rows = await Shop.select(Shop.id, Shop.access_token_enc, Shop.refresh_token_enc)
        for row in rows:
            await Shop.update({Shop.access_token_enc: cipher.rotate(row["access_token_enc"]),
                               Shop.refresh_token_enc: cipher.rotate(row["refresh_token_enc"])}).where(Shop.id == row["id"])
        for row in await ZaloOaToken.select(ZaloOaToken.id, ZaloOaToken.access_token_enc,
                                            ZaloOaToken.refresh_token_enc):
            await ZaloOaToken.update({ZaloOaToken.access_token_enc: cipher.rotate(row["access_token_enc"]),
                                      ZaloOaToken.refresh_token_enc: cipher.rotate(row["refresh_token_enc"])}).where(
                ZaloOaToken.id == row["id"])
        return len(rows)
    finally:
        await db.close(engine)


def rotate_keys(settings: Settings) -> int:
    count = asyncio.run(_rotate(settings))
    print(f"Đã mã hoá lại token của {count} gian hàng / re-encrypted tokens of {count} shops.")
    return 0
