"""What the CLI and the web ask of the action cycle: find, list, tell the story, open a
year, mark a chair absent. Keyword-only functions over a connection; the caller owns the
transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Connection, and_, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from engine.audit import AuditEvent, audit_table
from engine.clock import from_storage, to_storage
from engine.errors import NotFound
from engine.runtime import Actor, Workflow
from workflows.action_cycle import ACTION_CYCLE, INTERNAL_CHAIR, OWNER, PROMOTION_CHAIR
from workflows.calendar import INTERNAL, KINDS, PROMOTION, Calendar
from workflows.fiscal import fy_label
from workflows.models import (
    Action,
    ActionOwner,
    Council,
    Cycle,
    Indicator,
    Measurement,
    Membership,
    OpinionRequest,
    Person,
    Proposal,
    Strategy,
)
from workflows.store import chair_seats, cycle_table

OPENED = "open"
"""The audit trigger name for a cycle coming into being (it has no `from` state)."""


def strategy_id(conn: Connection, code: str) -> int:
    found = conn.execute(select(Strategy.id).where(Strategy.code == code)).scalar()
    if found is None:
        raise NotFound(f"strategy {code!r} is not in the database; run `pdca init`")
    return int(found)


def actor_for(conn: Connection, email: str) -> Actor:
    row = conn.execute(
        select(Person.id, Person.email, Person.admin).where(
            Person.email == email.lower(), Person.active
        )
    ).first()
    if row is None:
        raise NotFound(f"{email} is not a person in the config ([[people]])")
    return Actor(email=row.email, person_id=row.id, is_admin=row.admin)


def find_cycle(conn: Connection, *, strategy: int, code: str, fy: int) -> int:
    found = conn.execute(
        select(Cycle.id)
        .join(Action, Action.id == Cycle.action_id)
        .where(Action.strategy_id == strategy, Action.code == code, Cycle.fy == fy)
    ).scalar()
    if found is not None:
        return int(found)
    years = conn.execute(
        select(Cycle.fy)
        .join(Action, Action.id == Cycle.action_id)
        .where(Action.strategy_id == strategy, Action.code == code)
        .order_by(Cycle.fy)
    ).scalars().all()
    if years:
        raise NotFound(f"action {code} has no cycle for FY{fy}; it has {', '.join(map(str, years))}")
    raise NotFound(f"there is no action {code}")


def latest_fy(conn: Connection, *, strategy: int, code: str | None = None) -> int | None:
    query = select(func.max(Cycle.fy)).join(Action, Action.id == Cycle.action_id)
    query = query.where(Action.strategy_id == strategy)
    if code is not None:
        query = query.where(Action.code == code)
    return conn.execute(query).scalar()


def open_cycles(
    conn: Connection, *, strategy: int, fy: int, now: datetime, codes: list[str] | None = None
) -> int:
    """Open the year's cycle in plan.drafting for every active action that has none yet,
    starting from the action's current plan. Two statements whatever the number of actions
    (the cycles, then their audit rows); returns how many were opened."""
    at = to_storage(now)
    has_cycle = select(Cycle.id).where(Cycle.action_id == Action.id, Cycle.fy == fy).exists()
    chosen = select(
        Action.id, literal(fy), literal(ACTION_CYCLE.initial), literal(1), Action.plan,
        literal([], JSON), literal(at, cycle_table.c.created_at.type), literal(at, cycle_table.c.updated_at.type),
    ).where(Action.strategy_id == strategy, Action.status == "active", ~has_cycle)
    if codes is not None:
        chosen = chosen.where(Action.code.in_(codes))  # type: ignore[attr-defined]
    opened = conn.execute(
        insert(cycle_table).from_select(
            ["action_id", "fy", "state", "version", "plan", "flags", "created_at", "updated_at"], chosen
        ),
        execution_options={"preserve_rowcount": True},
    ).rowcount
    if opened:
        audited = select(AuditEvent.id).where(
            AuditEvent.workflow == ACTION_CYCLE.name, AuditEvent.instance_id == Cycle.id,
            AuditEvent.trigger == OPENED,
        ).exists()
        conn.execute(
            insert(audit_table).from_select(
                ["workflow", "instance_id", "at", "actor", "trigger", "from_state", "to_state", "version", "fields"],
                select(
                    literal(ACTION_CYCLE.name), Cycle.id, literal(at, audit_table.c.at.type), literal("system"),
                    literal(OPENED), literal(""), literal(ACTION_CYCLE.initial), literal(1),
                    literal({"fy": fy}, JSON),
                ).where(Cycle.fy == fy, Cycle.created_at == at, ~audited),
            )
        )
    return opened


def _owners(conn: Connection, action_ids: list[int]) -> dict[int, list[str]]:
    owners: dict[int, list[str]] = {}
    rows = conn.execute(
        select(ActionOwner.action_id, Person.email)
        .join(Person, Person.id == ActionOwner.person_id)
        .where(ActionOwner.action_id.in_(action_ids))  # type: ignore[attr-defined]
        .order_by(Person.email)
    )
    for action_id, email in rows:
        owners.setdefault(action_id, []).append(email)
    return owners


def list_cycles(
    conn: Connection, *, strategy: int, fy: int | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """`state` matches exactly or as a phase: `check` matches every check.* state."""
    query = (
        select(
            Action.id.label("action_id"), Action.code, Action.title_ja, Action.title_en,  # type: ignore[union-attr]
            Action.division, Cycle.id, Cycle.fy, Cycle.state, Cycle.version,
        )
        .join(Cycle, Cycle.action_id == Action.id)
        .where(Action.strategy_id == strategy)
        .order_by(Cycle.fy, Action.code)
    )
    if fy is not None:
        query = query.where(Cycle.fy == fy)
    if state:
        query = query.where((Cycle.state == state) | Cycle.state.startswith(state + "."))  # type: ignore[attr-defined]
    rows = conn.execute(query).all()
    owners = _owners(conn, sorted({r.action_id for r in rows}))
    return [
        {
            "code": r.code,
            "fy": r.fy,
            "fy_label": fy_label(r.fy),
            "state": r.state,
            "version": r.version,
            "owner": r.division,
            "owners": owners.get(r.action_id, []),
            "title_ja": r.title_ja,
            "title_en": r.title_en,
        }
        for r in rows
    ]


def _iso(moment: datetime | None) -> str | None:
    return from_storage(moment).isoformat() if moment else None


def deadline(calendar: Calendar, fy: int, state: str, today: date | None = None) -> dict[str, Any] | None:
    """The date whoever must act in this state is due by, and how many days are left."""
    name = ACTION_CYCLE.state(state).deadline
    if name is None:
        return None
    # A plan for FY N is due in the calendar of FY N-1 (the plan window precedes the year).
    milestone = calendar.milestone(fy - 1 if KINDS[name].about_next_year else fy, name)
    out: dict[str, Any] = {"name": name, "date": milestone.day.isoformat()}
    if today is not None:
        out["days_left"] = (milestone.day - today).days
    return out


def cycle_story(
    conn: Connection, workflow: Workflow, cycle_id: int, *, calendar: Calendar | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Everything about one cycle: where it stands, what was recorded, how it got here,
    and what can happen next (and by whom)."""
    instance = workflow.store.load(conn, cycle_id)
    if instance is None:
        raise NotFound(f"no cycle with id {cycle_id}")
    orm = Session(bind=conn)
    cycle = orm.get_one(Cycle, cycle_id)
    action = orm.get_one(Action, cycle.action_id)
    indicators = orm.execute(
        select(Indicator, Measurement)
        .outerjoin(
            Measurement,
            and_(Measurement.indicator_id == Indicator.id, Measurement.fy == cycle.fy),
        )
        .where(Indicator.action_id == action.id)
        .order_by(Indicator.code)
    ).all()
    history = orm.scalars(
        select(AuditEvent)
        .where(AuditEvent.workflow == workflow.spec.name, AuditEvent.instance_id == cycle_id)
        .order_by(AuditEvent.id)  # type: ignore[arg-type]
    ).all()
    proposals = orm.scalars(
        select(Proposal).where(Proposal.cycle_id == cycle_id).order_by(Proposal.seq)  # type: ignore[arg-type]
    ).all()
    due = deadline(calendar, cycle.fy, cycle.state, today) if calendar else None
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
        "owners": _owners(conn, [action.id]).get(action.id, []),
        "action_status": action.status,
        "state": cycle.state,
        "state_label": _state_label(cycle.state),
        "version": cycle.version,
        "record": {
            "plan": cycle.plan,
            "report_status": cycle.report_status,
            "report_content": cycle.report_content,
            "self_grade": cycle.self_grade,
            "internal_comment": cycle.internal_comment,
            "council_grade": cycle.council_grade,
            "evaluation": cycle.evaluation,
            "decision": cycle.decision,
            "decision_reason": cycle.decision_reason,
            "revised_plan": cycle.revised_plan,
            "returned_comment": cycle.returned_comment,
            "return_count": cycle.return_count,
            "closed_at": _iso(cycle.closed_at),
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
            }
            for ind, m in indicators
        ],
        "proposals": [{"seq": p.seq, "text": p.text, "answer": p.answer} for p in proposals],
        "flags": list(cycle.flags or []),
        "previous_proposals": _previous_proposals(orm, action.id, cycle.fy),
        "history": [
            {
                "at": _iso(e.at),
                "actor": e.actor,
                "on_behalf": e.on_behalf,
                "trigger": e.trigger,
                "from": e.from_state,
                "to": e.to_state,
                "version": e.version,
                "comment": e.comment,
                "fields": e.fields,
            }
            for e in history
        ],
        "deadline": due,
        "allowed": workflow.allowed(conn, instance),
    }


def _previous_proposals(orm: Session, action_id: int, fy: int) -> list[dict[str, Any]]:
    """Last year's proposals and the answers they got: this year's check follows them up."""
    rows = orm.execute(
        select(Proposal.seq, Proposal.text, Proposal.answer, Cycle.decision)
        .join(Cycle, Cycle.id == Proposal.cycle_id)
        .where(Cycle.action_id == action_id, Cycle.fy == fy - 1).order_by(Proposal.seq)  # type: ignore[arg-type]
    ).all()
    return [{"seq": r.seq, "text": r.text, "answer": r.answer, "decision": r.decision} for r in rows]


def _state_label(state: str) -> dict[str, str]:
    label = ACTION_CYCLE.state(state).label
    return {"ja": label.ja, "en": label.en}


def set_absent(conn: Connection, *, email: str, absent: bool, now: datetime, by: str) -> None:
    """Mark a person away (or back); recorded in the audit trail like any change of role."""
    actor = actor_for(conn, email)
    conn.execute(update(Person).where(Person.id == actor.person_id).values(absent=absent))  # type: ignore[arg-type]
    conn.execute(
        insert(audit_table),
        {"workflow": "person", "instance_id": actor.person_id, "at": to_storage(now),
         "actor": by, "trigger": "mark_absent" if absent else "mark_back",
         "from_state": "back" if absent else "absent", "to_state": "absent" if absent else "back",
         "version": 0, "fields": {"email": actor.email}},
    )


def roles_of_person(conn: Connection, email: str) -> set[str]:
    """Every role a person may hold in the calendar, regardless of absences: for deciding
    which milestones concern them."""
    actor = actor_for(conn, email)
    roles: set[str] = set()
    if conn.execute(select(ActionOwner.action_id).where(ActionOwner.person_id == actor.person_id)).first():
        roles.add(OWNER)
    seats = conn.execute(
        select(Council.key, Membership.role)
        .join(Membership, Membership.council_id == Council.id)
        .where(Membership.person_id == actor.person_id)
    ).all()
    bodies = {"internal": (INTERNAL, INTERNAL_CHAIR), "promotion": (PROMOTION, PROMOTION_CHAIR)}
    for key, role in seats:
        if key in bodies:
            member, chair = bodies[key]
            roles.add(member)
            if role in ("chair", "vice_chair"):
                roles.add(chair)
        else:
            roles.add(key)
    return roles


def actor_language(conn: Connection, email: str) -> str:
    return conn.execute(select(Person.language).where(Person.email == email.lower())).scalar() or "ja"


CHAIR_WAITS = {
    "internal": ("plan.review", "check.internal_review", "act.deciding", "act.revision_review"),
    "promotion": ("check.council_evaluation",),
}
"""The states in which each council's chair is the one to act."""


def _work_rows(conn: Connection, query: Any, calendar: Calendar, today: date, language: str) -> list[dict[str, Any]]:
    rows = []
    for r in conn.execute(query.order_by(Cycle.fy, Action.code)):
        due = deadline(calendar, r.fy, r.state, today)
        rows.append({
            "code": r.code, "fy": r.fy, "fy_label": fy_label(r.fy),
            "title": (r.title_en or r.title_ja) if language == "en" else r.title_ja,
            "owner": r.division, "state": r.state, "state_label": ACTION_CYCLE.state(r.state).label(language),
            "due": due["date"] if due else None, "days_left": due["days_left"] if due else None,
            "flagged": any(not f.get("resolution") for f in (r.flags or [])),
        })
    return rows


def _cycle_rows() -> Any:
    return (
        select(Cycle.fy, Cycle.state, Cycle.flags, Action.code, Action.title_ja, Action.title_en, Action.division)
        .join(Action, Action.id == Cycle.action_id)
        .where(Action.status == "active", Cycle.state != "closed")
    )


def work_for(
    conn: Connection, *, person_id: int, calendar: Calendar, today: date, language: str = "ja"
) -> list[dict[str, Any]]:
    """What waits for this person: their own actions' open cycles, and what waits for a
    council whose chair's role they hold now."""
    owned = Action.id.in_(select(ActionOwner.action_id).where(ActionOwner.person_id == person_id))  # type: ignore[union-attr]
    seats = set(conn.execute(
        select(Council.key).join(Membership, Membership.council_id == Council.id)
        .where(Membership.person_id == person_id, chair_seats())
    ).scalars())
    waiting = [Cycle.state.in_(CHAIR_WAITS[k]) for k in seats if k in CHAIR_WAITS]  # type: ignore[attr-defined]
    asked = Cycle.id.in_(select(OpinionRequest.cycle_id).where(  # type: ignore[union-attr]
        OpinionRequest.advisor_id == person_id, OpinionRequest.answered_at.is_(None)))  # type: ignore[union-attr]
    return _work_rows(conn, _cycle_rows().where(or_(owned, asked, *waiting)), calendar, today, language)


def council_queue(
    conn: Connection, *, key: str, calendar: Calendar, today: date, language: str = "ja"
) -> list[dict[str, Any]]:
    waiting = Cycle.state.in_(CHAIR_WAITS[key])  # type: ignore[attr-defined]
    return _work_rows(conn, _cycle_rows().where(waiting), calendar, today, language)


def sits_on(conn: Connection, *, person_id: int, key: str) -> bool:
    return conn.execute(
        select(Membership.id).join(Council, Council.id == Membership.council_id)
        .where(Membership.person_id == person_id, Council.key == key)
    ).first() is not None


def late_cycles(conn: Connection, *, calendar: Calendar, today: date, language: str = "ja") -> list[dict[str, Any]]:
    """Every open cycle past its state's deadline, latest first."""
    rows = _work_rows(conn, _cycle_rows(), calendar, today, language)
    late = [r for r in rows if r["days_left"] is not None and r["days_left"] < 0]
    return sorted(late, key=lambda r: r["days_left"])


def audit_log(
    conn: Connection, *, actor: str | None = None, trigger: str | None = None, code: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    query = (
        select(AuditEvent.at, AuditEvent.actor, AuditEvent.on_behalf, AuditEvent.trigger, AuditEvent.from_state,
               AuditEvent.to_state, AuditEvent.comment, Action.code, Cycle.fy)
        .outerjoin(Cycle, and_(AuditEvent.workflow == ACTION_CYCLE.name, Cycle.id == AuditEvent.instance_id))
        .outerjoin(Action, Action.id == Cycle.action_id)
        .order_by(AuditEvent.id.desc())  # type: ignore[union-attr]
        .limit(limit)
    )
    if actor:
        query = query.where(AuditEvent.actor == actor.lower())
    if trigger:
        query = query.where(AuditEvent.trigger == trigger)
    if code:
        query = query.where(Action.code == code)
    return [{**r._mapping, "at": _iso(r.at)} for r in conn.execute(query)]


def directory_view(conn: Connection) -> dict[str, Any]:
    people = conn.execute(
        select(Person.email, Person.name, Person.division, Person.language, Person.admin, Person.absent,
               Person.digest).where(Person.active).order_by(Person.email)
    ).all()
    seats = conn.execute(
        select(Council.key, Council.name_ja, Council.name_en, Membership.role, Person.email)
        .join(Membership, Membership.council_id == Council.id).join(Person, Person.id == Membership.person_id)
        .order_by(Council.key, Membership.role, Person.email)
    ).all()
    councils: dict[str, dict[str, Any]] = {}
    for key, name_ja, name_en, role, email in seats:
        councils.setdefault(key, {"name_ja": name_ja, "name_en": name_en, "seats": []})["seats"].append((role, email))
    return {"people": [dict(p._mapping) for p in people], "councils": councils}


def chair_roles(conn: Connection, *, person_id: int) -> set[str]:
    """The council chairs' roles this person holds now (a vice chair while the chair is away)."""
    keys = conn.execute(
        select(Council.key).join(Membership, Membership.council_id == Council.id)
        .where(Membership.person_id == person_id, chair_seats())
    ).scalars()
    return {f"{k}_chair" for k in keys if k in CHAIR_WAITS}
