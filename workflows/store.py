"""Where cycles live and who holds which role for one: the action cycle's `Store`.

Roles are resolved in one query: the owners of the cycle's action, and the chairs of the
two councils; a vice chair holds the chair's role while the chair is marked absent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from engine.audit import AuditEvent
from engine.clock import from_storage, to_storage
from engine.outbox import key_middle, queue_statement
from engine.runtime import Actor, Instance
from workflows import actions, revision
from workflows.action_cycle import INTERNAL_CHAIR, OWNER, PROMOTION_CHAIR, numbered_answers
from workflows.calendar import Calendar
from workflows.messages import notice_to_owners
from workflows.models import (
    Action,
    ActionOwner,
    Council,
    Cycle,
    Indicator,
    Measurement,
    Membership,
    Person,
    Proposal,
    Strategy,
)

if TYPE_CHECKING:
    from engine.runtime import FireContext

cycle_table = Cycle.__table__  # type: ignore[attr-defined]
COUNCIL_ROLES = {"internal": INTERNAL_CHAIR, "promotion": PROMOTION_CHAIR}


@cache
def chair_seats() -> Any:
    """Membership rows that carry a council chair's role right now."""
    chair = aliased(Membership)
    chair_person = aliased(Person)
    chair_absent = exists().where(
        chair.council_id == Membership.council_id,
        chair.role == "chair",
        chair.person_id == chair_person.id,
        chair_person.absent.is_(True),  # type: ignore[attr-defined]
    )
    return or_(Membership.role == "chair", and_(Membership.role == "vice_chair", chair_absent))


class CycleStore:
    table = cycle_table

    def __init__(self, calendar: Calendar | None = None, rules: revision.RevisionIn | None = None) -> None:
        self.calendar = calendar or Calendar()
        self.rules = rules or revision.RevisionIn()
        self._notices: dict[tuple[str, str], Any] = {}
        self._load = (
            select(
                Cycle.id, Cycle.state, Cycle.version, Cycle.action_id, Cycle.fy, Cycle.plan,
                Cycle.return_count, Cycle.revised_plan, Cycle.flags, Action.code, Action.strategy_id,
                Action.status.label("action_status"),  # type: ignore[attr-defined]
                Action.ended_fy, Action.plan.label("action_plan"),  # type: ignore[attr-defined]
            )
            .join(Action, Action.id == Cycle.action_id)
            .where(Cycle.id == bindparam("id"))
        )
        owner = select(literal(OWNER)).where(
            ActionOwner.action_id == bindparam("action_id"),
            ActionOwner.person_id == bindparam("person_id"),
        )
        chairs = (
            select(Council.key)
            .join(Membership, Membership.council_id == Council.id)
            .where(Membership.person_id == bindparam("person_id"), chair_seats())
        )
        self._roles = owner.union_all(chairs)
        self._indicators = (
            select(Indicator.code, Indicator.id).where(Indicator.action_id == bindparam("action"))
            .order_by(Indicator.code)
        )
        self._clear_measurements = delete(Measurement).where(
            Measurement.fy == bindparam("fy"),  # type: ignore[arg-type]
            Measurement.indicator_id.in_(  # type: ignore[attr-defined]
                select(Indicator.id).where(Indicator.action_id == bindparam("action"))),
        )
        # Prepared once: the adaptive-revision rules run inside transitions.
        self._grades = select(Strategy.grades).where(Strategy.id == bindparam("strategy"))
        self._submitted = select(func.max(AuditEvent.at)).where(
            AuditEvent.workflow == "action_cycle", AuditEvent.instance_id == bindparam("cycle"),
            AuditEvent.trigger == "submit_report")

    def flags_now(
        self, conn: Connection, cycle: Mapping[str, Any], *, grade: str | None = None
    ) -> list[dict[str, Any]]:
        """This cycle's flags with the rules evaluated now (earlier ones and their resolutions kept)."""
        grades = list(conn.execute(self._grades, {"strategy": cycle["strategy_id"]}).scalar_one())
        submitted = conn.execute(self._submitted, {"cycle": cycle["id"]}).scalar()
        found = revision.evaluate(
            conn, cycle=cycle, rules=self.rules, grades=grades, grade=grade,
            report_due=self.calendar.due(cycle["fy"], "report_due"),
            submitted=from_storage(submitted).astimezone(self.calendar.zone).date() if submitted else None,
        )
        return revision.merge(list(cycle["flags"] or []), found)

    def with_grade(self, conn: Connection, cycle: Mapping[str, Any], grade: str) -> list[dict[str, Any]]:
        """The flags once the promotion council has graded: the rest was evaluated at acceptance."""
        grades = list(conn.execute(self._grades, {"strategy": cycle["strategy_id"]}).scalar_one())
        return revision.merge(list(cycle["flags"] or []), revision.grade_flags(grade, self.rules, grades))

    def year_begins(self, fy: int) -> datetime:
        return self.calendar.year_begins(fy)

    # -- Store protocol ----------------------------------------------------------------

    def load(self, conn: Connection, instance_id: int) -> Instance | None:
        row = conn.execute(self._load, {"id": instance_id}).mappings().first()
        if row is None:
            return None
        return Instance(row["id"], row["state"], row["version"], row)

    def roles_of(self, conn: Connection, instance: Instance, actor: Actor) -> set[str]:
        if actor.person_id is None:
            return set()
        found = conn.execute(
            self._roles, {"action_id": instance.data["action_id"], "person_id": actor.person_id}
        ).scalars()
        return {COUNCIL_ROLES.get(r, r) for r in found}

    def holders(self, conn: Connection, instance: Instance, roles: Sequence[str]) -> list[str]:
        emails: list[str] = []
        if OWNER in roles:
            emails += conn.execute(
                select(Person.email)
                .join(ActionOwner, ActionOwner.person_id == Person.id)
                .where(ActionOwner.action_id == instance.data["action_id"], Person.active)
                .order_by(Person.email)
            ).scalars().all()
        keys = [k for k, role in COUNCIL_ROLES.items() if role in roles]
        if keys:
            emails += conn.execute(
                select(Person.email)
                .join(Membership, Membership.person_id == Person.id)
                .join(Council, Council.id == Membership.council_id)
                .where(Council.key.in_(keys), chair_seats(), Person.active)  # type: ignore[attr-defined]
                .order_by(Membership.role, Person.email)
            ).scalars().all()
        return emails

    def choices(self, conn: Connection, instance: Instance, source: str) -> Sequence[str]:
        if source == "grades":
            return tuple(conn.execute(self._grades, {"strategy": instance.data["strategy_id"]}).scalar_one())
        raise KeyError(source)

    def items(self, conn: Connection, instance: Instance, source: str) -> Sequence[str]:
        if source == "indicators":
            return tuple(code for code, _ in conn.execute(self._indicators, {"action": instance.data["action_id"]}))
        raise KeyError(source)

    def apply(
        self,
        conn: Connection,
        instance: Instance,
        effects: Sequence[tuple[str, Mapping[str, Any]]],
        ctx: FireContext,
    ) -> None:
        for kind, data in effects:
            getattr(self, f"_apply_{kind}")(conn, instance, data, ctx)

    # -- effects -------------------------------------------------------------------------

    def _apply_measurements(
        self, conn: Connection, instance: Instance, data: Mapping[str, Any], ctx: FireContext
    ) -> None:
        """Replace this year's values: a resubmitted report supersedes the returned one."""
        fy, action_id = instance.data["fy"], instance.data["action_id"]
        ids = dict(conn.execute(self._indicators, {"action": action_id}).all())
        conn.execute(self._clear_measurements, {"fy": fy, "action": action_id})
        rows = [
            {
                "indicator_id": ids[code],
                "fy": fy,
                "cycle_id": instance.id,
                "value": entry.get("value"),
                "reason": entry.get("reason"),
            }
            for code, entry in data["values"].items()
        ]
        if rows:
            conn.execute(Measurement.__table__.insert(), rows)  # type: ignore[attr-defined]

    def _apply_proposals(
        self, conn: Connection, instance: Instance, data: Mapping[str, Any], ctx: FireContext
    ) -> None:
        conn.execute(delete(Proposal).where(Proposal.cycle_id == instance.id))  # type: ignore[arg-type]
        rows = [
            {"cycle_id": instance.id, "seq": i, "text": text}
            for i, text in enumerate(data["texts"], start=1)
        ]
        if rows:
            conn.execute(Proposal.__table__.insert(), rows)  # type: ignore[attr-defined]

    def _apply_end_action(
        self, conn: Connection, instance: Instance, data: Mapping[str, Any], ctx: FireContext
    ) -> None:
        """The first year to end an action ends it; an overlapping year's later decision
        closes that year's books without rewriting how and when the action ended."""
        ended = conn.execute(
            update(Action)
            .where(Action.id == instance.data["action_id"], Action.status == "active")  # type: ignore[arg-type]
            .values(status=data["status"], ended_fy=instance.data["fy"])
        ).rowcount
        if ended:
            actions.record_change(
                conn, action_id=instance.data["action_id"], trigger=actions.ENDED,
                changes={"status": ("active", data["status"])}, actor=ctx.actor.email, at=ctx.now,
                by=ctx.trigger.name, extra={"fy": instance.data["fy"], "cycle": instance.id})

    def _apply_answer_proposals(
        self, conn: Connection, instance: Instance, data: Mapping[str, Any], ctx: FireContext
    ) -> None:
        """The internal council's answer to each proposal ('N: answer', or in order)."""
        for seq, text in numbered_answers(data["answers"]):
            conn.execute(update(Proposal).where(Proposal.cycle_id == instance.id, Proposal.seq == seq)  # type: ignore[arg-type]
                         .values(answer=text))

    def _apply_notify(
        self, conn: Connection, instance: Instance, data: Mapping[str, Any], ctx: FireContext
    ) -> None:
        """Queue the owners' notice in this transaction; its step names the version the
        step created, so each notice is queued once."""
        step = f"v{instance.version + 1}"
        today = self.calendar.today(ctx.now)
        key = (data["kind"], conn.dialect.name)
        if key not in self._notices:
            self._notices[key] = queue_statement(conn, notice_to_owners(data["kind"]))
        conn.execute(self._notices[key], {
            "cycle": instance.id, "fy": instance.data["fy"], "due": today, "step": step,
            "key_middle": key_middle(today, step), "at": to_storage(ctx.now),
        })

    def _apply_adopt_plan(
        self, conn: Connection, instance: Instance, data: Mapping[str, Any], ctx: FireContext
    ) -> None:
        """The approved revision becomes the action's plan; the action's trail says so, so
        a later import keeps it."""
        conn.execute(
            update(Action)
            .where(Action.id == instance.data["action_id"])  # type: ignore[arg-type]
            .values(plan=data["plan"])
        )
        actions.record_change(
            conn, action_id=instance.data["action_id"], trigger=actions.ADOPTED,
            changes={"plan": (instance.data["action_plan"], data["plan"])}, actor=ctx.actor.email, at=ctx.now,
            status=instance.data["action_status"], by=ctx.trigger.name,
            extra={"fy": instance.data["fy"], "cycle": instance.id})


__all__ = ["CycleStore", "cycle_table"]
