"""A workflow specification as plain data: states, triggers, roles, fields, guards, deadlines.

A spec says nothing about storage or people; the runtime joins it to a store that knows
both. Keeping it data means the same declaration drives validation, the CLI's help, the
web forms and the diagram.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from engine.runtime import BulkContext, FireContext

SYSTEM = "system"
"""The role of the clock. A person holding `STAND_IN` may fire a system trigger by hand;
the audit says so."""
STAND_IN = "admin"
"""The role that may stand in for the clock; the store says who holds it for an instance."""
OPENING = ""
"""The source of a trigger that brings an instance into being (it has no state before)."""

FieldType = Literal["text", "longtext", "number", "choice", "several", "lines", "measures", "date", "fieldset",
                    "photos"]
"""`several`: any number of the choices (ticked boxes), in the order given; `lines`: a list of
texts (one per repeated value); `measures`: for each item the store
lists (e.g. each indicator of an action) either a number or a reason why there is none;
`fieldset`: the fields the store declares for this instance (what one strategy asks of a
report beyond the spec's own, say), each checked like a field of the trigger; `photos`:
files sent with the form (their bytes), which the field's `check` judges and the recorder
keeps as it sees fit."""


@dataclass(frozen=True)
class Label:
    ja: str
    en: str

    def __call__(self, language: str) -> str:
        return self.ja if language == "ja" else self.en


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    label: Label
    required: bool = True
    choices: tuple[str, ...] | str | None = None
    """Fixed choices, or the name of a list the store provides (e.g. the grade scale)."""
    items: str | None = None
    """For `measures`: the name of the item list the store provides; for `fieldset`, the
    name of the field list it provides."""
    labels: Mapping[str, Label] = field(default_factory=dict)
    """For `choice` with fixed choices: each value in words (the value itself is for programs)."""
    invalid: Label | None = None
    """For `choice`: what a value outside the choices is, in words ("is not an advisor ...")."""
    check: Callable[[Any, FireContext], str | None] | None = None
    """A check of the parsed value that needs the instance or the time (a date after
    today, say): None when fine, else the problem, reported with the other fields'."""


@dataclass(frozen=True)
class Guard:
    """A condition on firing. `check` returns None when satisfied, else a reason a person
    can act on ("indicator 'wetland area' has no value for FY2026; return the report").

    `sql`, if given, says the same as a SQL condition on the store's table, so the clock
    can fire the trigger on a whole set of instances in one statement; a trigger with a
    guard that has no SQL form cannot be fired in bulk."""

    name: str
    check: Callable[[FireContext], str | None]
    sql: Callable[[BulkContext], Any] | None = None


@dataclass(frozen=True)
class Role:
    """Who may fire a trigger. `body`: the group of people (a council, say) whose chair holds
    this role; its members may prepare the step as a draft for the holder to fire, and see
    what waits for it."""

    name: str
    label: Label
    body: str | None = None


@dataclass(frozen=True)
class Changes:
    """What a trigger records: column values for the instance row, and named effects on
    other records that the store knows how to apply in the same transaction."""

    columns: Mapping[str, Any] = field(default_factory=dict)
    effects: Sequence[tuple[str, Mapping[str, Any]]] = ()


Recorder = Callable[["FireContext"], Changes]


@dataclass(frozen=True)
class Trigger:
    name: str
    source: str
    """The state it fires from; `OPENING` for a trigger that creates the instance."""
    dest: str
    roles: tuple[str, ...]
    label: Label
    fields: tuple[Field, ...] = ()
    guards: tuple[Guard, ...] = ()
    record: Recorder | None = None
    automatic: bool = False
    """Fire as the system as soon as the source state is entered and the guards pass."""
    optional: bool = False
    """A step one may take but nobody is waited for (withdrawing a request, say)."""
    choice_of: Label | None = None
    """Steps from one state with the same `choice_of` are one decision: one form, the step
    chosen among them ("対応方針": continue, revise, complete, discontinue)."""
    confirm: bool = False
    """A step that cannot be undone: the person confirms it before it is taken."""

    @property
    def opens(self) -> bool:
        return self.source == OPENING

    def takes(self, name: str) -> bool:
        return any(f.name == name for f in self.fields)


@dataclass(frozen=True)
class State:
    name: str
    label: Label
    deadline: str | None = None
    """The calendar milestone by which whoever must act here is due."""
    final: bool = False

    @property
    def parent(self) -> str | None:
        head, _, tail = self.name.rpartition(".")
        return head if tail and head else None


@dataclass(frozen=True)
class WorkflowSpec:
    """A process as data. Everything that follows from it (who waits where, which body a
    role belongs to, when each waiting state is due) is asked of it, never retyped."""

    name: str
    states: tuple[State, ...]
    initial: str
    triggers: tuple[Trigger, ...]
    """The steps from state to state."""
    roles: tuple[Role, ...] = ()
    label: Label = Label("", "")
    openings: tuple[Trigger, ...] = ()
    """The triggers that bring an instance into being (source `OPENING`)."""
    _by_source: dict[str, tuple[Trigger, ...]] = field(init=False, repr=False, compare=False)
    _by_name: dict[str, tuple[Trigger, ...]] = field(init=False, repr=False, compare=False)
    _states: dict[str, State] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = {s.name for s in self.states}
        problems = [
            f"trigger {t.name}: unknown state {s!r}"
            for t in self.triggers
            for s in (t.source, t.dest)
            if s not in names
        ]
        problems += [f"opening {t.name}: its source must be OPENING and its dest a state"
                     for t in self.openings if t.source != OPENING or t.dest not in names]
        if self.initial not in names:
            problems.append(f"unknown initial state {self.initial!r}")
        declared = {r.name for r in self.roles} | {SYSTEM, STAND_IN}
        problems += [
            f"trigger {t.name}: role {role!r} is not declared in the spec's roles"
            for t in (*self.triggers, *self.openings) for role in t.roles if self.roles and role not in declared
        ]
        seen: set[tuple[str, str]] = set()
        for t in self.triggers:
            if (t.name, t.source) in seen:
                problems.append(f"trigger {t.name} declared twice from {t.source}")
            seen.add((t.name, t.source))
        if problems:
            raise ValueError(f"workflow {self.name}: " + "; ".join(problems))
        by_source: dict[str, list[Trigger]] = {}
        by_name: dict[str, list[Trigger]] = {}
        for t in (*self.triggers, *self.openings):
            by_source.setdefault(t.source, []).append(t)
            by_name.setdefault(t.name, []).append(t)
        object.__setattr__(self, "_by_source", {k: tuple(v) for k, v in by_source.items()})
        object.__setattr__(self, "_by_name", {k: tuple(v) for k, v in by_name.items()})
        object.__setattr__(self, "_states", {s.name: s for s in self.states})

    def state(self, name: str) -> State:
        return self._states[name]

    def has_state(self, name: str) -> bool:
        return name in self._states

    def triggers_from(self, state: str) -> tuple[Trigger, ...]:
        return self._by_source.get(state, ())

    def trigger(self, name: str, source: str) -> Trigger | None:
        return next((t for t in self._by_name.get(name, ()) if t.source == source), None)

    def trigger_names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def role(self, name: str) -> Role | None:
        return next((r for r in self.roles if r.name == name), None)

    def waits_on(self, state: str) -> tuple[str, ...]:
        """The roles a person must hold to move an instance on from this state (the clock's
        own steps aside): whoever holds one of them is the one it waits for."""
        roles: list[str] = []
        for t in self.triggers_from(state):
            if t.automatic or t.optional:
                continue
            roles += [r for r in t.roles if r not in (SYSTEM, STAND_IN) and r not in roles]
        return tuple(roles)

    def waiting_for(self, role: str) -> tuple[str, ...]:
        """The states in which an instance waits for this role."""
        return tuple(s.name for s in self.states if role in self.waits_on(s.name))

    def coming_to(self, role: str) -> tuple[str, ...]:
        """The states one step before this role's queue, where an instance waits for someone
        who holds no body's role (an owner, say): what the role's body gets next, and what
        is missing while it waits there (reports still to come)."""
        queue = set(self.waiting_for(role))
        bodies = {r.name for r in self.roles if r.body}
        found: list[str] = []
        for t in self.triggers:
            if t.dest in queue and t.source not in queue and not t.automatic and t.source not in found \
                    and self.waits_on(t.source) and not set(self.waits_on(t.source)) & bodies:
                found.append(t.source)
        return tuple(found)

    def goes_back(self, trigger: Trigger) -> bool:
        """A step to an earlier state (a return): shown apart from the steps forward."""
        order = [st.name for st in self.states]
        return trigger.source in order and trigger.dest in order and order.index(trigger.dest) < order.index(
            trigger.source)

    def body_roles(self) -> dict[str, str]:
        """Each body (e.g. a council) and the role its chair holds."""
        return {r.body: r.name for r in self.roles if r.body}

    def name_of(self, kind: str, code: str, language: str) -> str:
        """A program name of this spec (a trigger, a state, a role) in words, or the name
        itself if the spec has none for it."""
        label: Label | None = None
        if kind == "trigger":
            found = self._by_name.get(code)
            label = found[0].label if found else None
        elif kind == "state":
            label = self._states[code].label if code in self._states else None
        elif kind == "role":
            role = self.role(code)
            label = role.label if role else None
        return label(language) if label is not None and label(language) else code

    def waiting_states(self) -> tuple[str, ...]:
        """The states in which an instance waits for a person."""
        return tuple(s.name for s in self.states if self.waits_on(s.name))
