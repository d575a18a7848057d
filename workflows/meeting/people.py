"""The secretariat and the chairs as they treat meetings in `pdca simulate --actors auto` and
the living sample: a week after each meeting the secretariat records who came (every member
but the last seated, who sent apologies) and the minutes, and the council's chair approves
them three days later. Through the same `fire` as people on the web.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from engine import db
from engine.clock import from_storage
from engine.runtime import Workflow
from workflows import bodies, service
from workflows.acting import take_step
from workflows.fiscal import wareki
from workflows.meeting.store import MeetingStore, meeting_table
from workflows.tenants import Tenant

ACTING_HOUR = time(15, 0)
RECORD_AFTER = timedelta(days=7)
APPROVE_AFTER = timedelta(days=3)
MINUTES = ("{fy}の取組{n}件の実施状況と点検結果について事務局から説明があり、審議した。\n"
           "委員からは、指標の進み具合が遅れている取組について、来年度の進め方を具体的に示すよう意見があった。\n"
           "各取組の扱いは、決定事項のとおり。")


class Actors:
    def __init__(self, engine: Engine, workflow: Workflow, conn: Connection, tenant: Tenant, started: date, *,
                 laggards: Mapping[str, str] | None = None, end: date | None = None) -> None:
        self.engine = engine
        self.workflow = workflow
        self.tenant = tenant
        secretariat = bodies.members(tenant.id, bodies.SECRETARIAT).subquery()
        self.secretary = conn.execute(select(secretariat.c.email).order_by(secretariat.c.email)).scalars().first()

    def act(self, day: date, month: Any) -> None:
        if self.secretary is None:
            return
        now = datetime.combine(day, ACTING_HOUR, self.tenant.calendar.zone)
        store: MeetingStore = self.workflow.store  # type: ignore[assignment]
        m = meeting_table.c
        zone = self.tenant.calendar.zone
        waiting = select(m.id, m.state, m.held_on, m.updated_at, m.fy, m.agenda).where(
            m.tenant_id == self.tenant.id, m.state.in_(["convened", "minutes_review"]))
        with db.reading(self.engine) as conn:  # most days no meeting waits: nothing to write
            if conn.execute(waiting.limit(1)).first() is None:
                return
        with db.writing(self.engine) as conn:
            for row in conn.execute(waiting).all():
                if row.state == "convened" and day >= row.held_on + RECORD_AFTER:
                    instance = store.load(conn, row.id)
                    members = list(store.choices(conn, instance, "members")) if instance else []
                    fields = {"present": members[:-1] if len(members) > 1 else members,
                              "minutes": MINUTES.format(fy=wareki(row.fy), n=len(row.agenda))}
                    self._fire(conn, row.id, "record_minutes", self.secretary, fields, now, month)
                elif row.state == "minutes_review" and \
                        day >= from_storage(row.updated_at).astimezone(zone).date() + APPROVE_AFTER:
                    instance = store.load(conn, row.id)
                    chair = next(iter(store.holders(conn, instance, ["chair"])), None) if instance else None
                    if chair:
                        self._fire(conn, row.id, "approve_minutes", chair, {}, now, month)

    def _fire(self, conn: Connection, meeting: int, trigger: str, email: str, fields: dict[str, Any],
              now: datetime, month: Any) -> None:
        take_step(month, lambda: self.workflow.fire_in(conn, meeting, trigger, service.actor_for(conn, email), fields,
                                                      now=now))
