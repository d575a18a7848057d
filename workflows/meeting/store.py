"""Where meetings live and who holds which role for one: the strategy's secretariat convenes
an extra meeting, records attendance and minutes, and may record a cancellation; the chair
of the meeting's own council approves or returns the minutes (so the internal council's
chair has no say over the promotion council's minutes).

Which councils meet, and what waits for each at its meeting, are asked of the parent spec
(the yearly cycle): a council is a body whose chair holds a role there, its agenda the
states whose deadline is its meeting and that wait for that role, its decisions the steps
taken from the states that wait for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, select

from engine.audit import audit_table
from engine.clock import from_storage, to_storage
from engine.runtime import Actor, Instance
from engine.spec import SYSTEM, Label, WorkflowSpec
from workflows import bodies
from workflows.basic import BasicStore
from workflows.fiscal import fy_label
from workflows.meeting.public import SEATS, record_rows
from workflows.meeting.spec import CHAIR, MEETING, SECRETARIAT
from workflows.models import Action, Council, Cycle, Meeting, Membership, Person
from workflows.tenants import Tenants

meeting_table = Meeting.__table__  # type: ignore[attr-defined]
MINUTES_WITHIN = timedelta(days=30)
"""Minutes are due a month after the meeting (as councils commonly publish theirs); the
secretariat is reminded after that."""


class MeetingStore(BasicStore):
    def __init__(self, tenants: Tenants, *, parent: WorkflowSpec) -> None:
        super().__init__(meeting_table, MEETING, tenants, members={SECRETARIAT: bodies.SECRETARIAT})
        self.parent = parent
        self._chair_roles = parent.body_roles()
        """council -> the parent's role its chair holds"""

    # -- what the parent spec says about each council ------------------------------------------

    def councils(self) -> tuple[str, ...]:
        return tuple(self._chair_roles)

    @staticmethod
    def milestone(body: str) -> str:
        """The calendar's meeting day of a council."""
        return f"{body}_council_meeting"

    def agenda_states(self, body: str) -> tuple[str, ...]:
        role = self._chair_roles[body]
        due = tuple(s.name for s in self.parent.states
                    if s.deadline == self.milestone(body) and role in self.parent.waits_on(s.name))
        return due or self.parent.waiting_for(role)

    def agenda(self, conn: Connection, tenant: int | None, body: str, fy: int) -> list[int]:
        return list(conn.execute(
            select(Cycle.id).join(Action, Action.id == Cycle.action_id)
            .where(Action.strategy_id == tenant, Cycle.fy == fy,
                   Cycle.state.in_(self.agenda_states(body)))  # type: ignore[attr-defined]
            .order_by(Action.code)).scalars())

    def title(self, conn: Connection, tenant: int | None, body: str, fy: int, held_on: date) -> str:
        name = bodies.body_names(conn, strategy=tenant).get(body, (body, body))[0] if tenant else body
        return f"{name} {held_on.isoformat()}（{fy_label(fy)}）"

    def today(self, conn: Connection, instance: Instance, now: datetime) -> date:
        return self.tenants.calendar(conn, instance.tenant).today(now) if instance.tenant else now.date()

    def attendance(self, conn: Connection, instance: Instance, present: Sequence[str]) -> list[dict[str, Any]]:
        """Every member seated now, chair first, and whether they were there."""
        order = {"chair": 0, "vice_chair": 1, "member": 2}
        rows = sorted(self._seated(conn, instance), key=lambda r: (order.get(r.role, 3), r.email))
        return [{"email": r.email, "name": r.name, "name_en": r.name_en, "seat": r.role,
                 "present": r.email in present} for r in rows]

    def _seated(self, conn: Connection, instance: Instance) -> list[Any]:
        return list(conn.execute(
            select(Person.email, Person.name, Person.name_en, Membership.role)
            .join(Membership, Membership.person_id == Person.id).join(Council, Council.id == Membership.council_id)
            .where(Council.strategy_id == instance.tenant, Council.key == instance.data["body"], Person.active)))

    def decisions(self, conn: Connection, instance: Instance, now: datetime) -> list[dict[str, Any]]:
        """The council's steps on the agenda's items from the meeting day to now, from the audit."""
        d = instance.data
        agenda = list(d.get("agenda") or [])
        if not agenda:
            return []
        zone = self.tenants.calendar(conn, instance.tenant).zone
        since = to_storage(datetime.combine(d["held_on"], time(0), zone))
        a = audit_table.c
        rows = conn.execute(
            select(a.instance_id, a.trigger, a.from_state, a.to_state, a.actor, a.at, a.comment, Action.code, Cycle.fy)
            .join(Cycle, Cycle.id == a.instance_id).join(Action, Action.id == Cycle.action_id)
            .where(a.workflow == self.parent.name, a.instance_id.in_(agenda), a.actor != SYSTEM,
                   a.from_state.in_(self.parent.waiting_for(self._chair_roles[d["body"]])),
                   a.at >= since, a.at <= to_storage(now))
            .order_by(Action.code, a.at, a.id))
        return [{"cycle_id": r.instance_id, "code": r.code, "fy": r.fy, "trigger": r.trigger,
                 "from_state": r.from_state, "to_state": r.to_state, "by": r.actor,
                 "at": from_storage(r.at).isoformat(), "comment": r.comment} for r in rows]

    def minutes_due(self, instance_data: Mapping[str, Any]) -> date:
        return instance_data["held_on"] + MINUTES_WITHIN

    # -- roles: the chair of the meeting's own council ----------------------------------------

    def roles_of(self, conn: Connection, instance: Instance, actor: Actor) -> set[str]:
        roles = super().roles_of(conn, instance, actor)
        if actor.person_id is not None and instance.tenant is not None and instance.data.get("body") in \
                bodies.chairing(conn, strategy=instance.tenant, person_id=actor.person_id):
            roles.add(CHAIR)
        return roles

    def holders(self, conn: Connection, instance: Instance, roles: Sequence[str]) -> list[str]:
        emails = super().holders(conn, instance, [r for r in roles if r != CHAIR])
        if CHAIR in roles and instance.data.get("body") and instance.tenant is not None:
            chairs = bodies.chairs(instance.tenant, instance.data["body"]).subquery()
            emails += [e for e in conn.execute(select(chairs.c.email).order_by(chairs.c.email)).scalars()
                       if e not in emails]
        return emails

    def held_by(self, conn: Connection, *, tenant: int, person_id: int, role: str) -> Any:
        if role == CHAIR:
            chaired = bodies.chairing(conn, strategy=tenant, person_id=person_id)
            return meeting_table.c.body.in_(sorted(chaired)) if chaired else None
        return super().held_by(conn, tenant=tenant, person_id=person_id, role=role)

    # -- the lists its fields choose from ------------------------------------------------------

    def choices(self, conn: Connection, instance: Instance, source: str) -> Sequence[str]:
        if source == "councils":
            return self.councils()
        if source == "members":
            return [m["email"] for m in self.attendance(conn, instance, ())] if instance.data.get("body") else []
        raise KeyError(source)

    def choice_labels(self, conn: Connection, instance: Instance, source: str) -> Mapping[str, Label]:
        if source == "councils" and instance.tenant is not None:
            names = bodies.body_names(conn, strategy=instance.tenant)
            return {b: Label(*names.get(b, (b, b))) for b in self.councils()}
        if source == "members" and instance.data.get("body"):
            return {m["email"]: Label(f"{m['name']}（{SEATS[m['seat']].ja}）",
                                      f"{m['name_en'] or m['name']} ({SEATS[m['seat']].en})")
                    for m in self.attendance(conn, instance, ())}
        return {}

    # -- what pages, the CLI, the API and mail ask of a workflow ---------------------------------

    def _row(self, r: Mapping[str, Any], language: str) -> dict[str, Any]:
        row = super()._row(r, language)
        if r["state"] == MEETING.initial:
            row["due"] = self.minutes_due(r).isoformat()
        return row

    def details(self, conn: Connection, instance: Instance, *, today: date | None) -> dict[str, Any]:
        out = super().details(conn, instance, today=today)
        out["record_rows"] = record_rows(conn, self, instance.data, instance.tenant)
        if instance.state == MEETING.initial:
            due = self.minutes_due(instance.data)
            out["deadline"] = {"name": "minutes_due", "date": due.isoformat(),
                               **({"days_left": (due - today).days} if today else {})}
        return out
