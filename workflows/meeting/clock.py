"""What the calendar makes happen to meetings, for each strategy on each tick:

  a council's meeting day   convene it (once a year per council), its agenda the packet
  a month after a meeting   remind the secretariat, weekly, of minutes not yet recorded

A council that meets is one whose meeting day is in the calendar; the days are the
calendar's, overrides and all.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.calendar import repeating_step
from engine.runtime import SYSTEM_ACTOR
from engine.spec import Label
from workflows.calendar import KINDS as MILESTONES
from workflows.meeting.spec import SECRETARIAT
from workflows.meeting.store import MeetingStore, meeting_table
from workflows.registry import MessageKind
from workflows.tick import TickContext

KINDS = (
    MessageKind("minutes_to_approve", "notice", label=Label("議事録の承認のお願い", "Minutes to approve")),
    MessageKind("minutes_returned", "notice", label=Label("議事録が差し戻されました", "Minutes returned")),
    MessageKind("minutes_overdue", "notice", True, Label("議事録の作成期限を過ぎています", "Minutes overdue")),
)


def clock(t: TickContext) -> None:
    store: MeetingStore = t.entry.store  # type: ignore[assignment]
    _convene(t, store)
    _remind(t, store)


def _convene(t: TickContext, store: MeetingStore) -> None:
    """The calendar is asked first (no query on the days no meeting is due); then the
    meetings already convened."""
    today, cal = t.today, t.tenant.calendar
    years = [fy for fy in (today.year - 2, today.year - 1) if t.tenant.first_fy <= fy <= t.tenant.target_fy]
    due = [(body, fy, cal.due(fy, store.milestone(body))) for fy in years for body in store.councils()
           if store.milestone(body) in MILESTONES]
    due = [(body, fy, day) for body, fy, day in due if day <= today <= cal.due(fy, "publication")]
    if not due:
        return
    m = meeting_table.c
    held = set(t.conn.execute(select(m.body, m.fy).where(
        m.tenant_id == t.tenant.id, m.regular.is_(True), m.fy.in_(years))).all())
    for body, fy, day in due:
        if (body, fy) not in held:
            t.entry.workflow.open(t.conn, "convene", SYSTEM_ACTOR,
                                  {"body": body, "fy": str(fy), "held_on": day.isoformat()},
                                  now=t.now, tenant=t.tenant.id)
            t.report.transitions["convene"] += 1


def _remind(t: TickContext, store: MeetingStore) -> None:
    m = meeting_table.c
    every = t.tenant.calendar.settings.repeat_days
    for meeting_id, held_on in t.conn.execute(select(m.id, m.held_on).where(
            m.tenant_id == t.tenant.id, m.state == store.spec.initial)).all():
        step = repeating_step(t.today, store.minutes_due({"held_on": held_on}), every)
        if step:
            instance = store.load(t.conn, meeting_id)
            if instance is not None:
                t.report.messages["minutes_overdue"] += store.notify(
                    t.conn, instance, "minutes_overdue", [SECRETARIAT], t.now, step=f"overdue{step}")
