"""An admin adds and edits people, and sets who sits where in a strategy's bodies, on the
web. The same validation as `config.toml` (`PersonIn`, one chair per council, the vice
chair not the chair, a secretariat of one at least), every change audited with who and
why, and `pdca init` run again keeps it (see `directory.merged`).

A change of seats re-plans what is pending: a message still queued for someone who no
longer holds the seat it was addressed to (a packet for a council they left, a decisions
reminder for a chair's role they gave up) is cancelled with the reason, and the next tick
queues the new holder's, whose dedupe keys name the new person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, delete, insert, select, update

from engine import audit, outbox
from engine.clock import to_storage
from engine.errors import NotFound, Said, WrongRole
from engine.outbox import OutboxMessage
from engine.runtime import Actor
from workflows import bodies
from workflows.directory import PERSON_FIELDS, PersonIn, seats_now
from workflows.models import Action, ActionOwner, Council, Membership, Person
from workflows.problems import FieldProblems, Problems

SEAT_ROLES = ("chair", "vice_chair", "member")
MEMBERS_ONLY = (bodies.SECRETARIAT, bodies.ADVISORS, bodies.CURATORS, bodies.EXPERTS, bodies.PARTNERS)
"""Bodies without a chair: every seat is a member's."""
SEAT_CHANGED = "seat|"
"""`last_error` of a message cancelled by a change of seats: seat|body|email|old|new."""
SAID_FIELDS = ("email", "name", "language")
"""The fields whose problems have words of their own; any other says it cannot be used."""
EDITABLE = ("name", "name_en", "division", "language", "digest", "admin", "active")

SeatKinds = Any
"""(body key -> role) -> the kinds of message someone with those seats receives."""


def _why(why: str, problems: Problems) -> None:
    if not why.strip():
        problems["why"] = ("people.why_missing", {})


def checked_person(values: dict[str, Any]) -> PersonIn:
    """The form's values as the configuration's `[[people]]` entry, or the problems by field."""
    try:
        return PersonIn.model_validate({k: v for k, v in values.items() if k in PersonIn.model_fields})
    except ValidationError as error:
        problems: Problems = {}
        for e in error.errors():
            where = str(e["loc"][0]) if e["loc"] else "email"
            problems.setdefault(where, (f"people.bad_{where}" if where in SAID_FIELDS else "people.bad_value", {}))
        raise FieldProblems(problems) from None


def _record(conn: Connection, *, workflow: str, instance: int, tenant: int, trigger: str, by: Actor,
            now: datetime, why: str, fields: dict[str, Any]) -> None:
    audit.record(conn, workflow=workflow, instance_id=instance, tenant_id=tenant, at=to_storage(now), actor=by.email,
                 trigger=trigger, from_state="", to_state="", version=0, comment=why.strip(), fields=fields)


def add_person(conn: Connection, *, tenant: int, values: dict[str, Any], why: str, by: Actor,
               now: datetime) -> int:
    """A new person (no seat or action yet: give them one next). Only a deployment admin
    may make someone a deployment admin."""
    problems: Problems = {}
    _why(why, problems)
    try:
        person = checked_person(values)
    except FieldProblems as bad:
        problems |= bad.problems
        raise FieldProblems(problems) from None
    if conn.execute(select(Person.id).where(Person.email == person.email)).first():
        problems["email"] = ("people.exists", {"email": person.email})
    if person.admin and not by.is_admin:
        problems["admin"] = ("people.admin_only", {})
    if problems:
        raise FieldProblems(problems)
    row = person.model_dump() | {"active": True}
    person_id = int(conn.execute(insert(Person).values(**row)).inserted_primary_key[0])  # type: ignore[index]
    _record(conn, workflow="person", instance=person_id, tenant=tenant, trigger="add_person", by=by, now=now,
            why=why, fields={"email": person.email, "changes": {k: [None, row[k]] for k in PERSON_FIELDS if row[k]}})
    return person_id


def _may_edit(conn: Connection, *, person_id: int, by: Actor) -> bool:
    """A deployment admin edits anyone; a strategy's admin, someone with a part only in
    strategies they administer (or in none yet)."""
    if by.is_admin:
        return True
    mine = bodies.administered(conn, person_id=by.person_id or 0) or set()
    seated = bodies.seated_in(conn, person_id=person_id)
    owning = set(conn.execute(select(Action.strategy_id).join(ActionOwner, ActionOwner.action_id == Action.id)
                              .where(ActionOwner.person_id == person_id)).scalars())
    return (seated | owning) <= mine


def edit_person(conn: Connection, *, tenant: int, email: str, values: dict[str, Any], why: str, by: Actor,
                now: datetime) -> dict[str, list[Any]]:
    """Change a person's name, division, language, digest, deployment admin or whether they
    are active (removed people stay in the audit, named). Returns the changes."""
    row = conn.execute(select(Person.__table__).where(Person.email == email.strip().lower())).first()  # type: ignore[attr-defined]
    if row is None:
        raise NotFound(Said(f"{email} is not a person", "people.unknown", email=email))
    if not _may_edit(conn, person_id=row.id, by=by):
        raise WrongRole(f"{by.email} does not administer every strategy {row.email} has a part in",
                        roles=("admin",), holders=())
    problems: Problems = {}
    _why(why, problems)
    wanted = {k: values.get(k, getattr(row, k)) for k in EDITABLE}
    try:
        checked_person({"email": row.email, **{k: v for k, v in wanted.items() if k != "active"}})
    except FieldProblems as bad:
        problems |= bad.problems
    if wanted["admin"] != row.admin and not by.is_admin:
        problems["admin"] = ("people.admin_only", {})
    if not wanted["active"] and row.id == by.person_id:
        problems["active"] = ("people.not_yourself", {})
    if problems:
        raise FieldProblems(problems)
    changes = {k: [getattr(row, k), wanted[k]] for k in EDITABLE if getattr(row, k) != wanted[k]}
    if not changes:
        return {}
    conn.execute(update(Person).where(Person.id == row.id).values(  # type: ignore[arg-type]
        **{k: new for k, (_, new) in changes.items()}))
    _record(conn, workflow="person", instance=row.id, tenant=tenant, trigger="edit_person", by=by, now=now, why=why,
            fields={"email": row.email, "changes": changes})
    return changes


@dataclass(frozen=True)
class SeatChange:
    body: str
    email: str
    role: str
    """chair, vice_chair, member, or "" to leave the body"""
    why: str


@dataclass
class SeatPlan:
    """What a change of seats would do: the body's seats before and after, who moved, and
    the queued messages no longer due to them."""

    change: SeatChange
    council_id: int
    before: list[list[str]]
    after: list[list[str]]
    cancelled: list[dict[str, Any]] = field(default_factory=list)

    @property
    def moved(self) -> list[tuple[str, str, str]]:
        """(email, role before, role after), "" for no seat."""
        old, new = dict(map(tuple, self.before)), dict(map(tuple, self.after))  # type: ignore[arg-type]
        return [(e, old.get(e, ""), new.get(e, "")) for e in sorted({*old, *new}) if old.get(e) != new.get(e)]


def _after(before: list[list[str]], change: SeatChange) -> list[list[str]]:
    """The seats with the change: a new chair (or vice chair) takes the seat from whoever
    held it, who stays on as a member."""
    seats = {e: r for e, r in before if e != change.email}
    if change.role in ("chair", "vice_chair"):
        seats = {e: ("member" if r == change.role else r) for e, r in seats.items()}
    if change.role:
        seats[change.email] = change.role
    return sorted([e, r] for e, r in seats.items())


def _check_seats(change: SeatChange, before: list[list[str]], after: list[list[str]]) -> Problems:
    problems: Problems = {}
    _why(change.why, problems)
    if change.role and change.role not in SEAT_ROLES:
        problems["role"] = ("seats.bad_role", {})
    elif change.role not in ("", "member") and change.body in MEMBERS_ONLY:
        problems["role"] = ("seats.members_only", {})
    if not change.role and change.email not in {e for e, _ in before}:
        problems["email"] = ("seats.not_seated", {"email": change.email})
    if change.body not in MEMBERS_ONLY and not any(r == "chair" for _, r in after):
        problems["role"] = ("seats.no_chair", {})
    if change.body == bodies.SECRETARIAT and not after:
        problems["email"] = ("seats.empty_secretariat", {})
    return problems


def plan_seat(conn: Connection, seat_kinds: Iterable[SeatKinds], *, tenant: int, change: SeatChange) -> SeatPlan:
    """The preview: nothing is written."""
    council_id = conn.execute(select(Council.id).where(Council.strategy_id == tenant,
                                                       Council.key == change.body)).scalar()
    if council_id is None:
        raise NotFound(Said(f"no body {change.body!r}", "seats.no_body"))
    problems: Problems = {}
    person = conn.execute(select(Person.id).where(Person.email == change.email, Person.active)).first()
    if person is None:
        problems["email"] = ("people.unknown", {"email": change.email})
    before = seats_now(conn, council_id)
    after = _after(before, change)
    problems = _check_seats(change, before, after) | problems
    if problems:
        raise FieldProblems(problems)
    plan = SeatPlan(change, council_id, before, after)
    plan.cancelled = _no_longer_due(conn, list(seat_kinds), tenant=tenant, plan=plan)
    return plan


def _no_longer_due(conn: Connection, seat_kinds: list[SeatKinds], *, tenant: int,
                   plan: SeatPlan) -> list[dict[str, Any]]:
    """Queued messages of this strategy to someone who moved, of a kind their old seats
    received and their new ones do not."""
    found = []
    for email, old_role, new_role in plan.moved:
        person = conn.execute(select(Person.id).where(Person.email == email)).scalar()
        seats = bodies.seats_of(conn, strategy=tenant, person_id=person or 0)
        old = seats | ({plan.change.body: old_role} if old_role else {})
        new = {k: v for k, v in seats.items() if k != plan.change.body} | (
            {plan.change.body: new_role} if new_role else {})
        if not old_role:
            old.pop(plan.change.body, None)
        lost = set().union(*(kinds(old) - kinds(new) for kinds in seat_kinds)) if seat_kinds else set()
        if not lost:
            continue
        rows = conn.execute(select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.due).where(
            OutboxMessage.status == "queued", OutboxMessage.tenant_id == tenant, OutboxMessage.recipient == email,
            OutboxMessage.kind.in_(sorted(lost))))  # type: ignore[attr-defined]
        found += [{"id": r.id, "kind": r.kind, "recipient": email, "due": r.due, "old": old_role, "new": new_role}
                  for r in rows]
    return found


def save_seat(conn: Connection, seat_kinds: Iterable[SeatKinds], *, tenant: int, change: SeatChange, by: Actor,
              now: datetime) -> SeatPlan:
    """Store the seats, record who and why with every move, cancel what is no longer due;
    in the caller's transaction."""
    plan = plan_seat(conn, seat_kinds, tenant=tenant, change=change)
    ids = dict(conn.execute(select(Person.email, Person.id).where(
        Person.email.in_([e for e, _ in plan.after]))).all())  # type: ignore[attr-defined]
    conn.execute(delete(Membership).where(Membership.council_id == plan.council_id))  # type: ignore[arg-type]
    if plan.after:
        conn.execute(insert(Membership), [{"council_id": plan.council_id, "person_id": ids[e], "role": r}
                                          for e, r in plan.after])
    names = conn.execute(select(Council.name_ja, Council.name_en).where(Council.id == plan.council_id)).one()
    _record(conn, workflow="body", instance=plan.council_id, tenant=tenant, trigger="set_seat", by=by, now=now,
            why=change.why, fields={"body": change.body, "body_name": list(names), "email": change.email,
                                    "moved": [list(m) for m in plan.moved]})
    by_reason: dict[str, list[int]] = {}
    for m in plan.cancelled:
        reason = f"{SEAT_CHANGED}{change.body}|{m['recipient']}|{m['old']}|{m['new']}"
        by_reason.setdefault(reason, []).append(m["id"])
    for reason, message_ids in by_reason.items():
        outbox.cancel(conn, message_ids, reason)
    return plan


def rename_body(conn: Connection, *, tenant: int, body: str, name_ja: str, name_en: str, why: str, by: Actor,
                now: datetime) -> dict[str, list[str]]:
    """A body's names in Japanese and English, as its members call it."""
    row = conn.execute(select(Council.id, Council.name_ja, Council.name_en).where(
        Council.strategy_id == tenant, Council.key == body)).first()
    if row is None:
        raise NotFound(Said(f"no body {body!r}", "seats.no_body"))
    problems: Problems = {}
    _why(why, problems)
    for key, value in (("name_ja", name_ja), ("name_en", name_en)):
        if not value.strip() or len(value) > 200:
            problems[key] = ("people.bad_name", {})
    if problems:
        raise FieldProblems(problems)
    changes = {k: [getattr(row, k), v.strip()] for k, v in (("name_ja", name_ja), ("name_en", name_en))
               if getattr(row, k) != v.strip()}
    if changes:
        conn.execute(update(Council).where(Council.id == row.id).values(  # type: ignore[arg-type]
            **{k: new for k, (_, new) in changes.items()}))
        _record(conn, workflow="body", instance=row.id, tenant=tenant, trigger="rename_body", by=by, now=now,
                why=why, fields={"body": body, "changes": changes})
    return changes


__all__ = ["SEAT_CHANGED", "FieldProblems", "SeatChange", "SeatPlan", "add_person", "edit_person", "plan_seat",
           "rename_body", "save_seat"]
