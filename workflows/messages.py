"""What each queued message is about, gathered for rendering: the recipient, the action
or the list of actions, the fiscal year, the due date, the event that caused it, and the
links. A few set-based queries per batch, whatever its size.

The message kinds are this workflow's words: the tick queues the calendar's (reminders,
escalations, packets), the action cycle's recorders queue the owners' notices (returned,
decided, revision requested).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Date, Integer, Select, String, bindparam, literal, select

from engine.audit import AuditEvent
from engine.outbox import OutboxItem, OutboxMessage, dedupe_key, dedupe_key_bound, outbox_table
from workflows.action_cycle import ACTION_CYCLE
from workflows.fiscal import fy_label, wareki
from workflows.models import Action, ActionOwner, Cycle, OpinionRequest, Person, Strategy

# kind -> (family of templates, the council a packet goes to)
KINDS: dict[str, str] = {
    "plan_requested": "request",
    "report_requested": "request",
    "plan_reminder": "reminder",
    "report_reminder": "reminder",
    "plan_overdue": "overdue",
    "report_overdue": "overdue",
    "plan_escalation": "escalation",
    "report_escalation": "escalation",
    "internal_packet": "packet",
    "promotion_packet": "packet",
    "decision_reminder": "decisions",
    "decision_overdue": "decisions",
    "returned": "returned",
    "decided": "decided",
    "revision_requested": "revision",
    "digest": "digest",
    "dead_letters": "dead_letters",
    "sign_in_link": "sign_in",
    "publication_done": "published",
    "opinion_requested": "opinion",
    "opinion_reminder": "opinion",
    "opinion_overdue": "opinion",
}
TOPIC = {"plan": "plan", "report": "report", "decision": "decision"}
DIGESTIBLE = frozenset({"plan_requested", "report_requested", "plan_reminder", "report_reminder",
                        "plan_overdue", "report_overdue"})
"""Kinds a person who chose a daily digest receives folded into one message a day."""


def message_columns(kind: str, fy: int | Any, due: date, step: str, at: datetime) -> list[Any]:
    """The outbox columns every queued message of one kind, year, due date and step shares
    (`fy` may be a column, for messages about cycles of several years)."""
    return [
        literal(kind).label("kind"),
        (literal(fy) if isinstance(fy, int) else fy).label("fy"),
        literal(due, Date).label("due"),
        literal(step).label("step"),
        literal("queued").label("status"),
        literal(0).label("attempts"),
        literal(at, outbox_table.c.created_at.type).label("created_at"),
    ]


def to_owners(kind: str, fy: int, due: date, step: str, at: datetime, where: Any) -> Select[Any]:
    """One message per cycle `where` selects to each of its active owners, as rows for
    `engine.outbox.queue`."""
    scope = literal("cycle:", String) + Cycle.id.cast(String)  # type: ignore[union-attr]
    return (
        select(
            dedupe_key(kind, scope, due, step, Person.email).label("dedupe_key"),
            Person.email.label("recipient"),  # type: ignore[attr-defined]
            Cycle.id.label("instance_id"),  # type: ignore[union-attr]
            *message_columns(kind, fy, due, step, at),
        )
        .join(ActionOwner, ActionOwner.action_id == Cycle.action_id)
        .join(Person, Person.id == ActionOwner.person_id)
        .where(where, Person.active)
    )


def notice_to_owners(kind: str) -> Select[Any]:
    """A notice of one cycle's step to its owners, with everything that varies bound:
    `cycle`, `fy`, `due`, `step`, `key_middle` and `at`. Prepared once per kind, it keeps a
    transition's cost flat."""
    scope = literal("cycle:", String) + Cycle.id.cast(String)  # type: ignore[union-attr]
    return (
        select(
            dedupe_key_bound(kind, scope, Person.email).label("dedupe_key"),
            Person.email.label("recipient"),  # type: ignore[attr-defined]
            Cycle.id.label("instance_id"),  # type: ignore[union-attr]
            literal(kind).label("kind"),
            bindparam("fy", type_=Integer).label("fy"),
            bindparam("due", type_=Date).label("due"),
            bindparam("step", type_=String).label("step"),
            literal("queued").label("status"),
            literal(0).label("attempts"),
            bindparam("at", type_=outbox_table.c.created_at.type).label("created_at"),
        )
        .join(ActionOwner, ActionOwner.action_id == Cycle.action_id)
        .join(Person, Person.id == ActionOwner.person_id)
        .where(Cycle.id == bindparam("cycle"), Person.active)
    )


def _topic(kind: str) -> str:
    head = kind.split("_", 1)[0]
    return TOPIC.get(head, head)


def _days(step: str) -> int:
    try:
        return abs(int(step))
    except ValueError:
        return 0


def _version(step: str) -> int:
    """Notices of a transition carry its version as their step ('v5')."""
    return int(step[1:]) if step.startswith("v") and step[1:].isdigit() else 0


def _cycle_view(row: Any, base_url: str, language: str) -> dict[str, Any]:
    title = (row.title_en or row.title_ja) if language == "en" else row.title_ja
    state = ACTION_CYCLE.state(row.state).label
    return {
        "code": row.code,
        "title": title,
        "division": row.division,
        "fy": row.fy,
        "fy_label": fy_label(row.fy),
        "state": row.state,
        "state_label": state(language),
        "url": f"{base_url}/actions/{row.code}/{row.fy}",
        "flags": [f["reason_en"] if language == "en" else f["reason_ja"]
                  for f in (row.flags or []) if not f.get("resolution")],
    }


def contexts(
    conn: Connection, messages: Sequence[OutboxMessage], *, base_url: str, strategy_code: str
) -> dict[int, dict[str, Any]]:
    """Render contexts for these outbox rows, by outbox id."""
    base_url = base_url.rstrip("/")
    strategy = conn.execute(select(Strategy.name_ja, Strategy.name_en).where(Strategy.code == strategy_code)).one()
    emails = {m.recipient for m in messages}
    people = {p.email: p for p in conn.execute(
        select(Person.email, Person.name, Person.name_en, Person.language).where(Person.email.in_(emails))  # type: ignore[attr-defined]
    )}
    ids = [m.id for m in messages]
    listed: dict[int, list[int]] = defaultdict(list)
    for outbox_id, instance_id in conn.execute(
        select(OutboxItem.outbox_id, OutboxItem.instance_id).where(OutboxItem.outbox_id.in_(ids))  # type: ignore[attr-defined]
    ):
        listed[outbox_id].append(instance_id)
    cycle_ids = {m.instance_id for m in messages if m.instance_id} | {c for v in listed.values() for c in v}
    cycles = {r.id: r for r in conn.execute(
        select(Cycle.id, Cycle.fy, Cycle.state, Cycle.returned_comment, Cycle.flags, Action.code, Action.title_ja,
               Action.title_en, Action.division)
        .join(Action, Action.id == Cycle.action_id)
        .where(Cycle.id.in_(cycle_ids))  # type: ignore[union-attr]
    )}
    versions = {(m.instance_id, _version(m.step)) for m in messages if _version(m.step) and m.instance_id}
    events = {}
    if versions:
        for e in conn.execute(
            select(AuditEvent.instance_id, AuditEvent.version, AuditEvent.trigger, AuditEvent.comment,
                   AuditEvent.actor, AuditEvent.fields, AuditEvent.to_state)
            .where(AuditEvent.workflow == ACTION_CYCLE.name,
                   AuditEvent.instance_id.in_({i for i, _ in versions}))  # type: ignore[attr-defined]
        ):
            if (e.instance_id, e.version) in versions:
                events[e.instance_id, e.version] = e
    asked = {m.step.split(":", 1)[0][1:] for m in messages if m.kind.startswith("opinion_")}
    opinions = {f"o{r.id}": {"question": r.question, "due": r.due, "asked_by": r.asked_by}
                for r in conn.execute(select(OpinionRequest.id, OpinionRequest.question, OpinionRequest.due,
                                             OpinionRequest.asked_by)
                                      .where(OpinionRequest.id.in_([int(i) for i in asked if i.isdigit()])))}  # type: ignore[union-attr]
    out: dict[int, dict[str, Any]] = {}
    for m in messages:
        person = people.get(m.recipient)
        language = person.language if person else "ja"
        name = (person.name_en or person.name) if person and language == "en" else (person.name if person else "")
        context: dict[str, Any] = {
            "id": m.id,
            "kind": m.kind,
            "family": KINDS.get(m.kind, m.kind),
            "topic": _topic(m.kind),
            "language": language,
            "recipient": {"email": m.recipient, "name": name},
            "fy": m.fy,
            "fy_label": fy_label(m.fy) if m.fy else "",
            "wareki": wareki(m.fy) if m.fy else "",
            "due": m.due,
            "step": m.step,
            "days": _days(m.step),
            "strategy": strategy.name_en if language == "en" else strategy.name_ja,
            "base_url": base_url,
            "item": None,
            "items": [],
            "event": None,
            "council_url": "",
        }
        if m.instance_id in cycles:
            context["item"] = _cycle_view(cycles[m.instance_id], base_url, language)
        context["items"] = [_cycle_view(cycles[c], base_url, language) for c in sorted(listed.get(m.id, []))
                            if c in cycles]
        if m.kind.endswith("_packet"):
            context["council_url"] = f"{base_url}/councils/{m.kind.removesuffix('_packet')}"
        event = events.get((m.instance_id, _version(m.step)))
        if event is not None:
            context["event"] = {"trigger": event.trigger, "comment": event.comment, "actor": event.actor,
                                "fields": event.fields, "to_state": event.to_state,
                                "to_label": ACTION_CYCLE.state(event.to_state).label(language)}
        if m.kind == "publication_done":
            context["url"] = f"{base_url}/public/{m.fy}/"
        if m.kind.startswith("opinion_"):
            context["opinion"] = opinions.get(m.step.split(":", 1)[0])
        out[m.id] = context  # type: ignore[index]
    return out



class MessageDirectory:
    """The people side of delivery: contexts to render, who reads a daily digest, who the
    admins are."""

    digestible = DIGESTIBLE

    def __init__(self, *, base_url: str, strategy_code: str) -> None:
        self.base_url = base_url
        self.strategy_code = strategy_code

    def contexts(self, conn: Connection, rows: Sequence[OutboxMessage]) -> dict[int, dict[str, Any]]:
        return contexts(conn, rows, base_url=self.base_url, strategy_code=self.strategy_code)

    def digest_recipients(self, conn: Connection) -> set[str]:
        return set(conn.execute(select(Person.email).where(Person.digest, Person.active)).scalars())

    def admins(self, conn: Connection) -> list[str]:
        admins = select(Person.email).where(Person.admin, Person.active).order_by(Person.email)
        return list(conn.execute(admins).scalars())
