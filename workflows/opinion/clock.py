"""What the calendar makes happen to opinion requests: the advisor is reminded before the
date and after it, a handful of requests at a time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.calendar import reminder_step
from engine.spec import Label
from workflows.models import OpinionRequest
from workflows.opinion.spec import OPINION
from workflows.opinion.store import notify
from workflows.registry import MessageKind
from workflows.tick import TickContext

KINDS = (
    MessageKind("opinion_requested", "opinion", False, Label("意見照会", "Opinion asked for")),
    MessageKind("opinion_reminder", "opinion", True, Label("意見照会の期限のお知らせ", "Opinion reminder")),
    MessageKind("opinion_overdue", "opinion", True, Label("意見照会の期限超過", "Opinion overdue")),
)


def clock(t: TickContext) -> None:
    settings = t.tenant.calendar.settings
    today = t.today
    waiting = t.conn.execute(
        select(OpinionRequest.id, OpinionRequest.due)
        .where(OpinionRequest.state == OPINION.initial, t.entry.store.tenant_condition(t.tenant.id))
    ).all()
    for request_id, due in waiting:
        step = reminder_step(today, due, before=settings.reminder_days, every=settings.repeat_days,
                             until=due + timedelta(days=4 * settings.repeat_days))
        if step:
            kind = "opinion_reminder" if step.startswith("-") else "opinion_overdue"
            t.report.messages[kind] += notify(t.conn, request_id=request_id, kind=kind, stage=step, now=t.now, due=due)
