"""Rules of the house that a test can hold: import direction and which ``tests`` package runs."""

from __future__ import annotations

import ast
from pathlib import Path

import tests

REPO = Path(__file__).resolve().parent.parent


def _imported_roots(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (REPO / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(REPO)), a.name.split(".")[0]) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(REPO)), node.module.split(".")[0]))
    return found


def test_connectors_and_media_never_import_ocop() -> None:
    for package, forbidden in (("connectors", {"ocop", "media"}), ("media", {"ocop", "connectors"})):
        bad = [(f, m) for f, m in _imported_roots(package) if m in forbidden]
        assert bad == [], f"{package} imports {bad}"


def test_our_tests_package_is_the_one_collected() -> None:
    # piccolo's wheel installs a top-level ``tests`` package into site-packages.
    assert Path(tests.__file__).resolve().parent == REPO / "tests"


def test_embedded_mode_needs_no_production_extras() -> None:
    """``./run demo`` installs the package without extras: the S3 client (obstore) and the
    PostgreSQL driver (asyncpg) must not be needed to run on SQLite with a local media folder."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['obstore'] = None; sys.modules['asyncpg'] = None\n"
            "import ocop.app, ocop.cli.main, ocop.storage, ocop.imports.jobs, ocop.demo.run\n"
            "from ocop.settings import Settings; from ocop.storage import media_store\n"
            "media_store(Settings())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
