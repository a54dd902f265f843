"""``ocop user create``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from ocop import db, piccolo_app
from ocop.accounts.services import AccountError, NewUser, create_user
from ocop.domain.text import fold
from ocop.producers.tables import Producer
from ocop.settings import Settings


def _province_code(value: str) -> int | None:
    from vietnam_provinces import Province

    if value.isdigit():
        return int(value) if any(int(p.code) == int(value) for p in Province.iter_all()) else None
    wanted = fold(value).removeprefix("tinh ").removeprefix("thanh pho ")
    for p in Province.iter_all():
        name = fold(p.name).removeprefix("tinh ").removeprefix("thanh pho ")
        if name == wanted:
            return int(p.code)
    return None


def _commune_codes(province: int, names: list[str]) -> list[int] | str:
    from vietnam_provinces import Ward

    wards = [w for w in Ward.iter_all() if int(w.province_code) == province]
    codes = []
    for name in names:
        match = [w for w in wards if name.isdigit() and int(w.code) == int(name)
                 or fold(w.name) == fold(name) or fold(w.name).split(" ", 1)[-1] == fold(name)]
        if len(match) != 1:
            return name
        codes.append(int(match[0].code))
    return codes


async def _create(settings: Settings, args: argparse.Namespace, password: str) -> int:
    engine = piccolo_app.use_database(db.engine_from_url(settings.effective_database_url))
    await db.prepare(engine)
    try:
        producer_id = None
        if args.producer_tax_code:
            row = await Producer.select(Producer.id).where(Producer.tax_code == args.producer_tax_code).first()
            if row is None:
                print(f"Không có chủ thể với mã số thuế {args.producer_tax_code} / no such producer",
                      file=sys.stderr)
                return 1
            producer_id = row["id"]
        province = communes = None
        if args.province:
            province = _province_code(args.province)
            if province is None:
                print(f"Không tìm thấy tỉnh/thành '{args.province}' / unknown province", file=sys.stderr)
                return 1
            found = _commune_codes(province, args.commune)
            if isinstance(found, str):
                print(f"Không tìm thấy xã/phường '{found}' / unknown commune", file=sys.stderr)
                return 1
            communes = found
        user = await create_user(NewUser(username=args.username, password=password, role=args.role,
                                         display_name=args.name, producer_id=producer_id,
                                         area_province_code=province, area_commune_codes=tuple(communes or ())))
    except AccountError as exc:
        print(f"{exc.message_vi} / {exc.message_en}", file=sys.stderr)
        return 1
    finally:
        await db.close(engine)
    print(f"Đã tạo tài khoản / created: {user.username} ({user.role})")
    return 0


def create_user_command(settings: Settings, args: argparse.Namespace) -> int:
    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Mật khẩu / password: ")
            if getpass.getpass("Nhập lại / again: ") != password:
                print("Hai lần nhập không khớp / passwords differ", file=sys.stderr)
                return 1
    return asyncio.run(_create(settings, args, password))
