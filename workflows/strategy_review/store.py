"""Where a strategy's process lives (`strategy_process`, one row per strategy) and what its
steps do beyond their own row: an approved extension moves the strategy's target year (and,
if so chosen, its indicators' targets for that year); the adoption makes the next strategy
a strategy of its own in the same database, with the bodies, the actions still under way
and their indicators carried over from this one.

Who holds which role: the strategy's secretariat, and the promotion council's chair (the
vice chair while the chair is away); the strategy's admins may stand in for the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, String, insert, literal, select, true, update

from engine.clock import to_storage
from engine.outbox import dedupe_key, queue
from engine.runtime import Instance
from engine.spec import Label
from workflows import actions, forecast
from workflows.basic import BasicStore
from workflows.fiscal import fy_label
from workflows.frozen import content_hash
from workflows.messages import message_columns
from workflows.models import (
    Action,
    ActionOwner,
    Council,
    Indicator,
    Membership,
    Person,
    Publication,
    ReviewPackage,
    Strategy,
    StrategyProcess,
)
from workflows.strategy_review import contributions, package
from workflows.strategy_review.spec import MOVE, SECRETARIAT, STRATEGY_REVIEW
from workflows.tenants import Tenants

if TYPE_CHECKING:
    from engine.runtime import FireContext

process_table = StrategyProcess.__table__  # type: ignore[attr-defined]
SPEC = STRATEGY_REVIEW
YearResults = Callable[[Connection, str, int, float], dict[str, Any]]
"""(strategy code, fiscal year, on-track ratio) -> that year's results as the yearly
publication freezes them: the package is built from these."""
Series = Callable[[Connection, list[int]], dict[int, list[tuple[int, float]]]]
"""indicator ids -> each one's measured (fiscal year, value), oldest first: the yearly
workflow's results, handed over by bootstrap."""
DEADLINES = {"mid_review": "mid_review_due", "final_review": "final_review_due", "next_drafting": "draft_due"}
"""The states whose wait has a date (the spec's own `deadline`), by the review setting."""


class StrategyStore(BasicStore):
    def __init__(self, tenants: Tenants, *, series: Series, snapshot: YearResults) -> None:
        super().__init__(process_table, SPEC, tenants, members={SECRETARIAT: "secretariat"})
        self.series = series
        self.snapshot = snapshot
        self._load_query = (
            select(process_table, Strategy.code, Strategy.first_fy, Strategy.target_fy, Strategy.name_ja,
                   Strategy.name_en)
            .join(Strategy, Strategy.id == process_table.c.tenant_id)
        )

    # -- the engine's Store protocol ---------------------------------------------------------

    def load(self, conn: Connection, instance_id: int) -> Instance | None:
        row = conn.execute(self._load_query.where(process_table.c.id == instance_id)).mappings().first()
        if row is None:
            return None
        return Instance(row["id"], row["state"], row["version"], row, row["tenant_id"])

    def apply(self, conn: Connection, instance: Instance, effects: Sequence[tuple[str, Mapping[str, Any]]],
              ctx: FireContext) -> None:
        for kind, data in effects:
            if kind == "extend":
                self._extend(conn, instance)
            elif kind == "adopt_next":
                self._adopt_next(conn, instance, ctx.now)
            elif kind == "tag":
                contributions.set_tags(conn, int(instance.tenant or 0), data["action"], data["indicator"],
                                       [tuple(t.split(":", 1)) for t in data["targets"]])  # type: ignore[misc]
            elif kind == "publish_review":
                self.publish_review(conn, instance, now=ctx.now)
            else:
                super().apply(conn, instance, [(kind, data)], ctx)

    # -- what the steps do -----------------------------------------------------------------------

    def _extend(self, conn: Connection, instance: Instance) -> None:
        """The new target year; the indicators whose target was for the old one follow it
        if so chosen. How many moved is kept with the extension, beside its reason."""
        asked = dict(instance.data["extension"] or {})
        strategy = instance.tenant
        conn.execute(update(Strategy).where(Strategy.id == strategy).values(target_fy=asked["to_fy"]))  # type: ignore[arg-type]
        moved = 0
        if asked.get("targets") == MOVE:
            of_strategy = select(Action.id).where(Action.strategy_id == strategy)
            moved = conn.execute(update(Indicator).where(
                Indicator.action_id.in_(of_strategy), Indicator.target_year == asked["from_fy"])  # type: ignore[attr-defined]
                .values(target_year=asked["to_fy"])).rowcount
        asked["moved_indicators"] = moved
        conn.execute(update(process_table).where(process_table.c.id == instance.id).values(extension=asked))
        self.tenants.forget()

    def _adopt_next(self, conn: Connection, instance: Instance, now: datetime) -> None:
        """The draft becomes a strategy of its own: its row (following this one), its
        bodies with their seats, and every action still under way with its owners and
        indicators; each indicator's next baseline is its last measured value."""
        draft = instance.data["draft"]
        targets = self.target_proposals(conn, instance)
        old = conn.execute(select(Strategy.__table__).where(Strategy.id == instance.tenant)).one()  # type: ignore[attr-defined]
        new_id = int(conn.execute(insert(Strategy).values(
            code=draft["code"], name_ja=draft["name_ja"], name_en=draft["name_en"], first_fy=draft["first_fy"],
            target_fy=draft["target_fy"], grades=old.grades, reminders=old.reminders, predecessor_id=old.id,
            report_fields=old.report_fields,
        )).inserted_primary_key[0])  # type: ignore[index]
        _copy_bodies(conn, old.id, new_id)
        _carry_over_actions(conn, old.id, new_id, draft, series=self.series,
                            targets={(t["action"], t["indicator"]): t for t in targets})
        _add_new_actions(conn, new_id, draft.get("new_actions", []))
        carried = set(conn.execute(select(Action.code).where(Action.strategy_id == new_id)).scalars())
        for key, targets in (draft.get("tags") or {}).items():
            action, _, indicator = key.partition("/")
            if action in carried:
                contributions.set_tags(conn, new_id, action, indicator,
                                       [tuple(t.split(":", 1)) for t in targets])  # type: ignore[misc]
        conn.execute(update(process_table).where(process_table.c.id == instance.id).values(next_strategy_id=new_id))
        self.tenants.forget()
        next_strategy = {k: draft[k] for k in ("code", "name_ja", "name_en", "first_fy", "target_fy")} | {
            "period_label": f"{fy_label(draft['first_fy'])}–{fy_label(draft['target_fy'])}", "targets": targets,
            "actions": draft.get("actions") or {}, "new_actions": draft.get("new_actions") or []}
        self.publish_review(conn, instance, now=now, note=f"{draft['name_ja']}の採択", extra={
            "next_strategy": next_strategy})

    def choices(self, conn: Connection, instance: Instance, source: str) -> Sequence[str]:
        """The strategy's actions still under way, for the next strategy's draft."""
        if source != "actions":
            raise KeyError(source)
        return tuple(conn.execute(select(Action.code).where(
            Action.strategy_id == instance.tenant, Action.status == "active").order_by(Action.code)).scalars())

    def choice_labels(self, conn: Connection, instance: Instance, source: str) -> dict[str, Label]:
        if source != "actions":
            return {}
        return {r.code: Label(f"{r.code} {r.title_ja}", f"{r.code} {r.title_en or r.title_ja}") for r in conn.execute(
            select(Action.code, Action.title_ja, Action.title_en).where(
                Action.strategy_id == instance.tenant, Action.status == "active"))}

    def unknown_people(self, conn: Connection, emails: Sequence[str]) -> list[str]:
        wanted = {e.strip().lower() for e in emails if e.strip()}
        known = set(conn.execute(select(Person.email).where(Person.email.in_(wanted), Person.active)).scalars())  # type: ignore[attr-defined]
        return sorted(wanted - known)

    # -- the final review's package -------------------------------------------------------------

    def review_content(self, conn: Connection, instance: Instance) -> dict[str, Any]:
        """The package as it stands now, from every year of the period that has results."""
        data = instance.data
        tenant = self.tenants.get(conn, int(instance.tenant or 0))
        years = [self.snapshot(conn, data["code"], fy, tenant.rules.on_track_ratio)
                 for fy in range(int(data["first_fy"]), int(data["target_fy"]) + 1)]
        strategy = {k: data[k] for k in ("code", "name_ja", "name_en", "first_fy", "target_fy")}
        return package.build(strategy, [y for y in years if y["actions"]], summary=data.get("review_summary"))

    def publish_review(self, conn: Connection, instance: Instance, *, now: datetime, note: str | None = None,
                       extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Freeze the package (a new version only when it changed), hashed as a year's results."""
        content = self.review_content(conn, instance) | (extra or {})
        digest = content_hash(content)
        last = self.published_review(conn, int(instance.tenant or 0))
        if last is not None and last["source_hash"] == digest:
            return last
        version = (last["version"] if last else 0) + 1
        zone = self.tenants.get(conn, int(instance.tenant or 0)).calendar.zone
        frozen = content | {"version": version, "published_at": now.astimezone(zone).isoformat(), "note": note,
                            "source_hash": digest}
        conn.execute(insert(ReviewPackage).values(
            strategy_id=instance.tenant, version=version, published_at=to_storage(now), note=note, content=frozen,
            content_hash=content_hash(frozen)))
        return frozen | {"content_hash": content_hash(frozen)}

    def carried_indicators(self, conn: Connection, instance: Instance) -> set[tuple[str, str]]:
        """(action code, indicator code) of what the draft carries into the next strategy."""
        planned = (instance.data.get("draft") or {}).get("actions") or {}
        return {(a, i) for a, i in conn.execute(
            select(Action.code, Indicator.code).join(Indicator, Indicator.action_id == Action.id).where(
                Action.strategy_id == instance.tenant, Action.status == "active"))
            if planned.get(a, {}).get("treatment") not in ("merge", "drop")}

    def target_proposals(self, conn: Connection, instance: Instance) -> list[dict[str, Any]]:
        """For each indicator the draft carries over: its next baseline (the last measured
        value), the target proposed from its trend with the method and figures, and the
        target the draft sets in its place, if any, with why."""
        draft = instance.data.get("draft") or {}
        next_target = int(draft.get("target_fy") or int(instance.data["target_fy"]) + 10)
        carried = self.carried_indicators(conn, instance)
        rows = conn.execute(select(Indicator.id, Indicator.code, Indicator.name_ja, Indicator.name_en, Indicator.unit,
                                   Indicator.direction, Indicator.baseline_value, Action.code.label("action"))
                            .join(Action, Action.id == Indicator.action_id)
                            .where(Action.strategy_id == instance.tenant).order_by(Action.code, Indicator.code)).all()
        measured = self.series(conn, [r.id for r in rows])
        chosen = draft.get("targets") or {}
        out = []
        for r in rows:
            if (r.action, r.code) not in carried:
                continue
            proposal = forecast.propose_target(measured.get(r.id, []), next_target_year=next_target,
                                               direction=r.direction, baseline_value=r.baseline_value)
            edit = chosen.get(f"{r.action}/{r.code}")
            out.append({"action": r.action, "indicator": r.code, "name_ja": r.name_ja, "name_en": r.name_en,
                        "unit": r.unit, "direction": r.direction, "proposal": proposal.figures(),
                        "target_value": edit["value"] if edit else proposal.target_value,
                        "edited": edit is not None, "reason": edit["reason"] if edit else None})
        return out

    def contribution_table(self, conn: Connection, strategy: int) -> tuple[list[dict[str, Any]], int | None]:
        """The contribution table with the latest year that has results (and that year)."""
        row = conn.execute(select(Strategy.code, Strategy.first_fy, Strategy.target_fy).where(
            Strategy.id == strategy)).one()
        tenant = self.tenants.get(conn, strategy)
        for fy in range(int(row.target_fy), int(row.first_fy) - 1, -1):
            results = self.snapshot(conn, row.code, fy, tenant.rules.on_track_ratio)
            if results["actions"] and any(a["council_grade"] or a["report_status"] for a in results["actions"]):
                return contributions.table(conn, strategy, results), fy
        return contributions.table(conn, strategy, None), None

    def published_review(self, conn: Connection, strategy: int, version: int | None = None) -> dict[str, Any] | None:
        """The latest published package of a strategy (or the version asked for)."""
        query = select(ReviewPackage.content, ReviewPackage.content_hash).where(ReviewPackage.strategy_id == strategy)
        query = query.where(ReviewPackage.version == version) if version else query.order_by(
            ReviewPackage.version.desc())  # type: ignore[attr-defined]
        row = conn.execute(query.limit(1)).first()
        return row.content | {"content_hash": row.content_hash} if row else None

    # -- what the guards and the clock ask -----------------------------------------------------

    def code_taken(self, conn: Connection, code: str) -> bool:
        return conn.execute(select(Strategy.id).where(Strategy.code == code)).first() is not None

    def published(self, conn: Connection, instance: Instance) -> bool:
        """The strategy's target year's results are published."""
        found = conn.execute(select(Publication.id).where(
            Publication.strategy_id == instance.tenant, Publication.fy == instance.data["target_fy"])).first()
        return found is not None

    def instance_of(self, conn: Connection, tenant: int) -> Instance | None:
        found = conn.execute(select(process_table.c.id).where(process_table.c.tenant_id == tenant)).scalar()
        return self.load(conn, int(found)) if found is not None else None

    def due(self, conn: Connection, instance: Instance) -> date | None:
        """When whoever it waits for is due, for the states that have a date."""
        setting = DEADLINES.get(instance.state)
        if setting is None or instance.tenant is None:
            return None
        tenant = self.tenants.get(conn, instance.tenant)
        fy = tenant.review.mid_review_fy if instance.state == "mid_review" else instance.data["target_fy"]
        return tenant.review.day(int(fy or instance.data["target_fy"]), setting, tenant.calendar.start[0])

    def remind(self, conn: Connection, instance: Instance, *, due: date, step: str, now: datetime) -> int:
        """One reminder of the wait in this state to whoever it waits for, once per step."""
        recipients = self.holders(conn, instance, SPEC.waits_on(instance.state))
        if not recipients:
            return 0
        kind = "strategy_reminder" if step.startswith("-") else "strategy_overdue"
        scope = literal(f"{self.scope}:{instance.id}", String)
        rows = select(
            dedupe_key(kind, scope, due, f"{instance.state}{step}", Person.email).label("dedupe_key"),
            Person.email.label("recipient"),  # type: ignore[attr-defined]
            literal(instance.id).label("instance_id"),
            *message_columns(kind, workflow=SPEC.name, tenant=instance.tenant, payload={}, due=due, step=step,
                             at=to_storage(now)),
        ).where(Person.email.in_(recipients), Person.active)  # type: ignore[attr-defined]
        return queue(conn, rows)

    # -- what pages, the CLI, the API and mail ask of a workflow ---------------------------------

    def find(self, conn: Connection, *, tenant: int, key: str, fy: int | None = None) -> int:
        """The strategy's process, by its id or by the strategy's code."""
        found = conn.execute(select(process_table.c.id).join(Strategy, Strategy.id == process_table.c.tenant_id)
                             .where(process_table.c.tenant_id == tenant, Strategy.code == key)).scalar()
        return int(found) if found is not None else super().find(conn, tenant=tenant, key=key, fy=fy)

    def address(self, instance: Instance) -> dict[str, Any]:
        return {"key": str(instance.id), "path": f"/w/{SPEC.name}/{instance.id}",
                "label": f"{instance.data['name_ja']} ({fy_label(instance.data['first_fy'])}–"
                         f"{fy_label(instance.data['target_fy'])})"}

    def rows(self, conn: Connection, *, tenant: int, where: Any = None, language: str = "ja",
             today: date | None = None, open_only: bool = True) -> list[dict[str, Any]]:
        query = self._load_query.where(process_table.c.tenant_id == tenant, where if where is not None else true())
        if open_only:
            query = query.where(process_table.c.state.not_in([s.name for s in SPEC.states if s.final]))
        out = []
        for r in conn.execute(query).mappings():
            instance = Instance(r["id"], r["state"], r["version"], r, r["tenant_id"])
            due = self.due(conn, instance)
            out.append({
                "workflow": SPEC.name, "id": r["id"], "key": str(r["id"]), "code": r["code"], "fy": None,
                "fy_label": f"{fy_label(r['first_fy'])}–{fy_label(r['target_fy'])}",
                "path": f"/w/{SPEC.name}/{r['id']}",
                "title": r["name_en"] if language == "en" else r["name_ja"], "owner": "", "state": r["state"],
                "state_label": SPEC.state(r["state"]).label(language), "version": r["version"],
                "due": due.isoformat() if due else None,
                "days_left": (due - today).days if due and today else None, "flagged": False,
                "returned_comment": r["returned_comment"],
            })
        return out

    def details(self, conn: Connection, instance: Instance, *, today: date | None) -> dict[str, Any]:
        data = instance.data
        due = self.due(conn, instance)
        record = {k: data[k] for k in ("review_summary", "mid_review_summary", "returned_comment") if data.get(k)}
        record |= _as_read(data.get("extension"), data.get("draft"))
        return {"title": data["name_ja"], "code": data["code"], "record": record,
                "period": {"first_fy": data["first_fy"], "target_fy": data["target_fy"],
                           "label": f"{fy_label(data['first_fy'])}–{fy_label(data['target_fy'])}"},
                "deadline": None if due is None else {
                    "name": DEADLINES[instance.state], "date": due.isoformat(),
                    **({"days_left": (due - today).days} if today else {})}}

    def views(self, conn: Connection, ids: Sequence[int], language: str) -> dict[int, dict[str, Any]]:
        rows = conn.execute(self._load_query.where(process_table.c.id.in_(list(ids)))).mappings()
        return {r["id"]: {"code": r["code"], "title": r["name_en"] if language == "en" else r["name_ja"],
                          "division": "", "fy": None, "fy_label": "", "state": r["state"],
                          "state_label": SPEC.state(r["state"]).label(language), "path": f"/w/{SPEC.name}/{r['id']}",
                          "flags": []} for r in rows}


def _as_read(extension: Mapping[str, Any] | None, draft: Mapping[str, Any] | None) -> dict[str, Any]:
    """The extension asked for and the next strategy drafted, as a person reads them: each
    value text or a number (the page names each entry), never a structure."""
    record: dict[str, Any] = {}
    if extension:
        record["extension_period"] = f"{fy_label(extension['from_fy'])} → {fy_label(extension['to_fy'])}"
        record["extension_reason"] = extension["reason"]
        record["extension_moved"] = extension.get("moved_indicators", 0)
    if draft and draft.get("code"):
        record |= {"draft_code": draft["code"], "draft_name_ja": draft["name_ja"], "draft_name_en": draft["name_en"],
                   "draft_period": f"{fy_label(draft['first_fy'])} – {fy_label(draft['target_fy'])}"}
    if draft:
        treatments = [p.get("treatment") for p in (draft.get("actions") or {}).values()]
        record |= {f"draft_{t}": treatments.count(t) for t in ("change", "merge", "drop")}
        record["draft_new"] = len(draft.get("new_actions") or [])
    return record


def _copy_bodies(conn: Connection, old: int, new: int) -> None:
    """The next strategy starts with the same councils, secretariat and advisors; admins
    change them on the people page."""
    for council in conn.execute(select(Council.id, Council.key, Council.name_ja, Council.name_en)
                                .where(Council.strategy_id == old)).all():
        council_id = conn.execute(insert(Council).values(
            strategy_id=new, key=council.key, name_ja=council.name_ja, name_en=council.name_en,
        )).inserted_primary_key[0]  # type: ignore[index]
        seats = conn.execute(select(Membership.person_id, Membership.role)
                             .where(Membership.council_id == council.id)).all()
        if seats:
            conn.execute(insert(Membership), [{"council_id": council_id, "person_id": p, "role": r} for p, r in seats])


def _carry_over_actions(conn: Connection, old: int, new: int, draft: Mapping[str, Any], *, series: Series,
                        targets: Mapping[tuple[str, str], Mapping[str, Any]]) -> int:
    """Every action still under way, as the draft decided: carried over unchanged (the
    default), carried over with its changed title or plan, or left behind when merged into
    another or dropped; with its owners and indicators. An indicator's next baseline is its
    last measured value (and year); its target is the one the draft sets, else the one
    proposed from its trend (how, kept in `target_basis`), else its old one."""
    carried = 0
    planned: Mapping[str, Mapping[str, str]] = draft.get("actions") or {}
    for action in conn.execute(select(Action.__table__).where(  # type: ignore[attr-defined]
            Action.strategy_id == old, Action.status == "active").order_by(Action.id)).mappings():
        plan = planned.get(action["code"], {})
        if plan.get("treatment") in ("merge", "drop"):
            continue
        values = {k: action[k] for k in ("code", "basic_policy", "basic_policy_en", "title_ja", "title_en",
                                          "division", "plan")}
        if plan.get("treatment") == "change":
            values |= {k: plan[k] for k in ("title_ja", "plan") if plan.get(k)}
        action_id = conn.execute(insert(Action).values(strategy_id=new, status="active", **values)
                                 ).inserted_primary_key[0]  # type: ignore[index]
        owners = conn.execute(select(ActionOwner.person_id).where(ActionOwner.action_id == action["id"])).scalars()
        actions.replace_owners(conn, action_id, list(owners))
        indicators = conn.execute(select(Indicator.__table__).where(  # type: ignore[attr-defined]
            Indicator.action_id == action["id"])).mappings().all()
        measured = series(conn, [ind["id"] for ind in indicators])
        for ind in indicators:
            last = measured[ind["id"]][-1] if measured.get(ind["id"]) else None
            conn.execute(insert(Indicator).values(
                action_id=action_id, code=ind["code"], name_ja=ind["name_ja"], name_en=ind["name_en"],
                unit=ind["unit"], direction=ind["direction"],
                baseline_value=last[1] if last else ind["baseline_value"],
                baseline_year=last[0] if last else ind["baseline_year"],
                **_next_target(ind, targets.get((action["code"], ind["code"])), draft["target_fy"])))
        carried += 1
    return carried


def _next_target(ind: Mapping[str, Any], chosen: Mapping[str, Any] | None, target_fy: int) -> dict[str, Any]:
    if chosen is None or chosen["target_value"] is None:
        value = ind["target_value"]
        return {"target_value": value, "target_year": target_fy if value is not None else None,
                "target_basis": {"method": "kept"} if value is not None else None}
    basis = {"method": "edited" if chosen["edited"] else chosen["proposal"]["method"],
             "proposal": chosen["proposal"], "reason": chosen["reason"]}
    return {"target_value": chosen["target_value"], "target_year": target_fy, "target_basis": basis}


def _add_new_actions(conn: Connection, new: int, added: Sequence[Mapping[str, Any]]) -> None:
    """The draft's new actions, with their owners (indicators come by import or on the web)."""
    for a in added:
        action_id = conn.execute(insert(Action).values(
            strategy_id=new, status="active", code=a["code"], basic_policy=a["basic_policy"], title_ja=a["title_ja"],
            title_en=a.get("title_en") or None, division=a["division"], plan=a.get("plan") or "",
        )).inserted_primary_key[0]  # type: ignore[index]
        people = conn.execute(select(Person.id).where(Person.email.in_(a.get("owners", [])))).scalars()  # type: ignore[attr-defined]
        actions.replace_owners(conn, action_id, list(people))


__all__ = ["DEADLINES", "StrategyStore"]
