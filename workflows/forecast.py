"""Where an indicator is heading: the least-squares trend of its measured values, a forecast
for the target year with its uncertainty, a verdict, and a proposed target for the next
strategy. Pure arithmetic on (fiscal year, value) points; no database.

Why a prediction interval rather than a confidence interval of the line: the target year's
value is one future observation, scattered around the line as the measured years were, so
its uncertainty is the line's and that scatter together:

    se_pred = s * sqrt(1 + 1/n + (x0 - x̄)² / Sxx),  s² = Σ residual² / (n - 2)

and the interval is value ± t(1 - α/2, n - 2) · se_pred. With two points the line passes
through both and nothing is left to measure the scatter: no interval. With one point the
forecast is that value, flat. With none there is nothing to say.

The one definition of progress used everywhere: (last measured − baseline) / (target −
baseline), so 1.0 is the target reached, whichever way is better.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Points = Sequence[tuple[int, float]]
Method = Literal["least_squares", "two_points", "last_value", "none"]


def _round(value: float | None, digits: int = 6) -> float | None:
    """Six significant digits: what a person reads, without float noise (0.30000000000000004)."""
    if value is None or value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


# -- Student's t --------------------------------------------------------------------------


def _beta_cf(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta function (Lentz's method)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        even = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
        odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
        for num in (even, odd):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_cf(a, b, x) / a
    return 1.0 - front * _beta_cf(b, a, 1 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t such that P(T <= t) = p, by bisection on the distribution (monotone, so sure)."""
    if not 0 < p < 1:
        raise ValueError("p must be between 0 and 1")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
    return (low + high) / 2


# -- the trend ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """The least-squares line value = intercept + slope · year, over `n` measured years.
    `r2` is None when the values do not vary (there is nothing to explain); `residual_se`
    and `slope_se` are None below three points."""

    slope: float
    intercept: float
    n: int
    years: tuple[int, ...]
    mean_year: float
    sxx: float
    r2: float | None
    residual_se: float | None
    slope_se: float | None

    def at(self, year: int) -> float:
        return self.intercept + self.slope * year


def fit(points: Points) -> Trend | None:
    """The line through two or more points (None for fewer: a single value has no trend)."""
    pts = sorted((int(y), float(v)) for y, v in points)
    n = len(pts)
    if n < 2:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None  # every value in one year: no line
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    sse = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    syy = sum((y - my) ** 2 for y in ys)
    r2 = None if syy == 0 else 1 - sse / syy
    residual_se = math.sqrt(sse / (n - 2)) if n >= 3 else None
    slope_se = residual_se / math.sqrt(sxx) if residual_se is not None else None
    return Trend(slope, intercept, n, tuple(xs), mx, sxx, r2, residual_se, slope_se)


# -- the forecast for the target year -------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    method: Method
    target_year: int
    value: float | None = None
    low: float | None = None
    high: float | None = None
    n: int = 0
    years: tuple[int, ...] = ()
    slope: float | None = None
    confidence: float = 0.9
    r2: float | None = None

    def figures(self) -> dict[str, Any]:
        """For pages and JSON: the method and its figures, rounded as a person reads them."""
        return {"method": self.method, "target_year": self.target_year, "value": _round(self.value),
                "low": _round(self.low), "high": _round(self.high), "n": self.n, "years": list(self.years),
                "slope": _round(self.slope), "r2": _round(self.r2, 3), "confidence": self.confidence}


def forecast(points: Points, target_year: int, *, confidence: float = 0.9) -> Forecast:
    pts = sorted((int(y), float(v)) for y, v in points)
    years = tuple(y for y, _ in pts)
    if not pts:
        return Forecast("none", target_year, confidence=confidence)
    trend = fit(pts)
    if trend is None:
        return Forecast("last_value", target_year, pts[-1][1], n=len(pts), years=years, confidence=confidence)
    value = trend.at(target_year)
    if trend.residual_se is None:
        return Forecast("two_points", target_year, value, n=trend.n, years=years, slope=trend.slope,
                        confidence=confidence)
    se = trend.residual_se * math.sqrt(1 + 1 / trend.n + (target_year - trend.mean_year) ** 2 / trend.sxx)
    half = t_quantile(1 - (1 - confidence) / 2, trend.n - 2) * se
    return Forecast("least_squares", target_year, value, value - half, value + half, trend.n, years, trend.slope,
                    confidence, trend.r2)


# -- the verdict -------------------------------------------------------------------------------


def _meets(value: float, target: float, direction: str) -> bool:
    return value >= target if direction == "up" else value <= target


@dataclass(frozen=True)
class Verdict:
    verdict: Literal["achieved", "on_course", "off_course", "no_data", "no_target"]
    forecast: Forecast
    progress: float | None = None
    """(last measured − baseline) / (target − baseline); None without data or target."""


def progress(last: float | None, baseline: float | None, target: float | None) -> float | None:
    if last is None or baseline is None or target is None or target == baseline:
        return None
    return _round((last - baseline) / (target - baseline), 4)


def verdict(points: Points, *, baseline_value: float | None, target_value: float | None, direction: str,
            target_year: int, confidence: float = 0.9) -> Verdict:
    """achieved: the last measured value meets the target already; on course: the forecast
    for the target year meets it; off course: it does not; no data: nothing measured; no
    target: the indicator has no numerical target."""
    ahead = forecast(points, target_year, confidence=confidence)
    pts = sorted((int(y), float(v)) for y, v in points)
    last = pts[-1][1] if pts else None
    moved = progress(last, baseline_value, target_value)
    if target_value is None:
        return Verdict("no_target", ahead, None)
    if last is None:
        return Verdict("no_data", ahead, None)
    if _meets(last, target_value, direction):
        return Verdict("achieved", ahead, moved)
    if ahead.value is not None and _meets(ahead.value, target_value, direction):
        return Verdict("on_course", ahead, moved)
    return Verdict("off_course", ahead, moved)


# -- the next strategy's target ----------------------------------------------------------------


def _decimals(points: Points) -> int:
    """The series' own precision: as many decimals as its most precise value, at most 2."""
    found = 0
    for _, v in points:
        text = f"{float(v):.6f}".rstrip("0").rstrip(".")
        found = max(found, len(text.partition(".")[2]))
    return min(found, 2)


@dataclass(frozen=True)
class TargetProposal:
    baseline_value: float | None
    baseline_year: int | None
    value: float | None
    method: Literal["trend", "maintain", "none"]
    target_year: int
    slope: float | None = None
    n: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        return {"method": self.method, "baseline_value": _round(self.baseline_value),
                "baseline_year": self.baseline_year, "value": _round(self.value), "target_year": self.target_year,
                "slope": _round(self.slope), "n": self.n}


def propose_target(points: Points, *, next_target_year: int, direction: str) -> TargetProposal:
    """The next baseline is the last measured value; the proposed target carries the trend on
    to the next target year when it goes the better way, else holds the last value ("at
    least maintain"); never worse than the next baseline."""
    pts = sorted((int(y), float(v)) for y, v in points)
    if not pts:
        return TargetProposal(None, None, None, "none", next_target_year)
    last_year, last = pts[-1]
    digits = _decimals(pts)
    trend = fit(pts)
    better = trend is not None and ((trend.slope > 0) if direction == "up" else (trend.slope < 0))
    if trend is None or not better:
        return TargetProposal(last, last_year, round(last, digits), "maintain", next_target_year,
                        trend.slope if trend else None, len(pts))
    value = last + trend.slope * (next_target_year - last_year)
    value = max(value, last) if direction == "up" else min(value, last)
    return TargetProposal(last, last_year, round(value, digits), "trend", next_target_year, trend.slope, len(pts))


__all__ = ["Forecast", "TargetProposal", "Trend", "Verdict", "fit", "forecast", "progress", "propose_target", "t_cdf",
           "t_quantile", "verdict"]
