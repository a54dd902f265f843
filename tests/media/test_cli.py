"""The CLI as staff run it: a real subprocess over a folder of real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.media import corpus
from tests.media.checks import assert_no_metadata

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "media", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_batch_reports_one_json_line_per_input_and_fails_on_any_refusal(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    files = {
        "IMG_0001.JPG": corpus.phone_photo(1600, 1200, orientation=6),
        "label.png": corpus.transparent_png(),
        "iphone.heic": corpus.heic(),
        "tiny.png": corpus.tiny(200),
        "page.jpg": corpus.NON_IMAGES["html"],  # named like a photo, is HTML
        "cut.jpg": corpus.truncated(),
    }
    for name, data in files.items():
        (photos / name).write_bytes(data)
    inputs = [str(photos / name) for name in files]
    out = tmp_path / "out"

    done = _run("normalize", *inputs, "--profile", "shopee", "--out", str(out))

    assert done.returncode == 1, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["input"] for line in lines] == inputs  # input order, one line each
    by_name = {Path(line["input"]).name: line for line in lines}
    for name in ("IMG_0001.JPG", "label.png", "iphone.heic"):
        line = by_name[name]
        assert line["error"] is None
        output = Path(line["output"])
        assert output.parent == out and output.name == f"{Path(name).stem}.shopee.jpg"
        data = output.read_bytes()
        assert len(data) == line["bytes"] <= 2_000_000
        with Image.open(output) as im:
            assert im.size == (line["width"], line["height"]) and im.width == im.height >= 500
        assert_no_metadata(data)
    assert (by_name["tiny.png"]["error"], by_name["tiny.png"]["output"]) == ("too_small", None)
    assert by_name["page.jpg"]["error"] == "not_an_image"
    assert by_name["cut.jpg"]["error"] == "corrupt"
    assert "ảnh" in by_name["page.jpg"]["message"]
    assert sorted(p.name for p in out.iterdir()) == [
        "IMG_0001.shopee.jpg",
        "iphone.shopee.jpg",
        "label.shopee.jpg",
    ]


def test_all_accepted_exits_zero_and_names_do_not_collide(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "photo.webp").write_bytes(corpus.webp())
    (tmp_path / "b" / "photo.webp").write_bytes(corpus.webp())
    out = tmp_path / "out"
    done = _run(
        "normalize", str(tmp_path / "a" / "photo.webp"), str(tmp_path / "b" / "photo.webp"),
        "--profile", "web_thumb", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    outputs = [json.loads(line)["output"] for line in done.stdout.splitlines()]
    assert [Path(o).name for o in outputs] == ["photo.web_thumb.webp", "photo-2.web_thumb.webp"]


def test_unknown_profile_is_a_usage_error(tmp_path: Path) -> None:
    done = _run("normalize", "x.jpg", "--profile", "ebay", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
