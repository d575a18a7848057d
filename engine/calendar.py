"""Dates that fall on closed days, and which reminder of a series is due today.

Pure functions of dates: whoever knows the closed days (a country's holidays, an office's
closures) passes them in, so this module knows no calendar but the Gregorian one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

ClosedReason = Callable[[date], str | None]
"""Why a day is closed ('Saturday', a holiday's name, ...), or None when it is a business day."""

Direction = Literal["previous", "next"]


@dataclass(frozen=True)
class Shifted:
    rule: date
    day: date
    reasons: tuple[str, ...]
    """Why each skipped day was closed, in the order they were skipped."""

    @property
    def moved(self) -> bool:
        return self.day != self.rule


def to_business_day(rule: date, closed: ClosedReason, direction: Direction = "previous") -> Shifted:
    step = timedelta(days=-1 if direction == "previous" else 1)
    day, reasons = rule, []
    for _ in range(60):
        reason = closed(day)
        if reason is None:
            return Shifted(rule, day, tuple(reasons))
        reasons.append(f"{day.isoformat()} {reason}")
        day += step
    raise ValueError(f"no business day within 60 days of {rule.isoformat()}")


def reminder_step(
    today: date, due: date, *, before: Sequence[int], every: int, until: date | None = None
) -> str | None:
    """The one reminder of a series that applies today, named by its offset from the due
    date ('-7', '+14'), or None. Only the latest applicable step counts, so a tick after
    days of downtime sends the reminder that fits today rather than every one it missed;
    and any number of ticks on one day name the same step."""
    if until is not None and today > until:
        return None
    if today < due:
        applicable = [d for d in sorted(before, reverse=True) if today >= due - timedelta(days=d)]
        return f"-{applicable[-1]}" if applicable else None
    if today == due or every <= 0:
        return None
    late = (today - due).days
    return f"+{late - late % every}" if late >= every else None


def repeating_step(today: date, first: date, every: int, until: date | None = None) -> str | None:
    """From `first` on, a step every `every` days ('+0', '+7', ...): for escalations."""
    if today < first or (until is not None and today > until):
        return None
    days = (today - first).days
    return f"+{days - days % every}" if every > 0 else "+0"
