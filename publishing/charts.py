"""One indicator as an inline SVG: baseline, target, the straight expected line between
them, and the measured values (this year's, or the series when earlier years are known).

The SVG is plain markup (no script, no external reference) so it works opened from disk
and in any browser; `role="img"` with a `<title>` and `<desc>` gives screen readers the
indicator's name and figures. Every text is escaped here, because the pages insert the SVG
as it is. Data are often incomplete (no value this year, no baseline year, a target equal
to the baseline), so each missing piece is simply left out and no scale divides by zero.

The final review's package has two more: its indicators' verdicts as one stacked bar per
basic policy (`verdict_bars_svg`), and each indicator's measured series with the
least-squares line carried to the target year, the forecast there with its prediction
interval, and the target (`forecast_svg`). They draw from the package's own figures and
redo no arithmetic beyond placing them, so a chart cannot disagree with the table beside it.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from publishing.labels import check_language, format_year, word
from words.catalogue import has, say
from words.numbers import finite as number
from words.numbers import format_number, format_percent

WIDTH, HEIGHT = 360, 230
LEFT, RIGHT, TOP, BOTTOM = 64, 18, 34, 46
INSET = 14  # keeps the first and last year off the axes
MAX_YEAR_TICKS = 7
HALO = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"'  # labels stay readable over lines

COLOURS = {"series": "#1565c0", "baseline": "#616161", "target": "#2e7d32", "expected": "#8d8d8d",
           "axis": "#9e9e9e", "grid": "#e0e0e0", "text": "#333333", "trend": "#e65100", "forecast": "#e65100",
           "muted": "#616161", "paper": "#ffffff"}

CHART_WORDS: dict[str, dict[str, str]] = {
    "ja": {"year": "年度", "unit": "単位", "baseline": "基準", "target": "目標", "value": "今年度",
           "expected": "見込み", "no_data": "データなし", "baseline_long": "基準値", "target_long": "目標値",
           "value_long": "今年度の値", "earlier": "これまでの値", "expected_long": "今年度の見込み値",
           "sep": "、", "none": "なし",
           "verdicts_title": "基本方針ごとの指標の判定", "no_indicators": "指標なし", "indicators_n": "指標{n}件",
           "list_sep": "、", "sentence_end": "。", "count": "{n}件", "measured_long": "実績",
           "trend_line": "最小二乗法の直線", "trend_flat": "最新の値のまま", "forecast": "見通し",
           "forecast_legend": "見通し", "forecast_interval": "見通しと{confidence}予測区間",
           "forecast_long": "{year}の見通し",
           "no_forecast": "見通しなし", "verdict": "判定"},
    "en": {"year": "Fiscal year", "unit": "Unit", "baseline": "baseline", "target": "target", "value": "this year",
           "expected": "expected", "no_data": "No data", "baseline_long": "Baseline", "target_long": "Target",
           "value_long": "This year", "earlier": "Earlier years", "expected_long": "Expected this year",
           "sep": "; ", "none": "none",
           "verdicts_title": "Indicator verdicts by basic policy", "no_indicators": "no indicators",
           "indicators_n": "indicators: {n}", "list_sep": ", ", "sentence_end": ". ", "count": "{n}",
           "measured_long": "Measured", "trend_line": "Least-squares line", "trend_flat": "Last value, held flat",
           "forecast": "forecast", "forecast_legend": "Forecast",
           "forecast_interval": "Forecast, {confidence} prediction interval", "forecast_long": "Forecast for {year}",
           "no_forecast": "no forecast", "verdict": "Verdict"},
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



def _scales(values: Sequence[float], years: Sequence[int]) -> tuple[Callable[[int], float], Callable[[float], float]]:
    """Where a year and a value fall in the plot: years across (one year in the middle),
    values up between the ticks that hold them all."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    ticks, _digits = _ticks(min(values), max(values))
    lo, hi = ticks[0], ticks[-1]
    y_span = (hi - lo) or 1.0
    x0, x1 = (years[0], years[-1]) if years else (0, 0)

    def sx(year: int) -> float:
        if x1 == x0:
            return LEFT + plot_w / 2
        return LEFT + INSET + (year - x0) / (x1 - x0) * (plot_w - 2 * INSET)

    def sy(v: float) -> float:
        return TOP + (hi - v) / y_span * plot_h

    return sx, sy


def _grid(values: Sequence[float], sy: Callable[[float], float]) -> list[str]:
    """The value grid lines with their labels."""
    ticks, digits = _ticks(min(values), max(values))
    out = []
    for t in ticks:
        y = sy(t)
        out.append(f'<line x1="{LEFT}" y1="{_f(y)}" x2="{WIDTH - RIGHT}" y2="{_f(y)}" '
                   f'stroke="{COLOURS["grid"]}" stroke-width="1"/>')
        out.append(_text(LEFT - 6, y + 4, format_number(t, decimals=digits), anchor="end", size=10))
    return out

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
    years = sorted({y for _k, y, _v in points})
    sx, sy = _scales(values, years)

    # Axes, grid and their labels.
    parts += _grid(values, sy)
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


# -- the final review ------------------------------------------------------------------------

VERDICT_ORDER: tuple[str, ...] = ("achieved", "on_course", "off_course", "no_data", "no_target")
"""The review's verdicts, best first: the order of the stacked segments and of the legend."""
VERDICT_COLOURS: dict[str, tuple[str, str]] = {  # (fill, text on it): told apart by lightness and hue alike
    "achieved": ("#2e7d32", "#ffffff"), "on_course": ("#64b5f6", "#1b1b1b"), "off_course": ("#fb8c00", "#1b1b1b"),
    "no_data": ("#bdbdbd", "#1b1b1b"), "no_target": ("#f5f5f5", "#1b1b1b")}
UNKNOWN_VERDICT = ("#e0e0e0", "#1b1b1b")
PAD = 10
BAR_HEIGHT = 18
LINE_HEIGHT = 14
LEGEND_SIZE = 10


def verdict_word(code: str, language: str) -> str:
    """A verdict in the reader's words; a code the catalogue does not know is shown as it is."""
    key = f"review.verdict.{code}"
    return say(key, language) if has(key) else str(code)


def method_words(figures: dict[str, Any], language: str) -> str:
    """How a forecast was made, with its figures, in words (the page's table and the chart's
    description say it the same way)."""
    method = figures.get("method") or "none"
    key = f"review.method.{method}"
    if not has(key):
        return str(method)
    return say(key, language, n=figures.get("n", 0), confidence=format_percent(figures.get("confidence")),
               low=format_number(figures.get("low")), high=format_number(figures.get("high")))


def _width(text: str, size: float) -> float:
    """About how wide a text is drawn, with no font metrics to hand: a full-width character a
    square, anything else a little over half of one, so the estimate errs wide."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.62 for c in text)


def _wrap(text: str, width: float, size: float, *, lines: int = 2) -> list[str]:
    """A label broken into at most `lines` lines of `width`: Japanese between any two
    characters, English between words; what does not fit ends in an ellipsis."""
    tokens = re.findall(r"[\u2e80-\u9fff\uf900-\uffef]|[^\s\u2e80-\u9fff\uf900-\uffef]+\s*|\s+", text)
    out: list[str] = []
    line = ""
    for token in tokens:
        if line and _width((line + token).rstrip(), size) > width:
            out.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line.strip():
        out.append(line.rstrip())
    if len(out) > lines:
        last = out[lines - 1]
        while last and _width(last + "…", size) > width:
            last = last[:-1]
        out = [*out[:lines - 1], last.rstrip() + "…"]
    return out or [""]


def _over_lines(x: float, y: float, content: str, *, anchor: str, colour: str, size: int = 10) -> str:
    """A label that stays readable over lines: a thick white copy first, then the text. Not
    `paint-order`, which WeasyPrint (the PDF) ignores, painting the text white instead."""
    halo = ' stroke="#ffffff" stroke-width="3" stroke-linejoin="round" aria-hidden="true"'
    return (_text(x, y, content, anchor=anchor, size=size, colour="paper", extra=halo)
            + _text(x, y, content, anchor=anchor, size=size, colour=colour))


def _spaced(years: list[int], place: Callable[[int], float], gap: float = 30.0) -> list[int]:
    """Year labels at least `gap` apart on the axis, so that none runs into the next: the last
    (the target year) and the first always, the years between as room allows."""
    if not years:
        return []
    kept: list[int] = []
    for year in [years[-1], years[0], *years[1:-1]]:
        if all(abs(place(year) - place(k)) >= gap for k in kept):
            kept.append(year)
    return sorted(kept)


Symbol = Callable[[float, float], str]
"""Draws a legend's symbol, 14 wide, from its left edge x and around its middle y."""


def _legend(items: Sequence[tuple[Symbol, str]], top: float) -> tuple[list[str], float]:
    """Legend items flowing in rows across the chart's width; the markup and where it ends."""
    parts: list[str] = []
    x, y = float(PAD), top + LINE_HEIGHT / 2
    for symbol, label in items:
        needed = 18 + _width(label, LEGEND_SIZE)
        if x > PAD and x + needed > WIDTH - PAD:
            x, y = float(PAD), y + LINE_HEIGHT + 2
        parts.append(symbol(x, y))
        parts.append(_text(x + 18, y + 3.5, label, anchor="start", size=LEGEND_SIZE))
        x += needed + 12
    return parts, y + LINE_HEIGHT / 2


def _swatch(fill: str, stroke: str | None = None) -> Symbol:
    def draw(x: float, y: float) -> str:
        edge = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
        return f'<rect x="{_f(x + 2)}" y="{_f(y - 5)}" width="10" height="10" fill="{fill}"{edge}/>'
    return draw


def _count(value: Any) -> int:
    """A count from the package: a whole number not below zero, anything else none."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _svg_head(ident: str, height: float, title: str, desc: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {_f(height)}" '
            f'width="{WIDTH}" height="{_f(height)}" '
            f'role="img" aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" font-family="sans-serif">'
            f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>'
            f'<rect x="0" y="0" width="{WIDTH}" height="{_f(height)}" fill="#ffffff"/>')


def verdict_bars_svg(by_policy: Sequence[dict[str, Any]], *, language: str) -> str:
    """The package's summary by basic policy as a chart: per policy, one horizontal bar of its
    indicators' verdicts stacked best first, all bars on one scale (so a policy with more
    indicators has the longer bar), each segment with its count, the total at the bar's end.

    `by_policy` is the package's list (basic_policy, basic_policy_en, by_verdict). The
    description says every count in words, so the chart is the table again for a screen reader.
    """
    w = CHART_WORDS[check_language(language)]
    extra = sorted({str(k) for p in by_policy for k in (p.get("by_verdict") or {}) if k not in VERDICT_ORDER})
    order = (*VERDICT_ORDER, *extra)  # a verdict this chart does not know still shows, in grey
    groups: list[tuple[str, list[tuple[str, int]]]] = []
    for p in by_policy:
        name = (p.get("basic_policy_en") if language == "en" else None) or p.get("basic_policy") or ""
        counts = p.get("by_verdict") or {}
        groups.append((str(name), [(v, _count(counts.get(v))) for v in order]))

    sentences = []
    for name, counts in groups:
        total = sum(n for _v, n in counts)
        listed = w["list_sep"].join(f"{verdict_word(v, language)} {w['count'].format(n=n)}" for v, n in counts
                                    if n or v in VERDICT_ORDER)
        sentences.append(f"{name}: {listed} ({w['indicators_n'].format(n=total)})")
    desc = w["sentence_end"].join(sentences) + (w["sentence_end"].strip() if sentences else w["no_data"])

    legend, y = _legend([(_swatch(VERDICT_COLOURS.get(v, UNKNOWN_VERDICT)[0], COLOURS["axis"]),
                          verdict_word(v, language)) for v in order], PAD)
    body: list[str] = []
    y += 8
    bar_left, bar_span = PAD, WIDTH - 2 * PAD - 34  # room for the total after the longest bar
    most = max((sum(n for _v, n in counts) for _name, counts in groups), default=0)
    if not groups:
        body.append(_text(WIDTH / 2, y + 24, w["no_data"], size=14))
        y += 40
    for name, counts in groups:
        for line in _wrap(name, WIDTH - 2 * PAD, 11):
            y += LINE_HEIGHT
            body.append(_text(PAD, y - 3, line, anchor="start", size=11))
        top = y + 3
        total = sum(n for _v, n in counts)
        if not total:
            body.append(f'<rect x="{bar_left}" y="{_f(top)}" width="{bar_span}" height="{BAR_HEIGHT}" fill="none" '
                        f'stroke="{COLOURS["grid"]}" stroke-dasharray="3 3"/>')
            body.append(_text(bar_left + 6, top + 13, w["no_indicators"], anchor="start", size=10, colour="muted"))
        x = float(bar_left)
        for v, n in counts:
            if not n:
                continue
            fill, ink = VERDICT_COLOURS.get(v, UNKNOWN_VERDICT)
            span = n / most * bar_span
            edge = COLOURS["axis"] if fill == VERDICT_COLOURS["no_target"][0] else "#ffffff"  # white on white
            body.append(f'<rect x="{_f(x)}" y="{_f(top)}" width="{_f(span)}" height="{BAR_HEIGHT}" fill="{fill}" '
                        f'stroke="{edge}" stroke-width="1" data-verdict="{escape(v)}" data-count="{n}"/>')
            if span >= _width(str(n), 10) + 4:
                body.append(f'<text x="{_f(x + span / 2)}" y="{_f(top + 13)}" text-anchor="middle" font-size="10" '
                            f'fill="{ink}">{n}</text>')
            x += span
        if total:
            body.append(_text(x + 4, top + 13, str(total), anchor="start", size=10, extra=' font-weight="bold"'))
        y = top + BAR_HEIGHT + 10
    height = y + PAD
    return "".join([_svg_head("chart-verdicts", height, w["verdicts_title"], desc), *legend, *body, "</svg>"])


def forecast_svg(indicator: dict[str, Any], *, language: str, action: str = "") -> str:
    """One indicator of the review's package as a chart: the measured values and their line,
    the least-squares line carried on to the target year, the forecast there with its
    prediction interval as an error bar, the baseline and the target, and a legend.

    The line is drawn through the forecast point with the fitted slope (both from the
    package's figures): that is the least-squares line, and it meets the forecast exactly
    however the figures were rounded. With one measured value the forecast is that value
    held flat, drawn so; without a forecast or without data the chart says so. `action`
    keeps the ids apart when two actions carry an indicator of the same code and name.
    """
    w = CHART_WORDS[check_language(language)]
    name = (indicator.get("name_en") if language == "en" else None) or indicator.get("name_ja") or ""
    code = str(indicator.get("code") or "")
    unit = str(indicator.get("unit") or "")
    down = indicator.get("direction") == "down"
    bv, by = _pair(indicator.get("baseline"))
    tv, ty = _pair(indicator.get("target"))
    series = _series(indicator.get("series"), None, None)
    figures = indicator.get("forecast") if isinstance(indicator.get("forecast"), dict) else {}
    method = str(figures.get("method") or "none")
    f_year = _year(figures.get("target_year"))
    f_value = number(figures.get("value")) if f_year is not None else None
    low, high = number(figures.get("low")), number(figures.get("high"))
    if f_value is None or low is None or high is None:
        low = high = None
    slope = number(figures.get("slope")) if method in ("least_squares", "two_points") else 0.0 if (
        method == "last_value") else None

    line: tuple[tuple[int, float], tuple[int, float]] | None = None
    if f_value is not None and f_year is not None and slope is not None and series:
        start = series[0][0]
        begin = f_value + slope * (start - f_year)
        if math.isfinite(begin):
            line = ((start, begin), (f_year, f_value))

    def amount(v: float | None, y: int | None = None) -> str:
        if v is None:
            return w["none"]
        text = f"{format_number(v)} {unit}".strip()
        return f"{text} ({format_year(y, language)})" if y is not None else text

    measured = ", ".join(f"{format_year(y, language)} {format_number(v)}" for y, v in series) or w["none"]
    ahead = (f"{w['forecast_long'].format(year=format_year(f_year, language))}: {amount(f_value)} "
             f"({method_words(figures, language)})") if f_value is not None else w["no_forecast"]
    desc = w["sep"].join([
        f"{w['measured_long']}: {measured}", ahead, f"{w['target_long']}: {amount(tv, ty)}",
        f"{w['baseline_long']}: {amount(bv, by)}",
        f"{w['verdict']}: {verdict_word(str(indicator.get('verdict') or 'no_data'), language)}",
        word("direction", "down" if down else "up", language)])
    ident = _ident({"code": f"{action}_{code}" if action else code, "name_ja": indicator.get("name_ja")})
    title = f"{code} {name}".strip()

    # What is drawn where: points have a year, levels (a value without a year) span the chart.
    levels = [(kind, v) for kind, v, y in (("baseline", bv, by), ("target", tv, ty)) if v is not None and y is None]
    marks = [(kind, y, v) for kind, v, y in (("baseline", bv, by), ("target", tv, ty))
             if v is not None and y is not None]
    values = [v for _y, v in series] + [v for _k, v in levels] + [v for _k, _y, v in marks]
    values += [v for v in (f_value, low, high) if v is not None] + ([line[0][1]] if line else [])
    years = sorted({y for y, _v in series} | {y for _k, y, _v in marks} | ({f_year} if f_value is not None else set()))

    legend_items: list[tuple[Symbol, str]] = []
    if series:
        legend_items.append((lambda x, y: (f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x + 14)}" y2="{_f(y)}" '
                                           f'stroke="{COLOURS["series"]}" stroke-width="2"/>'
                                           f'<circle cx="{_f(x + 7)}" cy="{_f(y)}" r="3" fill="{COLOURS["series"]}"/>'),
                             w["measured_long"]))
    if line:
        legend_items.append((lambda x, y: (f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x + 14)}" y2="{_f(y)}" '
                                           f'stroke="{COLOURS["trend"]}" stroke-width="1.5" stroke-dasharray="4 2"/>'),
                             w["trend_line"] if method != "last_value" else w["trend_flat"]))
    if f_value is not None:
        interval = w["forecast_interval"].format(confidence=format_percent(figures.get("confidence")))
        legend_items.append((lambda x, y: (f'<line x1="{_f(x + 7)}" y1="{_f(y - 6)}" x2="{_f(x + 7)}" '
                                           f'y2="{_f(y + 6)}" stroke="{COLOURS["forecast"]}" stroke-width="1.5"/>'
                                           if low is not None else "") + (
                                 f'<circle cx="{_f(x + 7)}" cy="{_f(y)}" r="4" fill="#ffffff" '
                                 f'stroke="{COLOURS["forecast"]}" stroke-width="2"/>'),
                             interval if low is not None else w["forecast_legend"]))
    for kind in ("target", "baseline"):
        if any(k == kind for k, _v in levels) or any(k == kind for k, _y, _v in marks):
            legend_items.append((_swatch("#ffffff", COLOURS[kind]), w[f"{kind}_long"]))

    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    legend, legend_end = _legend(legend_items, HEIGHT + 2)
    height = legend_end + PAD if legend_items else HEIGHT
    parts = [_svg_head(ident, height, title, desc)]
    direction = ("↓ " if down else "↑ ") + word("direction", "down" if down else "up", language)
    parts.append(_text(8, 18, f"{w['unit']}: {unit}" if unit else "", anchor="start"))
    parts.append(_text(WIDTH - RIGHT, 18, direction, anchor="end", size=10))
    if not values or not math.isfinite(max(values) - min(values)):  # nothing, or nothing a scale can hold
        parts.append(_text(WIDTH / 2, HEIGHT / 2, w["no_data"], size=14))
        parts.append("</svg>")
        return "".join(parts)

    sx, sy = _scales(values, years)

    # Axes, grid and their labels, as on the yearly charts.
    parts += _grid(values, sy)
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="{COLOURS["axis"]}"/>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
                 f'stroke="{COLOURS["axis"]}"/>')
    for year in _spaced(years, sx):
        parts.append(_text(sx(year), TOP + plot_h + 15, str(year), size=10))
    parts.append(_text(LEFT + plot_w / 2, HEIGHT - 8, w["year"], size=10))
    if unit:
        parts.append(_text(14, TOP + plot_h / 2, unit, size=10,
                           extra=f' transform="rotate(-90 14 {_f(TOP + plot_h / 2)})"'))
    if not series:
        parts.append(_over_lines(LEFT + plot_w / 2, TOP + plot_h / 2, w["no_data"], anchor="middle", size=13,
                                 colour="muted"))
    elif f_value is None:
        parts.append(_over_lines(LEFT + plot_w / 2, TOP + 14, w["no_forecast"], anchor="middle", size=11,
                                 colour="muted"))

    for kind, v in levels:
        parts.append(f'<line x1="{LEFT}" y1="{_f(sy(v))}" x2="{WIDTH - RIGHT}" y2="{_f(sy(v))}" '
                     f'stroke="{COLOURS[kind]}" stroke-width="1.5" stroke-dasharray="2 3"/>')
        parts.append(_over_lines(WIDTH - RIGHT - 2, sy(v) - 4, f"{w[kind]} {format_number(v)}", anchor="end",
                                 colour=kind))
    if line:
        (ax, ay), (bx, by_) = line
        parts.append(f'<line class="trend" x1="{_f(sx(ax))}" y1="{_f(sy(ay))}" x2="{_f(sx(bx))}" y2="{_f(sy(by_))}" '
                     f'stroke="{COLOURS["trend"]}" stroke-width="1.5" stroke-dasharray="4 2"/>')
    if len(series) > 1:
        coords = " ".join(f"{_f(sx(y))},{_f(sy(v))}" for y, v in series)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{COLOURS["series"]}" stroke-width="2"/>')
    for y, v in series:
        parts.append(f'<circle class="measured" cx="{_f(sx(y))}" cy="{_f(sy(v))}" r="3.5" '
                     f'fill="{COLOURS["series"]}"/>')

    def label(x: float, top: float, bottom: float, text: str, colour: str, above: bool) -> str:
        """A marker's label above its top or below its bottom, kept inside the plot."""
        if above and top - 8 < TOP:
            above = False
        if not above and bottom + 16 > TOP + plot_h:
            above = True
        anchor = "start" if x < LEFT + plot_w * 0.25 else "end" if x > LEFT + plot_w * 0.75 else "middle"
        return _over_lines(x, top - 8 if above else bottom + 16, text, anchor=anchor, colour=colour)

    for kind, year, v in marks:
        parts.append(f'<rect class="{kind}" x="{_f(sx(year) - 4)}" y="{_f(sy(v) - 4)}" width="8" height="8" '
                     f'fill="#ffffff" stroke="{COLOURS[kind]}" stroke-width="2"/>')
    target = next(((y, v) for k, y, v in marks if k == "target"), None)
    if f_value is not None and f_year is not None:
        x = sx(f_year)
        if low is not None and high is not None:
            parts.append(f'<g class="interval" stroke="{COLOURS["forecast"]}" stroke-width="1.5">'
                         f'<line x1="{_f(x)}" y1="{_f(sy(high))}" x2="{_f(x)}" y2="{_f(sy(low))}"/>'
                         f'<line x1="{_f(x - 5)}" y1="{_f(sy(high))}" x2="{_f(x + 5)}" y2="{_f(sy(high))}"/>'
                         f'<line x1="{_f(x - 5)}" y1="{_f(sy(low))}" x2="{_f(x + 5)}" y2="{_f(sy(low))}"/></g>')
        parts.append(f'<circle class="forecast" cx="{_f(x)}" cy="{_f(sy(f_value))}" r="4.5" fill="#ffffff" '
                     f'stroke="{COLOURS["forecast"]}" stroke-width="2"/>')
        # Beside the target, the label of whichever is higher goes above it, the other's below.
        above = target is None or abs(sx(target[0]) - x) > 40 or f_value >= target[1]
        top, bottom = sy(high if high is not None else f_value), sy(low if low is not None else f_value)
        parts.append(label(x, top, bottom, f"{w['forecast']} {format_number(f_value)}", "forecast", above))
        if target is not None:
            ty_ = sy(target[1])
            parts.append(label(sx(target[0]), ty_ - 4, ty_ + 4, f"{w['target']} {format_number(target[1])}",
                               "target", not above or abs(sx(target[0]) - x) > 40))
    elif target is not None:
        ty_ = sy(target[1])
        parts.append(label(sx(target[0]), ty_ - 4, ty_ + 4, f"{w['target']} {format_number(target[1])}", "target",
                           True))
    parts += legend
    parts.append("</svg>")
    return "".join(parts)
