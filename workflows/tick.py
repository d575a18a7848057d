"""What the calendar makes happen, decided from `now` alone: the city's clockwork.

`tick(now)` is the only scheduled behaviour. Every rule is a few set-based statements
(no Python loop over cycles) and idempotent: a message is queued under a dedupe key of
(kind, cycle or person, due date, step, recipient) and a system trigger moves only cycles
still in its source state. Ticking twice, hourly, or once after a week of downtime
therefore has the same outcome as ticking once a day; after downtime each reminder series
sends the one step that fits today, not every step it missed.

For the calendar of fiscal year N (dates in calendar year N+1):
  plan window opens   open FY N+1 cycles in plan.drafting; ask their owners for plans
  before plan due     remind owners of plans still in drafting; after it, repeat
  year start          start FY N+1's approved plans; escalate those not approved
  check opens         open FY N's checks; ask owners for their reports
  around report due   remind owners before and after; escalate late ones
  council meetings    send each member the packet of items waiting for that council
  before decisions    remind the internal chair of items waiting for a decision
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, String, literal, null, select, union, update

from engine.audit import AuditEvent
from engine.bulk import fire_all
from engine.calendar import reminder_step, repeating_step
from engine.clock import to_storage
from engine.outbox import attach_items, dedupe_key, queue, queue_returning_ids
from engine.runtime import Workflow
from workflows import opinions, results, revision
from workflows.calendar import Calendar
from workflows.directory import SECRETARIAT
from workflows.messages import message_columns, to_owners
from workflows.models import Action, Council, Cycle, Membership, Person, Strategy
from workflows.service import open_cycles
from workflows.store import chair_seats

PLANNING = ("plan.drafting",)
UNAPPROVED = ("plan.drafting", "plan.review")
REPORTING = ("check.self_assessment",)
WAITING_FOR_DECISION = ("act.deciding", "act.revision_review")


@dataclass
class TickReport:
    today: date
    transitions: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)

    def add(self, other: TickReport) -> None:
        self.transitions.update(other.transitions)
        self.messages.update(other.messages)


@dataclass
class _Tick:
    conn: Connection
    workflow: Workflow
    calendar: Calendar
    strategy: int
    now: datetime
    report: TickReport

    @property
    def at(self) -> datetime:
        return to_storage(self.now)

    def active(self) -> Any:
        """Cycles of this strategy's actions that have not ended."""
        return Cycle.action_id.in_(  # type: ignore[attr-defined]
            select(Action.id).where(Action.strategy_id == self.strategy, Action.status == "active")
        )

    def cycles(self, fy: int, states: tuple[str, ...]) -> Any:
        return select(Cycle.id).where(Cycle.fy == fy, Cycle.state.in_(states), self.active())  # type: ignore[attr-defined]

    def to_owners(self, kind: str, fy: int, states: tuple[str, ...], due: date, step: str) -> None:
        """One message per cycle in `states` to each of its owners."""
        where = (Cycle.fy == fy) & Cycle.state.in_(states) & self.active()  # type: ignore[attr-defined]
        self.report.messages[kind] += queue(self.conn, to_owners(kind, fy, due, step, self.at, where))

    def to_people(self, kind: str, fy: int, due: date, step: str, people: Any, items: Any | None) -> None:
        """One message to each person `people` selects (id, email), listing the cycles
        `items` selects; nothing when there is nothing to list (unless `items` is None:
        a message about no cycle in particular)."""
        if items is not None and not self.conn.execute(select(items.exists())).scalar():
            return
        who = people.subquery()
        scope = literal("person:", String) + who.c.id.cast(String)
        rows = select(
            dedupe_key(kind, scope, due, step, who.c.email).label("dedupe_key"),
            who.c.email.label("recipient"),
            null().cast(Integer).label("instance_id"),
            *message_columns(kind, fy, due, step, self.at),
        )
        created = queue_returning_ids(self.conn, rows)
        if items is not None:
            attach_items(self.conn, created, items)
        self.report.messages[kind] += len(created)

    def fire(self, trigger: str, where: Any, values: dict[str, Any] | None = None) -> None:
        moved = fire_all(self.conn, self.workflow, trigger, where=where, now=self.now, values=values)
        self.report.transitions[trigger] += moved


def _chairs(key: str) -> Any:
    """Whoever holds the council chair's role now and is not away: while the chair is marked
    absent, the vice chair is told instead."""
    return _body(key).where(chair_seats(), Person.absent.is_(False))  # type: ignore[attr-defined]


def _body(key: str) -> Any:
    return (
        select(Person.id, Person.email)
        .join(Membership, Membership.person_id == Person.id)
        .join(Council, Council.id == Membership.council_id)
        .where(Council.key == key, Person.active)
    )


def _reminder_kind(base: str, step: str) -> str:
    return f"{base}_reminder" if step.startswith("-") else f"{base}_overdue"


def tick(
    conn: Connection, workflow: Workflow, calendar: Calendar, *, strategy: int, now: datetime
) -> TickReport:
    """Do everything the calendar says is due by `now`, once."""
    today = calendar.today(now)
    t = _Tick(conn, workflow, calendar, strategy, now, TickReport(today))
    for fy in (today.year - 2, today.year - 1):
        _year(t, fy, today)
    _chase_opinions(t, today)
    return t.report


def _chase_opinions(t: _Tick, today: date) -> None:
    """Remind advisors of opinions asked and not yet given (a handful at a time)."""
    settings = t.calendar.settings
    for request in opinions.open_requests(t.conn):
        step = reminder_step(today, request.due, before=settings.reminder_days, every=settings.repeat_days,
                             until=request.due + timedelta(days=4 * settings.repeat_days))
        if step:
            kind = "opinion_reminder" if step.startswith("-") else "opinion_overdue"
            t.report.messages[kind] += opinions.notify_advisor(t.conn, kind=kind, request_id=request.id, stage=step,
                                                               due=request.due, now=t.now)


def _year(t: _Tick, fy: int, today: date) -> None:
    cal, settings = t.calendar, t.calendar.settings
    d = {m.name: m.day for m in cal.year(fy)}
    if today < d["plan_window_opens"] or today > d["publication"] + timedelta(days=settings.repeat_days):
        return
    following = fy + 1
    chairs_and_secretariat = union(_chairs("internal"), _body(SECRETARIAT))
    remind = {"before": settings.reminder_days, "every": settings.repeat_days}

    # Plans for the following year.
    opened = open_cycles(t.conn, strategy=t.strategy, fy=following, now=t.now)
    t.report.transitions["open"] += opened
    if today <= d["plan_due"]:
        t.to_owners("plan_requested", following, PLANNING, d["plan_due"], "open")
    step = reminder_step(today, d["plan_due"], **remind, until=d["year_start"] - timedelta(days=1))
    if step:
        t.to_owners(_reminder_kind("plan", step), following, PLANNING, d["plan_due"], step)
    if today >= d["year_start"]:
        t.fire("start", (Cycle.fy == following) & t.active())
        step = repeating_step(today, d["year_start"], settings.repeat_days, until=d["publication"])
        if step:
            t.to_people("plan_escalation", following, d["year_start"], step, chairs_and_secretariat,
                        t.cycles(following, UNAPPROVED))

    # The check of this year.
    if today >= d["check_opens"]:
        t.fire("open_check", (Cycle.fy == fy) & t.active(), {"check_opened_at": t.at})
        if today <= d["report_due"]:
            t.to_owners("report_requested", fy, REPORTING, d["report_due"], "open")
    step = reminder_step(today, d["report_due"], **remind, until=d["decisions_due"])
    if step:
        t.to_owners(_reminder_kind("report", step), fy, REPORTING, d["report_due"], step)
    _flag_late_reports(t, fy, d["report_due"], today)
    late_from = d["report_due"] + timedelta(days=settings.escalate_after_days)
    step = repeating_step(today, late_from, settings.repeat_days, until=d["decisions_due"])
    if step:
        t.to_people("report_escalation", fy, d["report_due"], step, chairs_and_secretariat,
                    t.cycles(fy, REPORTING))
    for meeting, council, waiting in (
        ("internal_council_meeting", "internal", ("check.internal_review",)),
        ("promotion_council_meeting", "promotion", ("check.council_evaluation",)),
    ):
        if d[meeting] <= today <= d["decisions_due"]:
            t.to_people(f"{council}_packet", fy, d[meeting], "", _body(council), t.cycles(fy, waiting))
    step = reminder_step(today, d["decisions_due"], **remind, until=d["publication"])
    if step:
        t.to_people(_reminder_kind("decision", step), fy, d["decisions_due"], step,
                    _chairs("internal"), t.cycles(fy, WAITING_FOR_DECISION))
    if today >= d["publication"]:
        _publish(t, fy, d["publication"])


def _flag_late_reports(t: _Tick, fy: int, due: date, today: date) -> None:
    """A report more than `late_days` days late flags its cycle (adaptive revision) while
    it is still missing; the loop runs over the late cycles only, never over all."""
    rules = t.workflow.store.rules  # type: ignore[attr-defined]
    late = (today - due).days
    if late <= rules.late_days:
        return
    submitted = select(AuditEvent.id).where(  # a report returned for changes is not a missing one
        AuditEvent.workflow == t.workflow.spec.name, AuditEvent.instance_id == Cycle.id,
        AuditEvent.trigger == "submit_report").exists()
    rows = t.conn.execute(select(Cycle.id, Cycle.flags).where(
        Cycle.fy == fy, Cycle.state.in_(REPORTING), t.active(), ~submitted))  # type: ignore[attr-defined]
    flag = revision.Flag("late", f"実施状況報告が期限から{rules.late_days}日を過ぎても提出されていません",
                         f"the report is more than {rules.late_days} days late")
    for cycle_id, flags in rows:
        if any(f["rule"] == "late" for f in flags or []):
            continue
        t.conn.execute(update(Cycle).where(Cycle.id == cycle_id).values(flags=revision.merge(flags or [], [flag])))  # type: ignore[arg-type]
        t.report.transitions["flag"] += 1


def _publish(t: _Tick, fy: int, day: date) -> None:
    """On the publication date the year's results are frozen (once: a later correction is
    an admin's `pdca publish --note`) and everyone is told where to read them."""
    code = t.conn.execute(select(Strategy.code).where(Strategy.id == t.strategy)).scalar_one()
    if results.latest(t.conn, strategy_code=code, fy=fy) is not None:
        return
    of_strategy = Cycle.action_id.in_(select(Action.id).where(Action.strategy_id == t.strategy))  # type: ignore[attr-defined]
    if t.conn.execute(select(Cycle.id).where(Cycle.fy == fy, of_strategy)).first() is None:
        return  # nothing was done that year under this strategy
    publication, _ = results.publish(t.conn, strategy_code=code, fy=fy, now=t.now.astimezone(t.calendar.zone),
                                     on_track_ratio=t.workflow.store.rules.on_track_ratio)  # type: ignore[attr-defined]
    t.report.transitions["publish"] += 1
    everyone = select(Person.id, Person.email).where(Person.active)
    t.to_people("publication_done", fy, day, f"v{publication['version']}", everyone, None)
