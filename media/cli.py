"""``ocop media normalize INPUT... --profile NAME --out DIR`` (also ``python -m media normalize``).

Staff run it on a folder of photos before an import: one output per
accepted input in DIR, one JSON line per input on stdout, in input order::

    {"input": "a.heic", "output": "out/a.shopee.jpg", "width": 2000, "height": 2000,
     "bytes": 812345, "error": null, "message": null}

``error`` is the refusal's reason code (``too_small``, ``corrupt``, ...) and
``message`` its Vietnamese explanation. Exit status 0 when every input was
accepted, 1 otherwise. Batches run on a process pool with one worker per usable core
(at most one per photo): decoding and encoding hold the GIL only in part, processes
scale linearly.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from media.errors import MediaRejected, rejected
from media.limits import DEFAULT_LIMITS
from media.pipeline import normalize
from media.profiles import PROFILES


@dataclass(frozen=True, slots=True)
class _Job:
    input: str
    output: str
    profile: str


HELP = "normalize photos to a marketplace profile and report each as one JSON line"
DESCRIPTION = "Normalize photos to a profile; one JSON line per input; exit 1 if any is refused."


def configure(norm: argparse.ArgumentParser) -> None:
    """Add the arguments (and the description) of ``normalize`` to its own (sub-)parser. The caller
    names the verb, so ``ocop media normalize`` and ``python -m media normalize`` parse alike."""
    norm.description = DESCRIPTION
    norm.add_argument("inputs", nargs="+", metavar="INPUT", help="image files (any name; type is sniffed)")
    norm.add_argument("--profile", required=True, choices=sorted(PROFILES), help="output profile")
    norm.add_argument("--out", required=True, type=Path, help="directory for the outputs (created)")
    norm.add_argument(
        "--jobs",
        type=int,
        default=_usable_cores(),
        help="worker processes (default: every core this process may use)",
    )


def _usable_cores() -> int:
    """Cores this process may run on (a container or ``taskset`` may allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _output_names(inputs: list[str], profile: str, out: Path) -> list[str]:
    """``<stem>.<profile>.<ext>`` in ``out``, made unique within the batch."""
    extension = PROFILES[profile].extension
    taken: set[str] = set()
    names = []
    for item in inputs:
        stem = Path(item).stem or "image"
        name, n = f"{stem}.{profile}.{extension}", 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}.{profile}.{extension}"
        taken.add(name)
        names.append(str(out / name))
    return names


def process(job: _Job) -> dict[str, object]:
    """Normalize one file; never raises for a bad input."""
    line: dict[str, object] = {
        "input": job.input,
        "output": None,
        "width": None,
        "height": None,
        "bytes": None,
        "error": None,
        "message": None,
    }
    try:
        path = Path(job.input)
        size = path.stat().st_size
        if size > DEFAULT_LIMITS.max_bytes:  # refuse before reading a huge file into memory
            raise rejected("too_many_bytes", size=size, limit=DEFAULT_LIMITS.max_bytes)
        data = path.read_bytes()
    except OSError as exc:
        line.update(error="unreadable", message=f"Không đọc được tệp: {exc.strerror or exc}")
        return line
    except MediaRejected as refusal:
        line.update(error=refusal.code, message=refusal.message_vi)
        return line
    try:
        result = normalize(data, [PROFILES[job.profile]])
    except MediaRejected as refusal:
        line.update(error=refusal.code, message=refusal.message_vi)
        return line
    if job.profile in result.refused:
        refusal = result.refused[job.profile]
        line.update(error=refusal.code, message=refusal.message_vi)
        return line
    rendition = result.renditions[job.profile]
    Path(job.output).write_bytes(rendition.data)
    line.update(output=job.output, width=rendition.width, height=rendition.height, bytes=len(rendition.data))
    return line


def _results(jobs: list[_Job], workers: int) -> Iterator[dict[str, object]]:
    """Results in input order. Workers in proportion to the batch (never more than its photos), and
    none for one photo: it is done in this process, which has the pipeline loaded already. Workers
    are forked where the platform can (Linux), so each starts in milliseconds with the pipeline
    imported, instead of re-importing Pillow and the codecs (``spawn``/``forkserver``, Python's
    default elsewhere and from 3.14 on Linux)."""
    workers = min(workers, len(jobs))
    if workers <= 1:
        yield from map(process, jobs)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(process, jobs, chunksize=1)


def run(args: argparse.Namespace) -> int:
    """Normalize the parsed inputs; returns the process exit status."""
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    names = _output_names(args.inputs, args.profile, out)
    jobs = [_Job(i, o, args.profile) for i, o in zip(args.inputs, names)]
    status = 0
    for line in _results(jobs, args.jobs):
        if line["error"] is not None:
            status = 1
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return status
