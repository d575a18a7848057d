"""A store for a small workflow whose instances live in a table of their own, so that a new
workflow is its spec, its table and a few lines of wiring.

The table has `id`, `state`, `version`, `updated_at`, `tenant_id` (the strategy),
`created_by` (the person who opened it) and `title`; any other column is its record. Who
holds which role:
- `creator`: the role of whoever opened the instance;
- `members`: role -> body (a council, the secretariat): every member of that body of the
  instance's strategy holds the role;
- a role the spec gives a `body` is held by that body's chair (the vice chair while the
  chair is away);
- the strategy's admins may stand in for the clock.
A `notify` effect ({"kind": ..., "roles": [...]}) queues a message of that kind about the
instance to the holders of those roles, once per step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, String, Table, insert, literal, select, true

from engine.clock import from_storage, to_storage
from engine.errors import NotFound
from engine.outbox import dedupe_key, queue
from engine.runtime import Actor, Instance
from engine.spec import OPENING, STAND_IN, WorkflowSpec
from workflows import bodies
from workflows.messages import message_columns
from workflows.models import Person
from workflows.tenants import Tenants

if TYPE_CHECKING:
    from engine.runtime import FireContext

META = ("id", "state", "version", "updated_at", "tenant_id", "created_by")


class BasicStore(bodies.SeatedInTenant):
    def __init__(self, table: Table, spec: WorkflowSpec, tenants: Tenants, *, creator: str | None = None,
                 members: Mapping[str, str] | None = None) -> None:
        self.table = table
        self.spec = spec
        self.tenants = tenants
        self.creator = creator
        self.members = dict(members or {})
        self.scope = spec.name
        self._chairs = spec.body_roles()

    # -- the engine's Store protocol ---------------------------------------------------------

    def load(self, conn: Connection, instance_id: int) -> Instance | None:
        row = conn.execute(select(self.table).where(self.table.c.id == instance_id)).mappings().first()
        if row is None:
            return None
        return Instance(row["id"], row["state"], row["version"], row, row["tenant_id"])

    def roles_of(self, conn: Connection, instance: Instance, actor: Actor) -> set[str]:
        if actor.person_id is None or instance.tenant is None:
            return set()
        roles = set()
        if self.creator and instance.data.get("created_by") == actor.person_id:
            roles.add(self.creator)
        seats = bodies.seats_of(conn, strategy=instance.tenant, person_id=actor.person_id)
        roles |= {role for role, body in self.members.items() if body in seats}
        chairing = bodies.chairing(conn, strategy=instance.tenant, person_id=actor.person_id)
        roles |= {role for body, role in self._chairs.items() if body in chairing}
        if bodies.is_admin(conn, strategy=instance.tenant, person_id=actor.person_id):
            roles.add(STAND_IN)
        return roles

    def holders(self, conn: Connection, instance: Instance, roles: Sequence[str]) -> list[str]:
        emails: list[str] = []
        strategy = instance.tenant
        if self.creator in roles and instance.data.get("created_by"):
            emails += conn.execute(select(Person.email).where(Person.id == instance.data["created_by"])).scalars()
        for role in roles:
            for query in ([bodies.members(strategy, self.members[role])] if role in self.members else []) + (
                    [bodies.chairs(strategy, b) for b, r in self._chairs.items() if r == role]):
                found = query.subquery()
                emails += [e for e in conn.execute(select(found.c.email).order_by(found.c.email)).scalars()
                           if e not in emails]
        return emails

    def choices(self, conn: Connection, instance: Instance, source: str) -> Sequence[str]:
        raise KeyError(source)

    def items(self, conn: Connection, instance: Instance, source: str) -> Sequence[str]:
        raise KeyError(source)

    def propose(self, conn: Connection, parent: Instance | None, fields: Mapping[str, Any], *,
                tenant: int | None = None) -> Instance:
        if tenant is None:
            raise NotFound(f"a {self.spec.name} belongs to a strategy: say which")
        return Instance(0, OPENING, 0, {"tenant_id": tenant, "created_by": None}, tenant)

    def insert(self, conn: Connection, proposed: Instance, columns: Mapping[str, Any], *, now: datetime) -> int:
        values = {"tenant_id": proposed.tenant, **columns}
        return int(conn.execute(insert(self.table).values(**values)).inserted_primary_key[0])  # type: ignore[index]

    def apply(self, conn: Connection, instance: Instance, effects: Sequence[tuple[str, Mapping[str, Any]]],
              ctx: FireContext) -> None:
        for kind, data in effects:
            if kind != "notify":
                raise KeyError(kind)
            self.notify(conn, instance, data["kind"], data.get("roles", [self.creator]), ctx.now)

    def notify(self, conn: Connection, instance: Instance, kind: str, roles: Sequence[str], now: datetime,
               step: str | None = None, exclude: Sequence[str] = ()) -> int:
        """Queue one message of `kind` about the instance to each holder of `roles` (but those
        in `exclude`: whoever took the step, say), once per step: by default the version the
        step being taken makes; a reminder names its own."""
        step = step or f"v{instance.version + 1}"
        today = self.tenants.calendar(conn, instance.tenant).today(now) if instance.tenant else now.date()
        recipients = [e for e in self.holders(conn, instance, roles) if e not in exclude]
        if not recipients:
            return 0
        scope = literal(f"{self.scope}:{instance.id}", String)
        rows = select(
            dedupe_key(kind, scope, today, step, Person.email).label("dedupe_key"),
            Person.email.label("recipient"),  # type: ignore[attr-defined]
            literal(instance.id).label("instance_id"),
            *message_columns(kind, workflow=self.spec.name, tenant=instance.tenant, payload={}, due=today,
                             step=step, at=to_storage(now)),
        ).where(Person.email.in_(recipients), Person.active)  # type: ignore[attr-defined]
        return queue(conn, rows)

    # -- what pages, the CLI, the API and mail ask of a workflow ---------------------------------

    def find(self, conn: Connection, *, tenant: int, key: str, fy: int | None = None) -> int:
        if key.isdigit():
            found = conn.execute(select(self.table.c.id).where(
                self.table.c.id == int(key), self.table.c.tenant_id == tenant)).scalar()
            if found is not None:
                return int(found)
        raise NotFound(f"there is no {self.spec.name} {key}")

    def address(self, instance: Instance) -> dict[str, Any]:
        return {"key": str(instance.id), "path": f"/w/{self.spec.name}/{instance.id}",
                "label": f"#{instance.id} {instance.data.get('title') or ''}".strip()}

    def in_states(self, states: Sequence[str]) -> Any:
        return self.table.c.state.in_(list(states))

    def tenant_condition(self, tenant: int) -> Any:
        return self.table.c.tenant_id == tenant

    def held_by(self, conn: Connection, *, tenant: int, person_id: int, role: str) -> Any:
        if role == self.creator:
            return self.table.c.created_by == person_id
        if role in self.members and bodies.sits_on(conn, strategy=tenant, person_id=person_id,
                                                   key=self.members[role]):
            return true()
        body = next((b for b, r in self._chairs.items() if r == role), None)
        if body is not None and body in bodies.chairing(conn, strategy=tenant, person_id=person_id):
            return true()
        return None

    def rows(self, conn: Connection, *, tenant: int, where: Any = None, language: str = "ja",
             today: date | None = None, open_only: bool = True) -> list[dict[str, Any]]:
        query = select(self.table).where(self.table.c.tenant_id == tenant, where if where is not None else true())
        if open_only:
            finals = [s.name for s in self.spec.states if s.final]
            query = query.where(self.table.c.state.not_in(finals))
        return [self._row(r, language) for r in conn.execute(query.order_by(self.table.c.id)).mappings()]

    def _row(self, r: Mapping[str, Any], language: str) -> dict[str, Any]:
        return {"workflow": self.spec.name, "id": r["id"], "key": str(r["id"]), "code": f"#{r['id']}", "fy": None,
                "fy_label": "", "path": f"/w/{self.spec.name}/{r['id']}", "title": r["title"], "owner": "",
                "state": r["state"], "state_label": self.spec.state(r["state"]).label(language),
                "version": r["version"], "due": None, "days_left": None, "flagged": False, "returned_comment": None}

    def matching(self, conn: Connection, *, tenant: int, key: str) -> list[int]:
        return [int(key)] if key.isdigit() else []

    def labels(self, conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        return {i: {"code": f"#{i}", "fy": None, "path": f"/w/{self.spec.name}/{i}"} for i in ids}

    def details(self, conn: Connection, instance: Instance, *, today: date | None) -> dict[str, Any]:
        record = {k: (from_storage(v).isoformat() if isinstance(v, datetime) else
                      v.isoformat() if isinstance(v, date) else v)
                  for k, v in instance.data.items() if k not in META}
        return {"title": instance.data.get("title"), "record": record}

    def views(self, conn: Connection, ids: Sequence[int], language: str) -> dict[int, dict[str, Any]]:
        rows = conn.execute(select(self.table).where(self.table.c.id.in_(list(ids)))).mappings()
        return {r["id"]: {"code": f"#{r['id']}", "title": r["title"], "division": "", "fy": None, "fy_label": "",
                          "state": r["state"], "state_label": self.spec.state(r["state"]).label(language),
                          "path": f"/w/{self.spec.name}/{r['id']}", "flags": []} for r in rows}
