"""Where exchange topics and their replies live, and who holds which role: anyone with a
part in the topic's strategy participates (a seat in any of its bodies, an action they
own, or a deployment admin); the author is whoever raised it; the secretariat moderates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select

from engine.clock import from_storage, to_storage
from engine.runtime import Actor, Instance
from workflows import bodies
from workflows.basic import BasicStore
from workflows.exchange.spec import AUTHOR, EXCHANGE, OWNERS, PARTICIPANT, PUBLIC_CHOICES, SECRETARIAT, THREAD
from workflows.models import Action, ActionOwner, ExchangeReply, ExchangeTopic, Person
from workflows.tenants import Tenants

if TYPE_CHECKING:
    from engine.runtime import FireContext

topic_table = ExchangeTopic.__table__  # type: ignore[attr-defined]
reply_table = ExchangeReply.__table__  # type: ignore[attr-defined]


class ExchangeStore(BasicStore):
    def __init__(self, tenants: Tenants) -> None:
        super().__init__(topic_table, EXCHANGE, tenants, creator=AUTHOR, members={SECRETARIAT: bodies.SECRETARIAT})

    def unknown_actions(self, conn: Connection, tenant: int | None, codes: Sequence[str]) -> list[str]:
        known = set(conn.execute(select(Action.code).where(Action.strategy_id == tenant)).scalars())
        return [c for c in codes if c not in known]

    def roles_of(self, conn: Connection, instance: Instance, actor: Actor) -> set[str]:
        roles = super().roles_of(conn, instance, actor)
        if actor.person_id is not None and instance.tenant is not None:
            part = bodies.strategies_of(conn, actor.person_id)
            if part is None or instance.tenant in part:
                roles.add(PARTICIPANT)
        return roles

    def holders(self, conn: Connection, instance: Instance, roles: Sequence[str]) -> list[str]:
        """Everyone may take part, so nobody is listed as the one to act; THREAD: the author and
        those who replied, as told of a new reply; OWNERS: the owners of the actions it concerns."""
        emails = super().holders(conn, instance, [r for r in roles if r not in (PARTICIPANT, THREAD, OWNERS)])
        if OWNERS in roles and instance.data.get("actions"):
            owners = conn.execute(select(Person.email).join(ActionOwner, ActionOwner.person_id == Person.id)
                                  .join(Action, Action.id == ActionOwner.action_id)
                                  .where(Action.strategy_id == instance.tenant,
                                         Action.code.in_(list(instance.data["actions"])))  # type: ignore[attr-defined]
                                  .order_by(Person.email)).scalars()
            emails += [e for e in owners if e not in emails]
        if THREAD in roles and instance.id:
            author = super().holders(conn, instance, [AUTHOR])
            replied = conn.execute(select(Person.email).join(reply_table, reply_table.c.person_id == Person.id)
                                   .where(reply_table.c.topic_id == instance.id)
                                   .order_by(reply_table.c.id)).scalars()
            emails += [e for e in [*author, *replied] if e not in emails]
        return emails

    def held_by(self, conn: Connection, *, tenant: int, person_id: int, role: str) -> Any:
        if role == PARTICIPANT:
            return None  # an open topic is nobody's work
        return super().held_by(conn, tenant=tenant, person_id=person_id, role=role)

    def apply(self, conn: Connection, instance: Instance, effects: Sequence[tuple[str, Mapping[str, Any]]],
              ctx: FireContext) -> None:
        for kind, data in effects:
            if kind == "reply":
                conn.execute(insert(reply_table).values(topic_id=instance.id, person_id=ctx.actor.person_id,
                                                        text=data["text"], at=to_storage(ctx.now)))
            elif kind == "notify":
                self.notify(conn, instance, data["kind"], data.get("roles", [AUTHOR]), ctx.now,
                            exclude=(data["except"],) if data.get("except") else ())
            else:
                raise KeyError(kind)

    # -- what pages ask -------------------------------------------------------------------------

    def replies(self, conn: Connection, topic_id: int) -> list[dict[str, Any]]:
        """A topic's replies in the order written, with who wrote them (address included: for staff)."""
        rows = conn.execute(
            select(reply_table.c.id, reply_table.c.text, reply_table.c.at, Person.email, Person.name,
                   Person.name_en, Person.organisation, Person.division)
            .join(Person, Person.id == reply_table.c.person_id)
            .where(reply_table.c.topic_id == topic_id).order_by(reply_table.c.id))
        return [dict(r._mapping) | {"at": from_storage(r.at)} for r in rows]

    def details(self, conn: Connection, instance: Instance, *, today: date | None) -> dict[str, Any]:
        from workflows.exchange.public import record_rows

        out = super().details(conn, instance, today=today)
        out["record_rows"] = record_rows(conn, self, instance.data, instance.tenant)
        return out


__all__ = ["PUBLIC_CHOICES", "ExchangeStore"]
