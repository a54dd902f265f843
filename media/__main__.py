"""``python -m media normalize ...``: the same command as ``ocop media normalize``, without the
service installed around it (``media`` never imports ``ocop``)."""

from __future__ import annotations

import argparse
import sys

from media.cli import HELP, configure, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m media", description="Photo normalization for marketplaces."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    configure(commands.add_parser("normalize", help=HELP))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
