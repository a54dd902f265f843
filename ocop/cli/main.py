"""The ``ocop`` command. Each verb parses its own arguments; features own their verbs' code
(``ocop.cli.imports``, ``media.cli``, ``connectors.sandbox``) and this module only wires them.

Only the verb being run is loaded: ``ocop media normalize`` starts in a fraction of a second
because it never imports the catalogue import machinery or the web stack."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ocop.errors import StartupError
from ocop.settings import SettingsError, get_settings

if TYPE_CHECKING:
    from ocop import piccolo_app

Runner = Callable[[argparse.Namespace], int]


def _serve(args: argparse.Namespace) -> int:
    from ocop.cli.serve import serve

    return serve(get_settings().listening_on(args.host, args.port))


def _worker(args: argparse.Namespace) -> int:
    from ocop.cli.serve import run_worker

    return run_worker(get_settings(), burst=args.burst)


def _migrate(args: argparse.Namespace) -> int:
    import asyncio

    from ocop import db, piccolo_app

    settings = get_settings()
    report = asyncio.run(piccolo_app.migrate(db.engine_from_url(settings.effective_database_url)))
    print(migrate_message(report))
    return 0


def migrate_message(report: piccolo_app.MigrationReport) -> str:
    """One true sentence about what ``ocop migrate`` did, in Vietnamese then English."""
    if report.applied:
        n = len(report.applied)
        return (f"Đã chạy {n} migration mới (tổng cộng {report.total}); "
                "cơ sở dữ liệu đã ở phiên bản mới nhất.\n"
                f"Applied {n} new migration{'s' if n != 1 else ''} ({report.total} in all); "
                "the database schema is up to date.")
    return (f"Không có migration mới: cả {report.total} migration đã được chạy trước đó; "
            "cơ sở dữ liệu đã ở phiên bản mới nhất.\n"
            f"Nothing to apply: all {report.total} migrations had already been applied; "
            "the database schema is up to date.")


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
    from connectors.sandbox.server import default_marketplace_ports, run
    from ocop.alerts.zalo import sandbox_app as sandbox_zalo
    from ocop.marketplace.sandbox import sandbox_config

    ports = default_marketplace_ports(args.port) if args.marketplace_ports is None else args.marketplace_ports
    run(host=args.host, port=args.port, marketplace_ports=ports,
        config=sandbox_config(get_settings(), review_seconds=args.review_seconds,
                              rejection_share=args.rejection_share, zalo=sandbox_zalo(get_settings())))
    return 0


def _marketplace_ports(text: str) -> dict[str, int]:
    """``shopee=9001,tiktok=9003`` (only those get a port of their own), or ``none``."""
    from connectors.sandbox.config import MARKETPLACES

    if text.strip().lower() in ("", "none"):
        return {}
    ports: dict[str, int] = {}
    for part in text.split(","):
        name, _, port = part.partition("=")
        if name.strip() not in MARKETPLACES or not port.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"'{part}': cần dạng tên=cổng với tên là {', '.join(MARKETPLACES)} / "
                f"expected name=port with name one of {', '.join(MARKETPLACES)}")
        ports[name.strip()] = int(port)
    return ports


def _keys_rotate(args: argparse.Namespace) -> int:
    from ocop.cli.keys import rotate_keys

    return rotate_keys(get_settings())


def _feature_verb(parser: argparse.ArgumentParser, module: str, *, load: bool) -> None:
    """Give a verb owned by a feature its arguments and runner (the module's ``configure`` and
    ``run``). Only the verb being run, or asked for ``--help``, loads its module."""
    if load:
        feature = importlib.import_module(module)
        feature.configure(parser)
        parser.set_defaults(run=feature.run)


def build_parser(verb: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``verb``, only that verb's feature module is loaded."""
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

    p = verbs.add_parser("import", help="bulk-import a catalogue (XLSX/CSV) with a row-by-row report")
    _feature_verb(p, "ocop.cli.imports", load=verb in (None, "import"))

    p = verbs.add_parser("sandbox", help="run the sandbox marketplace (Shopee, Lazada, TikTok Shop, Tiki)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=get_settings().sandbox_port,
                   help="the combined layout: every marketplace under /shopee, /lazada, /tiktok, /tiki")
    p.add_argument("--marketplace-ports", type=_marketplace_ports, default=None, metavar="NAME=PORT,…",
                   help="each marketplace also at the root of a port of its own, for clients that sign "
                        "the URL's whole path (default: shopee, lazada, tiktok, tiki on PORT+1 … PORT+4; "
                        "'none': off)")
    p.add_argument("--review-seconds", type=float, default=5.0, help="how long new items stay in review")
    p.add_argument("--rejection-share", type=float, default=0.15, help="share of new items rejected in review")
    p.set_defaults(run=_sandbox)

    p = verbs.add_parser("media", help="image tools")
    media_verbs = p.add_subparsers(dest="media_verb", required=True, metavar="MEDIA_VERB")
    mp = media_verbs.add_parser("normalize", help="normalize photos to a marketplace profile; one JSON line each")
    _feature_verb(mp, "media.cli", load=verb in (None, "media"))

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
_SILENT = frozenset({"media"})


def _configure_logging(verb: str) -> None:
    """Every verb logs through the scrubbing configuration (ocop/logs.py): library records
    (httpx fetching photos for ``ocop import``, piccolo during ``migrate``) included, so a
    password, token or phone number never reaches a terminal or a cron mail. One-shot commands
    print their own report; library chatter below WARNING shows only with OCOP_LOG_LEVEL=debug.
    ``media`` logs nothing and handles no secrets, so ``ocop media`` skips loading the logging stack
    (a third of its start-up) unless debugging."""
    settings = get_settings()
    level = settings.log_level
    if verb in _SILENT and level.lower() != "debug":
        return
    from ocop.logs import configure_logging

    if verb not in _SERVICES and level.lower() != "debug":
        level = "warning"
    configure_logging(level, settings.log_json)


def _verb_of(argv: Sequence[str]) -> str | None:
    """The first word that is not an option: the top-level parser has no options besides --help."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verb = _verb_of(argv)
    try:
        args = build_parser(verb).parse_args(argv)
        _configure_logging(args.verb)
        return int(args.run(args) or 0)
    except SettingsError as exc:
        print(f"Cấu hình sai / configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if verb not in _SERVICES:
            raise
        # A service that cannot start (port taken, database or Redis unreachable, unwritable
        # folder) or stops on an error says why in one line; the traceback is for OCOP_LOG_LEVEL=debug.
        if get_settings().log_level.lower() == "debug":
            import traceback

            traceback.print_exc()
        print(f"ocop {verb}: {_reason(exc)}", file=sys.stderr)
        return 1


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, StartupError):
        return f"không khởi động được / could not start: {text}"
    return f"dừng vì lỗi / stopped by an error: {type(exc).__name__}: {text}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
