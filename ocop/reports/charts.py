"""Charts as hand-written SVG, rendered on the server and inlined in the page.

Why not pygal (which is installed): its SVG carries an inline ``<style>`` element and ``<script>``
tags (pointing at a CDN by default), and the pages are served with ``style-src 'self'; script-src
'self'`` (``ocop.web.security_headers``) and must work offline. These charts use only SVG
presentation attributes (``fill``, ``stroke``, ``font-size``), which CSP does not govern, and no
script at all. Each chart has ``role="img"`` with a ``<title>``/``<desc>``; the page shows the same
figures in a table beside it (the accessible, copyable view).

Every piece of text is XML-escaped here: labels can be product names typed by anyone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

GREEN = "#1f7a3a"
LIGHT = "#cfe3d5"
GRID = "#e3e7e3"
INK = "#1d2520"
MUTED = "#5b6660"
FONT = "system-ui, 'Segoe UI', Roboto, 'Noto Sans', sans-serif"


@dataclass(frozen=True, slots=True)
class Point:
    label: str
    value: int


def compact(value: float) -> str:
    """Short Vietnamese axis numbers: 1,2 tỷ · 3,5 tr · 530 k (comma as decimal mark)."""
    for size, unit in ((1e9, " tỷ"), (1e6, " tr"), (1e3, " k")):
        if abs(value) >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return text.replace(".", ",") + unit
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _nice_max(value: float) -> float:
    """The smallest 1/2/2.5/5×10^n at or above ``value`` (so axis ticks are round numbers)."""
    if value <= 4:  # small counts: ticks 1, 2, 3, 4
        return 4
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 12, fill: str = INK,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
            f'font-weight="{weight}">{escape(content)}</text>')


def _svg(width: int, height: int, title: str, desc: str, body: list[str], chart_id: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d" font-family={quoteattr(FONT)}>'
            f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
            + "".join(body) + "</svg>")


def _describe(points: Sequence[Point], fmt: Callable[[int], str]) -> str:
    return "; ".join(f"{p.label}: {fmt(p.value)}" for p in points) or "Không có số liệu"


def column_chart(points: Sequence[Point], *, title: str, chart_id: str,
                 fmt: Callable[[int], str] = str, width: int = 480, height: int = 220) -> str:
    """Vertical bars over time (e.g. revenue per month), a value axis with four round ticks."""
    left, right, top, bottom = 56, 12, 12, 32
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((p.value for p in points), default=0))
    body: list[str] = []
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 6, y + 4, compact(value), anchor="end", size=11, fill=MUTED))
    n = max(len(points), 1)
    slot = plot_w / n
    every = max(1, math.ceil(n / 12))  # at most 12 x labels
    for i, p in enumerate(points):
        h = plot_h * p.value / top_value
        x = left + i * slot + slot * 0.15
        body.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                    f'fill="{GREEN}"><title>{escape(f"{p.label}: {fmt(p.value)}")}</title></rect>')
        if i % every == 0:
            body.append(_text(left + i * slot + slot / 2, height - bottom + 18, p.label, anchor="middle", size=11))
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="{MUTED}"/>')
    return _svg(width, height, title, _describe(points, fmt), body, chart_id)


def line_chart(points: Sequence[Point], *, title: str, chart_id: str,
               fmt: Callable[[int], str] = str, width: int = 480, height: int = 190) -> str:
    """A line with dots (e.g. orders per month)."""
    left, right, top, bottom = 56, 36, 12, 32
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((p.value for p in points), default=0))
    body: list[str] = []
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 6, y + 4, compact(top_value * i / 4), anchor="end", size=11, fill=MUTED))
    n = len(points)
    step = plot_w / max(n - 1, 1)
    every = max(1, math.ceil(n / 12))
    coords = [(left + (i * step if n > 1 else plot_w / 2), top + plot_h - plot_h * p.value / top_value)
              for i, p in enumerate(points)]
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(f'<polyline points="{path}" fill="none" stroke="{GREEN}" stroke-width="2.5"/>')
    for (x, y), p, i in zip(coords, points, range(n)):
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{GREEN}">'
                    f'<title>{escape(f"{p.label}: {fmt(p.value)}")}</title></circle>')
        if i % every == 0:
            body.append(_text(x, height - bottom + 18, p.label, anchor="middle", size=11))
    return _svg(width, height, title, _describe(points, fmt), body, chart_id)


def bar_chart(points: Sequence[Point], *, title: str, chart_id: str, fmt: Callable[[int], str] = str,
              width: int = 480, bar: int = 24, label_width: int = 160) -> str:
    """Horizontal bars with the label on the left and the value at the bar's end — readable with
    long commune names on a phone."""
    top = 8
    height = top * 2 + max(len(points), 1) * (bar + 8)
    value_w = 96
    plot_w = width - label_width - value_w
    top_value = max((p.value for p in points), default=0) or 1
    body: list[str] = []
    if not points:
        body.append(_text(width / 2, height / 2 + 4, "Không có số liệu", anchor="middle", fill=MUTED))
    for i, p in enumerate(points):
        y = top + i * (bar + 8)
        w = plot_w * p.value / top_value
        label = p.label if len(p.label) <= 24 else p.label[:23] + "…"
        body.append(_text(label_width - 8, y + bar * 0.68, label, anchor="end", size=12))
        body.append(f'<rect x="{label_width}" y="{y}" width="{plot_w:.1f}" height="{bar}" fill="{LIGHT}"/>')
        body.append(f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{bar}" fill="{GREEN}">'
                    f'<title>{escape(f"{p.label}: {fmt(p.value)}")}</title></rect>')
        body.append(_text(label_width + plot_w + 6, y + bar * 0.68, fmt(p.value), size=12, weight="bold"))
    return _svg(width, height, title, _describe(points, fmt), body, chart_id)


def gauge(percent: float, *, title: str, chart_id: str, caption: str = "", width: int = 320) -> str:
    """A half-circle gauge from 0 to 100 %, e.g. the share of registered OCOP products online."""
    pct = max(0.0, min(100.0, percent))
    cx, cy, r, stroke = width / 2, width / 2 + 4, width / 2 - 24, 28
    height = int(cy + 40)

    def point(fraction: float) -> tuple[float, float]:
        angle = math.pi * (1 - fraction)
        return cx + r * math.cos(angle), cy - r * math.sin(angle)

    x0, y0 = point(0)
    x1, y1 = point(1)
    xe, ye = point(pct / 100)
    body = [f'<path d="M {x0:.1f} {y0:.1f} A {r:.1f} {r:.1f} 0 0 1 {x1:.1f} {y1:.1f}" fill="none" '
            f'stroke="{LIGHT}" stroke-width="{stroke}"/>']
    if pct > 0:
        body.append(f'<path d="M {x0:.1f} {y0:.1f} A {r:.1f} {r:.1f} 0 0 1 {xe:.1f} {ye:.1f}" fill="none" '
                    f'stroke="{GREEN}" stroke-width="{stroke}"/>')
    shown = f"{pct:.1f}".replace(".", ",") + " %"
    body.append(_text(cx, cy - 10, shown, anchor="middle", size=30, weight="bold", fill=GREEN))
    if caption:
        body.append(_text(cx, cy + 24, caption, anchor="middle", size=13, fill=MUTED))
    return _svg(width, height, title, f"{shown} {caption}".strip(), body, chart_id)
