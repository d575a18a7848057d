"""The target-year review of an indicator, as arithmetic: the trend of its measured values,
a forecast for the target year with its uncertainty, a verdict, and a proposed target for
the next strategy.

In the strategy's target year the city re-evaluates every indicator and drafts the next
strategy with numerical targets wherever possible (chapter 6.2). This module does the
numbers for that, with no database and no I/O, so the pages, the publication and the
review package can all show the same figures and a person can check them by hand.

A series is a sequence of `(fiscal_year, value)` pairs; a pair whose value is None (a year
without a measured value) is skipped, so the years need not be consecutive. The order of
the pairs does not matter. Two values for one fiscal year, or a value that is not a finite
number, is a mistake of the caller and raises ValueError.

Everything returned is a frozen dataclass with a `figures()` dict for display and JSON, its
floats rounded to six significant digits (no float noise such as 0.30000000000000004).
Codes (`least_squares`, `on_course`, ...) are returned untranslated; the pages word them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

Direction = Literal["up", "down"]
Method = Literal["least_squares", "two_points", "last_value", "none"]
Code = Literal["achieved", "on_course", "off_course", "no_data", "no_target"]
TargetMethod = Literal["trend", "maintain", "none"]
Reason = Literal["better_trend", "stopped_at_zero", "behind_last_value", "flat", "wrong_way", "one_value",
                 "no_measurement", "no_data"]
Point = tuple[int, float | None]

SIGNIFICANT_DIGITS = 6
MAX_DECIMALS = 2
"""A proposed target is written with as many decimals as the most precise measured value,
but never more than this: nobody writes a target of 12.3456 ha."""


# -- the line ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """An ordinary least-squares line of value on fiscal year, `value = intercept + slope * year`.

    slope: change per fiscal year. intercept: the line's value at year 0 (the textbook
    coefficient; `value_at` computes from the means instead, which is exact for exact data).
    n, years: how many measured years the line uses, and which. mean_year, mean_value, sxx:
    the means and the sum of squared year deviations, which the prediction interval needs.
    r_squared: the share of the values' variation the line explains, 1 - SSE/SST; None when
    all values are equal (SST = 0: there is no variation to explain, so neither 0 nor 1 is
    true). residual_se: the residual standard error sqrt(SSE / (n - 2)); slope_se: the
    slope's standard error residual_se / sqrt(sxx); both None for n < 3, where a line
    through every point leaves no degree of freedom to estimate the scatter.
    """

    slope: float
    intercept: float
    n: int
    years: tuple[int, ...]
    mean_year: float
    mean_value: float
    sxx: float
    r_squared: float | None
    residual_se: float | None
    slope_se: float | None

    def value_at(self, year: float) -> float:
        """The line's value in a fiscal year."""
        return self.mean_value + self.slope * (year - self.mean_year)


def clean(points: Sequence[Point]) -> tuple[tuple[int, float], ...]:
    """The measured points in year order: None values dropped, the rest checked."""
    kept: dict[int, float] = {}
    for year, value in points:
        if value is None:
            continue
        if not isinstance(year, int) or isinstance(year, bool):
            raise ValueError(f"a fiscal year is a whole number (not {year!r})")
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"FY{year}: a measured value is a finite number (not {value!r})")
        if year in kept:
            raise ValueError(f"FY{year} has two measured values")
        kept[year] = float(value)
    return tuple(sorted(kept.items()))


def fit(points: Sequence[Point]) -> Trend | None:
    """The least-squares line through the measured points, or None with fewer than two: one
    point fixes no slope, so there is no line (`forecast` then holds the last value, method
    `last_value`). With two points the line passes through both (r² = 1, no standard errors).

    Sums are taken around the means (with math.fsum), the years counted from the first
    measured year, which keeps fiscal years in the thousands from swallowing digits.
    Residuals at the level of the values' floating-point rounding count as zero, so a
    perfectly linear series has SSE = 0, r² = 1 and a prediction interval of zero width.
    """
    measured = clean(points)
    n = len(measured)
    if n < 2:
        return None
    first_year = measured[0][0]
    xs = [float(year - first_year) for year, _ in measured]  # exact small offsets: no digits lost to 2000-odd
    ys = [value for _, value in measured]
    mean_x, mean_y = average(xs), average(ys)
    dx = [x - mean_x for x in xs]
    dy = [y - mean_y for y in ys]
    sxx = math.fsum(d * d for d in dx)
    sxy = math.fsum(a * b for a, b in zip(dx, dy, strict=True))
    syy = math.fsum(d * d for d in dy)
    slope = sxy / sxx
    sse = math.fsum((dyi - slope * dxi) ** 2 for dxi, dyi in zip(dx, dy, strict=True))
    scale = max(abs(y) for y in ys)
    if sse <= n * (8 * math.ulp(1.0) * scale) ** 2:
        sse = 0.0
    r_squared = None if syy == 0 else min(1.0, max(0.0, 1 - sse / syy))
    residual_se = math.sqrt(sse / (n - 2)) if n >= 3 else None
    mean_year = first_year + mean_x
    return Trend(
        slope=slope,
        intercept=mean_y - slope * mean_year,
        n=n,
        years=tuple(year for year, _ in measured),
        mean_year=mean_year,
        mean_value=mean_y,
        sxx=sxx,
        r_squared=r_squared,
        residual_se=residual_se,
        slope_se=None if residual_se is None else residual_se / math.sqrt(sxx),
    )


def average(values: Sequence[float]) -> float:
    """The mean, taken as an offset from the first value: exact when all values are equal."""
    first = values[0]
    return first + math.fsum(v - first for v in values) / len(values)


# -- Student's t ---------------------------------------------------------------------------


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t distribution with `df` degrees of freedom.

    Found by bisection on t of the two-sided tail P(|T| > t) = I_x(df/2, 1/2), x = df/(df + t²),
    the regularized incomplete beta function, itself evaluated by its continued fraction
    (modified Lentz). The tail falls strictly as t grows, so bisection cannot miss; it stops
    at a relative width of 1e-12, far below the three decimals of a printed table.
    """
    if not 0 < p < 1:
        raise ValueError(f"a quantile's probability lies strictly between 0 and 1 (not {p!r})")
    if not df > 0:
        raise ValueError(f"degrees of freedom are positive (not {df!r})")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1 - p, df)
    tail = 2 * (1 - p)
    low, high = 0.0, 1.0
    while two_sided_tail(high, df) > tail:
        low, high = high, high * 2
    while high - low > 1e-12 * high:
        middle = (low + high) / 2
        if two_sided_tail(middle, df) > tail:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    half_tail = two_sided_tail(abs(t), df) / 2
    return 1 - half_tail if t >= 0 else half_tail


def two_sided_tail(t: float, df: float) -> float:
    """P(|T| > t) for Student's t with `df` degrees of freedom, t >= 0."""
    square = t * t
    return regularized_beta(df / (df + square), square / (df + square), df / 2, 0.5)


def regularized_beta(x: float, one_minus_x: float, a: float, b: float) -> float:
    """I_x(a, b). The caller passes 1 - x too, computed without cancellation; the continued
    fraction converges fast below x = (a + 1) / (a + b + 2) and is used on the other side
    through I_x(a, b) = 1 - I_(1-x)(b, a)."""
    if x <= 0:
        return 0.0
    if one_minus_x <= 0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x)
                     + b * math.log(one_minus_x))
    if x < (a + 1) / (a + b + 2):
        return front * beta_fraction(x, a, b) / a
    return 1 - front * beta_fraction(one_minus_x, b, a) / b


def beta_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of the incomplete beta function (Numerical Recipes, betacf)."""
    tiny = 1e-300

    def nudge(value: float) -> float:
        return tiny if abs(value) < tiny else value

    c, d = 1.0, 1 / nudge(1 - (a + b) * x / (a + 1))
    h = d
    for m in range(1, 100_000):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1 / nudge(1 + even * d)
        c = nudge(1 + even / c)
        h *= d * c
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1 / nudge(1 + odd * d)
        c = nudge(1 + odd / c)
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            return h
    raise ArithmeticError(f"the incomplete beta fraction did not converge for x={x}, a={a}, b={b}")


# -- the forecast --------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """The value expected in `target_year`, and how it was found.

    method: `least_squares` (n >= 3: the line, with a prediction interval), `two_points`
    (n = 2: the line through both, no interval: nothing is left to estimate the scatter),
    `last_value` (n = 1: the value held flat, no interval), `none` (no measured value).
    value: the forecast (None for `none`). low, high: the prediction interval at
    `confidence` (only for `least_squares`; `confidence` is the one asked for, whatever the
    method). n, years: the measured years used. slope: per year (None without a line).
    t_value, prediction_se: the interval's half-width is t_value * prediction_se. trend: the
    line itself, for its other figures.
    """

    method: Method
    target_year: int
    value: float | None
    low: float | None
    high: float | None
    n: int
    years: tuple[int, ...]
    slope: float | None
    confidence: float = 0.9
    t_value: float | None = None
    prediction_se: float | None = None
    trend: Trend | None = None

    def figures(self) -> dict[str, Any]:
        """The forecast for display and JSON, floats to six significant digits."""
        trend = self.trend
        return {
            "method": self.method,
            "target_year": self.target_year,
            "n": self.n,
            "years": list(self.years),
            "value": round_significant(self.value),
            "low": round_significant(self.low),
            "high": round_significant(self.high),
            "confidence": self.confidence,
            "slope": round_significant(self.slope),
            "intercept": round_significant(trend.intercept if trend else None),
            "r_squared": round_significant(trend.r_squared if trend else None),
            "residual_se": round_significant(trend.residual_se if trend else None),
            "slope_se": round_significant(trend.slope_se if trend else None),
            "t_value": round_significant(self.t_value),
            "prediction_se": round_significant(self.prediction_se),
        }


def forecast(points: Sequence[Point], target_year: int, *, confidence: float = 0.9) -> Forecast:
    """The value the least-squares line gives at `target_year`, with a prediction interval.

    A prediction interval, not a confidence interval of the line's mean: the question is
    where the one value measured in the target year will fall, and that value scatters
    around the line as the past values did. So the standard error carries the scatter of one
    new observation (the 1 under the root) on top of the line's own uncertainty:

        se = s * sqrt(1 + 1/n + (target_year - mean_year)² / sxx),  s = residual standard error
        value ± t((1 + confidence) / 2, n - 2) * se

    The interval widens the further the target year lies from the measured years.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"a confidence lies strictly between 0 and 1 (not {confidence!r})")
    measured = clean(points)
    years = tuple(year for year, _ in measured)
    if not measured:
        return Forecast("none", target_year, None, None, None, 0, (), None, confidence)
    if len(measured) == 1:
        value = measured[0][1]
        return Forecast("last_value", target_year, value, None, None, 1, years, None, confidence)
    trend = fit(measured)
    assert trend is not None
    value = trend.value_at(target_year)
    if trend.residual_se is None:
        return Forecast("two_points", target_year, value, None, None, trend.n, years, trend.slope, confidence,
                        trend=trend)
    t_value = t_quantile((1 + confidence) / 2, trend.n - 2)
    spread = trend.residual_se * math.sqrt(1 + 1 / trend.n + (target_year - trend.mean_year) ** 2 / trend.sxx)
    half = t_value * spread
    return Forecast("least_squares", target_year, value, value - half, value + half, trend.n, years, trend.slope,
                    confidence=confidence, t_value=t_value, prediction_se=spread, trend=trend)


# -- the verdict ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The review's judgement of one indicator.

    verdict: `no_target` (no numerical target), `no_data` (no measured value), `achieved` (the
    last measured value meets the target), `on_course` (the forecast for the target year
    meets it), `off_course` (neither). last_year, last_value: the latest measured value.
    progress: (last_value - baseline_value) / (target_value - baseline_value), see
    `progress`, to six significant digits (it goes to pages and JSON as it is). straddles:
    whether the prediction interval holds the target value, i.e. the verdict could go either
    way within the forecast's uncertainty (None without an interval or a target). forecast:
    the forecast behind the verdict.
    """

    verdict: Code
    direction: Direction
    target_year: int
    baseline_value: float | None
    target_value: float | None
    last_year: int | None
    last_value: float | None
    progress: float | None
    straddles: bool | None
    forecast: Forecast

    def figures(self) -> dict[str, Any]:
        """The verdict for display and JSON, with the forecast's figures under `forecast`."""
        return {
            "verdict": self.verdict,
            "direction": self.direction,
            "target_year": self.target_year,
            "baseline_value": round_significant(self.baseline_value),
            "target_value": round_significant(self.target_value),
            "last_year": self.last_year,
            "last_value": round_significant(self.last_value),
            "progress": round_significant(self.progress),
            "straddles": self.straddles,
            "forecast": self.forecast.figures(),
        }


def verdict(points: Sequence[Point], *, baseline_value: float | None, target_value: float | None,
            direction: Direction, target_year: int, confidence: float = 0.9) -> Verdict:
    """Judge an indicator in the target-year review.

    In this order: no numerical target → `no_target` (there is nothing to judge against, even
    with data); no measured value → `no_data`; the last measured value meets the target (>=
    for `up`, <= for `down`) → `achieved`; the target year itself has been measured (and did
    not meet it) → `off_course`, because a measurement outranks a line; the forecast's value
    for the target year meets the target → `on_course`; else `off_course`. With one measured
    value the forecast is that value held flat, so an unmet target is `off_course`.

    The forecast's point value decides, not its interval: an interval straddling the target
    is reported as `straddles` beside the verdict, so the page can say "on course, but
    within the uncertainty" rather than the verdict flipping on a confidence setting.
    """
    check_direction(direction)
    ahead = forecast(points, target_year, confidence=confidence)
    measured = clean(points)
    last_year, last_value = measured[-1] if measured else (None, None)
    ratio = round_significant(progress(last_value, baseline_value, target_value))
    straddles = None
    if target_value is not None and ahead.low is not None and ahead.high is not None:
        straddles = ahead.low <= target_value <= ahead.high

    def judged(word: Code) -> Verdict:
        return Verdict(word, direction, target_year, baseline_value, target_value, last_year, last_value, ratio,
                       straddles, ahead)

    if target_value is None:
        return judged("no_target")
    if last_value is None or last_year is None or ahead.value is None:
        return judged("no_data")
    if meets(last_value, target_value, direction):
        return judged("achieved")
    if last_year >= target_year:
        return judged("off_course")
    return judged("on_course" if meets(ahead.value, target_value, direction) else "off_course")


def progress(last_value: float | None, baseline_value: float | None, target_value: float | None) -> float | None:
    """The share of the way from baseline to target covered by the last measured value:
    (last_value - baseline_value) / (target_value - baseline_value). 1.0 = there, above 1 =
    beyond, below 0 = worse than the baseline. The same formula serves both directions (for
    `down` both differences are negative). None when a number is missing or the target equals
    the baseline (no way to cover: the verdict says whether it is held)."""
    if last_value is None or baseline_value is None or target_value is None or target_value == baseline_value:
        return None
    return (last_value - baseline_value) / (target_value - baseline_value)


def meets(value: float, target_value: float, direction: Direction) -> bool:
    """Whether a value is at the target or beyond it, the better way."""
    return value >= target_value if direction == "up" else value <= target_value


def check_direction(direction: str) -> None:
    if direction not in ("up", "down"):
        raise ValueError(f"an indicator's direction is 'up' or 'down' (not {direction!r})")


# -- the next strategy's target ------------------------------------------------------------


@dataclass(frozen=True)
class TargetProposal:
    """A proposed baseline and target for the next strategy, for a person to accept or edit.

    method: `trend` (the line's value in the next target year), `maintain` (hold the next
    baseline: "at least maintain"), `none` (nothing measured and no baseline given).
    reason: why — `better_trend` (the line goes the better way and ends beyond the
    baseline), `stopped_at_zero` (the line would cross zero for a series never below zero:
    zero proposed), `behind_last_value` (the line goes the better way but, rounded, ends no
    further than the last value), `flat` (slope 0), `wrong_way` (the line goes the worse
    way), `one_value` (one measured value, no line), `no_measurement` (no measured value:
    the given baseline held), `no_data`. baseline_value, baseline_year: the next baseline,
    the last measured value and its year. target_value: the proposal, rounded to `decimals`.
    projected: the line's unrounded value in `target_year` (None without a line).
    """

    method: TargetMethod
    reason: Reason
    direction: Direction
    baseline_value: float | None
    baseline_year: int | None
    target_value: float | None
    target_year: int
    projected: float | None
    decimals: int
    trend: Trend | None

    def figures(self) -> dict[str, Any]:
        """The proposal for display and JSON, with the line's figures."""
        trend = self.trend
        return {
            "method": self.method,
            "reason": self.reason,
            "direction": self.direction,
            "baseline_value": round_significant(self.baseline_value),
            "baseline_year": self.baseline_year,
            "target_value": round_significant(self.target_value),
            "target_year": self.target_year,
            "projected": round_significant(self.projected),
            "decimals": self.decimals,
            "n": trend.n if trend else None,
            "years": list(trend.years) if trend else None,
            "slope": round_significant(trend.slope if trend else None),
            "intercept": round_significant(trend.intercept if trend else None),
            "r_squared": round_significant(trend.r_squared if trend else None),
        }


def propose_target(points: Sequence[Point], *, next_target_year: int, direction: Direction,
                   baseline_value: float | None = None) -> TargetProposal:
    """Propose the next strategy's baseline and target for an indicator.

    The next baseline is the last measured value (and its year). The target is the
    least-squares line's value in `next_target_year`, rounded to the series' own precision
    (the most decimals among the measured values, at most two), when the line goes the better
    way; otherwise the baseline is held ("at least maintain"). The line rather than the last
    value is extrapolated, because the last value carries its own year's scatter. A target
    is never worse than the next baseline, whichever the reason: if the rounded line ends no
    further than the last value, the last value is proposed. A series that has never been
    below zero is not proposed a negative target (counts and areas cannot be negative).

    `baseline_value`, when given, is the current strategy's baseline: used only when nothing
    has been measured, as the value to maintain (year unknown).
    """
    check_direction(direction)
    measured = clean(points)
    if not measured:
        if baseline_value is None:
            return TargetProposal("none", "no_data", direction, None, None, None, next_target_year, None, 0, None)
        places = count_decimals([baseline_value])
        return TargetProposal("maintain", "no_measurement", direction, baseline_value, None, baseline_value,
                              next_target_year, None, places, None)
    last_year, last_value = measured[-1]
    if next_target_year <= last_year:
        raise ValueError(f"the next target year must come after the last measured year FY{last_year}")
    places = count_decimals([value for _, value in measured])
    trend = fit(measured)

    def held(reason: Reason, projected: float | None = None) -> TargetProposal:
        return TargetProposal("maintain", reason, direction, last_value, last_year, last_value, next_target_year,
                              projected, places, trend)

    if trend is None:
        return held("one_value")
    projected = trend.value_at(next_target_year)
    sign = 1 if direction == "up" else -1
    if trend.slope == 0:
        return held("flat", projected)
    if trend.slope * sign < 0:
        return held("wrong_way", projected)
    proposed = round_decimals(projected, places)
    if not (proposed - last_value) * sign > 0:
        return held("behind_last_value", projected)
    reason: Reason = "better_trend"
    if proposed < 0 <= min(value for _, value in measured):
        proposed, reason = 0.0, "stopped_at_zero"
    return TargetProposal("trend", reason, direction, last_value, last_year, proposed, next_target_year, projected,
                          places, trend)


# -- rounding ------------------------------------------------------------------------------


def count_decimals(values: Sequence[float], *, most: int = MAX_DECIMALS) -> int:
    """The decimals of the most precise value as a person wrote it (12.50 → 1, 15.0 → 0),
    from each float's shortest repr, capped at `most`."""
    places = 0
    for value in values:
        exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
        if isinstance(exponent, int):
            places = max(places, -exponent)
    return min(places, most)


def round_decimals(value: float, places: int) -> float:
    """Round half away from zero, as people do (2.675 → 2.68), from the float's shortest repr."""
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return float(rounded) + 0.0


def round_significant(value: float | None, digits: int = SIGNIFICANT_DIGITS) -> float | None:
    """A float to `digits` significant digits for display (0.30000000000000004 → 0.3), None
    kept, -0.0 made 0.0."""
    if value is None:
        return None
    return float(f"{value:.{digits}g}") + 0.0


__all__ = ["Forecast", "TargetProposal", "Trend", "Verdict", "fit", "forecast", "progress", "propose_target", "t_cdf",
           "t_quantile", "verdict"]
