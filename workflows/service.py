"""What the CLI, the API and the pages ask of any workflow: find an instance, tell its
story, list what waits for a person or a council, what is late, the audit log. Keyword-only
functions over a connection; the caller owns the transaction. Every query is scoped by a
strategy (a tenant); the workflow comes from the registry, never by name.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select, tuple_, update

from engine import audit, db, outbox
from engine.audit import AuditEvent
from engine.clock import from_storage, to_storage
from engine.errors import NotFound, WrongRole
from engine.outbox import OutboxMessage
from engine.runtime import Actor
from workflows import actions, bodies
from workflows.models import ActionOwner, Council, Membership, Person, Strategy
from workflows.registry import Entry, Registry
from workflows.tenants import Tenant


def strategy_id(conn: Connection, code: str) -> int:
    found = conn.execute(select(Strategy.id).where(Strategy.code == code)).scalar()
    if found is None:
        raise NotFound(f"strategy {code!r} is not in the database; run `pdca init`")
    return int(found)


@cache
def _active_person() -> db.Prepared:
    """Compiled once: every request asks it (SQLAlchemy builds a new statement in ~0.2 ms)."""
    return db.Prepared(select(Person.id, Person.email, Person.admin)
                       .where(Person.email == bindparam("email"), Person.active))


def actor_for(conn: Connection, email: str) -> Actor:
    row = _active_person().first(conn, {"email": email.lower()})
    if row is None:
        raise NotFound(f"{email} is not a person in the config ([[people]])")
    return Actor(email=row["email"], person_id=row["id"], is_admin=bool(row["admin"]))


def actor_language(conn: Connection, email: str) -> str:
    return conn.execute(select(Person.language).where(Person.email == email.lower())).scalar() or "ja"


def _iso(moment: datetime | None) -> str | None:
    return from_storage(moment).isoformat() if moment else None


def history(conn: Connection, workflow: str, instance_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(AuditEvent.at, AuditEvent.actor, AuditEvent.on_behalf, AuditEvent.trigger, AuditEvent.from_state,
               AuditEvent.to_state, AuditEvent.version, AuditEvent.comment, AuditEvent.fields)
        .where(AuditEvent.workflow == workflow, AuditEvent.instance_id == instance_id)
        .order_by(AuditEvent.id)  # type: ignore[arg-type]
    )
    return [
        {"at": _iso(e.at), "actor": e.actor, "on_behalf": e.on_behalf, "trigger": e.trigger, "from": e.from_state,
         "to": e.to_state, "version": e.version, "comment": e.comment, "fields": e.fields}
        for e in rows
    ]


def story(
    conn: Connection, entry: Entry, instance_id: int, *, today: date | None = None, actor: Actor | None = None,
) -> dict[str, Any]:
    """Everything about one instance: where it stands, what was recorded, how it got here,
    and what can happen next (and by whom; with `actor`, whether they may)."""
    workflow = entry.workflow
    instance = workflow.store.load(conn, instance_id)
    if instance is None:
        raise NotFound(f"no {entry.name} with id {instance_id}")
    state = entry.spec.state(instance.state)
    options = workflow.options(conn, instance, actor)
    out: dict[str, Any] = {
        "workflow": entry.name,
        "id": instance.id,
        **entry.store.address(instance),
        "state": instance.state,
        "state_label": {"ja": state.label.ja, "en": state.label.en},
        "version": instance.version,
        "tenant": instance.tenant,
        "deadline": None,
    }
    out |= entry.store.details(conn, instance, today=today)
    out["history"] = history(conn, entry.name, instance.id)
    out["allowed"] = [o.as_dict() for o in options]
    if actor is not None:
        out["may"] = {o.trigger.name: {"fire": o.may_fire, "draft": o.may_draft, "why_not": o.why_not}
                      for o in options}
    return out


def listing(conn: Connection, entry: Entry, *, tenant: int, fy: int | None = None,
            state: str | None = None) -> list[dict[str, Any]]:
    """Every instance of a workflow in a strategy (`pdca actions`, `GET /api/cycles`);
    `state` matches exactly or as a phase: `check` matches every check.* state."""
    where = None
    if state:
        states = [s.name for s in entry.spec.states if s.name == state or s.name.startswith(state + ".")]
        where = entry.store.in_states(states or [state])
    rows = entry.store.rows(conn, tenant=tenant, where=where, open_only=False)
    if fy is not None:
        rows = [r for r in rows if r.get("fy") == fy]
    return rows


def waiting_for(
    conn: Connection, registry: Registry, *, tenant: Tenant, person_id: int, today: date, language: str = "ja",
) -> list[dict[str, Any]]:
    """What waits for this person in one strategy: for every workflow and every role of its
    spec, the instances in the states that wait for that role, among those this person
    holds the role for now."""
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    for entry in registry:
        for role in entry.spec.roles:
            states = entry.spec.waiting_for(role.name)
            if not states:
                continue
            held = entry.store.held_by(conn, tenant=tenant.id, person_id=person_id, role=role.name)
            if held is None:
                continue
            for row in entry.store.rows(conn, tenant=tenant.id, where=and_(entry.store.in_states(states), held),
                                        language=language, today=today):
                if (entry.name, row["id"]) not in seen:
                    seen.add((entry.name, row["id"]))
                    rows.append(row | {"role": role.name, "strategy": tenant.code})
    return rows


def urgency(row: dict[str, Any]) -> tuple[Any, ...]:
    """Most urgent first: the latest first, then the soonest due, then those with no date."""
    left = row.get("days_left")
    return (left is None, left if left is not None else 0, row.get("fy") or 0, row.get("code") or "")


def work_for(
    conn: Connection, registry: Registry, tenants: list[Tenant], *, person_id: int, now: datetime,
    language: str = "ja",
) -> list[dict[str, Any]]:
    """What waits for this person in every strategy they have a part in, most urgent first,
    each with the step it waits for."""
    part = bodies.strategies_of(conn, person_id)
    rows: list[dict[str, Any]] = []
    for tenant in tenants:
        if part is None or tenant.id in part:
            rows += waiting_for(conn, registry, tenant=tenant, person_id=person_id,
                                today=tenant.calendar.today(now), language=language)
    for row in rows:
        spec = registry[row["workflow"]].spec
        steps = [t for t in spec.triggers_from(row["state"])
                 if row["role"] in t.roles and not t.automatic and not t.optional]
        row["next_step"] = steps[0].name if steps else None
        row["next_label"] = steps[0].label(language) if steps else row["state_label"]
    rows.sort(key=urgency)
    return rows


def waiting_on_others(
    conn: Connection, registry: Registry, tenants: list[Tenant], *, person_id: int, now: datetime,
    language: str = "ja",
) -> list[dict[str, Any]]:
    """The open instances this person has a role in that wait for someone else now (their
    report under review, say), with who is next."""
    part = bodies.strategies_of(conn, person_id)
    rows: list[dict[str, Any]] = []
    for tenant in tenants:
        if part is not None and tenant.id not in part:
            continue
        today = tenant.calendar.today(now)
        for entry in registry:
            for role in entry.spec.roles:
                held = entry.store.held_by(conn, tenant=tenant.id, person_id=person_id, role=role.name)
                if held is None or role.body:  # a chair's role covers every item: not "mine"
                    continue
                others = [s for s in entry.spec.waiting_states() if role.name not in entry.spec.waits_on(s)]
                for row in entry.store.rows(conn, tenant=tenant.id, where=and_(entry.store.in_states(others), held),
                                            language=language, today=today):
                    instance = entry.store.load(conn, row["id"])
                    waits = entry.spec.waits_on(row["state"])
                    holders = entry.store.holders(conn, instance, waits) if instance is not None else []
                    rows.append(row | {"strategy": tenant.code, "waiting_for": holders,
                                       "waiting_roles": [entry.spec.name_of("role", r, language) for r in waits]})
    rows.sort(key=urgency)
    return rows


def body_rows(conn: Connection, registry: Registry, *, tenant: Tenant, body: str, today: date,
              language: str = "ja") -> list[dict[str, Any]]:
    """What waits for a body (a council): the instances in the states that wait for the role
    its chair holds, in every workflow that has such a role."""
    rows: list[dict[str, Any]] = []
    for entry in registry:
        role = entry.spec.body_roles().get(body)
        if role is not None:
            rows += entry.store.rows(conn, tenant=tenant.id, where=entry.store.in_states(entry.spec.waiting_for(role)),
                                     language=language, today=today)
    return rows


def bodies_with_queues(registry: Registry) -> list[str]:
    """The bodies (councils) some workflow's role belongs to: each has a queue."""
    found: list[str] = []
    for entry in registry:
        found += [b for b in entry.spec.body_roles() if b not in found]
    return found


def late(conn: Connection, registry: Registry, *, tenant: Tenant, today: date,
         language: str = "ja") -> list[dict[str, Any]]:
    """Every instance waiting for someone past its deadline, latest first."""
    rows: list[dict[str, Any]] = []
    for entry in registry:
        waiting = entry.spec.waiting_states()
        if waiting:
            rows += entry.store.rows(conn, tenant=tenant.id, where=entry.store.in_states(waiting), language=language,
                                     today=today)
    overdue = [r for r in rows if r["days_left"] is not None and r["days_left"] < 0]
    return sorted(overdue, key=lambda r: r["days_left"])


def audit_log(
    conn: Connection, registry: Registry, *, tenant: int, actor: str | None = None, trigger: str | None = None,
    code: str | None = None, limit: int = 200, since: datetime | None = None, until: datetime | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The newest audit rows of one strategy; `code` keeps those about that action, `since`
    (inclusive) and `until` (exclusive) bound when, and `offset` pages back in time."""
    query = (
        select(AuditEvent.workflow, AuditEvent.instance_id, AuditEvent.at, AuditEvent.actor, AuditEvent.on_behalf,
               AuditEvent.trigger, AuditEvent.from_state, AuditEvent.to_state, AuditEvent.comment, AuditEvent.fields)
        .where(AuditEvent.tenant_id == tenant)
        .order_by(AuditEvent.id.desc())  # type: ignore[union-attr]
        .limit(limit).offset(offset)
    )
    if actor:
        query = query.where(AuditEvent.actor == actor.strip().lower())
    if since is not None:
        query = query.where(AuditEvent.at >= to_storage(since))  # type: ignore[operator]
    if until is not None:
        query = query.where(AuditEvent.at < to_storage(until))  # type: ignore[operator]
    if trigger:
        query = query.where(AuditEvent.trigger == trigger)
    if code:
        pairs = [(e.name, i) for e in registry for i in e.store.matching(conn, tenant=tenant, key=code)]
        query = query.where(or_(
            tuple_(AuditEvent.workflow, AuditEvent.instance_id).in_(pairs) if pairs else False,
            and_(AuditEvent.workflow == actions.WORKFLOW,
                 AuditEvent.instance_id.in_(actions.ids_of(conn, strategy=tenant, code=code))),  # type: ignore[attr-defined]
        ))
    rows = [dict(r._mapping) for r in conn.execute(query)]
    labels: dict[tuple[str, int], dict[str, Any]] = {}
    for entry in registry:
        ids = [r["instance_id"] for r in rows if r["workflow"] == entry.name]
        labels |= {(entry.name, i): v for i, v in entry.store.labels(conn, ids).items()} if ids else {}
    for r in rows:
        label = labels.get((r["workflow"], r["instance_id"]), {})
        r |= {"at": _iso(r["at"]), "code": label.get("code"), "fy": label.get("fy"), "path": label.get("path")}
    return rows


def audit_steps(conn: Connection, *, tenant: int) -> list[tuple[str, str]]:
    """The (workflow, trigger) pairs a strategy's audit log holds, for the filter's choices."""
    query = (select(AuditEvent.workflow, AuditEvent.trigger).where(AuditEvent.tenant_id == tenant).distinct()
             .order_by(AuditEvent.workflow, AuditEvent.trigger))
    return [(row[0], row[1]) for row in conn.execute(query)]


def directory_view(conn: Connection, *, tenant: int) -> dict[str, Any]:
    """The people with a part in a strategy (and those with a part in none yet, to be given
    one), those removed, and its bodies' seats."""
    seats = conn.execute(
        select(Council.key, Council.name_ja, Council.name_en, Membership.role, Person.email)
        .join(Membership, Membership.council_id == Council.id).join(Person, Person.id == Membership.person_id)
        .where(Council.strategy_id == tenant)
        .order_by(Council.key, Membership.role, Person.email)
    ).all()
    councils: dict[str, dict[str, Any]] = {
        key: {"name_ja": ja, "name_en": en, "seats": []} for key, ja, en in conn.execute(
            select(Council.key, Council.name_ja, Council.name_en).where(Council.strategy_id == tenant)
            .order_by(Council.id))}
    for key, _, _, role, email in seats:
        councils[key]["seats"].append((role, email))
    part = {email for *_, email in seats} | actions.owner_emails(conn, strategy=tenant)
    seated_anywhere = select(Membership.person_id)
    owning_anywhere = select(ActionOwner.person_id)
    nowhere = Person.id.not_in(seated_anywhere) & Person.id.not_in(owning_anywhere)  # type: ignore[union-attr]
    rows = conn.execute(
        select(Person.email, Person.name, Person.name_en, Person.division, Person.language, Person.admin,
               Person.absent, Person.digest, Person.active)
        .where(or_(Person.email.in_(part), Person.admin, nowhere))  # type: ignore[attr-defined]
        .order_by(Person.email)
    ).all()
    people = [dict(p._mapping) for p in rows]
    return {"people": [p for p in people if p["active"]], "removed": [p for p in people if not p["active"]],
            "councils": councils}


def set_absent(conn: Connection, *, email: str, absent: bool, now: datetime, by: Actor) -> None:
    """Mark a person away (or back), by an admin of a strategy in which they sit (their vice
    chairs then act for them there); recorded in the audit trail of each of those strategies."""
    actor = actor_for(conn, email)
    seated = bodies.seated_in(conn, person_id=actor.person_id or 0)
    administered = bodies.administered(conn, person_id=by.person_id or 0)
    if administered is not None and not (seated & administered):
        raise WrongRole(f"{by.email} administers no strategy in which {actor.email} has a seat",
                        roles=("admin",), holders=())
    conn.execute(update(Person).where(Person.id == actor.person_id).values(absent=absent))  # type: ignore[arg-type]
    for tenant in sorted(seated) or [None]:
        audit.record(
            conn, workflow="person", instance_id=actor.person_id or 0, tenant_id=tenant, at=to_storage(now),
            actor=by.email, trigger="mark_absent" if absent else "mark_back",
            from_state="back" if absent else "absent", to_state="absent" if absent else "back", version=0,
            fields={"email": actor.email},
        )


def may_administer(conn: Connection, *, tenant: int, person_id: int) -> bool:
    return bodies.is_admin(conn, strategy=tenant, person_id=person_id)


OWNERS_CHANGED = "owners|"
"""`last_error` of a message cancelled by a change of owners: owners|CODE|removed|new."""


def reassign(conn: Connection, registry: Registry, *, tenant: int, code: str, emails: list[str], by: str,
             now: datetime) -> tuple[list[str], list[str], int]:
    """Hand an action to other owners and re-plan what was pending: messages still queued
    for an owner who no longer owns it, about the action's instances, are cancelled with
    the reason (kept in the outbox); the next tick queues the new owners' reminders, whose
    dedupe keys name the new person. Owners before and after, and how many were cancelled."""
    before, after = actions.set_owners(conn, strategy=tenant, code=code, emails=emails, by=by, now=now)
    removed = sorted(set(before) - set(after))
    if not removed:
        return before, after, 0
    reason = f"{OWNERS_CHANGED}{code}|{', '.join(removed)}|{', '.join(after)}"
    cancelled = 0
    for entry in registry:
        ids = entry.store.matching(conn, tenant=tenant, key=code)
        if not ids:
            continue
        pending = conn.execute(select(OutboxMessage.id).where(
            OutboxMessage.workflow == entry.name, OutboxMessage.instance_id.in_(ids),  # type: ignore[union-attr]
            OutboxMessage.recipient.in_(removed), OutboxMessage.status == "queued")).scalars().all()  # type: ignore[attr-defined]
        cancelled += outbox.cancel(conn, [int(i) for i in pending], reason)
    return before, after, cancelled
