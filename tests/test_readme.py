"""Every command README.md shows works exactly as written.

What counts as a command: every line of a fenced ``bash`` block, and every inline code span in the
prose or tables that starts with a command (``./run``, ``ocop``, ``python``, ``docker``,
``pg_dump``…). Fenced blocks must say what they hold (``bash``: commands; ``text``: not).

- A concrete command is run as written with ``bash -c`` in a scratch folder (a link to ``run``, the
  files the examples name, ``OCOP_VAR_DIR`` and free ports of its own; the checkout's virtualenv,
  which ``./run test`` has just made, on ``PATH``). Services (``demo``, ``serve``, ``sandbox``,
  ``worker``) are started, polled until they answer (``/readyz`` 200 for the site), and stopped.
- A usage line with placeholders (the verb table's ``ocop import FILE [--images ZIP]``) is checked
  against ``--help``: the verb exists and takes every option it shows.
- A command that cannot run here is in ``NOT_RUN`` with the reason.

Anything else fails: a command added to the README is run, or listed, or this test says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from piccolo.engine.postgres import PostgresEngine

from tests.conftest import run_sync
from tests.media import corpus
from tests.ocop.imports.conftest import product_row, write_xlsx
from tests.support.servers import free_port, postgres_bindir, sandbox_port, wait_http

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"

#: Shown in the README, not run here; each with the reason.
NOT_RUN: dict[str, str] = {
    # The test suite itself: this test runs inside it.
    "./run test": "the whole suite, which this test is part of",
    "./run test tests/media -x": "a part of the suite, from inside the suite",
    ".ci/run": "CI's entry point, `./run test` with CI=true",
    # Needs what these machines do not have or must not change.
    "docker compose up -d --scale worker=3":
        "no Docker engine here; tests/test_container.py lints the Dockerfile and checks the compose wiring",
    "apt-get install wrk": "installs a system package for a benchmark: changes the machine, not the service",
    # A developer tool that writes into the checkout.
    'python -m tests.support.make_migration "what changed"':
        "writes a new migration file into the source tree",
}

COMMAND_WORDS = ("./run", "ocop", "python", "docker", "pg_dump", "pg_restore", "apt-get", ".ci/run")
SHELL_BLOCKS = {"bash", "sh", "shell"}
SERVICES = {"demo", "serve", "sandbox", "worker"}


# ------------------------------------------------------------------------------------ extraction


@dataclass
class Commands:
    run: list[str] = field(default_factory=list)
    """Concrete commands, in README order, each once."""
    usage: list[str] = field(default_factory=list)
    """Usage lines with placeholders, and bare names of verbs that need arguments."""
    unlabelled_blocks: list[str] = field(default_factory=list)


def _is_command(span: str) -> bool:
    """Starts with a command word and is more than a program's name (``pg_dump`` alone is a name;
    ``ocop → media`` is a dependency, not a command)."""
    if "→" in span or (" " not in span and not span.startswith(".")):
        return span == "ocop"  # the command's own name: checked against --help
    return any(span == word or span.startswith(word + " ") for word in COMMAND_WORDS)


def _as_ocop(command: str) -> list[str]:
    """``./run X …`` passes X to ``ocop``: the words of either as one ``ocop`` command line."""
    words = shlex.split(command.replace("…", "").replace("...", ""))
    return ["ocop", *words[1:]] if words[0] == "./run" else words


def _verb_path(words: list[str]) -> list[str]:
    """The verb words after ``ocop``: ``ocop user create NAME`` → ``["user", "create"]``."""
    path = []
    for word in words[1:]:
        if not re.fullmatch(r"[a-z]+", word):
            break
        path.append(word)
    return path


_PLACEHOLDER = re.compile(r"\[|…|\.\.\.|(?<![\w$-])[A-Z][A-Z_]*\b")


def _has_placeholder(command: str) -> bool:
    without_values = re.sub(r'"[^"]*"|\$\w+|\w+=\S+', "", command)  # quoted values, $VARS, NAME=value
    return bool(_PLACEHOLDER.search(without_values))


def extract(text: str) -> Commands:
    found = Commands()
    seen: set[str] = set()
    prose = text
    for match in re.finditer(r"^```(\w*)\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        language, body = match.group(1), match.group(2)
        prose = prose.replace(match.group(0), "")
        if language in SHELL_BLOCKS:
            for line in body.splitlines():
                command = re.sub(r"\s+#\s.*$", "", line).strip()
                if command and not command.startswith("#") and command not in seen:
                    seen.add(command)
                    found.run.append(command)
        elif language != "text":
            found.unlabelled_blocks.append(body.splitlines()[0] if body else "")
    spans = [s.replace("\\|", "|").strip() for s in re.findall(r"`([^`\n]+)`", prose)]
    needs_arguments = {tuple(_verb_path(_as_ocop(s))) for s in spans
                       if _is_command(s) and _has_placeholder(s) and _required_argument(s)}
    for span in spans:
        if not _is_command(span) or span in seen:
            continue
        seen.add(span)
        words = _as_ocop(span)
        # `ocop`, or a verb named without the arguments it needs (`ocop media normalize`): a name.
        bare_name = words == ["ocop"] or (words == ["ocop", *_verb_path(words)]
                                          and tuple(_verb_path(words)) in needs_arguments)
        (found.usage if _has_placeholder(span) or bare_name else found.run).append(span)
    return found


def _required_argument(usage: str) -> bool:
    """Whether a usage line shows a positional placeholder outside brackets (``FILE``, ``INPUT...``)."""
    words = usage.split("[")[0].split()
    return any(re.fullmatch(r"[A-Z][A-Z_]*(\.\.\.)?", word) and not words[i - 1].startswith("--")
               for i, word in enumerate(words) if i)


COMMANDS = extract(README.read_text(encoding="utf-8"))


def test_every_command_is_run_or_listed() -> None:
    assert not COMMANDS.unlabelled_blocks, (
        "a fenced block in README.md without `bash` (commands, run here) or `text` (not commands): "
        f"{COMMANDS.unlabelled_blocks}")
    assert COMMANDS.run, "no commands found in README.md"
    stale = [command for command in NOT_RUN if command not in COMMANDS.run]
    assert not stale, f"NOT_RUN lists commands README.md no longer shows: {stale}"


def test_the_extraction_sees_what_a_reader_sees() -> None:
    """Guards the extraction itself: the commands people copy first are among those run."""
    for command in ("./run demo", "ocop migrate",
                    "ocop media normalize photo.jpg --profile shopee --out out/"):
        assert command in COMMANDS.run
    assert "ocop import FILE [--images ZIP] [--dry-run] [--json]" in COMMANDS.usage
    assert extract("x `ocop frobnicate --now` y").run == ["ocop frobnicate --now"]  # a new one is picked up


# -------------------------------------------------------------------------------- usage lines


@pytest.mark.parametrize("usage", COMMANDS.usage)
def test_usage_line_matches_the_verbs_help(usage: str, scratch: Scratch) -> None:
    words = _as_ocop(usage)
    verb = _verb_path(words)
    done = subprocess.run(["ocop", *verb, "--help"], env=scratch.env, cwd=scratch.path, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert f"usage: ocop {' '.join(verb)}".rstrip() in done.stdout
    for option in re.findall(r"--[a-z][a-z-]*", usage):
        assert option in done.stdout, f"{usage!r}: `ocop {' '.join(verb)}` has no {option}"
    for choices in re.findall(r"\b\w+(?:\|\w+)+", usage):
        assert "{" + choices.replace("|", ",") + "}" in done.stdout, f"{usage!r}: choices {choices}"


# ----------------------------------------------------------------------------------- running


@dataclass
class Scratch:
    path: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Scratch:
    """A folder as a user's: ``./run`` (a link to the checkout's), the files the examples name,
    and an environment of its own (no OCOP_* from outside; free ports; var/ inside)."""
    path = tmp_path_factory.mktemp("readme")
    (path / "run").symlink_to(REPO / "run")
    write_xlsx(path / "catalogue.xlsx", [product_row(sku="BD-RUOU-500"), product_row(sku="BD-RUOU-750")])
    (path / "photo.jpg").write_bytes(corpus.phone_photo(1600, 1200))
    (path / "matkhau.txt").write_text("mat-khau-du-dai-2026\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCOP_")}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               OCOP_VAR_DIR=str(path / "var"), OCOP_HOST="127.0.0.1", OCOP_PORT=str(free_port()),
               OCOP_SANDBOX_PORT=str(sandbox_port()))
    return Scratch(path, env)


def _bash(command: str, scratch: Scratch, env: dict[str, str],
          timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=scratch.path, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _port(words: list[str], default: str) -> int:
    return int(words[words.index("--port") + 1]) if "--port" in words else int(default)


@pytest.fixture(scope="module")
def postgres_env(postgres, scratch: Scratch) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """For the README's pg_dump/pg_restore lines: a migrated PostgreSQL database in
    OCOP_DATABASE_URL and the server's client tools on PATH."""
    name = f"readme_{uuid.uuid4().hex[:10]}"
    run_sync(PostgresEngine(config={"dsn": postgres.url()}).run_ddl(f"CREATE DATABASE {name}"))
    env = {**scratch.env, "OCOP_DATABASE_URL": postgres.url(name),
           "PATH": f"{postgres_bindir()}{os.pathsep}{scratch.env['PATH']}"}
    migrated = subprocess.run(["ocop", "migrate"], env=env, cwd=scratch.path, capture_output=True, text=True,
                              timeout=120, check=False)
    assert migrated.returncode == 0, migrated.stderr
    return env


def _service(command: str, scratch: Scratch, env: dict[str, str], verb: str, words: list[str]) -> str:
    """Start a service, wait until it answers, stop it with Ctrl+C; returns its output."""
    process = subprocess.Popen(["bash", "-c", command], cwd=scratch.path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        if verb in ("demo", "serve"):
            wait_http(f"http://127.0.0.1:{_port(words, env['OCOP_PORT'])}/readyz", process, 180)
        elif verb == "sandbox":
            port = _port(words, env["OCOP_SANDBOX_PORT"])
            wait_http(f"http://127.0.0.1:{port}/_admin/config", process, 60)
            for own in range(port + 1, port + 5):  # each marketplace at the root of its own port
                wait_http(f"http://127.0.0.1:{own}/", process, 10, ok=(200, 404))
        else:  # worker: no HTTP; alive after start-up, connected to Redis
            time.sleep(4)
            assert process.poll() is None, "the worker exited"
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have exited already (the failure above says why)
            os.killpg(process.pid, signal.SIGINT)
        try:
            out, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            out, _ = process.communicate()
    assert process.returncode == 0, f"{command!r} stopped with {process.returncode}:\n{out[-3000:]}"
    return out


def _check_output(command: str, words: list[str], done: subprocess.CompletedProcess[str],
                  scratch: Scratch) -> None:
    """What a reader expects to see, beyond exit status 0."""
    out = done.stdout
    verb = _verb_path(words)
    if verb == ["migrate"]:
        assert "the database schema is up to date" in out
    elif verb == ["import"] and "--template" in words:
        assert (scratch.path / words[words.index("--template") + 1]).stat().st_size > 0
    elif verb == ["import"] and "--json" in words:
        assert json.loads(out)["rows"] == 2 and json.loads(out)["failed"] == 0
    elif verb == ["import"]:
        assert re.search(r"2 (dòng|rows)", out), out
    elif verb == ["media", "normalize"]:
        lines = [json.loads(line) for line in out.splitlines()]
        assert lines
        assert all(line["error"] is None and (scratch.path / line["output"]).exists() for line in lines)
    elif verb == ["user", "create"]:
        assert words[3].lower() in out.lower()
    elif verb in (["backup"], ["restore"]):
        assert (scratch.path / words[2]).stat().st_size > 0
    elif words[0] == "pg_dump":
        assert (scratch.path / "ocop.dump").stat().st_size > 0
    elif words[0] == "pg_restore":
        pass  # silent on success, like pg_restore everywhere
    else:
        assert out.strip() or done.stderr.strip(), "no output at all"


def test_every_readme_command_runs_as_written(scratch: Scratch, redis_url: str,
                                             request: pytest.FixtureRequest) -> None:
    """In README order, in one scratch folder (later examples use what earlier ones made)."""
    failures: list[str] = []
    for command in COMMANDS.run:
        if command in NOT_RUN:
            continue
        words = _as_ocop(command)
        verb = _verb_path(words)
        env = dict(scratch.env)
        if words[0] in ("pg_dump", "pg_restore"):
            env = request.getfixturevalue("postgres_env")
        if verb[:1] == ["worker"]:
            env["OCOP_REDIS_URL"] = redis_url  # a worker needs a Redis server (production's setting)
        started = time.monotonic()
        try:
            if verb[:1] and verb[0] in SERVICES and "--burst" not in words:
                _service(command, scratch, env, verb[0], words)
            else:
                done = _bash(command, scratch, env)
                assert done.returncode == 0, \
                    f"exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
                _check_output(command, words, done, scratch)
        except AssertionError as failure:
            failures.append(f"{command}: {failure}")
        print(f"{time.monotonic() - started:6.1f} s  {command}")
    assert not failures, "\n\n".join(failures)
