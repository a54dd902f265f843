"""Benchmark: the whole ``ocop import`` process on a 10,000-row catalogue vs a bare openpyxl pass.

Run: ``.venv/bin/python tests/bench/import_bench.py [ROWS]``. Writes a realistic XLSX (500
producers in Gia Lai communes, 23 columns), migrates a temp SQLite database (not timed), then
times, in the same run:

1. a bare openpyxl ``read_only`` pass that touches every cell value (in this process: the
   stricter baseline, it pays no interpreter start-up);
2. ``python -m ocop.cli.main import FILE --json`` as a subprocess (start-up, reading, validation,
   writing, the batch row — everything), first import and a re-import of the same file.

Prints rows/s, the child's peak RSS and the ratio to the bare read. Target (issue 4): ≤ 3×.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openpyxl
import xlsxwriter

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from ocop.domain import admin_units  # noqa: E402
from ocop.domain.ocop import GROUPS, ProducerKind  # noqa: E402
from ocop.imports.columns import COLUMNS  # noqa: E402
from stdnum.vn import mst  # noqa: E402

PRODUCTS = ["Bánh tráng nước dừa", "Rượu Bàu Đá", "Nem chợ Huyện", "Nước mắm Gò Bồi", "Hạt điều rang muối", "Mật ong rừng",
            "Cà phê Gia Lai", "Hồ tiêu Chư Sê", "Trà thảo mộc", "Nón lá Phú Gia"]
UNITS = ["gói", "chai", "chục", "chai", "hũ", "chai", "gói", "hũ", "hộp", "cái"]


def tax_code(i: int) -> str:
    body = f"41{i + 1:07d}"
    while len(mst.calc_check_digit(body)) != 1:
        body = f"{int(body) + 1:09d}"
    return body + mst.calc_check_digit(body)


def write_catalogue(path: Path, rows: int) -> None:
    communes = [w.name for w in admin_units.wards_of(admin_units.find_province("Gia Lai"))]
    kinds = [k.label_vi for k in ProducerKind]
    producers = [(tax_code(i), f"HTX Sản xuất số {i}", kinds[i % 4], f"0905{i:06d}", communes[i % len(communes)]) for i in range(500)]
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, [c.header for c in COLUMNS])
    for r in range(rows):
        p = producers[r % len(producers)]
        k = r % len(PRODUCTS)
        sheet.write_row(r + 1, 0, [
            p[0], p[1], p[2], p[3], "Gia Lai", p[4], f"SP-{r:05d}", f"{PRODUCTS[k]} loại {r}", GROUPS[k % 5].name_vi,
            3 + r % 3, f"{1000 + r % 900}/QĐ-UBND", f"{1 + r % 28:02d}/0{1 + r % 9}/2025", UNITS[k], "500 g",
            f"{(50 + r % 200) * 1000:,}".replace(",", ".") + "đ", r % 500, 550, 25, 18, 5, 180,
            f"Sản phẩm OCOP {PRODUCTS[k]}, đặc sản Bình Định – Gia Lai.", "",
        ])
    book.close()


def bare_openpyxl(path: Path) -> float:
    start = time.perf_counter()
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    cells = 0
    for row in book.worksheets[0].iter_rows(values_only=True):
        cells += sum(1 for v in row if v is not None)
    book.close()
    assert cells > 0
    return time.perf_counter() - start


def ocop_import(path: Path, env: dict[str, str]) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ocop.cli.main", "import", str(path), "--json"], env=env, cwd=REPO,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"import failed ({done.returncode}): {done.stderr[-2000:]} {done.stdout[:2000]}")
    return elapsed, json.loads(done.stdout)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalogue.xlsx"
        write_catalogue(path, rows)
        env = dict(os.environ, OCOP_DATABASE_URL=f"sqlite:///{tmp}/bench.db", OCOP_VAR_DIR=tmp)
        subprocess.run([sys.executable, "-m", "ocop.cli.main", "migrate"], env=env, cwd=REPO, check=True, capture_output=True)
        bare = bare_openpyxl(path)
        first, report = ocop_import(path, env)
        assert report["created"] == rows and report["failed"] == 0, report
        again, report = ocop_import(path, env)
        assert report["unchanged"] == rows, report
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"rows: {rows}, file {path.name}")
    print(f"bare openpyxl read-only pass: {bare:.2f} s ({rows / bare:,.0f} rows/s)")
    print(f"ocop import (first):          {first:.2f} s ({rows / first:,.0f} rows/s), ratio {first / bare:.2f}x")
    print(f"ocop import (re-import):      {again:.2f} s ({rows / again:,.0f} rows/s), ratio {again / bare:.2f}x")
    print(f"peak RSS of the import process: {peak_kib / 1024:.0f} MiB")
    print(f"target <= 3x: {'met' if max(first, again) <= 3 * bare else 'NOT met'}")


if __name__ == "__main__":
    main()
