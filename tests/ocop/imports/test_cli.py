"""``ocop import`` as a real process: JSON shape, exit codes, template, kill and re-run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ocop.catalog.tables import Product
from ocop.imports.columns import ALL_COLUMNS
from ocop.imports.tables import ImportBatch
from ocop.producers.tables import Producer
from tests.ocop.imports.conftest import HEADERS, csv_text, product_row, write_xlsx

REPO = Path(__file__).resolve().parents[3]
#: The CLI adds nothing engine-specific on top of the service (tested on both engines in
#: test_service.py), so these process-level tests run on SQLite only, except kill-and-rerun.
sqlite_only = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def ocop(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    var_dir = Path(url.removeprefix("sqlite:///")).parent if url.startswith("sqlite") else Path(os.environ.get("TMPDIR", "/tmp"))
    env = dict(os.environ, OCOP_DATABASE_URL=url, OCOP_VAR_DIR=str(var_dir))  # nothing written into the checkout
    return subprocess.run([sys.executable, "-m", "ocop.cli.main", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)


@sqlite_only
async def test_json_output_and_exit_codes(db: Any, tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", rows)
    done = ocop("import", str(good), "--json", url=db.url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0, "failed": 0, "errors": []}

    again = ocop("import", str(good), "--json", url=db.url)
    assert json.loads(again.stdout)["unchanged"] == 3 and again.returncode == 0

    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text(rows + [product_row(sku="X", stars="7")]), encoding="utf-8-sig")
    done = ocop("import", str(bad), "--json", url=db.url)
    assert done.returncode == 1
    payload = json.loads(done.stdout)
    assert set(payload) == {"rows", "created", "updated", "unchanged", "failed", "errors"}
    assert (payload["rows"], payload["unchanged"], payload["failed"]) == (4, 3, 1)
    assert payload["errors"] == [{"row": 5, "column": "Số sao OCOP", "value": "7",
                                  "message": "Số sao OCOP phải là 3, 4 hoặc 5 (nhận được: 7)"}]

    done = ocop("import", str(tmp_path / "missing.xlsx"), "--json", url=db.url)
    assert done.returncode == 2
    assert "error" in json.loads(done.stdout)
    no_columns = tmp_path / "nocols.csv"
    no_columns.write_text("Ghi chú\nx\n", encoding="utf-8")
    done = ocop("import", str(no_columns), url=db.url)
    assert done.returncode == 2 and "Thiếu cột bắt buộc" in done.stderr


@sqlite_only
async def test_dry_run_and_human_report(db: Any, tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    path = tmp_path / "c.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    done = ocop("import", str(path), "--dry-run", url=db.url)
    assert done.returncode == 0, done.stderr
    assert "chạy thử" in done.stdout and "3 mới" in done.stdout
    assert await Product.count() == 0 and await ImportBatch.count() == 0


def test_database_without_schema_is_a_clear_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(csv_text([product_row()]), encoding="utf-8")
    done = ocop("import", str(path), "--json", url=f"sqlite:///{tmp_path}/empty.db")
    assert done.returncode == 2
    assert json.loads(done.stdout) == {"error": "Cơ sở dữ liệu chưa có bảng: chạy `ocop migrate` trước"}


def test_template(tmp_path: Path) -> None:
    path = tmp_path / "mau.xlsx"
    done = subprocess.run([sys.executable, "-m", "ocop.cli.main", "import", "--template", str(path)], cwd=REPO,
                          env=dict(os.environ, OCOP_VAR_DIR=str(tmp_path)), capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(path)
    data, helps = book.worksheets[0], book.worksheets[1]
    every = [c.header for c in ALL_COLUMNS]  # the province's 23 columns, then the variant columns
    assert every[: len(HEADERS)] == HEADERS
    assert [c.value for c in data[1]] == every
    assert data.max_row == 1  # headers only
    assert [helps.cell(row=r, column=1).value for r in range(2, 2 + len(every))] == every
    assert "chữ số kiểm tra" in helps.cell(row=2, column=3).value
    lists = book.worksheets[2]
    assert lists.sheet_state == "hidden"
    validations = {str(v.sqref): v.formula1 for v in data.data_validations.dataValidation}
    assert len(validations) == 6  # kind, group, stars, unit, province, commune
    communes = [c.value for c in lists["F"][1:] if c.value]
    assert len(communes) == 135 and "Phường Quy Nhơn" in communes
    assert any("$F$2:$F$136" in f for f in validations.values())


KILLER = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from pathlib import Path
    from ocop import db, piccolo_app
    from ocop.imports.service import ImportSource, run_import

    async def main():
        engine = piccolo_app.use_database(db.engine_from_url(sys.argv[1]))
        await db.prepare(engine)
        source = ImportSource.from_paths(Path(sys.argv[2]))

        def progress(done, total):
            if done > total // 2 + 600:  # in the middle of writing, after several chunks
                os.kill(os.getpid(), signal.SIGKILL)

        await run_import(source, actor_user_id=None, dry_run=False, progress=progress)

    asyncio.run(main())
    """
)


async def test_kill_in_the_middle_leaves_nothing_and_rerun_works(db: Any, tmp_path: Path) -> None:
    rows = [product_row(sku=f"SP-{i:04d}", name=f"Bánh tráng {i}") for i in range(2000)]
    path = tmp_path / "big.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    done = subprocess.run([sys.executable, str(script), db.url, str(path)], cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, OCOP_VAR_DIR=str(tmp_path)), timeout=120, check=False)
    assert done.returncode == -9, done.stderr
    assert (await Producer.count(), await Product.count(), await ImportBatch.count()) == (0, 0, 0)
    rerun = ocop("import", str(path), "--json", url=db.url)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["created"] == 2000
    assert await Product.count() == 2000 and await ImportBatch.count() == 1


@sqlite_only
async def test_errors_file_written(db: Any, tmp_path: Path) -> None:
    lang = "en"  # the Vietnamese file is checked in test_report.py
    path = tmp_path / "c.csv"
    path.write_text(csv_text([product_row(), product_row(sku="B", price="abc")]), encoding="utf-8")
    out = tmp_path / "loi.xlsx"
    done = ocop("import", str(path), "--errors-file", str(out), "--lang", lang, url=db.url)
    assert done.returncode == 1
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert sheet.cell(row=1, column=24).value == "Lỗi / Errors"
    assert sheet.cell(row=2, column=24).value is None
    message = sheet.cell(row=3, column=24).value
    assert message.startswith("Giá bán (VNĐ): ") and (("Số tiền" in message) == (lang == "vi"))
