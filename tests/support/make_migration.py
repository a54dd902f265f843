"""Generate the next auto migration against a throw-away PostgreSQL (never SQLite, whose ALTER
support piccolo's auto migrations do not cover): ``.venv/bin/python -m tests.support.make_migration "what changed"``.

It applies the existing migrations first, so the new file holds only the difference.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.servers import postgres_server

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    description = sys.argv[1] if len(sys.argv) > 1 else "schema change"
    piccolo = str(Path(sys.executable).parent / "piccolo")
    with postgres_server() as pg:
        env = {**os.environ, "OCOP_DATABASE_URL": pg.url(), "PICCOLO_CONF": "ocop.piccolo_conf"}
        subprocess.run([piccolo, "migrations", "forwards", "ocop"], env=env, cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
        before = set((REPO / "ocop" / "migrations").glob("ocop_*.py"))
        # piccolo's --desc is a yes/no prompt flag, not the text: write the description ourselves.
        done = subprocess.run([piccolo, "migrations", "new", "ocop", "--auto"],
                              env=env, cwd=REPO, check=False, capture_output=True, text=True)
        print(done.stdout[-3000:], done.stderr[-3000:])
        for path in set((REPO / "ocop" / "migrations").glob("ocop_*.py")) - before:
            text = path.read_text()
            text = re.sub(r'^DESCRIPTION = ".*"$', f"DESCRIPTION = {description!r}".replace("'", '"'), text, flags=re.M)
            path.write_text(text)
        return done.returncode


if __name__ == "__main__":
    sys.exit(main())
