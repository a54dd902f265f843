"""The SVG charts: well-formed, accessible, escaped, and free of anything CSP would block."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ocop.reports.charts import Point, bar_chart, column_chart, compact, gauge, line_chart

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & "Bánh"'


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


@pytest.mark.parametrize("make", [column_chart, line_chart, bar_chart])
def test_charts_escape_labels_and_carry_no_script_or_style(make: object) -> None:
    points = [Point(HOSTILE, 1_500_000), Point("02/2026", 500_000), Point("03/2026", 0)]
    svg = make(points, title="Doanh thu", chart_id="c1", fmt=str)  # type: ignore[operator]
    root = parse(svg)  # well-formed XML, so the hostile label was escaped
    assert root.get("role") == "img"
    assert root.find(f"{NS}title").text == "Doanh thu"  # type: ignore[union-attr]
    texts = [t.text for t in root.iter(f"{NS}text")] + [t.text for t in root.iter(f"{NS}title")]
    assert any(t and HOSTILE in t for t in texts)
    assert "<script" not in svg and "<style" not in svg and "style=" not in svg
    assert "1500000" in root.find(f"{NS}desc").text  # type: ignore[union-attr,operator]


def test_bar_lengths_are_proportional() -> None:
    root = parse(bar_chart([Point("a", 300), Point("b", 150)], title="t", chart_id="b"))
    green = [float(r.get("width", 0)) for r in root.iter(f"{NS}rect") if r.get("fill") == "#1f7a3a"]
    assert len(green) == 2 and green[0] == pytest.approx(2 * green[1])


def test_column_chart_heights_follow_values_on_a_round_axis() -> None:
    root = parse(column_chart([Point("01", 400), Point("02", 100), Point("03", 0)], title="t", chart_id="c"))
    bars = [float(r.get("height", 0)) for r in root.iter(f"{NS}rect")]
    assert bars[0] == pytest.approx(4 * bars[1]) and bars[2] == 0
    labels = [t.text for t in root.iter(f"{NS}text")]
    assert "500" in labels and "0" in labels  # axis rounded up from 400 to 500


def test_gauge_shows_the_share() -> None:
    svg = gauge(60.0, title="Tỷ lệ lên sàn", chart_id="g", caption="3/5 sản phẩm")
    root = parse(svg)
    assert "60,0 %" in [t.text for t in root.iter(f"{NS}text")]
    assert len(list(root.iter(f"{NS}path"))) == 2
    assert len(list(parse(gauge(0, title="t", chart_id="g0")).iter(f"{NS}path"))) == 1


def test_empty_charts_render() -> None:
    for make in (column_chart, line_chart, bar_chart):
        parse(make([], title="t", chart_id="e"))


def test_compact_numbers() -> None:
    assert [compact(v) for v in (0, 2.5, 950, 1_000, 530_000, 1_250_000, 2_000_000_000)] == [
        "0", "2,5", "950", "1 k", "530 k", "1,2 tr", "2 tỷ"]


def test_small_counts_get_whole_ticks() -> None:
    root = parse(line_chart([Point("01", 1), Point("02", 3)], title="t", chart_id="s"))
    assert [t.text for t in root.iter(f"{NS}text")][:5] == ["0", "1", "2", "3", "4"]
