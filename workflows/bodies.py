"""Who sits where in a strategy: its councils, its secretariat and its advisors are bodies
of that strategy, with seats (chair, vice chair, member). People are global; their seats,
and so their roles, belong to one strategy each.

A vice chair holds the chair's role while the chair is marked absent. The secretariat's
members are the strategy's admins, beside the deployment's own admins (`admin = true`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, or_, select
from sqlalchemy.orm import aliased

from engine import db
from workflows.models import Action, ActionOwner, Council, Membership, Person

SECRETARIAT = "secretariat"
ADVISORS = "advisors"
CURATORS = "curators"
EXPERTS = "experts"
PARTNERS = "partners"


@cache
def chair_seats() -> Any:
    """Membership rows that carry a body chair's role right now."""
    chair = aliased(Membership)
    chair_person = aliased(Person)
    chair_absent = exists().where(
        chair.council_id == Membership.council_id,
        chair.role == "chair",
        chair.person_id == chair_person.id,
        chair_person.absent.is_(True),  # type: ignore[attr-defined]
    )
    return or_(Membership.role == "chair", and_(Membership.role == "vice_chair", chair_absent))


def members(strategy: Any, key: str) -> Any:
    """(id, email) of the active members of one body of a strategy (`strategy`: an id or a
    column)."""
    return (
        select(Person.id, Person.email)
        .join(Membership, Membership.person_id == Person.id)
        .join(Council, Council.id == Membership.council_id)
        .where(Council.strategy_id == strategy, Council.key == key, Person.active)
    )


def chairs(strategy: Any, key: str) -> Any:
    """Whoever holds the body chair's role now and is not away: while the chair is marked
    absent, the vice chair."""
    return members(strategy, key).where(chair_seats(), Person.absent.is_(False))  # type: ignore[attr-defined]


def admins(strategy: Any) -> Any:
    """(id, email) of the strategy's admins: its secretariat and the deployment's admins."""
    return members(strategy, SECRETARIAT).union(
        select(Person.id, Person.email).where(Person.admin, Person.active))


def sits_on(conn: Connection, *, strategy: int, person_id: int, key: str) -> bool:
    return conn.execute(
        select(Membership.id).join(Council, Council.id == Membership.council_id)
        .where(Membership.person_id == person_id, Council.strategy_id == strategy, Council.key == key)
    ).first() is not None


def is_admin(conn: Connection, *, strategy: int, person_id: int) -> bool:
    return conn.execute(
        select(Person.id).where(Person.id == person_id, Person.active, or_(
            Person.admin, Person.id.in_(select(members(strategy, SECRETARIAT).subquery().c.id))))  # type: ignore[union-attr]
    ).first() is not None


def seats_of(conn: Connection, *, strategy: int, person_id: int) -> dict[str, str]:
    """Body key -> seat (chair, vice_chair, member) for this person in this strategy."""
    return dict(conn.execute(
        select(Council.key, Membership.role).join(Membership, Membership.council_id == Council.id)
        .where(Membership.person_id == person_id, Council.strategy_id == strategy)
    ).all())


def chairing(conn: Connection, *, strategy: int, person_id: int) -> set[str]:
    """The bodies whose chair's role this person holds now (a vice chair while the chair is away)."""
    return set(conn.execute(
        select(Council.key).join(Membership, Membership.council_id == Council.id)
        .where(Membership.person_id == person_id, Council.strategy_id == strategy, chair_seats())
    ).scalars())


def strategies_of(conn: Connection, person_id: int) -> set[int] | None:
    """The strategies a person has any part in (a seat, or an action they own); None for a
    deployment admin, who has a part in all. Every API request and page asks it."""
    person, _ = _parts()
    found = person.first(conn, {"person": person_id})
    if found is None:
        return set()
    if found["admin"]:
        return None
    return parts_of(conn, person_id)


def parts_of(conn: Connection, person_id: int) -> set[int]:
    """`strategies_of` for someone already known to be active and not the deployment's
    admin (a request's visitor, read with their token or session)."""
    return {strategy for (strategy,) in _parts()[1].tuples(conn, {"person": person_id})}


@cache
def _parts() -> tuple[db.Prepared, db.Prepared]:
    """Compiled once (building the union anew cost about a millisecond a request)."""
    person = db.Prepared(select(Person.admin).where(Person.id == bindparam("person"), Person.active))
    seated = select(Council.strategy_id).join(Membership, Membership.council_id == Council.id).where(
        Membership.person_id == bindparam("person"))
    owning = select(Action.strategy_id).join(ActionOwner, ActionOwner.action_id == Action.id).where(
        ActionOwner.person_id == bindparam("person"))
    return person, db.Prepared(seated.union(owning))


def body_names(conn: Connection, *, strategy: int) -> dict[str, tuple[str, str]]:
    return {k: (ja, en) for k, ja, en in conn.execute(
        select(Council.key, Council.name_ja, Council.name_en).where(Council.strategy_id == strategy))}


def administered(conn: Connection, *, person_id: int) -> set[int] | None:
    """The strategies this person administers (on their secretariat); None: every one (a
    deployment admin)."""
    person = conn.execute(select(Person.admin).where(Person.id == person_id, Person.active)).first()
    if person is None:
        return set()
    if person.admin:
        return None
    return set(conn.execute(
        select(Council.strategy_id).join(Membership, Membership.council_id == Council.id)
        .where(Membership.person_id == person_id, Council.key == SECRETARIAT)).scalars())


def seated_in(conn: Connection, *, person_id: int) -> set[int]:
    """The strategies in whose bodies this person has a seat."""
    return set(conn.execute(
        select(Council.strategy_id).join(Membership, Membership.council_id == Council.id)
        .where(Membership.person_id == person_id)).scalars())


def administers_any(conn: Connection, *, person_id: int) -> bool:
    """A deployment admin, or on some strategy's secretariat."""
    secretariats = select(Membership.person_id).join(Council, Council.id == Membership.council_id).where(
        Council.key == SECRETARIAT)
    return conn.execute(select(Person.id).where(
        Person.id == person_id, Person.active, or_(Person.admin, Person.id.in_(secretariats)))  # type: ignore[union-attr]
    ).first() is not None


class SeatedInTenant:
    """The stores' answer to "does this person sit in that body of the instance's strategy"
    (for drafting a body chair's step)."""

    def sits_in(self, conn: Connection, instance: Any, actor: Any, body: str) -> bool:
        if actor.person_id is None or instance.tenant is None:
            return False
        return sits_on(conn, strategy=instance.tenant, person_id=actor.person_id, key=body)
