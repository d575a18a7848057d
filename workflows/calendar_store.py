"""A strategy's fiscal-year calendars as stored in the database: the milestone dates fixed
for one year and the extra closed dates. config.toml gives them once (`pdca init` copies
them into a strategy that has none yet); after that the database is what counts, so an
admin's change on the web survives a re-run of init.

What is stored goes through the same `CalendarIn` validation as the configuration, with
the same messages: a stored calendar is never one the configuration would refuse.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select, update

from workflows.calendar import CalendarIn
from workflows.models import CalendarYear, Strategy


@dataclass(frozen=True)
class StoredYear:
    """One fiscal year as stored: milestone name -> date, and closed dates in the year."""

    fy: int
    overrides: dict[str, date]
    closed_dates: tuple[date, ...]


def read_years(conn: Connection) -> dict[int, list[StoredYear]]:
    """Every strategy's stored years, by strategy id: read once per load of the tenants."""
    found: dict[int, list[StoredYear]] = defaultdict(list)
    rows = conn.execute(select(CalendarYear.strategy_id, CalendarYear.fy, CalendarYear.overrides,
                               CalendarYear.closed_dates).order_by(CalendarYear.fy))
    for row in rows:
        found[row.strategy_id].append(StoredYear(
            row.fy, {k: date.fromisoformat(v) for k, v in (row.overrides or {}).items()},
            tuple(sorted(date.fromisoformat(d) for d in row.closed_dates or []))))
    return dict(found)


REMINDER_KEYS = ("reminder_days", "repeat_days", "escalate_after_days")
"""The reminder series: days before a due date, the repeat after it, and when lateness is
escalated. Strategy-wide, not per fiscal year."""


def apply_years(base: CalendarIn, years: list[StoredYear], reminders: dict[str, Any] | None = None) -> CalendarIn:
    """The configuration's calendar with the stored years' dates in place of its overrides
    and closed dates, and the stored reminder series in place of its own; validated as the
    configuration is (ValueError with its messages)."""
    values = base.model_dump()
    values |= {k: v for k, v in (reminders or {}).items() if k in REMINDER_KEYS}
    values["overrides"] = {y.fy: dict(y.overrides) for y in years if y.overrides}
    values["closed_dates"] = sorted(d for y in years for d in y.closed_dates)
    return CalendarIn.model_validate(values)


def calendar_fy(day: date) -> int:
    """The fiscal year whose calendar a day belongs to: FY N's milestones all fall in
    calendar year N+1, so a closed date in that year is set on FY N's calendar page."""
    return day.year - 1


def years_of(settings: CalendarIn) -> list[StoredYear]:
    """A calendar's overrides and closed dates as fiscal years, for storing."""
    closed: dict[int, list[date]] = defaultdict(list)
    for day in settings.closed_dates:
        closed[calendar_fy(day)].append(day)
    fys = sorted({*settings.overrides, *closed})
    return [StoredYear(fy, dict(settings.overrides.get(fy, {})), tuple(sorted(closed.get(fy, []))))
            for fy in fys]


def has_years(conn: Connection, strategy_id: int) -> bool:
    return conn.execute(select(CalendarYear.id).where(CalendarYear.strategy_id == strategy_id)).first() is not None


def seed_years(conn: Connection, strategy_id: int, settings: CalendarIn) -> int:
    """Copy the configuration's overrides and closed dates into a strategy with none stored
    yet: only then, so that `pdca init` run again never undoes an admin's change. Returns
    how many years were stored."""
    if has_years(conn, strategy_id):
        return 0
    years = years_of(settings)
    for year in years:
        store_year(conn, strategy_id, year)
    return len(years)


def store_year(conn: Connection, strategy_id: int, year: StoredYear) -> None:
    """Replace one fiscal year's stored dates (insert the row if it is the first)."""
    values = {"overrides": {k: v.isoformat() for k, v in sorted(year.overrides.items())},
              "closed_dates": [d.isoformat() for d in sorted(year.closed_dates)]}
    where = (CalendarYear.strategy_id == strategy_id) & (CalendarYear.fy == year.fy)
    if conn.execute(select(CalendarYear.id).where(where)).first():
        conn.execute(update(CalendarYear).where(where).values(**values))
    else:
        conn.execute(insert(CalendarYear).values(strategy_id=strategy_id, fy=year.fy, **values))


def read_reminders(conn: Connection) -> dict[int, dict[str, Any]]:
    """Every strategy's stored reminder series, by strategy id."""
    return {sid: dict(r) for sid, r in conn.execute(select(Strategy.id, Strategy.reminders)) if r}


def reminders_of(settings: CalendarIn) -> dict[str, Any]:
    return {k: getattr(settings, k) for k in REMINDER_KEYS}


def seed_reminders(conn: Connection, strategy_id: int, settings: CalendarIn) -> bool:
    """Copy the configuration's reminder series into a strategy with none stored yet (as
    the calendar years are): a re-run of `pdca init` never undoes an admin's change."""
    stored = conn.execute(select(Strategy.reminders).where(Strategy.id == strategy_id)).scalar()
    if stored:
        return False
    store_reminders(conn, strategy_id, reminders_of(settings))
    return True


def store_reminders(conn: Connection, strategy_id: int, reminders: dict[str, Any]) -> None:
    conn.execute(update(Strategy).where(Strategy.id == strategy_id).values(  # type: ignore[arg-type]
        reminders={k: reminders[k] for k in REMINDER_KEYS}))


def stored_year(conn: Connection, strategy_id: int, fy: int) -> StoredYear:
    """One fiscal year as stored; an empty year if nothing is."""
    for year in read_years(conn).get(strategy_id, []):
        if year.fy == fy:
            return year
    return StoredYear(fy, {}, ())


__all__ = ["REMINDER_KEYS", "StoredYear", "apply_years", "calendar_fy", "has_years", "read_reminders", "read_years",
           "reminders_of", "seed_reminders", "seed_years", "store_reminders", "store_year", "stored_year", "years_of"]
