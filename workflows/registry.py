"""The workflows a deployment runs, each a spec with its store, what the clock does to it
and the messages it queues. `app/bootstrap.py` builds the registry; the tick, the outbox's
rendering, the audit log, the simulation, the CLI, the API and the pages take their
workflows from it and name none of them.

A workflow may hang from another's instances (an advisor's opinion is asked about a
cycle): its `parent` names that workflow, and the parent's pages offer its openings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection

from engine.errors import NotFound
from engine.outbox import OutboxMessage
from engine.runtime import Instance, Store, Workflow
from engine.spec import Label, WorkflowSpec

if TYPE_CHECKING:
    from workflows.tick import TickContext


class WorkflowStore(Store, Protocol):
    """What pages, the CLI, the API and mail ask of a workflow's store, beyond the engine's
    needs. Rows and views are plain dicts with at least: id, key, path, title, state,
    state_label."""

    spec: WorkflowSpec
    scope: str
    """How messages name an instance in their dedupe key ('cycle:12')."""

    def find(self, conn: Connection, *, tenant: int, key: str, fy: int | None = None) -> int: ...

    def address(self, instance: Instance) -> dict[str, Any]:
        """key, path (the page), label (how a person names it)."""
        ...

    def rows(self, conn: Connection, *, tenant: int, where: Any = None, language: str = "ja",
             today: date | None = None, open_only: bool = True) -> list[dict[str, Any]]: ...

    def held_by(self, conn: Connection, *, tenant: int, person_id: int, role: str) -> Any:
        """A SQL condition: the instances this person holds `role` for now (None: none)."""
        ...

    def in_states(self, states: Sequence[str]) -> Any: ...

    def tenant_condition(self, tenant: int) -> Any: ...

    def matching(self, conn: Connection, *, tenant: int, key: str) -> list[int]: ...

    def labels(self, conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]: ...

    def details(self, conn: Connection, instance: Instance, *, today: date | None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class MessageKind:
    """A kind of message a workflow queues, and the template family that renders it."""

    name: str
    family: str
    digestible: bool = False
    """A request or reminder a person may take folded into one message a day."""
    label: Label = field(default_factory=lambda: Label("", ""))
    """What it is, in words (the outbox page)."""


Extras = Callable[[Connection, OutboxMessage, dict[str, Any], Any], dict[str, Any]]
"""(conn, message, context so far, links) -> more context for that message's templates."""


@dataclass(frozen=True)
class Entry:
    workflow: Workflow
    clock: Callable[[TickContext], None] | None = None
    """What the calendar makes happen to this workflow's instances, once per tick and tenant."""
    kinds: tuple[MessageKind, ...] = ()
    views: Callable[[Connection, Sequence[int], str], dict[int, dict[str, Any]]] | None = None
    """Each instance as messages show it (code, title, division, state_label, path, flags)."""
    extras: Extras | None = None
    parent: str | None = None
    people: Callable[..., Any] | None = None
    """Simulated people for `pdca simulate --actors auto`."""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.workflow.spec.name

    @property
    def spec(self) -> WorkflowSpec:
        return self.workflow.spec

    @property
    def store(self) -> WorkflowStore:
        return self.workflow.store  # type: ignore[return-value]

    def locate(self, conn: Connection, *, tenant: int, key: str, fy: int | None = None) -> Instance | int:
        """The instance a request names by its key, for `fire_in` in the same transaction:
        read whole in one query where the store can (`locate`), else its id."""
        located = getattr(self.store, "locate", None)
        if located is not None:
            return located(conn, tenant=tenant, key=key, fy=fy)  # type: ignore[no-any-return]
        return self.store.find(conn, tenant=tenant, key=key, fy=fy)


class Registry:
    def __init__(self, entries: Sequence[Entry]) -> None:
        if not entries:
            raise ValueError("a deployment runs at least one workflow")
        self._entries = {e.name: e for e in entries}
        if len(self._entries) != len(entries):
            raise ValueError("two workflows share a name")
        missing = [e.parent for e in entries if e.parent and e.parent not in self._entries]
        if missing:
            raise ValueError(f"parent workflow not registered: {', '.join(missing)}")

    @property
    def primary(self) -> Entry:
        """The first registered: the strategy's own yearly process."""
        return next(iter(self._entries.values()))

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __getitem__(self, name: str) -> Entry:
        entry = self._entries.get(name)
        if entry is None:
            raise NotFound(f"there is no workflow {name!r} (there are: {', '.join(self._entries)})")
        return entry

    def get(self, name: str | None) -> Entry | None:
        return self._entries.get(name) if name else None

    def names(self) -> list[str]:
        return list(self._entries)

    def children(self, name: str) -> list[Entry]:
        return [e for e in self if e.parent == name]

    def kinds(self) -> Mapping[str, tuple[str, str]]:
        """kind -> (template family, workflow)."""
        return {k.name: (k.family, e.name) for e in self for k in e.kinds}

    def kind_label(self, kind: str, language: str) -> str | None:
        """A kind of message in words, as the workflow that queues it names it."""
        for entry in self:
            for k in entry.kinds:
                if k.name == kind and k.label(language):
                    return k.label(language)
        return None
