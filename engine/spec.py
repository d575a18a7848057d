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
    from engine.runtime import FireContext

SYSTEM = "system"
"""The role of the clock. An admin may fire a system trigger by hand; the audit says so."""

FieldType = Literal["text", "longtext", "number", "choice", "lines", "measures"]
"""`lines`: a list of texts (one per repeated value); `measures`: for each item the store
lists (e.g. each indicator of an action) either a number or a reason why there is none."""


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
    """For `measures`: the name of the item list the store provides."""


@dataclass(frozen=True)
class Guard:
    """A condition on firing. `check` returns None when satisfied, else a reason a person
    can act on ("indicator 'wetland area' has no value for FY2026; return the report")."""

    name: str
    check: Callable[[FireContext], str | None]


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
    dest: str
    roles: tuple[str, ...]
    label: Label
    fields: tuple[Field, ...] = ()
    guards: tuple[Guard, ...] = ()
    record: Recorder | None = None
    automatic: bool = False
    """Fire as the system as soon as the source state is entered and the guards pass."""


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
    name: str
    states: tuple[State, ...]
    initial: str
    triggers: tuple[Trigger, ...]
    _by_source: dict[str, tuple[Trigger, ...]] = field(init=False, repr=False, compare=False)
    _by_name: dict[str, tuple[Trigger, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = {s.name for s in self.states}
        problems = [
            f"trigger {t.name}: unknown state {s!r}"
            for t in self.triggers
            for s in (t.source, t.dest)
            if s not in names
        ]
        if self.initial not in names:
            problems.append(f"unknown initial state {self.initial!r}")
        seen: set[tuple[str, str]] = set()
        for t in self.triggers:
            if (t.name, t.source) in seen:
                problems.append(f"trigger {t.name} declared twice from {t.source}")
            seen.add((t.name, t.source))
        if problems:
            raise ValueError(f"workflow {self.name}: " + "; ".join(problems))
        by_source: dict[str, list[Trigger]] = {}
        by_name: dict[str, list[Trigger]] = {}
        for t in self.triggers:
            by_source.setdefault(t.source, []).append(t)
            by_name.setdefault(t.name, []).append(t)
        object.__setattr__(self, "_by_source", {k: tuple(v) for k, v in by_source.items()})
        object.__setattr__(self, "_by_name", {k: tuple(v) for k, v in by_name.items()})

    def state(self, name: str) -> State:
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(name)

    def triggers_from(self, state: str) -> tuple[Trigger, ...]:
        return self._by_source.get(state, ())

    def trigger(self, name: str, source: str) -> Trigger | None:
        return next((t for t in self._by_name.get(name, ()) if t.source == source), None)

    def trigger_names(self) -> tuple[str, ...]:
        return tuple(self._by_name)
