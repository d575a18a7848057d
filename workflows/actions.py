"""The actions as records: who changed which of an action's fields, and when.

An action's fields have two kinds of authors. The import file owns its descriptive fields,
its plan until a revision replaces it, its owners and its indicators; the workflow's steps
(an adopted revision, a decision that ends the action) and the admins (reassigning owners)
change some of them later. Every such change is an audit row of the action, naming the
fields with their old and new values and what caused it, so a later import can tell a
field it still owns from one that someone has changed since, and say who and when.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, insert, select

from engine import audit
from engine.audit import AuditEvent
from engine.clock import from_storage, to_storage
from engine.errors import NotFound, Said
from workflows.models import Action, ActionOwner, Person

WORKFLOW = "action"
"""The audit's name for changes to an action's own record (not to one of its cycles)."""
IMPORTED = "import"
ADOPTED = "adopt_plan"
ENDED = "end_action"
REASSIGNED = "set_owners"


@dataclass(frozen=True)
class Change:
    """The latest change of one field by someone other than the import file."""

    trigger: str
    actor: str
    by: str | None
    at: datetime
    new: Any

    def why(self, zone: ZoneInfo) -> str:
        """'revised by <the step that adopted it> on 2027-08-20', and the like."""
        day = from_storage(self.at).astimezone(zone).date().isoformat()
        if self.trigger == ADOPTED:
            return f"revised by {self.by} on {day}"
        if self.trigger == ENDED:
            return f"{self.new} by {self.by} on {day}"
        return f"changed by {self.by or self.actor} on {day}"


def record_change(
    conn: Connection, *, action_id: int, strategy: int, trigger: str, changes: dict[str, tuple[Any, Any]],
    actor: str, at: datetime, status: str = "active", by: str | None = None, extra: dict[str, Any] | None = None,
    comment: str | None = None,
) -> None:
    """An audit row of the action: each changed field as [old, new], and what caused it
    (`by`: the step of a cycle, or the file of an import)."""
    fields: dict[str, Any] = {"changes": {k: [old, new] for k, (old, new) in changes.items()}}
    if by is not None:
        fields["by"] = by
    fields |= extra or {}
    audit.record(conn, workflow=WORKFLOW, instance_id=action_id, tenant_id=strategy, at=to_storage(at), actor=actor,
                 trigger=trigger, from_state=status, to_state=str(changes.get("status", (status, status))[1]),
                 version=0, comment=comment, fields=fields)


def latest_changes(conn: Connection, action_ids: Iterable[int]) -> dict[tuple[int, str], Change]:
    """For each (action, field): its latest change by anything but an import."""
    ids = list(action_ids)
    if not ids:
        return {}
    rows = conn.execute(
        select(AuditEvent.instance_id, AuditEvent.trigger, AuditEvent.actor, AuditEvent.at, AuditEvent.fields)
        .where(AuditEvent.workflow == WORKFLOW, AuditEvent.trigger != IMPORTED,
               AuditEvent.instance_id.in_(ids))  # type: ignore[attr-defined]
        .order_by(AuditEvent.id)  # type: ignore[arg-type]
    )
    latest: dict[tuple[int, str], Change] = {}
    for action_id, trigger, actor, at, fields in rows:
        for name, (_, new) in (fields.get("changes") or {}).items():
            latest[action_id, name] = Change(trigger, actor, fields.get("by"), at, new)
    return latest


def owners_of(conn: Connection, action_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each action's owners' emails, sorted."""
    owners: dict[int, list[str]] = {a: [] for a in action_ids}
    rows = conn.execute(
        select(ActionOwner.action_id, Person.email).join(Person, Person.id == ActionOwner.person_id)
        .where(ActionOwner.action_id.in_(list(action_ids))).order_by(Person.email)  # type: ignore[attr-defined]
    )
    for action_id, email in rows:
        owners[action_id].append(email)
    return owners


def replace_owners(conn: Connection, action_id: int, person_ids: Sequence[int]) -> None:
    conn.execute(delete(ActionOwner).where(ActionOwner.action_id == action_id))  # type: ignore[arg-type]
    if person_ids:
        conn.execute(insert(ActionOwner), [{"action_id": action_id, "person_id": p} for p in person_ids])


def set_owners(
    conn: Connection, *, strategy: int, code: str, emails: Sequence[str], by: str, now: datetime
) -> tuple[list[str], list[str]]:
    """An admin hands an action to other owners (staff move every April); a later import
    keeps this choice. Returns the owners before and after."""
    action = conn.execute(
        select(Action.id, Action.status).where(Action.strategy_id == strategy, Action.code == code)
    ).first()
    if action is None:
        raise NotFound(Said(f"there is no action {code}", "owners.no_action", code=code))
    wanted = sorted({e.strip().lower() for e in emails if e.strip()})
    if not wanted:
        raise NotFound(Said("name at least one owner", "owners.none"))
    people = dict(conn.execute(
        select(Person.email, Person.id).where(Person.email.in_(wanted), Person.active)  # type: ignore[attr-defined]
    ).all())
    unknown = [e for e in wanted if e not in people]
    if unknown:
        raise NotFound(Said(f"not a person in the config ([[people]]): {', '.join(unknown)}", "owners.unknown",
                            emails=", ".join(unknown)))
    before = owners_of(conn, [action.id])[action.id]
    if before != wanted:
        replace_owners(conn, action.id, [people[e] for e in wanted])
        record_change(conn, action_id=action.id, strategy=strategy, trigger=REASSIGNED,
                      changes={"owners": (before, wanted)}, actor=by, at=now, status=action.status)
    return before, wanted


def ids_of(conn: Connection, *, strategy: int, code: str) -> list[int]:
    """The action with this code in a strategy (a list: none or one)."""
    return list(conn.execute(select(Action.id).where(Action.strategy_id == strategy, Action.code == code)).scalars())


def owner_emails(conn: Connection, *, strategy: int) -> set[str]:
    """Everyone who owns an action of the strategy."""
    return set(conn.execute(select(Person.email).join(ActionOwner, ActionOwner.person_id == Person.id)
                            .join(Action, Action.id == ActionOwner.action_id)
                            .where(Action.strategy_id == strategy)).scalars())
