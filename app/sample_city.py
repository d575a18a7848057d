"""`pdca init --sample`: the sample city, living up to a given day.

A newcomer should open the sample and find a city at work, not a year of untouched plans
all overdue. So the sample imports its actions at the start of its history and replays
every day since through the same tick and the same simulated people as
`pdca simulate --actors auto`: the newest fiscal year whose results are due for publication
is checked, evaluated, decided and published; the current year runs as the calendar says;
two laggards leave work open (a report not sent, a report returned and not yet sent again),
so lateness, escalations and flags are there to see. Past mail is delivered to files, never
over SMTP, whatever `[mail]` says. The same day gives the same history.

Run again, it builds nothing new: the history is the city's now. It imports the sample
file again, which changes only what the file still owns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from app.bootstrap import Pdca
from app.importing import Imported, import_actions
from app.mail import delivery
from app.simulate import Replay, simulate
from engine import db
from engine.clock import utc_now
from notifications.senders import FileSender
from workflows import service
from workflows.action_cycle.people import LATE, RETURNED

SAMPLE_ACTIONS = Path(__file__).parent / "sample" / "actions.csv"
LAGGARDS = {"2-2-1": LATE, "2-1-2": RETURNED}
"""The owner of 2-2-1 has not sent the newest report; 2-1-2's was returned and waits."""


@dataclass
class SampleReport:
    imported: Imported
    start: date | None = None
    """The first day of the history built now; None when it existed already."""
    end: date | None = None
    first_fy: int | None = None
    replay: Replay | None = None
    sent: int = 0


def history_start(pdca: Pdca, as_of: date) -> tuple[int, date]:
    """The first fiscal year of the history and the day its plans are asked for: the newest
    year published before `as_of`, so that one whole year is there to read (never before
    the strategy's first year)."""
    cal = pdca.calendar
    current = cal.fiscal_year(datetime.combine(as_of, time(12), cal.zone))
    published = [fy for fy in range(current - 3, current + 1) if cal.due(fy, "publication") < as_of]
    first = max(pdca.settings.strategy.first_fy, max(published, default=pdca.settings.strategy.first_fy))
    return first, cal.due(first - 1, "plan_window_opens")


def has_history(pdca: Pdca, strategy: int) -> bool:
    with db.reading(pdca.engine) as conn:
        return bool(service.listing(conn, pdca.registry.primary, tenant=strategy))


def build_sample(
    pdca: Pdca, *, strategy: int, as_of: date, progress: Callable[[date], None] | None = None,
    total: Callable[[int], None] | None = None,
) -> SampleReport:
    """Import the sample's actions and, on a database without cycles, replay the days from
    the start of the history up to the day before `as_of`."""
    cal = pdca.calendar
    if has_history(pdca, strategy):
        with db.writing(pdca.engine) as conn:
            imported = import_actions(conn, strategy=strategy, path=SAMPLE_ACTIONS, now=utc_now(), zone=cal.zone)
        return SampleReport(imported)
    first_fy, start = history_start(pdca, as_of)
    end = as_of - timedelta(days=1)
    at = datetime.combine(start, time(max(cal.settings.tick_hour - 1, 0)), cal.zone)
    with db.writing(pdca.engine) as conn:
        imported = import_actions(conn, strategy=strategy, path=SAMPLE_ACTIONS, now=at, zone=cal.zone)
    if end < start:
        return SampleReport(imported, first_fy=first_fy)
    if total is not None:
        total((end - start).days + 1)
    mail_dir = pdca.settings.mail.dir
    to_files = delivery(pdca, sender=lambda: FileSender(mail_dir))
    replay = simulate(pdca, start, end, actors=True, laggards=LAGGARDS, deliver=to_files, progress=progress)
    return SampleReport(imported, start, end, first_fy, replay, replay.totals().sent)
