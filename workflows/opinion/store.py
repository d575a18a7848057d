"""Where opinion requests live and who holds which role for one: the asked advisor answers;
the promotion council's members (and the strategy's admins) ask and may withdraw. A
request belongs to its cycle's strategy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, String, literal, select, true

from engine.clock import from_storage, to_storage
from engine.errors import NotFound
from engine.outbox import dedupe_key, queue
from engine.runtime import Actor, Instance
from engine.spec import OPENING, STAND_IN, WorkflowSpec
from words.catalogue import say
from workflows import bodies
from workflows.fiscal import fy_label
from workflows.messages import message_columns
from workflows.models import Action, Cycle, OpinionRequest, Person
from workflows.opinion.spec import ADVISOR, OPINION, PROMOTION, PROMOTION_MEMBER
from workflows.tenants import Tenants

if TYPE_CHECKING:
    from engine.runtime import FireContext

opinion_table = OpinionRequest.__table__  # type: ignore[attr-defined]
SPEC = OPINION


def step_of(request_id: int, stage: str = "") -> str:
    """Messages about a request carry its id in their step: o12, o12:-7, o12:+7."""
    return f"o{request_id}" + (f":{stage}" if stage else "")


class OpinionStore(bodies.SeatedInTenant):
    table = opinion_table
    spec = SPEC
    scope = "cycle"
    """Messages about a request are keyed by its cycle (and the request in their step)."""

    def __init__(self, tenants: Tenants, parent: WorkflowSpec) -> None:
        self.tenants = tenants
        self._asking = parent.waiting_for(parent.body_roles()[PROMOTION])
        self._load = (
            select(OpinionRequest.id, OpinionRequest.state, OpinionRequest.version, OpinionRequest.cycle_id,
                   OpinionRequest.advisor_id, OpinionRequest.question, OpinionRequest.due, OpinionRequest.asked_by,
                   Cycle.state.label("cycle_state"), Cycle.fy, Action.code, Action.strategy_id,  # type: ignore[attr-defined]
                   Person.email.label("advisor"))  # type: ignore[attr-defined]
            .join(Cycle, Cycle.id == OpinionRequest.cycle_id)
            .join(Action, Action.id == Cycle.action_id)
            .join(Person, Person.id == OpinionRequest.advisor_id)
        )

    def asking_states(self) -> tuple[str, ...]:
        """The parent cycle's states in which opinions are asked: while it waits for the
        promotion council, as the parent's spec says."""
        return self._asking

    def today(self, conn: Connection, instance: Instance, now: datetime) -> date:
        return self.tenants.calendar(conn, instance.data["strategy_id"]).today(now)

    def person_id(self, conn: Connection, email: str) -> int:
        return int(conn.execute(select(Person.id).where(Person.email == email.strip().lower())).scalar_one())

    # -- the engine's Store protocol -----------------------------------------------------------

    def load(self, conn: Connection, instance_id: int) -> Instance | None:
        row = conn.execute(self._load.where(OpinionRequest.id == instance_id)).mappings().first()
        if row is None:
            return None
        return Instance(row["id"], row["state"], row["version"], row, row["strategy_id"])

    def propose(
        self, conn: Connection, parent: Instance | None, fields: Mapping[str, Any], *, tenant: int | None = None
    ) -> Instance:
        if parent is None or "action_id" not in parent.data:
            raise NotFound("an opinion is asked about a cycle")
        data = {"cycle_id": parent.id, "cycle_state": parent.state, "strategy_id": parent.data["strategy_id"],
                "code": parent.data["code"], "fy": parent.data["fy"], "advisor_id": None}
        return Instance(0, OPENING, 0, data, parent.data["strategy_id"])

    def insert(self, conn: Connection, proposed: Instance, columns: Mapping[str, Any], *, now: datetime) -> int:
        return int(conn.execute(opinion_table.insert().values(
            cycle_id=proposed.data["cycle_id"], **columns)).inserted_primary_key[0])  # type: ignore[index]

    def roles_of(self, conn: Connection, instance: Instance, actor: Actor) -> set[str]:
        if actor.person_id is None:
            return set()
        strategy = instance.data["strategy_id"]
        roles = set()
        if instance.data.get("advisor_id") == actor.person_id:
            roles.add(ADVISOR)
        if bodies.sits_on(conn, strategy=strategy, person_id=actor.person_id, key=PROMOTION):
            roles.add(PROMOTION_MEMBER)
        if bodies.is_admin(conn, strategy=strategy, person_id=actor.person_id):
            roles.add(STAND_IN)
        return roles

    def holders(self, conn: Connection, instance: Instance, roles: Sequence[str]) -> list[str]:
        emails: list[str] = []
        if ADVISOR in roles and instance.data.get("advisor"):
            emails.append(instance.data["advisor"])
        if PROMOTION_MEMBER in roles:
            members = bodies.members(instance.data["strategy_id"], PROMOTION).subquery()
            emails += conn.execute(select(members.c.email).order_by(members.c.email)).scalars().all()
        return emails

    def choices(self, conn: Connection, instance: Instance, source: str) -> Sequence[str]:
        if source == "advisors":
            advisors = bodies.members(instance.data["strategy_id"], bodies.ADVISORS).subquery()
            return tuple(conn.execute(select(advisors.c.email).order_by(advisors.c.email)).scalars())
        raise KeyError(source)

    def items(self, conn: Connection, instance: Instance, source: str) -> Sequence[str]:
        raise KeyError(source)

    def apply(self, conn: Connection, instance: Instance, effects: Sequence[tuple[str, Mapping[str, Any]]],
              ctx: FireContext) -> None:
        for kind, data in effects:
            if kind != "notify":
                raise KeyError(kind)
            notify(conn, request_id=instance.id, kind=data["kind"], stage=data["stage"], now=ctx.now)

    # -- what pages, the CLI, the API and mail ask of a workflow -------------------------------

    def find(self, conn: Connection, *, tenant: int, key: str, fy: int | None = None) -> int:
        if key.isdigit():
            found = conn.execute(select(OpinionRequest.id).where(
                OpinionRequest.id == int(key), self.tenant_condition(tenant))).scalar()
            if found is not None:
                return int(found)
        raise NotFound(f"there is no opinion request {key}")

    def address(self, instance: Instance) -> dict[str, Any]:
        code, fy = instance.data["code"], instance.data["fy"]
        return {"key": str(instance.id), "fy": fy, "path": f"/actions/{code}/{fy}",
                "label": f"{code} {fy_label(fy)} #{instance.id}"}

    def in_states(self, states: Sequence[str]) -> Any:
        return OpinionRequest.state.in_(list(states))  # type: ignore[attr-defined]

    def tenant_condition(self, tenant: int) -> Any:
        """Correlated, so a few requests never make the database list every cycle."""
        return (select(Cycle.id).join(Action, Action.id == Cycle.action_id)
                .where(Cycle.id == OpinionRequest.cycle_id, Action.strategy_id == tenant).exists())

    def held_by(self, conn: Connection, *, tenant: int, person_id: int, role: str) -> Any:
        if role == ADVISOR:
            return OpinionRequest.advisor_id == person_id
        if role == PROMOTION_MEMBER and bodies.sits_on(conn, strategy=tenant, person_id=person_id, key=PROMOTION):
            return true()
        return None

    def rows(self, conn: Connection, *, tenant: int, where: Any = None, language: str = "ja",
             today: date | None = None, open_only: bool = True) -> list[dict[str, Any]]:
        query = (
            select(OpinionRequest.id, OpinionRequest.state, OpinionRequest.version, OpinionRequest.due,
                   OpinionRequest.question, Cycle.fy, Action.code, Action.title_ja, Action.title_en, Action.division)
            .join(Cycle, Cycle.id == OpinionRequest.cycle_id).join(Action, Action.id == Cycle.action_id)
            .where(Action.strategy_id == tenant, where if where is not None else true())
            .order_by(OpinionRequest.due, OpinionRequest.id)
        )
        if open_only:
            query = query.where(OpinionRequest.state == SPEC.initial)
        out = []
        for r in conn.execute(query):
            title = (r.title_en or r.title_ja) if language == "en" else r.title_ja
            ask = say("kind.opinion_asked", language)
            out.append({
                "workflow": SPEC.name, "id": r.id, "key": str(r.id), "code": r.code, "fy": r.fy,
                "fy_label": fy_label(r.fy), "path": f"/actions/{r.code}/{r.fy}", "title": f"{title} ({ask})",
                "owner": r.division, "state": r.state, "state_label": SPEC.state(r.state).label(language),
                "version": r.version, "due": r.due.isoformat(),
                "days_left": (r.due - today).days if today is not None else None, "flagged": False,
                "returned_comment": None,
            })
        return out

    def matching(self, conn: Connection, *, tenant: int, key: str) -> list[int]:
        """Requests about the action with this code (the audit log's filter)."""
        return list(conn.execute(select(OpinionRequest.id).join(Cycle, Cycle.id == OpinionRequest.cycle_id)
                                 .join(Action, Action.id == Cycle.action_id)
                                 .where(Action.strategy_id == tenant, Action.code == key)).scalars())

    def labels(self, conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        rows = conn.execute(select(OpinionRequest.id, Cycle.fy, Action.code)
                            .join(Cycle, Cycle.id == OpinionRequest.cycle_id).join(Action, Action.id == Cycle.action_id)
                            .where(OpinionRequest.id.in_(list(ids))))  # type: ignore[union-attr]
        return {r.id: {"code": r.code, "fy": r.fy, "path": f"/actions/{r.code}/{r.fy}"} for r in rows}

    def details(self, conn: Connection, instance: Instance, *, today: date | None) -> dict[str, Any]:
        request = conn.execute(select(opinion_table).where(opinion_table.c.id == instance.id)).one()
        due: date = request.due
        return {
            "code": instance.data["code"], "fy": instance.data["fy"], "fy_label": fy_label(instance.data["fy"]),
            "record": {
                "question": request.question, "advisor": instance.data["advisor"], "asked_by": request.asked_by,
                "due": due.isoformat(), "answer": request.answer,
                "answered_at": from_storage(request.answered_at).isoformat() if request.answered_at else None,
                "withdrawn_reason": request.withdrawn_reason,
            },
            "deadline": None if instance.state != SPEC.initial else {
                "name": "due", "date": due.isoformat(), **({"days_left": (due - today).days} if today else {})},
        }

    def parent_of(self, instance: Instance) -> int:
        """The cycle a request is about."""
        return int(instance.data["cycle_id"])

    def for_parent(self, conn: Connection, parent_id: int) -> list[dict[str, Any]]:
        """The requests about one cycle, oldest first, for its page."""
        rows = conn.execute(
            select(OpinionRequest.id, OpinionRequest.state, OpinionRequest.version, OpinionRequest.question,
                   OpinionRequest.due, OpinionRequest.answer, OpinionRequest.asked_by, OpinionRequest.advisor_id,
                   Person.email, Person.name)
            .join(Person, Person.id == OpinionRequest.advisor_id)
            .where(OpinionRequest.cycle_id == parent_id).order_by(OpinionRequest.id)  # type: ignore[arg-type]
        )
        return [dict(r._mapping) for r in rows]


def notify(conn: Connection, *, request_id: int, kind: str, stage: str, now: datetime,
           due: date | None = None) -> int:
    """Queue one message about this request to its advisor (once per kind and stage)."""
    row = conn.execute(select(OpinionRequest.due, Cycle.fy, Action.strategy_id)
                       .join(Cycle, Cycle.id == OpinionRequest.cycle_id).join(Action, Action.id == Cycle.action_id)
                       .where(OpinionRequest.id == request_id)).one()
    due = due or row.due
    step = step_of(request_id, stage)
    scope = literal("cycle:", String) + OpinionRequest.cycle_id.cast(String)  # type: ignore[attr-defined]
    rows = (
        select(
            dedupe_key(kind, scope, due, step, Person.email).label("dedupe_key"),
            Person.email.label("recipient"),  # type: ignore[attr-defined]
            OpinionRequest.id.label("instance_id"),  # type: ignore[union-attr]
            *message_columns(kind, workflow=SPEC.name, tenant=row.strategy_id, payload={"fy": row.fy}, due=due,
                             step=step, at=to_storage(now)),
        )
        .join(Person, Person.id == OpinionRequest.advisor_id)
        .where(OpinionRequest.id == request_id, OpinionRequest.state == SPEC.initial, Person.active)
    )
    return queue(conn, rows)


def views(conn: Connection, ids: Sequence[int], language: str) -> dict[int, dict[str, Any]]:
    """A request as a message shows it: its cycle (code, title, page)."""
    rows = conn.execute(
        select(OpinionRequest.id, Cycle.fy, Cycle.state, Action.code, Action.title_ja, Action.title_en,
               Action.division)
        .join(Cycle, Cycle.id == OpinionRequest.cycle_id).join(Action, Action.id == Cycle.action_id)
        .where(OpinionRequest.id.in_(list(ids)))  # type: ignore[union-attr]
    )
    return {r.id: {"code": r.code, "title": (r.title_en or r.title_ja) if language == "en" else r.title_ja,
                   "division": r.division, "fy": r.fy, "fy_label": fy_label(r.fy), "state": r.state,
                   "state_label": "", "path": f"/actions/{r.code}/{r.fy}", "flags": []} for r in rows}


def extras(conn: Connection, message: Any, context: dict[str, Any], url: Any) -> dict[str, Any]:
    """The question, its date and who asked, for the advisor's messages."""
    row = conn.execute(select(OpinionRequest.question, OpinionRequest.due, OpinionRequest.asked_by)
                       .where(OpinionRequest.id == message.instance_id)).first()
    return {"opinion": dict(row._mapping) if row else None}
