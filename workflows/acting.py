"""What the simulated people of every workflow share (`pdca simulate --actors auto`, the
living sample): a step they take is counted in the month's report by the triggers it
fired (with any automatic follow-ups), and a step the workflow refuses is counted as
refused, never raised: a simulated person, like a real one, is sometimes told no.

A simulation killed mid-day is resumed by replaying that day: what a simulated person does
on a given day (not in answer to a waiting instance) asks `done_on` first, so it is done
once whatever the number of replays."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from engine.audit import AuditEvent
from engine.clock import to_storage
from engine.errors import Refused


def done_on(conn: Connection, *, workflow: str, trigger: str, actor: str, now: datetime) -> bool:
    """Whether `actor` already took `trigger` of `workflow` at `now` (a replayed day)."""
    return conn.execute(select(AuditEvent.id).where(
        AuditEvent.workflow == workflow, AuditEvent.trigger == trigger, AuditEvent.actor == actor,
        AuditEvent.at == to_storage(now)).limit(1)).first() is not None


def take_step(month: Any, step: Callable[[], Sequence[Any]]) -> None:
    """Run `step` (an `open` or `fire_in`, returning its events) and count what it did."""
    try:
        events = step()
    except Refused:
        month.refused += 1
        return
    for event in events:
        month.transitions[event.trigger] += 1
