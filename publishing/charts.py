"""One indicator as an inline SVG: baseline, target, the straight expected line between
them, and the measured values (this year's, or the series when earlier years are known).

The SVG is plain markup (no script, no external reference) so it works opened from disk
and in any browser; `role="img"` with a `<title>` and `<desc>` gives screen readers the
indicator's name and figures. Every text is escaped here, because the pages insert the SVG
as it is. Data are often incomplete (no value this year, no baseline year, a target equal
to the baseline), so each missing piece is simply left out and no scale divides by zero.
"""

from __future__ import annotations

import hashlib
import math
import re
from html import escape
from typing import Any

from publishing.labels import check_language, format_year, word
from words.numbers import finite as number
from words.numbers import format_number

WIDTH, HEIGHT = 360, 230
LEFT, RIGHT, TOP, BOTTOM = 64, 18, 34, 46
INSET = 14  # keeps the first and last year off the axes
MAX_YEAR_TICKS = 7
HALO = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"'  # labels stay readable over lines

COLOURS = {"series": "#1565c0", "baseline": "#616161", "target": "#2e7d32", "expected": "#8d8d8d",
           "axis": "#9e9e9e", "grid": "#e0e0e0", "text": "#333333"}

CHART_WORDS: dict[str, dict[str, str]] = {
    "ja": {"year": "年度", "unit": "単位", "baseline": "基準", "target": "目標", "value": "今年度",
           "expected": "見込み", "no_data": "データなし", "baseline_long": "基準値", "target_long": "目標値",
           "value_long": "今年度の値", "earlier": "これまでの値", "expected_long": "今年度の見込み値",
           "sep": "、", "none": "なし"},
    "en": {"year": "Fiscal year", "unit": "Unit", "baseline": "baseline", "target": "target", "value": "this year",
           "expected": "expected", "no_data": "No data", "baseline_long": "Baseline", "target_long": "Target",
           "value_long": "This year", "earlier": "Earlier years", "expected_long": "Expected this year",
           "sep": "; ", "none": "none"},
}


def _year(value: Any) -> int | None:
    """A year is an int (a float like 2026.0 from JSON is accepted); anything else is unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _pair(value: Any) -> tuple[float | None, int | None]:
    """[value, year] from the snapshot, tolerating null, short or malformed pairs."""
    if not isinstance(value, list | tuple):
        return None, None
    v = number(value[0]) if len(value) > 0 else None
    y = _year(value[1]) if len(value) > 1 else None
    return v, y


def _series(history: Any, fy: int | None, value: float | None) -> list[tuple[int, float]]:
    """Earlier years' values by year, with this year's value taking precedence over history."""
    points: dict[int, float] = {}
    for entry in history if isinstance(history, list | tuple) else ():
        if isinstance(entry, list | tuple) and len(entry) >= 2:
            y, v = _year(entry[0]), number(entry[1])
            if y is not None and v is not None:
                points[y] = v
    if fy is not None and value is not None:
        points[fy] = value
    return sorted(points.items())


def _ticks(lo: float, hi: float, count: int = 4) -> tuple[list[float], int]:
    """Round tick values covering lo..hi, and how many decimals they need."""
    if hi <= lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    if not (math.isfinite(raw) and raw > 0):
        return [lo, hi], 0
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    digits = max(0, min(8, 1 - math.floor(math.log10(step))))
    start, end = math.floor(lo / step) * step, math.ceil(hi / step) * step
    n = max(1, round((end - start) / step))
    return [round(start + i * step, digits) for i in range(n + 1)], digits


def _thin(years: list[int]) -> list[int]:
    """At most MAX_YEAR_TICKS year labels, always keeping the first and the last."""
    if len(years) <= MAX_YEAR_TICKS:
        return years
    every = math.ceil(len(years) / (MAX_YEAR_TICKS - 1))
    kept = years[::every]
    if kept[-1] != years[-1]:
        if years[-1] - kept[-1] < every:
            kept[-1] = years[-1]
        else:
            kept.append(years[-1])
    return kept


def _f(x: float) -> str:
    return f"{x:.1f}"


def _text(x: float, y: float, content: str, *, anchor: str = "middle", size: int = 11, colour: str = "text",
          extra: str = "") -> str:
    return (f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{COLOURS[colour]}"{extra}>{escape(content)}</text>')


def _ident(indicator: dict[str, Any]) -> str:
    """An id unique within a page (one action's indicators), stable across builds."""
    code = str(indicator.get("code") or "")
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", code)[:40]
    digest = hashlib.sha1(f"{code}\0{indicator.get('name_ja')}".encode(), usedforsecurity=False).hexdigest()[:8]
    return f"chart-{slug}-{digest}"


def _description(indicator: dict[str, Any], language: str, series: list[tuple[int, float]], fy: int | None) -> str:
    """The figures in words, so the chart says the same thing to someone who cannot see it."""
    w = CHART_WORDS[language]
    unit = str(indicator.get("unit") or "")

    def amount(v: float | None, y: int | None = None) -> str:
        if v is None:
            return w["none"]
        text = f"{format_number(v)} {unit}".strip()
        return f"{text} ({format_year(y, language)})" if y is not None else text

    bv, by = _pair(indicator.get("baseline"))
    tv, ty = _pair(indicator.get("target"))
    value = number(indicator.get("value"))
    parts = [f"{w['baseline_long']}: {amount(bv, by)}", f"{w['target_long']}: {amount(tv, ty)}",
             f"{w['value_long']}: {amount(value)}"]
    expected = number(indicator.get("expected"))
    if expected is not None:
        parts.append(f"{w['expected_long']}: {amount(expected)}")
    earlier = [(y, v) for y, v in series if fy is None or y != fy]
    if earlier:
        parts.append(f"{w['earlier']}: " + ", ".join(f"{format_year(y, language)} {format_number(v)}"
                                                     for y, v in earlier))
    parts.append(word("direction", "down" if indicator.get("direction") == "down" else "up", language))
    return w["sep"].join(parts)


def indicator_svg(indicator: dict[str, Any], *, language: str) -> str:
    """The chart of one indicator in the reader's language, as SVG markup to put in a page.

    `indicator` is one entry of a snapshot action's "indicators"; an optional "fy" key (the
    snapshot's year, added by the site) places this year's value on the time axis. Without
    it, this year's value is drawn as a level across the chart unless history already holds it.
    """
    w = CHART_WORDS[check_language(language)]
    name = (indicator.get("name_en") if language == "en" else None) or indicator.get("name_ja") or ""
    code = str(indicator.get("code") or "")
    unit = str(indicator.get("unit") or "")
    down = indicator.get("direction") == "down"
    fy = _year(indicator.get("fy"))
    bv, by = _pair(indicator.get("baseline"))
    tv, ty = _pair(indicator.get("target"))
    value, expected = number(indicator.get("value")), number(indicator.get("expected"))
    series = _series(indicator.get("history"), fy, value)

    # What is drawn where: points have a year, levels (a value without a year) span the chart.
    points: list[tuple[str, int, float]] = []
    levels: list[tuple[str, float]] = []
    for kind, v, y in (("baseline", bv, by), ("target", tv, ty)):
        if v is not None and y is not None:
            points.append((kind, y, v))
        elif v is not None:
            levels.append((kind, v))
    if expected is not None and fy is not None:
        points.append(("expected", fy, expected))
    points += [("series", y, v) for y, v in series]
    current_year = fy
    if value is not None and fy is None:
        if series and series[-1][1] == value:
            current_year = series[-1][0]  # history already holds this year's value
        else:
            levels.append(("value", value))

    ident = _ident(indicator)
    title = f"{code} {name}".strip()
    head = (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
            f'aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" font-family="sans-serif">'
            f'<title id="{ident}-title">{escape(title)}</title>'
            f'<desc id="{ident}-desc">{escape(_description(indicator, language, series, fy))}</desc>')
    parts = [head, f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']
    unit_label = f"{w['unit']}: {unit}" if unit else ""
    direction = ("↓ " if down else "↑ ") + word("direction", "down" if down else "up", language)
    parts.append(_text(8, 18, unit_label, anchor="start"))
    parts.append(_text(WIDTH - RIGHT, 18, direction, anchor="end", size=10))

    values = [v for _k, _y, v in points] + [v for _k, v in levels]
    if not values:
        parts.append(_text(WIDTH / 2, HEIGHT / 2, w["no_data"], size=14))
        parts.append("</svg>")
        return "".join(parts)

    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    ticks, digits = _ticks(min(values), max(values))
    lo, hi = ticks[0], ticks[-1]
    y_span = (hi - lo) or 1.0
    years = sorted({y for _k, y, _v in points})
    x0, x1 = (years[0], years[-1]) if years else (0, 0)

    def sx(year: int) -> float:
        if x1 == x0:
            return LEFT + plot_w / 2
        return LEFT + INSET + (year - x0) / (x1 - x0) * (plot_w - 2 * INSET)

    def sy(v: float) -> float:
        return TOP + (hi - v) / y_span * plot_h

    # Axes, grid and their labels.
    for t in ticks:
        y = sy(t)
        parts.append(f'<line x1="{LEFT}" y1="{_f(y)}" x2="{WIDTH - RIGHT}" y2="{_f(y)}" '
                     f'stroke="{COLOURS["grid"]}" stroke-width="1"/>')
        parts.append(_text(LEFT - 6, y + 4, format_number(t, decimals=digits), anchor="end", size=10))
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="{COLOURS["axis"]}"/>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
                 f'stroke="{COLOURS["axis"]}"/>')
    for year in _thin(years):
        parts.append(_text(sx(year), TOP + plot_h + 15, str(year), size=10))
    parts.append(_text(LEFT + plot_w / 2, HEIGHT - 8, w["year"], size=10))
    if unit:
        parts.append(_text(14, TOP + plot_h / 2, unit, size=10,
                           extra=f' transform="rotate(-90 14 {_f(TOP + plot_h / 2)})"'))

    # The expected line from baseline to target, then levels without a year.
    placed = {kind: (y, v) for kind, y, v in points if kind in ("baseline", "target")}
    if "baseline" in placed and "target" in placed:
        (b_year, b_value), (t_year, t_value) = placed["baseline"], placed["target"]
        parts.append(f'<line x1="{_f(sx(b_year))}" y1="{_f(sy(b_value))}" x2="{_f(sx(t_year))}" '
                     f'y2="{_f(sy(t_value))}" stroke="{COLOURS["expected"]}" stroke-width="1.5" '
                     f'stroke-dasharray="5 4"/>')
    for kind, v in levels:
        colour = "series" if kind == "value" else kind
        parts.append(f'<line x1="{LEFT}" y1="{_f(sy(v))}" x2="{WIDTH - RIGHT}" y2="{_f(sy(v))}" '
                     f'stroke="{COLOURS[colour]}" stroke-width="1.5" stroke-dasharray="2 3"/>')
        parts.append(_text(WIDTH - RIGHT - 2, sy(v) - 4, f"{w[kind]} {format_number(v)}", anchor="end",
                           size=10, colour=colour, extra=HALO))

    # The measured series, then the points with their labels.
    if len(series) > 1:
        coords = " ".join(f"{_f(sx(y))},{_f(sy(v))}" for y, v in series)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{COLOURS["series"]}" stroke-width="2"/>')
    for kind, year, v in points:
        x, y = sx(year), sy(v)
        current = kind == "series" and year == current_year
        if kind == "expected":
            parts.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3.5" fill="#ffffff" '
                         f'stroke="{COLOURS["expected"]}" stroke-width="1.5"/>')
            continue
        if kind == "series":
            parts.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{5 if current else 3.5}" '
                         f'fill="{COLOURS["series"]}"/>')
            if not current:
                continue
            label = f"{w['value']} {format_number(v)}"
        else:
            parts.append(f'<rect x="{_f(x - 4)}" y="{_f(y - 4)}" width="8" height="8" fill="#ffffff" '
                         f'stroke="{COLOURS[kind]}" stroke-width="2"/>')
            label = f"{w[kind]} {format_number(v)}"
        anchor = "start" if x < LEFT + plot_w * 0.25 else "end" if x > LEFT + plot_w * 0.75 else "middle"
        label_y = y + 18 if y < TOP + 14 else y - 9
        parts.append(_text(x, label_y, label, anchor=anchor, size=10, colour="series" if kind == "series" else kind,
                           extra=HALO))
    parts.append("</svg>")
    return "".join(parts)
