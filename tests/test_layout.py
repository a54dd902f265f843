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


def _module_graph(package: str) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports, at any depth of the file (a function-level
    import is still a dependency)."""
    modules = {".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): p
               for p in (REPO / package).rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            # A module's own packages run before it whatever it imports: not a loop of ours.
            graph[module] |= {n for n in names if n in modules and not module.startswith(n + ".") and n != module}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import loop of ``graph`` (depth-first search), or []."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return []


def test_no_import_loops() -> None:
    """Features are gathered only by ``ocop.assembly``; nothing registers itself by being imported
    from below, so the modules of each package import each other without a loop."""
    for package in ("ocop", "connectors", "media"):
        loop = _cycle(_module_graph(package))
        assert loop == [], f"import loop in {package}: {' -> '.join(loop)}"
