"""``python -m media normalize ...`` — the same CLI the lead wires into ``ocop media``."""

from __future__ import annotations

import argparse
import sys

from media.cli import configure, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="media", description="Photo normalization for marketplaces.")
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
