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
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, select

from engine import audit, outbox
from engine.clock import to_storage
from engine.outbox import OutboxMessage
from workflows.calendar import RULE_KEYS, Calendar, Milestone
from workflows.calendar_store import StoredYear, apply_years, read_years, store_year, stored_year
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


class CalendarProblem(Exception):
    """Bad input, by form field, as catalogue keys with their values: said in the
    person's language beside the field."""

    def __init__(self, problems: dict[str, tuple[str, dict[str, Any]]]) -> None:
        super().__init__("; ".join(f"{k}: {v[0]}" for k, v in problems.items()))
        self.problems = problems


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
