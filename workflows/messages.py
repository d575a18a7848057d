"""What each queued message is about, gathered for rendering: the recipient, the instance
or the list of instances, the fiscal year, the due date, the event that caused it, and
the links. A few set-based queries per batch, whatever its size.

A message names its workflow; that workflow's registry entry says how its instances look
in a message (`views`) and what else its templates need (`extras`). The kinds queued
outside any workflow (digests, dead letters, sign-in links) are listed here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Connection, Date, Integer, literal, select

from engine.audit import AuditEvent
from engine.errors import NotFound
from engine.outbox import OutboxItem, OutboxMessage, outbox_table
from workflows.fiscal import fy_label, wareki
from workflows.models import Person
from workflows.registry import Registry
from workflows.tenants import Tenants

GENERAL_KINDS = {"digest": "digest", "dead_letters": "dead_letters", "sign_in_link": "sign_in"}


def message_columns(
    kind: str, *, workflow: str | None, tenant: int | Any | None, payload: dict[str, Any] | Any, due: date,
    step: str, at: datetime,
) -> list[Any]:
    """The outbox columns every queued message of one kind, workflow, tenant, due date and
    step shares (`tenant` and `payload` may be columns or bound parameters)."""
    return [
        literal(kind).label("kind"),
        literal(workflow).label("workflow"),
        (literal(tenant, Integer) if tenant is None or isinstance(tenant, int) else tenant).label("tenant_id"),
        (literal(payload, JSON) if isinstance(payload, dict) else payload).label("payload"),
        literal(due, Date).label("due"),
        literal(step).label("step"),
        literal("queued").label("status"),
        literal(0).label("attempts"),
        literal(at, outbox_table.c.created_at.type).label("created_at"),
    ]


class Links:
    """Where pages live: the default strategy's at the site's root, the others' under
    /s/CODE."""

    def __init__(self, base_url: str, tenants: Tenants) -> None:
        self.base_url = base_url.rstrip("/")
        self.tenants = tenants

    def prefix(self, code: str | None) -> str:
        return "" if code is None or code == self.tenants.default_code else f"/s/{code}"

    def url(self, code: str | None, path: str) -> str:
        return f"{self.base_url}{self.prefix(code)}{path}"


def _days(step: str) -> int:
    try:
        return abs(int(step))
    except ValueError:
        return 0


def _version(step: str) -> int:
    """Notices of a transition carry its version as their step ('v5')."""
    return int(step[1:]) if step.startswith("v") and step[1:].isdigit() else 0


def contexts(
    conn: Connection, messages: Sequence[OutboxMessage], *, registry: Registry, tenants: Tenants, links: Links
) -> dict[int, dict[str, Any]]:
    """Render contexts for these outbox rows, by outbox id."""
    emails = {m.recipient for m in messages}
    people = {p.email: p for p in conn.execute(
        select(Person.email, Person.name, Person.name_en, Person.language).where(Person.email.in_(emails))  # type: ignore[attr-defined]
    )}
    listed: dict[int, list[int]] = defaultdict(list)
    for outbox_id, instance_id in conn.execute(
        select(OutboxItem.outbox_id, OutboxItem.instance_id)
        .where(OutboxItem.outbox_id.in_([m.id for m in messages]))  # type: ignore[attr-defined]
    ):
        listed[outbox_id].append(instance_id)
    family_of = {**GENERAL_KINDS, **{k: f for k, (f, _) in registry.kinds().items()}}
    views: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for workflow in {m.workflow for m in messages if m.workflow}:
        entry = registry.get(workflow)
        if entry is None or entry.views is None:
            continue
        ids = {m.instance_id for m in messages if m.workflow == workflow and m.instance_id}
        ids |= {i for m in messages if m.workflow == workflow for i in listed.get(m.id, [])}
        for language in ("ja", "en"):
            views[workflow, language] = entry.views(conn, sorted(ids), language) if ids else {}
    events = _events(conn, messages)
    out: dict[int, dict[str, Any]] = {}
    for m in messages:
        person = people.get(m.recipient)
        given = m.payload or {}  # an address that is no person yet (an applicant) says its language and name
        language = person.language if person else given.get("language", "ja")
        name = ((person.name_en or person.name) if language == "en" else person.name) if person \
            else given.get("name", "")
        tenant = tenants.get(conn, m.tenant_id) if m.tenant_id else None
        code = tenant.code if tenant else None
        fy = (m.payload or {}).get("fy")
        context: dict[str, Any] = {
            "id": m.id,
            "kind": m.kind,
            "family": family_of.get(m.kind, m.kind),
            "topic": "",
            "language": language,
            "recipient": {"email": m.recipient, "name": name},
            "fy": fy,
            "fy_label": fy_label(fy) if fy else "",
            "wareki": wareki(fy) if fy else "",
            "due": m.due,
            "step": m.step,
            "days": _days(m.step),
            "strategy": tenant.name(language) if tenant else _default_strategy_name(conn, tenants, language),
            "base_url": links.base_url,
            "item": None,
            "items": [],
            "event": None,
            "council_url": "",
        }
        seen = views.get((m.workflow or "", language), {})

        def with_url(view: dict[str, Any], code: str | None = code) -> dict[str, Any]:
            return {**view, "url": links.url(code, view["path"])}

        if m.instance_id in seen:
            context["item"] = with_url(seen[m.instance_id])
        context["items"] = [with_url(seen[i]) for i in sorted(listed.get(m.id, [])) if i in seen]
        entry = registry.get(m.workflow)
        context["workflow_label"] = entry.spec.label(language) if entry is not None else ""
        event = events.get((m.workflow, m.instance_id, _version(m.step)))
        if event is not None and entry is not None:
            state = entry.spec.state(event.to_state) if entry.spec.has_state(event.to_state) else None
            context["event"] = {"trigger": event.trigger, "comment": event.comment, "actor": event.actor,
                                "fields": event.fields, "to_state": event.to_state,
                                "to_label": state.label(language) if state else event.to_state}
        if entry is not None and entry.extras is not None:
            context |= entry.extras(conn, m, context, lambda path, code=code: links.url(code, path))
        out[m.id] = context  # type: ignore[index]
    return out


def _default_strategy_name(conn: Connection, tenants: Tenants, language: str) -> str:
    """For a message outside any strategy (a sign-in link, say): the deployment's first."""
    try:
        return tenants.by_code(conn, tenants.default_code).name(language)
    except NotFound:
        return ""


def _events(conn: Connection, messages: Sequence[OutboxMessage]) -> dict[tuple[Any, Any, int], Any]:
    """The audit rows of the steps that caused notices ('v5': the step that made version 5)."""
    wanted = {(m.workflow, m.instance_id, _version(m.step)) for m in messages
              if m.workflow and m.instance_id and _version(m.step)}
    if not wanted:
        return {}
    found = {}
    for e in conn.execute(
        select(AuditEvent.workflow, AuditEvent.instance_id, AuditEvent.version, AuditEvent.trigger,
               AuditEvent.comment, AuditEvent.actor, AuditEvent.fields, AuditEvent.to_state)
        .where(AuditEvent.workflow.in_({w for w, _, _ in wanted}),  # type: ignore[attr-defined]
               AuditEvent.instance_id.in_({i for _, i, _ in wanted}))  # type: ignore[attr-defined]
    ):
        if (e.workflow, e.instance_id, e.version) in wanted:
            found[e.workflow, e.instance_id, e.version] = e
    return found


class MessageDirectory:
    """The people side of delivery: contexts to render, who reads a daily digest, who the
    admins are."""

    def __init__(self, *, registry: Registry, tenants: Tenants, links: Links) -> None:
        self.registry = registry
        self.tenants = tenants
        self.links = links
        self.digestible = frozenset(k.name for e in registry for k in e.kinds if k.digestible)
        """Requests and reminders a person may take as one message a day."""

    @property
    def base_url(self) -> str:
        return self.links.base_url

    def contexts(self, conn: Connection, rows: Sequence[OutboxMessage]) -> dict[int, dict[str, Any]]:
        return contexts(conn, rows, registry=self.registry, tenants=self.tenants, links=self.links)

    def digest_recipients(self, conn: Connection) -> set[str]:
        return set(conn.execute(select(Person.email).where(Person.digest, Person.active)).scalars())

    def tenants_of_admin(self, conn: Connection, email: str) -> set[int] | None:
        """A deployment admin looks after all mail; a secretariat member, their strategies'."""
        from workflows import bodies

        person_id = conn.execute(select(Person.id).where(Person.email == email)).scalar()
        return set() if person_id is None else bodies.administered(conn, person_id=person_id)

    def admins(self, conn: Connection) -> list[str]:
        """Who hears of undeliverable mail: the deployment's admins and every secretariat
        (each of their own strategies' mail)."""
        from workflows import bodies
        from workflows.models import Council, Membership

        secretariats = select(Membership.person_id).join(Council, Council.id == Membership.council_id).where(
            Council.key == bodies.SECRETARIAT)
        admins = select(Person.email).where(
            Person.active, (Person.admin | Person.id.in_(secretariats))).order_by(Person.email)  # type: ignore[union-attr, operator]
        return list(conn.execute(admins).scalars())
