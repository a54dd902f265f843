"""The ``ocop`` command. Each verb parses its own arguments; features own their verbs' code
(``ocop.cli.imports``, ``media.cli``, ``connectors.sandbox``) and this module only wires them."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ocop.settings import SettingsError, get_settings

Runner = Callable[[argparse.Namespace], int]


def _serve(args: argparse.Namespace) -> int:
    from ocop.cli.serve import serve

    return serve(get_settings().listening_on(args.host, args.port))


def _worker(args: argparse.Namespace) -> int:
    from ocop.cli.serve import run_worker

    return run_worker(get_settings(), burst=args.burst)


def _migrate(args: argparse.Namespace) -> int:
    from ocop import db, piccolo_app

    settings = get_settings()
    asyncio.run(piccolo_app.migrate(db.engine_from_url(settings.effective_database_url)))
    print("Cơ sở dữ liệu đã ở phiên bản mới nhất / database schema is up to date.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from ocop.cli.serve import serve
    from ocop.demo.run import run_demo

    return run_demo(get_settings(), host=args.host, port=args.port, fresh=args.fresh, serve=serve)


def _user_create(args: argparse.Namespace) -> int:
    from ocop.cli.users import create_user_command

    return create_user_command(get_settings(), args)


def _backup(args: argparse.Namespace) -> int:
    from ocop.cli.backup import backup

    return backup(get_settings(), Path(args.path))


def _restore(args: argparse.Namespace) -> int:
    from ocop.cli.backup import restore

    return restore(get_settings(), Path(args.path))


def _sandbox(args: argparse.Namespace) -> int:
    """The sandbox with this service's derived app credentials, so ``ocop serve`` processes pointed
    at it with OCOP_SANDBOX_URL (and the same OCOP_SECRET_KEY) can use it; it prints them too."""
    from connectors.sandbox.server import run
    from ocop.marketplace.sandbox import sandbox_config

    run(host=args.host, port=args.port, config=sandbox_config(get_settings(), review_seconds=args.review_seconds,
                                                              rejection_share=args.rejection_share))
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    from ocop.cli.keys import rotate_keys

    return rotate_keys(get_settings())


def _optional_feature(module: str, what: str) -> tuple[Callable[[argparse.ArgumentParser], None], Runner]:
    """Wire a feature's ``configure``/``run`` pair; say plainly when the feature is not built yet."""
    try:
        mod = __import__(module, fromlist=["configure", "run"])
        return mod.configure, mod.run
    except ImportError as exc:
        if not (exc.name or "").startswith(module.split(".")[0]):
            raise

        def missing(args: argparse.Namespace) -> int:
            print(f"'{what}' chưa có trong phiên bản này / is not available in this version yet.",
                  file=sys.stderr)
            return 2

        return (lambda parser: parser.add_argument("rest", nargs=argparse.REMAINDER)), missing


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocop",
        description="Đưa sản phẩm OCOP lên sàn TMĐT · OCOP products onto e-commerce marketplaces. "
                    "Configuration comes from OCOP_* environment variables (see README).",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = verbs.add_parser("serve", help="run the web service (embedded Redis and worker unless OCOP_REDIS_URL)")
    p.add_argument("--host", default=get_settings().host)
    p.add_argument("--port", type=int, default=get_settings().port)
    p.set_defaults(run=_serve)

    p = verbs.add_parser("worker", help="run an arq worker against OCOP_REDIS_URL (production)")
    p.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    p.set_defaults(run=_worker)

    p = verbs.add_parser("migrate", help="bring the database to the current schema (safe to repeat)")
    p.set_defaults(run=_migrate)

    p = verbs.add_parser("demo", help="seed a demo database under ./var, start the sandbox marketplace and serve")
    p.add_argument("--host", default=get_settings().host)
    p.add_argument("--port", type=int, default=get_settings().port)
    p.add_argument("--fresh", action="store_true", help="throw away the existing demo database first")
    p.set_defaults(run=_demo)

    configure, run = _optional_feature("ocop.cli.imports", "ocop import")
    p = verbs.add_parser("import", help="bulk-import a catalogue (XLSX/CSV) with a row-by-row report")
    configure(p)
    p.set_defaults(run=run)

    p = verbs.add_parser("sandbox", help="run the sandbox marketplace (Shopee, Lazada, TikTok Shop, Tiki)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=get_settings().sandbox_port)
    p.add_argument("--review-seconds", type=float, default=5.0, help="how long new items stay in review")
    p.add_argument("--rejection-share", type=float, default=0.15, help="share of new items rejected in review")
    p.set_defaults(run=_sandbox)

    p = verbs.add_parser("media", help="image tools")
    media_verbs = p.add_subparsers(dest="media_verb", required=True, metavar="MEDIA_VERB")
    configure, run = _optional_feature("media.cli", "ocop media normalize")
    mp = media_verbs.add_parser("normalize", help="normalize photos to a marketplace profile; one JSON line each")
    configure(mp)
    mp.set_defaults(run=run)

    p = verbs.add_parser("backup", help="consistent online copy of the SQLite database (PostgreSQL: pg_dump)")
    p.add_argument("path")
    p.set_defaults(run=_backup)

    p = verbs.add_parser("restore", help="replace the SQLite database with a backup (stop the service first)")
    p.add_argument("path")
    p.set_defaults(run=_restore)

    p = verbs.add_parser("keys", help="secrets: re-encrypt stored marketplace tokens after changing OCOP_SECRET_KEY")
    key_verbs = p.add_subparsers(dest="keys_verb", required=True, metavar="KEYS_VERB")
    kp = key_verbs.add_parser("rotate", help="re-encrypt tokens under OCOP_SECRET_KEY (old keys in OCOP_OLD_SECRET_KEYS)")
    kp.set_defaults(run=_keys_rotate)

    p = verbs.add_parser("user", help="accounts")
    user_verbs = p.add_subparsers(dest="user_verb", required=True, metavar="USER_VERB")
    up = user_verbs.add_parser("create", help="create an account (admin, staff with an area, or producer)")
    up.add_argument("username")
    up.add_argument("--role", choices=["admin", "staff", "producer"], required=True)
    up.add_argument("--name", default="", help="display name")
    up.add_argument("--password", help="read from the terminal when omitted (never put it in shell history)")
    up.add_argument("--producer-tax-code", help="for a producer account: the producer's tax code")
    up.add_argument("--province", help="for staff: province name or code (their area)")
    up.add_argument("--commune", action="append", default=[], help="for staff: narrow the area to communes")
    up.set_defaults(run=_user_create)
    return parser


_SERVICES = frozenset({"serve", "worker", "demo", "sandbox"})


def _configure_logging(verb: str) -> None:
    """Every verb logs through the scrubbing configuration (ocop/web/logs.py): library records
    (httpx fetching photos for ``ocop import``, piccolo during ``migrate``) included, so a
    password, token or phone number never reaches a terminal or a cron mail. One-shot commands
    print their own report; library chatter below WARNING shows only with OCOP_LOG_LEVEL=debug."""
    from ocop.web.logs import configure_logging

    settings = get_settings()
    level = settings.log_level
    if verb not in _SERVICES and level.lower() != "debug":
        level = "warning"
    configure_logging(level, settings.log_json)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        _configure_logging(args.verb)
        return int(args.run(args) or 0)
    except SettingsError as exc:
        print(f"Cấu hình sai / configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
