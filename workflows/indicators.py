"""Numerical targets (数値目標): where an indicator should be in a given year, how far it has
come, and what that means in a word. Pure arithmetic on numbers, so it can be tested
exhaustively and shared by the pages, the revision rules and the publication.

Direction matters: for an `up` indicator more is better, for `down` less is better. The
expected value for a year lies on the straight line from the baseline (value, year) to the
target (value, year).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["achieved", "on_track", "behind", "no_data", "not_applicable"]
STATUSES: tuple[Status, ...] = ("achieved", "on_track", "behind", "no_data", "not_applicable")


@dataclass(frozen=True)
class Target:
    direction: Literal["up", "down"]
    baseline_value: float | None
    baseline_year: int | None
    target_value: float | None
    target_year: int | None


def expected(t: Target, fy: int) -> float | None:
    """The value on the line from baseline to target for this fiscal year (None without a
    baseline and a target); up to the baseline year the baseline, from the target year on
    the target."""
    if t.baseline_value is None or t.target_value is None:
        return None
    first = t.baseline_year if t.baseline_year is not None else fy
    last = t.target_year if t.target_year is not None else fy
    if fy >= last:
        return t.target_value
    if fy <= first:
        return t.baseline_value
    return t.baseline_value + (t.target_value - t.baseline_value) * (fy - first) / (last - first)


def meets(t: Target, value: float) -> bool:
    assert t.target_value is not None
    return value >= t.target_value if t.direction == "up" else value <= t.target_value


def progress(t: Target, value: float | None) -> float | None:
    """The share of the way from baseline to target covered (1.0 = there; may exceed 1 or
    be negative). A target already met at the baseline counts as all the way."""
    if value is None or t.baseline_value is None or t.target_value is None:
        return None
    span = t.target_value - t.baseline_value
    if span == 0 or (t.direction == "up") != (span > 0):
        return 1.0 if meets(t, value) else 0.0
    return (value - t.baseline_value) / span


def status(t: Target, value: float | None, fy: int, *, on_track_ratio: float = 0.9) -> Status:
    """achieved: the target is met; on_track: at least `on_track_ratio` of the way the line
    expects by this year; behind: less; no_data: no value this year; not_applicable: the
    indicator has no numerical target."""
    if t.target_value is None:
        return "not_applicable"
    if value is None:
        return "no_data"
    if meets(t, value):
        return "achieved"
    wanted = expected(t, fy)
    if wanted is None or t.baseline_value is None:
        return "behind"
    due = wanted - t.baseline_value
    done = value - t.baseline_value
    if t.direction == "down":
        due, done = -due, -done
    if due <= 0:
        return "on_track" if done >= 0 else "behind"
    return "on_track" if done >= on_track_ratio * due else "behind"


def expected_during(t: Target, fy: int, elapsed: float) -> float | None:
    """The value the line expects part-way through fiscal year `fy` (`elapsed` of the year
    gone, 0 to 1): from the previous year's expected value towards this year's."""
    start, end = expected(t, fy - 1), expected(t, fy)
    if start is None or end is None:
        return None
    return start + (end - start) * min(max(elapsed, 0.0), 1.0)


def share_of_expected(t: Target, value: float | None, fy: int) -> float | None:
    """The value's way from the baseline as a share of the way the line expects by now
    (1.0 = exactly on the line), for wording like "at 40 % of its expected value"."""
    wanted = expected(t, fy)
    if value is None or wanted is None or t.baseline_value is None:
        return None
    due = wanted - t.baseline_value
    if due == 0:
        return None
    return (value - t.baseline_value) / due


SIGNED_UNITS = frozenset({"℃", "°C", "増減", "差", "pt", "ポイント"})
"""Units of a quantity that may fall below zero (a change, a temperature)."""
PERCENT_UNITS = frozenset({"%", "％"})


def value_range(unit: str, minimum: float | None, maximum: float | None) -> tuple[float | None, float | None]:
    """The least and most an indicator's value can be: as declared, else what its unit says
    (no count, area or length below zero; no share above 100 %)."""
    low = minimum if minimum is not None else (None if unit.strip() in SIGNED_UNITS else 0.0)
    high = maximum if maximum is not None else (100.0 if unit.strip() in PERCENT_UNITS else None)
    return low, high
