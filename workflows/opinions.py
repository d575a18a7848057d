"""Asking an advisor (a university, a research institute, a local expert) for an opinion
during the promotion council's evaluation, by a date; the advisor is reminded until they
answer. Each request and answer is audited; the messages are queued with them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, String, insert, literal, select, update

from engine.audit import audit_table
from engine.clock import to_storage
from engine.errors import GuardRefused, InvalidFields, NotFound, WrongRole
from engine.outbox import dedupe_key, queue
from engine.runtime import Actor
from workflows.messages import message_columns
from workflows.models import Cycle, OpinionRequest, Person
from workflows.service import sits_on

WORKFLOW = "opinion"
ASKING_STATES = ("check.council_evaluation",)


def step_of(request_id: int, stage: str = "") -> str:
    """Messages about a request carry its id in their step: o12, o12:-7, o12:+7."""
    return f"o{request_id}" + (f":{stage}" if stage else "")


def request_id_of(step: str) -> int | None:
    head = step.split(":", 1)[0]
    return int(head[1:]) if head.startswith("o") and head[1:].isdigit() else None


def _audit(conn: Connection, *, request_id: int, actor: str, trigger: str, to_state: str, now: datetime,
           comment: str | None, fields: dict[str, Any]) -> None:
    conn.execute(insert(audit_table).values(
        workflow=WORKFLOW, instance_id=request_id, at=to_storage(now), actor=actor, trigger=trigger,
        from_state="" if trigger == "ask" else "asked", to_state=to_state, version=1 if trigger == "ask" else 2,
        comment=comment, fields=fields,
    ))


def notify_advisor(conn: Connection, *, kind: str, request_id: int, stage: str, due: date, now: datetime) -> int:
    """Queue one message about this request to its advisor (once per kind and stage)."""
    step = step_of(request_id, stage)
    scope = literal("cycle:", String) + OpinionRequest.cycle_id.cast(String)  # type: ignore[attr-defined]
    rows = (
        select(
            dedupe_key(kind, scope, due, step, Person.email).label("dedupe_key"),
            Person.email.label("recipient"),  # type: ignore[attr-defined]
            OpinionRequest.cycle_id.label("instance_id"),  # type: ignore[attr-defined]
            *message_columns(kind, Cycle.fy, due, step, to_storage(now)),
        )
        .join(Person, Person.id == OpinionRequest.advisor_id)
        .join(Cycle, Cycle.id == OpinionRequest.cycle_id)
        .where(OpinionRequest.id == request_id, OpinionRequest.answered_at.is_(None), Person.active)  # type: ignore[union-attr]
    )
    return queue(conn, rows)


def ask(conn: Connection, *, cycle_id: int, advisor: str, question: str, due: date, by: Actor,
        today: date, now: datetime) -> int:
    state = conn.execute(select(Cycle.state).where(Cycle.id == cycle_id)).scalar()
    if state is None:
        raise NotFound(f"no cycle {cycle_id}")
    if not (by.is_admin or (by.person_id and sits_on(conn, person_id=by.person_id, key="promotion"))):
        raise WrongRole(f"{by.email} may not ask advisors: the promotion council's members and admins may",
                        roles=("promotion_council",), holders=())
    if state not in ASKING_STATES:
        raise GuardRefused([f"opinions are asked during the promotion council's evaluation; this cycle is {state}"])
    problems = []
    person = conn.execute(
        select(Person.id).where(Person.email == advisor.strip().lower(), Person.advisor, Person.active)
    ).scalar()
    if person is None:
        problems.append(("advisor", f"{advisor} is not an advisor in the config ([advisors] members)"))
    if not question.strip():
        problems.append(("question", "missing"))
    if due <= today:
        problems.append(("due", f"{due.isoformat()} is not after today"))
    if problems:
        raise InvalidFields(problems)
    request_id = conn.execute(insert(OpinionRequest).values(
        cycle_id=cycle_id, advisor_id=person, asked_by=by.email, question=question.strip(), due=due,
        asked_at=to_storage(now),
    )).inserted_primary_key[0]  # type: ignore[index]
    _audit(conn, request_id=request_id, actor=by.email, trigger="ask", to_state="asked", now=now,
           comment=question.strip(), fields={"cycle_id": cycle_id, "advisor": advisor.lower(), "due": due.isoformat()})
    notify_advisor(conn, kind="opinion_requested", request_id=request_id, stage="", due=due, now=now)
    return int(request_id)


def answer(conn: Connection, *, request_id: int, text: str, by: Actor, now: datetime) -> None:
    row = conn.execute(select(OpinionRequest.advisor_id, OpinionRequest.answered_at)
                       .where(OpinionRequest.id == request_id)).first()
    if row is None:
        raise NotFound(f"no opinion request {request_id}")
    if row.advisor_id != by.person_id:
        raise WrongRole(f"{by.email} was not asked for this opinion", roles=("advisor",), holders=())
    if row.answered_at is not None:
        raise GuardRefused(["this opinion was answered already"])
    if not text.strip():
        raise InvalidFields([("answer", "missing")])
    conn.execute(update(OpinionRequest).where(OpinionRequest.id == request_id)
                 .values(answer=text.strip(), answered_at=to_storage(now)))
    _audit(conn, request_id=request_id, actor=by.email, trigger="answer", to_state="answered", now=now,
           comment=text.strip(), fields={})


def for_cycle(conn: Connection, cycle_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(OpinionRequest.id, OpinionRequest.question, OpinionRequest.due, OpinionRequest.answer,
               OpinionRequest.asked_by, OpinionRequest.advisor_id, Person.email, Person.name)
        .join(Person, Person.id == OpinionRequest.advisor_id)
        .where(OpinionRequest.cycle_id == cycle_id).order_by(OpinionRequest.id)  # type: ignore[arg-type]
    )
    return [dict(r._mapping) for r in rows]


def advisors(conn: Connection) -> list[tuple[str, str]]:
    return [(r.email, r.name) for r in conn.execute(
        select(Person.email, Person.name).where(Person.advisor, Person.active).order_by(Person.email))]


def open_requests(conn: Connection) -> list[Any]:
    return list(conn.execute(
        select(OpinionRequest.id, OpinionRequest.due).where(OpinionRequest.answered_at.is_(None))  # type: ignore[union-attr]
    ))
