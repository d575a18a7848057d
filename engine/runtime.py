"""Firing a trigger on a persisted instance: the whole decision and its record, in one
transaction.

Order of checks, each refusal saying what would work instead: the instance exists; the
caller's version is current; the trigger exists from this state (else: what does); the
actor holds a role that may fire it (else: who does); the fields are valid (every problem
named); the guards pass (every reason given). Then the state moves with an optimistic
version check, the store applies what the trigger recorded, and an audit row is written.
Automatic follow-ups (e.g. "start at once if the plan is approved after the year began")
fire in the same transaction.

A trigger from `OPENING` brings an instance into being by the same checks, against a
proposed instance the store builds (e.g. an opinion asked about a cycle).

`options` is the one answer to "what may this person do here now, and if not, why": the
pages, the CLI and the API all ask it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table, bindparam, update

from engine import audit, db
from engine.clock import to_storage
from engine.errors import GuardRefused, NotAllowedNow, NotFound, Said, Stale, WrongRole
from engine.fields import COMMENT, Raw, describe, validate
from engine.machine import SpecMachine
from engine.spec import OPENING, STAND_IN, SYSTEM, Field, Label, Trigger, WorkflowSpec

MAX_AUTOMATIC_STEPS = 8


@dataclass(frozen=True)
class Actor:
    email: str
    person_id: int | None = None
    is_admin: bool = False
    """A deployment-wide admin; who stands in for the clock on an instance is the store's say."""

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
    tenant: int | None = None
    """Whose instance it is (a strategy, for the city's workflows); audit and outbox rows carry it."""


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


@dataclass
class BulkContext:
    """What a guard's SQL form and a recorder see when the clock fires a trigger on a set."""

    conn: Connection
    store: Store
    trigger: Trigger
    now: datetime
    tenant: int | None
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def comment(self) -> None:
        return None

    @property
    def instance(self) -> Instance:
        raise BulkUnsupported(f"{self.trigger.name} records something of each instance: it cannot be fired in bulk")


class BulkUnsupported(ValueError):
    """The trigger cannot be fired on a set in one statement (a guard without a SQL form,
    effects, or a recorder that reads the instance). Raised before anything is written."""


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


@dataclass(frozen=True)
class Option:
    """One trigger possible from the current state, as one person sees it."""

    trigger: Trigger
    holders: list[str]
    may_fire: bool
    may_draft: bool
    why_not: str | None
    fields: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """The contract of `pdca show --json` and the API: trigger, to, by, fields."""
        by = [SYSTEM, *self.holders] if SYSTEM in self.trigger.roles else list(self.holders)
        return {"trigger": self.trigger.name, "to": self.trigger.dest, "by": by, "fields": self.fields}


class Store(Protocol):
    """What a workflow supplies: how its instances are stored and who holds which role."""

    table: Table
    """Has integer `id`, text `state` and integer `version` columns; an `updated_at`
    column, if there is one, is stamped with the time of every move."""

    def load(self, conn: Connection, instance_id: int) -> Instance | None: ...

    def roles_of(self, conn: Connection, instance: Instance, actor: Actor) -> set[str]:
        """The roles this person holds for this instance now, `STAND_IN` included."""
        ...

    def holders(self, conn: Connection, instance: Instance, roles: Sequence[str]) -> list[str]:
        """The emails of the people who may act in any of these roles now."""
        ...

    def sits_in(self, conn: Connection, instance: Instance, actor: Actor, body: str) -> bool:
        """Whether this person belongs to the body (a council, say) whose chair holds a role."""
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

    def propose(
        self, conn: Connection, parent: Instance | None, fields: Mapping[str, Any], *, tenant: int | None = None
    ) -> Instance:
        """For an opening trigger: the instance it would create (id 0, state `OPENING`), with
        what its roles and guards need to know; about `parent` (another workflow's
        instance), or in `tenant`."""
        ...

    def insert(self, conn: Connection, proposed: Instance, columns: Mapping[str, Any], *, now: datetime) -> int:
        """Store a new instance in the opening trigger's destination state (given in
        `columns['state']`); return its id."""
        ...


class Workflow:
    def __init__(self, spec: WorkflowSpec, store: Store) -> None:
        self.spec = spec
        self.store = store
        self.machine = SpecMachine(spec)
        self._updates: dict[tuple[str, ...], db.Prepared] = {}
        self._stamps = "updated_at" in store.table.c

    @property
    def name(self) -> str:
        return self.spec.name

    # -- reading -------------------------------------------------------------------------

    def options(self, conn: Connection, instance: Instance, actor: Actor | None = None) -> list[Option]:
        """Each trigger possible from the current state: who may fire it, what it takes, and
        whether this person may fire it (or prepare it as a draft), else why not."""
        out = []
        for trigger in self.spec.triggers_from(instance.state):
            out.append(self._option(conn, instance, trigger, actor))
        return out

    def opening_options(
        self, conn: Connection, parent: Instance | None, actor: Actor, *, tenant: int | None = None
    ) -> list[Option]:
        """The opening triggers this person could fire about `parent` now (guards aside:
        they need the fields)."""
        proposed = self.store.propose(conn, parent, {}, tenant=tenant)
        return [self._option(conn, proposed, t, actor) for t in self.spec.openings]

    def _option(self, conn: Connection, instance: Instance, trigger: Trigger, actor: Actor | None) -> Option:
        holders = self.store.holders(conn, instance, trigger.roles)
        may, why = False, "sign in to act"
        if actor is not None:
            try:
                self._authorize(conn, instance, trigger, actor)
                may, why = True, None
            except WrongRole as exc:
                why = exc.message
        drafting = may
        if not may and actor is not None and trigger.fields:
            for role in trigger.roles:
                declared = self.spec.role(role)
                if declared is not None and declared.body and self.store.sits_in(conn, instance, actor, declared.body):
                    drafting = True
                    break
        fields = [
            describe(f, choices=lambda s: self.store.choices(conn, instance, s),
                     items=lambda s: self.store.items(conn, instance, s), labels=self._choice_labels(conn, instance),
                     fieldsets=self._fieldsets(conn, instance))
            for f in trigger.fields
        ]
        return Option(trigger, holders, may, drafting and bool(trigger.fields), why, fields)

    def allowed(self, conn: Connection, instance: Instance) -> list[dict[str, Any]]:
        """Each trigger possible from the current state, who may fire it and what it takes."""
        return [o.as_dict() for o in self.options(conn, instance)]

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

    def _choice_labels(self, conn: Connection, instance: Instance) -> Callable[[str], Mapping[str, Label]] | None:
        """The store's words for the choices of a list it supplies (a grade's meaning), if it has any."""
        said = getattr(self.store, "choice_labels", None)
        return (lambda source: said(conn, instance, source)) if said else None

    def _fieldsets(self, conn: Connection, instance: Instance) -> Callable[[str], Sequence[Field]] | None:
        """The fields a `fieldset` field stands for, from the store (what this instance's
        strategy asks of a report, say), if it declares any."""
        declared = getattr(self.store, "fieldset", None)
        return (lambda source: declared(conn, instance, source)) if declared else None

    def fire_in(
        self,
        conn: Connection,
        instance_id: int | Instance,
        trigger_name: str,
        actor: Actor,
        raw: Raw,
        *,
        now: datetime,
        expected_version: int | None = None,
    ) -> list[Fired]:
        """Fire in the caller's transaction. `instance_id` may be the instance itself, as
        the store read it in this same transaction (a request that found it by its key
        reads it once)."""
        instance = instance_id if isinstance(instance_id, Instance) else self.store.load(conn, instance_id)
        if instance is None:
            raise NotFound(Said(f"no {self.spec.name} with id {instance_id}", "refused.not_found"))
        if expected_version is not None and expected_version != instance.version:
            raise Stale(Said(
                f"changed by someone else since you read it (now version {instance.version}, "
                f"you had {expected_version}); reload and try again",
                "refused.stale", now=instance.version, had=expected_version, trigger=trigger_name,
                state=instance.state))
        trigger = self._trigger(instance, trigger_name)
        on_behalf = self._authorize(conn, instance, trigger, actor)
        fields = self._validate(conn, instance, trigger, actor, raw, now)
        ctx = FireContext(conn, instance, trigger, actor, fields, now, self.store)
        outcome = self.machine.fire(instance.state, trigger.name, ctx)
        if not outcome.fired or outcome.dest is None:
            raise GuardRefused(outcome.reasons or [Said(f"{trigger.name} is not possible now", "refused.not_now",
                                                        trigger=trigger.name)])
        version = instance.version + 1
        columns = {"state": outcome.dest, "version": version, **outcome.changes.columns}
        if self._stamps:
            columns["updated_at"] = to_storage(now)
        moved = self._update_for(tuple(columns)).write(
            conn, {"_id": instance.id, "_version": instance.version, **{f"_v_{k}": v for k, v in columns.items()}},
        )
        if moved != 1:
            raise Stale(Said("changed by someone else while this was being saved; reload and try again",
                             "refused.stale_race"))
        self.store.apply(conn, instance, outcome.changes.effects, ctx)
        audit_fields = audit.json_safe({k: v for k, v in fields.items() if k != COMMENT})
        audit.record(
            conn, workflow=self.spec.name, instance_id=instance.id, tenant_id=instance.tenant, at=to_storage(now),
            actor=actor.email, on_behalf=on_behalf, trigger=trigger.name, from_state=instance.state,
            to_state=outcome.dest, version=version, comment=fields.get(COMMENT), fields=audit_fields,
        )
        fired = [
            Fired(instance.id, trigger.name, instance.state, outcome.dest, version,
                  actor.email, on_behalf, audit_fields)
        ]
        return fired + self._follow_up(conn, instance.id, outcome.dest, version, now, depth=0)

    def open(
        self,
        conn: Connection,
        trigger_name: str,
        actor: Actor,
        raw: Raw,
        *,
        now: datetime,
        parent: Instance | None = None,
        tenant: int | None = None,
    ) -> Fired:
        """Bring an instance into being through an opening trigger, with the same checks
        (role, fields, guards), recorder, audit row and version as every step."""
        trigger = self.spec.trigger(trigger_name, OPENING)
        if trigger is None:
            opening = ", ".join(t.name for t in self.spec.openings) or "nothing (instances are opened by the clock)"
            raise NotAllowedNow(Said(f"{trigger_name} does not open a {self.spec.name}; what does: {opening}",
                                     "refused.no_opening", trigger=trigger_name,
                                     allowed=[t.name for t in self.spec.openings]),
                                state=OPENING, allowed=[t.name for t in self.spec.openings])
        proposed = self.store.propose(conn, parent, raw, tenant=tenant)
        on_behalf = self._authorize(conn, proposed, trigger, actor)
        fields = self._validate(conn, proposed, trigger, actor, raw, now)
        ctx = FireContext(conn, proposed, trigger, actor, fields, now, self.store)
        reasons = [r for g in trigger.guards if (r := g.check(ctx)) is not None]
        if reasons:
            raise GuardRefused(reasons)
        changes = trigger.record(ctx) if trigger.record is not None else None
        columns = {"state": trigger.dest, "version": 1, **(changes.columns if changes else {})}
        if self._stamps:
            columns["updated_at"] = to_storage(now)
        instance_id = self.store.insert(conn, proposed, columns, now=now)
        created = self.store.load(conn, instance_id)
        assert created is not None
        if changes is not None and changes.effects:
            # As in every step, effects see the instance as it was before (version 0): what they
            # queue names the version the step made.
            before = Instance(instance_id, OPENING, 0, created.data, created.tenant)
            self.store.apply(conn, before, changes.effects, FireContext(conn, before, trigger, actor, fields, now,
                                                                        self.store))
        audit_fields = audit.json_safe({k: v for k, v in fields.items() if k != COMMENT})
        audit.record(
            conn, workflow=self.spec.name, instance_id=instance_id, tenant_id=created.tenant, at=to_storage(now),
            actor=actor.email, on_behalf=on_behalf, trigger=trigger.name, from_state=OPENING, to_state=trigger.dest,
            version=1, comment=fields.get(COMMENT), fields=audit_fields,
        )
        self._follow_up(conn, instance_id, trigger.dest, 1, now, depth=0)
        return Fired(instance_id, trigger.name, OPENING, trigger.dest, 1, actor.email, on_behalf, audit_fields)

    def _validate(
        self, conn: Connection, instance: Instance, trigger: Trigger, actor: Actor, raw: Raw, now: datetime
    ) -> dict[str, Any]:
        store = self.store

        def check(f: Any, value: Any) -> str | None:
            return f.check(value, FireContext(conn, instance, trigger, actor, {}, now, store))

        return validate(
            trigger,
            raw,
            choices=lambda s: store.choices(conn, instance, s),
            items=lambda s: store.items(conn, instance, s),
            checks=check,
            fieldsets=self._fieldsets(conn, instance),
        )

    def _update_for(self, names: tuple[str, ...]) -> db.Prepared:
        """The versioned UPDATE for this set of columns, compiled once: the hot path reuses it."""
        statement = self._updates.get(names)
        if statement is None:
            table = self.store.table
            statement = db.Prepared(
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
        key = "refused.final" if not allowed else "refused.not_allowed_now" if known else "refused.no_such_trigger"
        raise NotAllowedNow(
            Said(f"{what} in state {instance.state}; possible now: {now_ok}", key, trigger=name,
                 state=instance.state, allowed=allowed),
            state=instance.state,
            allowed=allowed,
        )

    def _authorize(
        self, conn: Connection, instance: Instance, trigger: Trigger, actor: Actor
    ) -> str | None:
        """Return `on_behalf` ('system' when a person stands in for the clock), or raise
        WrongRole naming who may. A person who holds one of the trigger's own roles acts in
        it, not for the clock (a secretary calling an extra meeting the calendar also calls)."""
        roles: set[str] = set() if actor.is_system else self.store.roles_of(conn, instance, actor)
        if roles.intersection(r for r in trigger.roles if r != SYSTEM):
            return None
        if SYSTEM in trigger.roles and (actor.is_system or STAND_IN in roles):
            return None if actor.is_system else SYSTEM
        holders = self.store.holders(conn, instance, trigger.roles)
        who = ", ".join(holders) if holders else "nobody holds it now"
        roles_text = " or ".join(trigger.roles)
        if SYSTEM in trigger.roles:
            who = "fired by the calendar; an admin may fire it by hand" + (
                f"; also {', '.join(holders)}" if holders else ""
            )
        key = "refused.system_step" if SYSTEM in trigger.roles else "refused.wrong_role"
        raise WrongRole(
            Said(f"{actor.email} may not fire {trigger.name}: it needs {roles_text} ({who})", key,
                 actor=actor.email, trigger=trigger.name, roles=list(trigger.roles), holders=list(holders)),
            roles=trigger.roles,
            holders=holders,
        )
