"""An admin sets one fiscal year's calendar on the web: a milestone's date, or a closed
date added or removed, with why. First a preview (nothing saved): every milestone's
resulting date, and which queued reminders would be cancelled and which the tick would
queue; then the save, which stores the year, records who, why and the old and new dates,
and re-plans the reminders.

Re-planning is deliberately simple: a queued message of the action cycle whose due date is
no longer its milestone's date is cancelled (status `cancelled`, its reason kept), and the
next daily tick queues the right ones from the stored calendar, with its usual dedupe keys.
A cancelled message frees its dedupe key, so moving a date back queues it again.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from pydantic import ValidationError
from sqlalchemy import Connection, select

from engine import audit, outbox
from engine.clock import from_storage, to_storage
from engine.outbox import OutboxMessage
from workflows.calendar import RULE_KEYS, Calendar, CalendarIn, Milestone
from workflows.calendar_store import StoredYear, apply_years, read_years, store_reminders, store_year, stored_year
from workflows.problems import FieldProblems
from workflows.tenants import Tenant

WORKFLOW = "calendar"
TRIGGER = "set_calendar"
CANCELLED = outbox.CANCELLED
REASON_PREFIX = "calendar|"
"""`last_error` of a cancelled message: calendar|milestone|old|new, said in words on the page."""

MESSAGES_OF = {
    "plan_due": ("plan_requested", "plan_reminder", "plan_overdue"),
    "report_due": ("report_requested", "report_reminder", "report_overdue", "report_escalation"),
    "internal_council_meeting": ("internal_packet",),
    "promotion_council_meeting": ("promotion_packet",),
    "decisions_due": ("decision_reminder", "decision_overdue"),
}
"""The action cycle's messages due on a milestone's date."""
REMINDED = ("plan_due", "report_due", "decisions_due")


class CalendarProblem(FieldProblems):
    """Bad input to the calendar's forms, by field."""


@dataclass(frozen=True)
class Change:
    fy: int
    why: str
    milestone: str | None = None
    day: date | None = None
    closed_add: date | None = None
    closed_remove: date | None = None


@dataclass
class Plan:
    """What a change would do: the year before and after, and the reminders affected."""

    change: Change
    before: list[Milestone]
    after: list[Milestone]
    year: StoredYear
    cancelled: list[dict[str, Any]] = field(default_factory=list)
    queued: list[tuple[str, date]] = field(default_factory=list)

    @property
    def moved(self) -> list[tuple[Milestone, Milestone]]:
        return [(a, b) for a, b in zip(self.before, self.after, strict=True) if a.day != b.day]


def changed_year(current: StoredYear, change: Change) -> StoredYear:
    """The stored year with the change applied."""
    overrides = dict(current.overrides)
    if change.milestone and change.day:
        overrides[change.milestone] = change.day
    closed = set(current.closed_dates)
    if change.closed_add:
        closed.add(change.closed_add)
    if change.closed_remove:
        closed.discard(change.closed_remove)
    return StoredYear(current.fy, overrides, tuple(sorted(closed)))


def check_change(change: Change, current: StoredYear) -> None:
    """Refuse what no calendar could hold, before computing one: an empty why, an unknown
    milestone, a date outside the year FY N's milestones fall in (N+1)."""
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    if not change.why.strip():
        problems["why"] = ("calendar.why_missing", {})
    if change.milestone is not None and change.milestone not in RULE_KEYS:
        problems["day"] = ("calendar.no_milestone", {})
    if change.milestone is None and not (change.closed_add or change.closed_remove):
        problems["day"] = ("calendar.nothing", {})
    for key, day in (("day", change.day), ("closed_add", change.closed_add)):
        if day is not None and day.year != change.fy + 1:
            problems[key] = ("calendar.outside_year", {"year": change.fy + 1})
    if change.closed_remove and change.closed_remove not in current.closed_dates:
        problems["closed_remove"] = ("calendar.not_closed", {})
    if problems:
        raise CalendarProblem(problems)


def _out_of_order(after: list[Milestone]) -> tuple[str, dict[str, Any]] | None:
    for a, b in itertools.pairwise(after):
        if not a.day < b.day:
            return "calendar.out_of_order", {"first": a.name, "second": b.name}
    return None


def plan_change(conn: Connection, tenant: Tenant, change: Change, today: date) -> Plan:
    """The preview: nothing is written."""
    current = stored_year(conn, tenant.id, change.fy)
    check_change(change, current)
    year = changed_year(current, change)
    others = [y for y in read_years(conn).get(tenant.id, []) if y.fy != change.fy]
    before = tenant.calendar.year(change.fy)
    years = [*others, year]
    order = _out_of_order(_unchecked(tenant, years).year(change.fy))
    if order:
        raise CalendarProblem({"day" if change.milestone else "closed_add": order})
    new_calendar = _calendar_with(tenant, years)
    after = new_calendar.year(change.fy)
    plan = Plan(change, before, after, year)
    plan.cancelled = _no_longer_due(conn, tenant, plan)
    plan.queued = _to_be_queued(plan, new_calendar, today)
    return plan


def _unchecked(tenant: Tenant, years: list[StoredYear]) -> Calendar:
    """The calendar these years would make, before validation: to say which milestone is
    out of order in the person's words rather than the configuration's."""
    return Calendar(tenant.calendar.settings.model_copy(update={
        "overrides": {y.fy: dict(y.overrides) for y in years if y.overrides},
        "closed_dates": sorted(d for y in years for d in y.closed_dates)}))


def _calendar_with(tenant: Tenant, years: list[StoredYear]) -> Calendar:
    """The tenant's calendar with these stored years; the configuration's validation
    refuses what it would refuse in config.toml."""
    try:
        return Calendar(apply_years(tenant.calendar.settings, years))
    except ValidationError as error:
        detail = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        raise CalendarProblem({"day": ("calendar.refused", {"detail": detail})}) from None


def _no_longer_due(conn: Connection, tenant: Tenant, plan: Plan) -> list[dict[str, Any]]:
    """Queued messages of a moved milestone whose due date is not its new date."""
    found = []
    for old, new in plan.moved:
        kinds = MESSAGES_OF.get(old.name)
        if not kinds:
            continue
        fy = plan.change.fy + 1 if old.kind.about_next_year else plan.change.fy
        rows = conn.execute(select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.recipient,
                                   OutboxMessage.due, OutboxMessage.payload).where(
            OutboxMessage.status == "queued", OutboxMessage.tenant_id == tenant.id,
            OutboxMessage.kind.in_(kinds), OutboxMessage.due != new.day))  # type: ignore[attr-defined]
        found += [{"id": r.id, "kind": r.kind, "recipient": r.recipient, "due": r.due, "milestone": old.name,
                   "old": old.day, "new": new.day} for r in rows if (r.payload or {}).get("fy") == fy]
    return found


def _to_be_queued(plan: Plan, calendar: Calendar, today: date) -> list[tuple[str, date]]:
    """The reminders and packets the tick will queue for the moved milestones, from today on."""
    days = calendar.settings.reminder_days
    found = []
    for _, new in plan.moved:
        if new.name in REMINDED:
            found += [(new.name, new.day - timedelta(days=d)) for d in days if new.day - timedelta(days=d) >= today]
        elif new.name in MESSAGES_OF and new.day >= today:
            found.append((new.name, new.day))
    return found


def save_change(conn: Connection, tenant: Tenant, change: Change, *, actor: str, now: datetime,
                today: date) -> Plan:
    """Store the year, record who and why with the old and new dates, cancel the queued
    messages no longer due; in the caller's transaction."""
    plan = plan_change(conn, tenant, change, today)
    store_year(conn, tenant.id, plan.year)
    fields: dict[str, Any] = {"fy": change.fy, "moved": {a.name: [a.day.isoformat(), b.day.isoformat()]
                                                         for a, b in plan.moved}}
    if change.milestone:
        old, new = (next(m.day.isoformat() for m in ms if m.name == change.milestone)
                    for ms in (plan.before, plan.after))
        fields |= {"milestone": change.milestone, "old": old, "new": new}
    for key in ("closed_add", "closed_remove"):
        if getattr(change, key):
            fields[key] = getattr(change, key).isoformat()
    audit.record(conn, workflow=WORKFLOW, instance_id=change.fy, tenant_id=tenant.id, at=to_storage(now),
                 actor=actor, trigger=TRIGGER, from_state="", to_state="", version=0, comment=change.why.strip(),
                 fields=fields)
    by_reason: dict[str, list[int]] = {}
    for m in plan.cancelled:  # one reason per moved milestone: one statement each
        reason = f"{REASON_PREFIX}{m['milestone']}|{m['old'].isoformat()}|{m['new'].isoformat()}"
        by_reason.setdefault(reason, []).append(m["id"])
    for reason, ids in by_reason.items():
        outbox.cancel(conn, ids, reason)
    return plan


REMINDERS_TRIGGER = "set_reminders"
REMINDERS_REASON = "reminders|"
"""`last_error` of a message cancelled by a new reminder series: reminders|old|new."""
SERIES_OF = ("plan_due", "report_due", "decisions_due")
"""The milestones whose reminders the preview lists."""


@dataclass(frozen=True)
class ReminderChange:
    FIELDS: ClassVar[tuple[str, ...]] = ("reminder_days", "repeat_days", "escalate_after_days")
    reminder_days: tuple[int, ...]
    repeat_days: int
    escalate_after_days: int
    why: str

    def values(self) -> dict[str, Any]:
        return {"reminder_days": sorted(self.reminder_days, reverse=True), "repeat_days": self.repeat_days,
                "escalate_after_days": self.escalate_after_days}


@dataclass
class ReminderPlan:
    """What a new reminder series would do: the series before and after, the dates it
    gives this fiscal year's due dates, and the queued messages no longer due."""

    change: ReminderChange
    before: dict[str, Any]
    after: dict[str, Any]
    dates: list[tuple[Milestone, list[date], list[date]]]
    """(due milestone, reminder dates before, after) for the live year"""
    cancelled: list[dict[str, Any]] = field(default_factory=list)


def _series_problems(tenant: Tenant, change: ReminderChange) -> tuple[Calendar | None, dict[str, Any]]:
    """The calendar with the new series, validated as config.toml's `[calendar]` is."""
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    if not change.why.strip():
        problems["why"] = ("calendar.why_missing", {})
    try:
        settings = CalendarIn.model_validate(tenant.calendar.settings.model_dump() | change.values())
    except ValidationError as error:
        for e in error.errors():
            where = str(e["loc"][0]) if e["loc"] and e["loc"][0] in ReminderChange.FIELDS else "reminder_days"
            problems.setdefault(where, (f"calendar.bad_{where}", {}))
        return None, problems
    return Calendar(settings), problems


def _reminder_dates(day: date, days: list[int], today: date) -> list[date]:
    return [day - timedelta(days=d) for d in days if day - timedelta(days=d) >= today]


def plan_reminders(conn: Connection, tenant: Tenant, change: ReminderChange, today: date) -> ReminderPlan:
    """The preview: nothing is written."""
    calendar, problems = _series_problems(tenant, change)
    if problems or calendar is None:
        raise CalendarProblem(problems)
    before = {k: getattr(tenant.calendar.settings, k) for k in change.values()}
    after = change.values()
    fy = tenant.calendar.fiscal_year(datetime.combine(today, datetime.min.time(), tenant.calendar.zone))
    dates = []
    for year in (fy - 1, fy):
        for m in calendar.year(year):
            if m.name in SERIES_OF and m.day >= today:
                dates.append((m, _reminder_dates(m.day, before["reminder_days"], today),
                              _reminder_dates(m.day, after["reminder_days"], today)))
    plan = ReminderPlan(change, before, after, dates)
    plan.cancelled = _not_in_series(conn, tenant, plan)
    return plan


def _step_fits(kind: str, step: str, age: int | None, after: dict[str, Any]) -> bool:
    """Whether a queued message's step is one the new series would still send: a reminder
    N days before is if N is among the days; a repeat after the due date is if N is a
    multiple of the repeat; an escalation of late reports is if it is late enough."""
    if not step or step[0] not in "+-" or not step[1:].isdigit():
        return True
    n = int(step[1:])
    if step[0] == "-":
        return n in after["reminder_days"]
    if kind == "report_escalation" and age is not None and age < after["escalate_after_days"]:
        return False
    return n % after["repeat_days"] == 0


def _not_in_series(conn: Connection, tenant: Tenant, plan: ReminderPlan) -> list[dict[str, Any]]:
    if plan.before == plan.after:
        return []
    rows = conn.execute(select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.due,
                               OutboxMessage.step, OutboxMessage.created_at).where(
        OutboxMessage.status == "queued", OutboxMessage.tenant_id == tenant.id, OutboxMessage.step != ""))
    found = []
    for r in rows:
        if not r.kind.endswith(("_reminder", "_overdue", "_escalation")):
            continue
        queued_on = tenant.calendar.today(from_storage(r.created_at)) if r.created_at else None
        age = (queued_on - r.due).days if queued_on and r.due else None
        if not _step_fits(r.kind, r.step, age, plan.after):
            found.append({"id": r.id, "kind": r.kind, "recipient": r.recipient, "due": r.due, "step": r.step})
    return found


def _series_words(values: dict[str, Any]) -> str:
    return f"{','.join(map(str, values['reminder_days']))}/{values['repeat_days']}/{values['escalate_after_days']}"


def save_reminders(conn: Connection, tenant: Tenant, change: ReminderChange, *, actor: str, now: datetime,
                   today: date) -> ReminderPlan:
    """Store the series, record who and why with before and after, cancel the queued
    messages the new series would not send; in the caller's transaction."""
    plan = plan_reminders(conn, tenant, change, today)
    store_reminders(conn, tenant.id, plan.after)
    audit.record(conn, workflow=WORKFLOW, instance_id=0, tenant_id=tenant.id, at=to_storage(now), actor=actor,
                 trigger=REMINDERS_TRIGGER, from_state="", to_state="", version=0, comment=change.why.strip(),
                 fields={"before": plan.before, "after": plan.after})
    if plan.cancelled:
        reason = f"{REMINDERS_REASON}{_series_words(plan.before)}|{_series_words(plan.after)}"
        outbox.cancel(conn, [m["id"] for m in plan.cancelled], reason)
    return plan
