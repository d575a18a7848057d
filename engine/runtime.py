"""Firing a trigger on a persisted instance: the whole decision and its record, in one
transaction.

Order of checks, each refusal saying what would work instead: the instance exists; the
caller's version is current; the trigger exists from this state (else: what does); the
actor holds a role that may fire it (else: who does); the fields are valid (every problem
named); the guards pass (every reason given). Then the state moves with an optimistic
version check, the store applies what the trigger recorded, and an audit row is written.
Automatic follow-ups (e.g. "start at once if the plan is approved after the year began")
fire in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table, bindparam, update

from engine import audit, db
from engine.clock import to_storage
from engine.errors import GuardRefused, NotAllowedNow, NotFound, Stale, WrongRole
from engine.fields import Raw, describe, validate
from engine.machine import SpecMachine
from engine.spec import SYSTEM, Trigger, WorkflowSpec

MAX_AUTOMATIC_STEPS = 8


@dataclass(frozen=True)
class Actor:
    email: str
    person_id: int | None = None
    is_admin: bool = False

    @property
    def is_system(self) -> bool:
        return self.email == SYSTEM


SYSTEM_ACTOR = Actor(email=SYSTEM)


@dataclass(frozen=True)
class Instance:
    id: int
    state: str
    version: int
    data: Mapping[str, Any]


@dataclass
class FireContext:
    conn: Connection
    instance: Instance
    trigger: Trigger
    actor: Actor
    fields: dict[str, Any]
    now: datetime
    store: Store

    @property
    def comment(self) -> str | None:
        return self.fields.get("comment")


@dataclass(frozen=True)
class Fired:
    instance_id: int
    trigger: str
    from_state: str
    to_state: str
    version: int
    actor: str
    on_behalf: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


class Store(Protocol):
    """What a workflow supplies: how its instances are stored and who holds which role."""

    table: Table
    """Has integer `id`, text `state` and integer `version` columns; an `updated_at`
    column, if there is one, is stamped with the time of every move."""

    def load(self, conn: Connection, instance_id: int) -> Instance | None: ...

    def roles_of(self, conn: Connection, instance: Instance, actor: Actor) -> set[str]: ...

    def holders(self, conn: Connection, instance: Instance, roles: Sequence[str]) -> list[str]:
        """The emails of the people who may act in any of these roles now."""
        ...

    def choices(self, conn: Connection, instance: Instance, source: str) -> Sequence[str]: ...

    def items(self, conn: Connection, instance: Instance, source: str) -> Sequence[str]: ...

    def apply(
        self,
        conn: Connection,
        instance: Instance,
        effects: Sequence[tuple[str, Mapping[str, Any]]],
        ctx: FireContext,
    ) -> None: ...


class Workflow:
    def __init__(self, spec: WorkflowSpec, store: Store) -> None:
        self.spec = spec
        self.store = store
        self.machine = SpecMachine(spec)
        self._updates: dict[tuple[str, ...], Any] = {}
        self._stamps = "updated_at" in store.table.c

    # -- reading -------------------------------------------------------------------------

    def allowed(self, conn: Connection, instance: Instance) -> list[dict[str, Any]]:
        """Each trigger possible from the current state, who may fire it and what it takes."""
        out = []
        for trigger in self.spec.triggers_from(instance.state):
            by = self.store.holders(conn, instance, trigger.roles)
            if SYSTEM in trigger.roles:
                by = [SYSTEM, *by]
            out.append(
                {
                    "trigger": trigger.name,
                    "to": trigger.dest,
                    "by": by,
                    "fields": [
                        describe(
                            f,
                            choices=lambda s: self.store.choices(conn, instance, s),
                            items=lambda s: self.store.items(conn, instance, s),
                        )
                        for f in trigger.fields
                    ],
                }
            )
        return out

    # -- writing -------------------------------------------------------------------------

    def fire(
        self,
        engine: Engine,
        instance_id: int,
        trigger: str,
        actor: Actor,
        raw: Raw,
        *,
        now: datetime,
        expected_version: int | None = None,
    ) -> list[Fired]:
        """Fire in a transaction of its own; returns the event and any automatic follow-ups."""
        with db.writing(engine) as conn:
            return self.fire_in(
                conn, instance_id, trigger, actor, raw, now=now, expected_version=expected_version
            )

    def fire_in(
        self,
        conn: Connection,
        instance_id: int,
        trigger_name: str,
        actor: Actor,
        raw: Raw,
        *,
        now: datetime,
        expected_version: int | None = None,
    ) -> list[Fired]:
        instance = self.store.load(conn, instance_id)
        if instance is None:
            raise NotFound(f"no {self.spec.name} with id {instance_id}")
        if expected_version is not None and expected_version != instance.version:
            raise Stale(
                f"changed by someone else since you read it (now version {instance.version}, "
                f"you had {expected_version}); reload and try again"
            )
        trigger = self._trigger(instance, trigger_name)
        on_behalf = self._authorize(conn, instance, trigger, actor)
        store = self.store
        fields = validate(
            trigger,
            raw,
            choices=lambda s: store.choices(conn, instance, s),
            items=lambda s: store.items(conn, instance, s),
        )
        ctx = FireContext(conn, instance, trigger, actor, fields, now, store)
        outcome = self.machine.fire(instance.state, trigger.name, ctx)
        if not outcome.fired or outcome.dest is None:
            raise GuardRefused(outcome.reasons or [f"{trigger.name} is not possible now"])
        version = instance.version + 1
        columns = {"state": outcome.dest, "version": version, **outcome.changes.columns}
        if self._stamps:
            columns["updated_at"] = to_storage(now)
        result = conn.execute(
            self._update_for(tuple(columns)),
            {"_id": instance.id, "_version": instance.version, **{f"_v_{k}": v for k, v in columns.items()}},
        )
        if result.rowcount != 1:
            raise Stale("changed by someone else while this was being saved; reload and try again")
        store.apply(conn, instance, outcome.changes.effects, ctx)
        audit_fields = {k: v for k, v in fields.items() if k != "comment"}
        audit.record(
            conn, workflow=self.spec.name, instance_id=instance.id, at=to_storage(now), actor=actor.email,
            on_behalf=on_behalf, trigger=trigger.name, from_state=instance.state, to_state=outcome.dest,
            version=version, comment=fields.get("comment"), fields=audit_fields,
        )
        fired = [
            Fired(instance.id, trigger.name, instance.state, outcome.dest, version,
                  actor.email, on_behalf, audit_fields)
        ]
        return fired + self._follow_up(conn, instance.id, outcome.dest, version, now, depth=0)

    def _update_for(self, names: tuple[str, ...]) -> Any:
        """The versioned UPDATE for this set of columns, built once: the hot path reuses it."""
        statement = self._updates.get(names)
        if statement is None:
            table = self.store.table
            statement = (
                update(table)
                .where(table.c.id == bindparam("_id"), table.c.version == bindparam("_version"))
                .values({name: bindparam(f"_v_{name}", type_=table.c[name].type) for name in names})
            )
            self._updates[names] = statement
        return statement

    def _follow_up(
        self, conn: Connection, instance_id: int, state: str, version: int, now: datetime,
        *, depth: int,
    ) -> list[Fired]:
        if depth >= MAX_AUTOMATIC_STEPS:
            return []
        for trigger in self.spec.triggers_from(state):
            if not trigger.automatic:
                continue
            try:
                return self.fire_in(
                    conn, instance_id, trigger.name, SYSTEM_ACTOR, {}, now=now,
                    expected_version=version,
                )
            except GuardRefused:
                continue
        return []

    def _trigger(self, instance: Instance, name: str) -> Trigger:
        trigger = self.spec.trigger(name, instance.state)
        if trigger is not None:
            return trigger
        allowed = [t.name for t in self.spec.triggers_from(instance.state)]
        now_ok = ", ".join(allowed) if allowed else "nothing (this is a final state)"
        known = name in self.spec.trigger_names()
        what = f"{name} is not possible" if known else f"there is no trigger {name!r}"
        raise NotAllowedNow(
            f"{what} in state {instance.state}; possible now: {now_ok}",
            state=instance.state,
            allowed=allowed,
        )

    def _authorize(
        self, conn: Connection, instance: Instance, trigger: Trigger, actor: Actor
    ) -> str | None:
        """Return `on_behalf` ('system' when an admin stands in for the clock)."""
        if SYSTEM in trigger.roles and (actor.is_system or actor.is_admin):
            return None if actor.is_system else SYSTEM
        if not actor.is_system:
            roles = self.store.roles_of(conn, instance, actor)
            if roles.intersection(trigger.roles):
                return None
        holders = self.store.holders(conn, instance, trigger.roles)
        who = ", ".join(holders) if holders else "nobody holds it now"
        roles_text = " or ".join(trigger.roles)
        if SYSTEM in trigger.roles:
            who = "fired by the calendar; an admin may fire it by hand" + (
                f"; also {', '.join(holders)}" if holders else ""
            )
        raise WrongRole(
            f"{actor.email} may not fire {trigger.name}: it needs {roles_text} ({who})",
            roles=trigger.roles,
            holders=holders,
        )

