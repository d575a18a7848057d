"""Where cycles live and who holds which role for one: the action cycle's store.

Roles are resolved in one query: the owners of the cycle's action, and the chairs of the
bodies the spec's roles belong to, in the action's strategy; a vice chair holds the
chair's role while the chair is marked absent. The strategy's admins (its secretariat and
the deployment's admins) may stand in for the clock.

Beside what the engine asks (load, roles, holders, effects), the store answers what pages,
the CLI, the API and mail ask of any workflow: how an instance is found and named, what
its record says, when it is due, and which instances wait for a person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from engine import db
from engine.audit import AuditEvent
from engine.clock import from_storage, to_storage
from engine.errors import NotFound, Refused
from engine.outbox import key_middle, queue_statement
from engine.runtime import Actor, Instance
from engine.spec import OPENING, STAND_IN, Field, Label
from words.catalogue import join, say
from workflows import actions, bodies, report_fields
from workflows import indicators as indicator_math
from workflows.action_cycle import revision
from workflows.action_cycle.spec import ACTION_CYCLE, OWNER, STATUS_LABELS, numbered_answers
from workflows.calendar import KINDS, Calendar
from workflows.fiscal import fy_label
from workflows.hub import measures as hub_measures
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
)
from workflows.tenants import Tenants

if TYPE_CHECKING:
    from engine.runtime import FireContext

cycle_table = Cycle.__table__  # type: ignore[attr-defined]
SPEC = ACTION_CYCLE
BODY_ROLES = SPEC.body_roles()
"""Each body and the role its chair holds, as the spec declares them."""


def deadline(calendar: Calendar, fy: int, state: str, today: date | None = None) -> dict[str, Any] | None:
    """The date whoever must act in this state is due by, and how many days are left."""
    name = SPEC.state(state).deadline if SPEC.has_state(state) else None
    if name is None:
        return None
    # A plan for FY N is due in the calendar of FY N-1 (the plan window precedes the year).
    milestone = calendar.milestone(fy - 1 if KINDS[name].about_next_year else fy, name)
    out: dict[str, Any] = {"name": name, "date": milestone.day.isoformat()}
    if today is not None:
        out["days_left"] = (milestone.day - today).days
    return out


_INDICATORS = "pdca.cycle_store.indicators"


class CycleStore(bodies.SeatedInTenant):
    table = cycle_table
    spec = SPEC
    scope = "cycle"
    """How messages about a cycle name it in their dedupe key ('cycle:12')."""

    def __init__(self, tenants: Tenants) -> None:
        self.tenants = tenants
        self._notices: dict[tuple[str, str], Any] = {}
        loaded = select(
            Cycle.id, Cycle.state, Cycle.version, Cycle.action_id, Cycle.fy, Cycle.plan,
            Cycle.return_count, Cycle.revised_plan, Cycle.flags, Cycle.interim, Action.code, Action.strategy_id,
            Action.status.label("action_status"),  # type: ignore[attr-defined]
            Action.ended_fy, Action.plan.label("action_plan"),  # type: ignore[attr-defined]
        ).join(Action, Action.id == Cycle.action_id)
        # Every step reads these: compiled once, run on the driver's cursor (`db.Prepared`).
        self._load = db.Prepared(loaded.where(Cycle.id == bindparam("id")))
        self._locate = db.Prepared(loaded.where(Action.strategy_id == bindparam("strategy"),
                                                Action.code == bindparam("code"), Cycle.fy == bindparam("fy")))
        # Who holds which role, in one statement: the owner, and every seat in the action's
        # strategy with whether it carries its body chair's role right now.
        owner = select(literal(OWNER).label("key"), literal(True).label("chairing")).where(
            ActionOwner.action_id == bindparam("action_id"),
            ActionOwner.person_id == bindparam("person_id"),
        )
        seats = (
            select(Council.key, bodies.chair_seats().label("chairing"))
            .join(Membership, Membership.council_id == Council.id)
            .where(Membership.person_id == bindparam("person_id"), Council.strategy_id == bindparam("strategy"))
        )
        self._roles = db.Prepared(owner.union_all(seats))
        self._find = (select(Cycle.id).join(Action, Action.id == Cycle.action_id)
                      .where(Action.strategy_id == bindparam("strategy"), Action.code == bindparam("code"),
                             Cycle.fy == bindparam("fy")))
        self._action_indicators = (
            select(Indicator.code, Indicator.id, Indicator.unit, Indicator.minimum, Indicator.maximum)
            .where(Indicator.action_id == bindparam("action")).order_by(Indicator.code))
        self._clear_measurements = db.Prepared(delete(Measurement).where(
            Measurement.fy == bindparam("fy"),  # type: ignore[arg-type]
            Measurement.indicator_id.in_(  # type: ignore[attr-defined]
                select(Indicator.id).where(Indicator.action_id == bindparam("action"))),
        ))
        measurements = Measurement.__table__  # type: ignore[attr-defined]
        self._add_measurement = db.Prepared(insert(measurements).values(
            {n: bindparam(n, type_=measurements.c[n].type) for n in ("indicator_id", "fy", "cycle_id", "value",
                                                                      "reason")}))
        self._clear_proposals = db.Prepared(delete(Proposal).where(Proposal.cycle_id == bindparam("cycle")))  # type: ignore[arg-type]
        proposals = Proposal.__table__  # type: ignore[attr-defined]
        self._add_proposal = db.Prepared(insert(proposals).values(
            {n: bindparam(n, type_=proposals.c[n].type) for n in ("cycle_id", "seq", "text")}))
        # Prepared once: the adaptive-revision rules run inside transitions. (The grades and
        # the rules come from the strategy as `self.tenants` keeps it: both are the config's,
        # and `Pdca.sync` makes it read them again.)
        self._submitted = select(func.max(AuditEvent.at)).where(
            AuditEvent.workflow == SPEC.name, AuditEvent.instance_id == bindparam("cycle"),
            AuditEvent.trigger == "submit_report")

    # -- the strategy's calendar and rules ------------------------------------------------

    def calendar(self, conn: Connection, instance: Instance) -> Calendar:
        return self.tenants.calendar(conn, instance.data["strategy_id"])

    def rules(self, conn: Connection, strategy: int) -> revision.RevisionIn:
        return self.tenants.get(conn, strategy).rules

    def flags_now(
        self, conn: Connection, cycle: Mapping[str, Any], *, grade: str | None = None
    ) -> list[dict[str, Any]]:
        """This cycle's flags with the rules evaluated now (earlier ones and their resolutions kept)."""
        tenant = self.tenants.get(conn, cycle["strategy_id"])
        grades = list(tenant.grades)
        submitted = conn.execute(self._submitted, {"cycle": cycle["id"]}).scalar()
        found = revision.evaluate(
            conn, cycle=cycle, rules=tenant.rules, grades=grades, grade=grade,
            report_due=tenant.calendar.due(cycle["fy"], "report_due"),
            submitted=from_storage(submitted).astimezone(tenant.calendar.zone).date() if submitted else None,
        )
        return revision.merge(list(cycle["flags"] or []), found)

    def point_in_year(self, conn: Connection, cycle: Mapping[str, Any], now: datetime) -> tuple[str, float]:
        """Today in the city's time, and the share of the cycle's fiscal year gone by, in
        whole days (1 October is half of a year from 1 April)."""
        cal = self.tenants.get(conn, cycle["strategy_id"]).calendar
        begins, ends = cal.year_begins(cycle["fy"]).date(), cal.year_begins(cycle["fy"] + 1).date()
        today = cal.today(now)
        return today.isoformat(), min(max((today - begins).days / (ends - begins).days, 0.0), 1.0)

    def interim_flags(self, conn: Connection, cycle: Mapping[str, Any], values: dict[str, Any], *, elapsed: float,
                      day: str) -> list[revision.Flag]:
        rules = self.tenants.get(conn, cycle["strategy_id"]).rules
        return revision.interim_flags(conn, action_id=cycle["action_id"], fy=cycle["fy"], values=values, rules=rules,
                                      elapsed=elapsed, day=day)

    def with_grade(self, conn: Connection, cycle: Mapping[str, Any], grade: str) -> list[dict[str, Any]]:
        """The flags once the promotion council has graded: the rest was evaluated at acceptance."""
        tenant = self.tenants.get(conn, cycle["strategy_id"])
        rules, grades = tenant.rules, list(tenant.grades)
        return revision.merge(list(cycle["flags"] or []), revision.grade_flags(grade, rules, grades))

    # -- the engine's Store protocol ----------------------------------------------------------

    def load(self, conn: Connection, instance_id: int) -> Instance | None:
        row = self._load.first(conn, {"id": instance_id})
        if row is None:
            return None
        return Instance(row["id"], row["state"], row["version"], row, row["strategy_id"])

    def locate(self, conn: Connection, *, tenant: int, key: str, fy: int | None = None) -> Instance:
        """`find` and `load` in one indexed query, as a request that names a cycle by its
        action's code and year needs it (give the result to `fire_in`, in the same
        transaction); what there is instead is read only to say so."""
        if fy is not None:
            row = self._locate.first(conn, {"strategy": tenant, "code": key, "fy": fy})
            if row is not None:
                return Instance(row["id"], row["state"], row["version"], row, row["strategy_id"])
        found = self.load(conn, self.find(conn, tenant=tenant, key=key, fy=fy))
        assert found is not None
        return found

    def roles_of(self, conn: Connection, instance: Instance, actor: Actor) -> set[str]:
        if actor.person_id is None:
            return set()
        roles = {STAND_IN} if actor.is_admin else set()
        for key, chairing in self._roles.tuples(conn, {
                "action_id": instance.data["action_id"], "person_id": actor.person_id,
                "strategy": instance.data["strategy_id"]}):
            if key == OWNER:
                roles.add(OWNER)
            elif key == bodies.SECRETARIAT:
                roles.add(STAND_IN)  # the strategy's secretariat stands in for the clock
            elif chairing and key in BODY_ROLES:
                roles.add(BODY_ROLES[key])
        return roles

    def holders(self, conn: Connection, instance: Instance, roles: Sequence[str]) -> list[str]:
        emails: list[str] = []
        if OWNER in roles:
            emails += conn.execute(
                select(Person.email)
                .join(ActionOwner, ActionOwner.person_id == Person.id)
                .where(ActionOwner.action_id == instance.data["action_id"], Person.active)
                .order_by(Person.email)
            ).scalars().all()
        keys = [k for k, role in BODY_ROLES.items() if role in roles]
        if keys:
            emails += conn.execute(
                select(Person.email)
                .join(Membership, Membership.person_id == Person.id)
                .join(Council, Council.id == Membership.council_id)
                .where(Council.strategy_id == instance.data["strategy_id"], Council.key.in_(keys),  # type: ignore[attr-defined]
                       bodies.chair_seats(), Person.active)
                .order_by(Membership.role, Person.email)
            ).scalars().all()
        return emails

    def choices(self, conn: Connection, instance: Instance, source: str) -> Sequence[str]:
        if source == "grades":
            return self.tenants.get(conn, instance.data["strategy_id"]).grades
        raise KeyError(source)

    def choice_labels(self, conn: Connection, instance: Instance, source: str) -> dict[str, Label]:
        """What each grade means, as the strategy's config says ("B: 概ね順調"): the scale
        explained where a person chooses a grade."""
        if source != "grades":
            return {}
        meanings = self.tenants.get(conn, instance.data["strategy_id"]).grade_meanings
        return {g: Label(f"{g}：{ja}", f"{g}: {en}") for g, (ja, en) in meanings.items()}

    def _indicators_of(self, conn: Connection, action_id: int) -> Sequence[Any]:
        """The action's indicators (code, id, unit, least, most), read once in a transaction:
        a report's step asks for them to check its fields, its ranges and to store its
        values. No step changes an action's indicators."""
        kept = conn.info.get(_INDICATORS)
        if kept is not None and kept[0] is conn.get_transaction() and kept[1] == action_id:
            return kept[2]  # type: ignore[no-any-return]
        rows = conn.execute(self._action_indicators, {"action": action_id}).all()
        conn.info[_INDICATORS] = (conn.get_transaction(), action_id, rows)
        return rows

    def items(self, conn: Connection, instance: Instance, source: str) -> Sequence[str]:
        if source == "indicators":
            return tuple(row.code for row in self._indicators_of(conn, instance.data["action_id"]))
        raise KeyError(source)

    def out_of_range(self, conn: Connection, instance: Instance, values: Mapping[str, Any]
                     ) -> list[tuple[str, float, float | None, float | None, str]]:
        """(code, value, least, most, unit) for each value outside what its indicator can be."""
        out = []
        for code, _, unit, minimum, maximum in self._indicators_of(conn, instance.data["action_id"]):
            value = (values.get(code) or {}).get("value")
            low, high = indicator_math.value_range(unit or "", minimum, maximum)
            if value is not None and ((low is not None and value < low) or (high is not None and value > high)):
                out.append((code, value, low, high, unit or ""))
        return out

    def fieldset(self, conn: Connection, instance: Instance, source: str) -> tuple[Field, ...]:
        """What the strategy's report asks beyond the cycle's own fields (`[[strategy.report_fields]]`)."""
        if source == "report_fields":
            return report_fields.as_fields(self.report_fields_of(conn, instance.data["strategy_id"]))
        raise KeyError(source)

    def report_fields_of(self, conn: Connection, strategy: int) -> tuple[report_fields.ReportFieldIn, ...]:
        return self.tenants.get(conn, strategy).report_fields

    def propose(
        self, conn: Connection, parent: Instance | None, fields: Mapping[str, Any], *, tenant: int | None = None
    ) -> Instance:
        raise Refused("a year's cycles are opened by the calendar's plan window (or `pdca import --open-fy`)")

    def insert(self, conn: Connection, proposed: Instance, columns: Mapping[str, Any], *, now: datetime) -> int:
        raise Refused("a year's cycles are opened by the calendar's plan window (or `pdca import --open-fy`)")

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
        ids = {row.code: row.id for row in self._indicators_of(conn, action_id)}
        self._clear_measurements.write(conn, {"fy": fy, "action": action_id})
        self._add_measurement.write_many(conn, [
            {
                "indicator_id": ids[code],
                "fy": fy,
                "cycle_id": instance.id,
                "value": entry.get("value"),
                "reason": entry.get("reason"),
            }
            for code, entry in data["values"].items()
        ])

    def _apply_proposals(
        self, conn: Connection, instance: Instance, data: Mapping[str, Any], ctx: FireContext
    ) -> None:
        self._clear_proposals.write(conn, {"cycle": instance.id})
        self._add_proposal.write_many(conn, [
            {"cycle_id": instance.id, "seq": i, "text": text} for i, text in enumerate(data["texts"], start=1)
        ])

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
                conn, action_id=instance.data["action_id"], strategy=instance.data["strategy_id"],
                trigger=actions.ENDED, changes={"status": ("active", data["status"])}, actor=ctx.actor.email,
                at=ctx.now, by=ctx.trigger.name, extra={"fy": instance.data["fy"], "cycle": instance.id})

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
        from workflows.action_cycle.mail import notice_to_owners

        step = f"v{instance.version + 1}"
        today = self.calendar(conn, instance).today(ctx.now)
        key = (data["kind"], conn.dialect.name)
        if key not in self._notices:
            self._notices[key] = db.Prepared(queue_statement(conn, notice_to_owners(data["kind"])))
        self._notices[key].write(conn, {
            "cycle": instance.id, "payload": {"fy": instance.data["fy"]}, "tenant": instance.tenant, "due": today,
            "step": step, "key_middle": key_middle(today, step), "at": to_storage(ctx.now),
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
            conn, action_id=instance.data["action_id"], strategy=instance.data["strategy_id"],
            trigger=actions.ADOPTED, changes={"plan": (instance.data["action_plan"], data["plan"])},
            actor=ctx.actor.email, at=ctx.now, status=instance.data["action_status"], by=ctx.trigger.name,
            extra={"fy": instance.data["fy"], "cycle": instance.id})

    # -- what pages, the CLI, the API and mail ask of a workflow -------------------------------

    def find(self, conn: Connection, *, tenant: int, key: str, fy: int | None = None) -> int:
        """A cycle by its action's code and fiscal year (default: the action's latest): one
        indexed query on every request; what there is instead is read only to say so."""
        if fy is not None:
            found = conn.execute(self._find, {"strategy": tenant, "code": key, "fy": fy}).scalar()
            if found is not None:
                return int(found)
        years = conn.execute(
            select(Cycle.fy, Cycle.id).join(Action, Action.id == Cycle.action_id)
            .where(Action.strategy_id == tenant, Action.code == key).order_by(Cycle.fy)
        ).all()
        if not years:
            raise NotFound(f"there is no action {key}")
        if fy is None:
            return int(years[-1].id)
        for year, cycle_id in years:
            if year == fy:
                return int(cycle_id)
        raise NotFound(f"action {key} has no cycle for FY{fy}; it has {', '.join(str(y) for y, _ in years)}")

    def address(self, instance: Instance) -> dict[str, Any]:
        """How people name this instance: its key and the path of its page."""
        code, fy = instance.data["code"], instance.data["fy"]
        return {"key": code, "fy": fy, "path": f"/actions/{code}/{fy}", "label": f"{code} {fy_label(fy)}"}

    def deadline(self, calendar: Calendar, state: str, fy: int, today: date | None = None) -> dict[str, Any] | None:
        return deadline(calendar, fy, state, today)

    def rows(self, conn: Connection, *, tenant: int, where: Any = None, language: str = "ja",
             today: date | None = None, open_only: bool = True) -> list[dict[str, Any]]:
        """The instances `where` selects, as rows for lists (My work, a council's queue,
        what is late): key, page, title, state, deadline, flag."""
        calendar = self.tenants.calendar(conn, tenant)
        query = (
            select(Cycle.id, Cycle.fy, Cycle.state, Cycle.version, Cycle.flags, Cycle.returned_comment,
                   Action.code, Action.title_ja, Action.title_en, Action.division)
            .join(Action, Action.id == Cycle.action_id)
            .where(Action.strategy_id == tenant, where if where is not None else true())
            .order_by(Cycle.fy, Action.code)
        )
        if open_only:
            query = query.where(Action.status == "active", Cycle.state != "closed")
        found = conn.execute(query.add_columns(Cycle.action_id)).all()
        owners = actions.owners_of(conn, sorted({r.action_id for r in found}))
        out = []
        for r in found:
            due = self.deadline(calendar, r.state, r.fy, today)
            out.append({
                "workflow": SPEC.name, "id": r.id, "key": r.code, "code": r.code, "fy": r.fy,
                "fy_label": fy_label(r.fy), "path": f"/actions/{r.code}/{r.fy}",
                "title": (r.title_en or r.title_ja) if language == "en" else r.title_ja,
                "title_ja": r.title_ja, "title_en": r.title_en, "owners": owners.get(r.action_id, []),
                "owner": r.division, "state": r.state, "state_label": SPEC.state(r.state).label(language),
                "version": r.version, "due": due["date"] if due else None,
                "days_left": due.get("days_left") if due else None,
                "flagged": any(not f.get("resolution") for f in (r.flags or [])),
                "returned_comment": r.returned_comment,
            })
        return out

    def review(self, conn: Connection, ids: Sequence[int], *, language: str = "ja") -> dict[int, list[dict[str, str]]]:
        """What a reviewer decides on, for a council's queue: the self grade, the report's
        status, how the indicators stand this year, the flags not yet answered and the day
        the report came in, each as (field, column heading, text in the person's language)."""
        if not ids:
            return {}
        cycles = conn.execute(
            select(Cycle.id, Cycle.fy, Cycle.self_grade, Cycle.report_status, Cycle.flags, Cycle.action_id,
                   Cycle.report_details, Action.strategy_id).join(Action, Action.id == Cycle.action_id)
            .where(Cycle.id.in_(list(ids)))).all()  # type: ignore[union-attr]
        submitted = dict(conn.execute(
            select(AuditEvent.instance_id, func.max(AuditEvent.at))
            .where(AuditEvent.workflow == SPEC.name, AuditEvent.trigger == "submit_report",
                   AuditEvent.instance_id.in_(list(ids)))  # type: ignore[attr-defined]
            .group_by(AuditEvent.instance_id)).all())
        standing = self._standing(conn, cycles)
        heading = {f.name: f.label(language) for f in SPEC.trigger("submit_report", "check.self_assessment").fields}
        out = {}
        for c in cycles:
            zone = self.tenants.calendar(conn, c.strategy_id).zone
            at = submitted.get(c.id)
            open_flags = [f.get("reason_en") or f["reason_ja"] if language == "en" else f["reason_ja"]
                          for f in (c.flags or []) if not f.get("resolution")]
            out[c.id] = [
                {"field": "self_grade", "heading": heading["self_grade"], "text": c.self_grade or ""},
                {"field": "report_status", "heading": heading["status"],
                 "text": STATUS_LABELS[c.report_status](language) if c.report_status in STATUS_LABELS else ""},
                {"field": "indicators", "heading": say("page.indicators", language),
                 "text": join([f"{say('indicator.' + k, language)} {n}" for k, n in standing[c.id].items()],
                              language)},
                {"field": "flags", "heading": say("page.flags", language), "text": "\n".join(open_flags)},
                {"field": "submitted", "heading": say("page.submitted", language),
                 "text": from_storage(at).astimezone(zone).date().isoformat() if at else ""},
            ] + [{"field": f"details.{d['key']}", "heading": d["label_en" if language == "en" else "label_ja"],
                  "text": d["text_en" if language == "en" else "text_ja"]}
                 for d in report_fields.shown(self.report_fields_of(conn, c.strategy_id), c.report_details)]
        return out

    def _standing(self, conn: Connection, cycles: Sequence[Any]) -> dict[int, dict[str, int]]:
        """How many of each cycle's indicators stand where (achieved, on track, ...) this year."""
        out: dict[int, dict[str, int]] = {c.id: {} for c in cycles}
        rows = Session(bind=conn).execute(
            select(Indicator, Measurement.value, Cycle.id.label("cycle_id"), Cycle.fy)  # type: ignore[union-attr]
            .join(Cycle, Cycle.action_id == Indicator.action_id)
            .outerjoin(Measurement, and_(Measurement.indicator_id == Indicator.id, Measurement.fy == Cycle.fy))
            .where(Cycle.id.in_([c.id for c in cycles]))  # type: ignore[union-attr]
            .order_by(Indicator.code)).all()
        ratios = {c.strategy_id: self.rules(conn, c.strategy_id).on_track_ratio for c in cycles}
        strategy_of = {c.id: c.strategy_id for c in cycles}
        for ind, value, cycle_id, fy in rows:
            status = measures(ind, value, fy, ratios[strategy_of[cycle_id]])["status"]
            out[cycle_id][status] = out[cycle_id].get(status, 0) + 1
        return out

    def held_by(self, conn: Connection, *, tenant: int, person_id: int, role: str) -> Any:
        """A SQL condition on cycles: those this person holds `role` for now (None: none)."""
        if role == OWNER:
            return Cycle.action_id.in_(  # type: ignore[attr-defined]
                select(ActionOwner.action_id).where(ActionOwner.person_id == person_id))
        body = next((b for b, r in BODY_ROLES.items() if r == role), None)
        if body is not None and body in bodies.chairing(conn, strategy=tenant, person_id=person_id):
            return true()
        return None

    def in_states(self, states: Sequence[str]) -> Any:
        return Cycle.state.in_(list(states))  # type: ignore[attr-defined]

    def tenant_condition(self, tenant: int) -> Any:
        return Cycle.action_id.in_(select(Action.id).where(Action.strategy_id == tenant))  # type: ignore[attr-defined]

    def matching(self, conn: Connection, *, tenant: int, key: str) -> list[int]:
        """The ids of the cycles of the action with this code (for the audit log's filter)."""
        return list(conn.execute(select(Cycle.id).join(Action, Action.id == Cycle.action_id)
                                 .where(Action.strategy_id == tenant, Action.code == key)).scalars())

    def labels(self, conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """For the audit log: each cycle's code, fiscal year and page."""
        rows = conn.execute(select(Cycle.id, Cycle.fy, Action.code).join(Action, Action.id == Cycle.action_id)
                            .where(Cycle.id.in_(list(ids))))  # type: ignore[union-attr]
        return {r.id: {"code": r.code, "fy": r.fy, "path": f"/actions/{r.code}/{r.fy}"} for r in rows}

    def details(self, conn: Connection, instance: Instance, *, today: date | None) -> dict[str, Any]:
        """Everything a cycle's page, `pdca show` and the API tell beyond the generic story:
        the record, indicators, proposals, flags, last year's proposals."""
        cycle_id = instance.id
        orm = Session(bind=conn)
        cycle = orm.get_one(Cycle, cycle_id)
        action = orm.get_one(Action, cycle.action_id)
        indicators = orm.execute(
            select(Indicator, Measurement)
            .outerjoin(Measurement, and_(Measurement.indicator_id == Indicator.id, Measurement.fy == cycle.fy))
            .where(Indicator.action_id == action.id)
            .order_by(Indicator.code)
        ).all()
        proposals = orm.scalars(
            select(Proposal).where(Proposal.cycle_id == cycle_id).order_by(Proposal.seq)  # type: ignore[arg-type]
        ).all()
        calendar = self.calendar(conn, instance)
        due = self.deadline(calendar, cycle.state, cycle.fy, today)
        on_track_ratio = self.rules(conn, instance.data["strategy_id"]).on_track_ratio
        # An indicator is stale while its year's report is overdue: the figure shown is old news.
        stale = cycle.state == "check.self_assessment" and bool(due) and due.get("days_left", 0) < 0
        return {
            "code": action.code,
            "fy": cycle.fy,
            "fy_label": fy_label(cycle.fy),
            "title_ja": action.title_ja,
            "title_en": action.title_en,
            "basic_policy": action.basic_policy,
            "owner": action.division,
            "owners": actions.owners_of(conn, [action.id])[action.id],
            "action_status": action.status,
            "record": {
                "plan": cycle.plan,
                "report_status": cycle.report_status,
                "report_content": cycle.report_content,
                "self_grade": cycle.self_grade,
                "report_details": report_fields.shown(self.report_fields_of(conn, action.strategy_id),
                                                      cycle.report_details),
                "internal_comment": cycle.internal_comment,
                "council_grade": cycle.council_grade,
                "evaluation": cycle.evaluation,
                "decision": cycle.decision,
                "decision_reason": cycle.decision_reason,
                "revised_plan": cycle.revised_plan,
                "returned_comment": cycle.returned_comment,
                "return_count": cycle.return_count,
                "closed_at": from_storage(cycle.closed_at).isoformat() if cycle.closed_at else None,
            },
            "indicators": [
                {
                    "code": ind.code,
                    "name_ja": ind.name_ja,
                    "name_en": ind.name_en,
                    "unit": ind.unit,
                    "direction": ind.direction,
                    "baseline": [ind.baseline_value, ind.baseline_year],
                    "target": [ind.target_value, ind.target_year],
                    "value": m.value if m else None,
                    "reason": m.reason if m else None,
                    "stale": stale,
                    **measures(ind, m.value if m else None, cycle.fy, on_track_ratio),
                    "hub": hub_measures.measured(conn, self.tenants.get(conn, action.strategy_id),
                                                 name=ind.hub_measure, action=action.code, fy=cycle.fy)
                    if ind.hub_measure else None,
                }
                for ind, m in indicators
            ],
            "proposals": [{"seq": p.seq, "text": p.text, "answer": p.answer} for p in proposals],
            "flags": list(cycle.flags or []),
            "interim": list(cycle.interim or []),
            "previous_proposals": self._previous_proposals(orm, action.id, cycle.fy),
            "deadline": due,
        }

    @staticmethod
    def _previous_proposals(orm: Session, action_id: int, fy: int) -> list[dict[str, Any]]:
        """Last year's proposals and the answers they got: this year's check follows them up."""
        rows = orm.execute(
            select(Proposal.seq, Proposal.text, Proposal.answer, Cycle.decision)
            .join(Cycle, Cycle.id == Proposal.cycle_id)
            .where(Cycle.action_id == action_id, Cycle.fy == fy - 1).order_by(Proposal.seq)  # type: ignore[arg-type]
        ).all()
        return [{"seq": r.seq, "text": r.text, "answer": r.answer, "decision": r.decision} for r in rows]


__all__ = ["OPENING", "CycleStore", "cycle_table"]


def measures(ind: Indicator, value: float | None, fy: int, on_track_ratio: float) -> dict[str, Any]:
    """The year's expected value, the progress to the target and the status in one word's
    code, as the public report computes them (workflows/indicators.py)."""
    target = indicator_math.Target(ind.direction, ind.baseline_value, ind.baseline_year, ind.target_value,
                                   ind.target_year)
    return {"expected": indicator_math.expected(target, fy), "progress": indicator_math.progress(target, value),
            "status": indicator_math.status(target, value, fy, on_track_ratio=on_track_ratio)}
