"""What the calendar makes happen to a strategy's cycles, for the calendar of fiscal year N
(dates in calendar year N+1):

  plan window opens   open FY N+1 cycles in plan.drafting; ask their owners for plans
  before plan due     remind owners of plans still in drafting; after it, repeat
  year start          start FY N+1's approved plans; escalate those not approved
  check opens         open FY N's checks; ask owners for their reports
  around report due   remind owners before and after; escalate late ones
  council meetings    send each member the packet of items waiting for that council
  before decisions    remind the internal chair of items waiting for a decision
  publication         freeze the year's results and tell everyone

The states each message is about are asked of the spec (who waits where), not listed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Integer, literal, select, union

from engine.audit import AuditEvent
from engine.calendar import reminder_step, repeating_step
from engine.runtime import SYSTEM_ACTOR
from workflows import bodies
from workflows.action_cycle import results
from workflows.action_cycle.mail import to_owners
from workflows.action_cycle.spec import ACTION_CYCLE, INTERNAL_CHAIR, OWNER
from workflows.models import Action, Cycle, Person
from workflows.tick import TickContext

SPEC = ACTION_CYCLE
OPENING_TRIGGER = SPEC.openings[0].name
LATE_TRIGGER = "flag_late"


def _due_at(milestone: str, role: str | None = None) -> tuple[str, ...]:
    """The states whose deadline is this milestone (and that wait for `role`, if given)."""
    return tuple(s.name for s in SPEC.states
                 if s.deadline == milestone and (role is None or role in SPEC.waits_on(s.name)))


PLANNING = _due_at("plan_due", OWNER)
"""Where the owner's plan is awaited (plan.drafting)."""
UNAPPROVED = _due_at("plan_due")
"""Plans not approved yet: being written or under review."""
REPORTING = _due_at("report_due", OWNER)
"""Where the owner's report is awaited."""
WAITING_FOR_DECISION = _due_at("decisions_due", INTERNAL_CHAIR)
"""Where the internal chair's decision is awaited."""


def _reminder_kind(base: str, step: str) -> str:
    return f"{base}_reminder" if step.startswith("-") else f"{base}_overdue"


def clock(t: TickContext) -> None:
    """The action cycle's part of one tick, for one strategy."""
    today = t.today
    for fy in (today.year - 2, today.year - 1):
        _year(t, fy, today)


def _cycles(t: TickContext, fy: int, states: tuple[str, ...]) -> Any:
    return select(Cycle.id).where(Cycle.fy == fy, Cycle.state.in_(states), _active(t))  # type: ignore[attr-defined]


def _active(t: TickContext) -> Any:
    """Cycles of this strategy's actions that have not ended."""
    return Cycle.action_id.in_(  # type: ignore[attr-defined]
        select(Action.id).where(Action.strategy_id == t.tenant.id, Action.status == "active"))


def _to_owners(t: TickContext, kind: str, fy: int, states: tuple[str, ...], due: date, step: str) -> None:
    """One message per cycle in `states` to each of its owners."""
    where = (Cycle.fy == fy) & Cycle.state.in_(states) & _active(t)  # type: ignore[attr-defined]
    t.queue(kind, to_owners(kind, tenant=t.tenant.id, fy=fy, due=due, step=step, at=t.at, where=where))


def open_cycles(t: TickContext, fy: int, codes: list[str] | None = None) -> int:
    """Open the year's cycle in plan.drafting for every active action of the strategy that
    has none yet, starting from the action's current plan: one statement for the cycles and
    one for their audit rows, whatever the number of actions."""
    has_cycle = select(Cycle.id).where(Cycle.action_id == Action.id, Cycle.fy == fy).exists()
    rows = select(Action.id, literal(fy, Integer), Action.plan).where(
        Action.strategy_id == t.tenant.id, Action.status == "active", ~has_cycle)
    if codes is not None:
        rows = rows.where(Action.code.in_(codes))  # type: ignore[attr-defined]
    return t.open(OPENING_TRIGGER, rows, ["action_id", "fy", "plan"])


def _year(t: TickContext, fy: int, today: date) -> None:
    cal, settings = t.tenant.calendar, t.tenant.calendar.settings
    d = {m.name: m.day for m in cal.year(fy)}
    if today < d["plan_window_opens"] or today > d["publication"] + timedelta(days=settings.repeat_days):
        return
    following = fy + 1
    strategy = t.tenant.id
    chairs_and_secretariat = union(bodies.chairs(strategy, "internal"), bodies.members(strategy, bodies.SECRETARIAT))
    remind = {"before": settings.reminder_days, "every": settings.repeat_days}

    # Plans for the following year, within the strategy's period: past its target year the
    # next strategy's own cycles take over (and an extension moves the target year on); a
    # next strategy adopted during its predecessor's target year opens nothing before its
    # first year.
    if t.tenant.first_fy <= following <= t.tenant.target_fy:
        open_cycles(t, following)
    if today <= d["plan_due"]:
        _to_owners(t, "plan_requested", following, PLANNING, d["plan_due"], "open")
    step = reminder_step(today, d["plan_due"], **remind, until=d["year_start"] - timedelta(days=1))
    if step:
        _to_owners(t, _reminder_kind("plan", step), following, PLANNING, d["plan_due"], step)
    if today >= d["year_start"]:
        t.fire("start", Cycle.fy == following)
        step = repeating_step(today, d["year_start"], settings.repeat_days, until=d["publication"])
        if step:
            t.to_people("plan_escalation", {"fy": following}, d["year_start"], step, chairs_and_secretariat,
                        _cycles(t, following, UNAPPROVED))

    # The check of this year.
    if today >= d["check_opens"]:
        t.fire("open_check", Cycle.fy == fy)
        if today <= d["report_due"]:
            _to_owners(t, "report_requested", fy, REPORTING, d["report_due"], "open")
    step = reminder_step(today, d["report_due"], **remind, until=d["decisions_due"])
    if step:
        _to_owners(t, _reminder_kind("report", step), fy, REPORTING, d["report_due"], step)
    _flag_late_reports(t, fy, d["report_due"], today)
    late_from = d["report_due"] + timedelta(days=settings.escalate_after_days)
    step = repeating_step(today, late_from, settings.repeat_days, until=d["decisions_due"])
    if step:
        t.to_people("report_escalation", {"fy": fy}, d["report_due"], step, chairs_and_secretariat,
                    _cycles(t, fy, REPORTING))
    for body, role in SPEC.body_roles().items():
        meeting = f"{body}_council_meeting"
        if meeting in d and d[meeting] <= today <= d["decisions_due"]:
            waiting = _due_at(meeting, role)
            t.to_people(f"{body}_packet", {"fy": fy}, d[meeting], "", bodies.members(strategy, body),
                        _cycles(t, fy, waiting))
    step = reminder_step(today, d["decisions_due"], **remind, until=d["publication"])
    if step:
        t.to_people(_reminder_kind("decision", step), {"fy": fy}, d["decisions_due"], step,
                    bodies.chairs(strategy, "internal"), _cycles(t, fy, WAITING_FOR_DECISION))
    if today >= d["publication"]:
        _publish(t, fy, d["publication"])


def _flag_late_reports(t: TickContext, fy: int, due: date, today: date) -> None:
    """A report more than `late_days` days late flags its cycle (adaptive revision) while
    it is still missing; the loop runs over the late cycles only, never over all."""
    rules = t.tenant.rules
    late = (today - due).days
    if late <= rules.late_days:
        return
    submitted = select(AuditEvent.id).where(  # a report returned for changes is not a missing one
        AuditEvent.workflow == SPEC.name, AuditEvent.instance_id == Cycle.id,
        AuditEvent.trigger == "submit_report").exists()
    rows = t.conn.execute(select(Cycle.id, Cycle.flags).where(
        Cycle.fy == fy, Cycle.state.in_(REPORTING), _active(t), ~submitted)).all()  # type: ignore[attr-defined]
    for cycle_id, flags in rows:
        if any(f["rule"] == "late" for f in flags or []):
            continue
        t.entry.workflow.fire_in(t.conn, cycle_id, LATE_TRIGGER, SYSTEM_ACTOR, {}, now=t.now)
        t.report.transitions["flag"] += 1


def _publish(t: TickContext, fy: int, day: date) -> None:
    """On the publication date the year's results are frozen (once: a later correction is
    an admin's `pdca publish --note`) and everyone with a part in the strategy is told
    where to read them."""
    code = t.tenant.code
    if results.latest(t.conn, strategy_code=code, fy=fy) is not None:
        return
    of_strategy = Cycle.action_id.in_(select(Action.id).where(Action.strategy_id == t.tenant.id))  # type: ignore[attr-defined]
    if t.conn.execute(select(Cycle.id).where(Cycle.fy == fy, of_strategy)).first() is None:
        return  # nothing was done that year under this strategy
    hub_items, meetings = t.entry.options.get("hub_items"), t.entry.options.get("meetings")
    publication, _ = results.publish(t.conn, strategy_code=code, fy=fy, now=t.now.astimezone(t.tenant.calendar.zone),
                                     on_track_ratio=t.tenant.rules.on_track_ratio,
                                     hub=hub_items(t.conn, t.tenant, fy) if hub_items else {},
                                     meetings=meetings(t.conn, t.tenant, fy) if meetings else ())
    t.report.transitions["publish"] += 1
    t.to_people("publication_done", {"fy": fy}, day, f"v{publication['version']}", everyone(t.tenant.id), None)


def everyone(strategy: int) -> Any:
    """(id, email) of everyone with a part in a strategy: its bodies' members and its owners."""
    from workflows.models import ActionOwner, Council, Membership

    seated = select(Membership.person_id).join(Council, Council.id == Membership.council_id).where(
        Council.strategy_id == strategy)
    owning = select(ActionOwner.person_id).join(Action, Action.id == ActionOwner.action_id).where(
        Action.strategy_id == strategy)
    return select(Person.id, Person.email).where(
        Person.active, Person.id.in_(seated.union(owning)))  # type: ignore[union-attr]


__all__ = ["clock", "open_cycles"]
