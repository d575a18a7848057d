"""The strategy's simulated secretariat and promotion council chair, for `pdca simulate
--actors auto`: a few days after the process comes to them, they take the next step
through the same `fire` as real people, so that a replay through the target year ends
with the review approved and the next strategy adopted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from engine import db
from engine.clock import from_storage
from engine.errors import Refused
from engine.runtime import Actor, Workflow
from workflows import bodies, service
from workflows.fiscal import fy_label
from workflows.models import Action, Council, Membership, Person, Strategy, StrategyProcess
from workflows.strategy_review.spec import PROMOTION_CHAIR, SECRETARIAT, STRATEGY_REVIEW
from workflows.tenants import Tenant

ACTING_HOUR = time(11, 0)
DELAY_DAYS = 5


class Actors:
    def __init__(self, engine: Engine, workflow: Workflow, conn: Connection, tenant: Tenant, started: date, *,
                 laggards: Mapping[str, str] | None = None, end: date | None = None) -> None:
        self.engine = engine
        self.workflow = workflow
        self.tenant = tenant

    def _person(self, conn: Connection, role: str) -> Actor | None:
        """The first secretariat member, or whoever holds the promotion council's chair now."""
        query = (select(Person.email).join(Membership, Membership.person_id == Person.id)
                 .join(Council, Council.id == Membership.council_id)
                 .where(Council.strategy_id == self.tenant.id, Person.active).order_by(Person.email))
        if role == SECRETARIAT:
            query = query.where(Council.key == bodies.SECRETARIAT)
        else:
            query = query.where(Council.key == "promotion", bodies.chair_seats(), Person.absent.is_(False))  # type: ignore[attr-defined]
        email = conn.execute(query).scalars().first()
        return service.actor_for(conn, email) if email else None

    def act(self, day: date, month: Any) -> None:
        zone = self.tenant.calendar.zone
        now = datetime.combine(day, ACTING_HOUR, zone)
        with db.writing(self.engine) as conn:
            row = conn.execute(select(StrategyProcess.id, StrategyProcess.state, StrategyProcess.updated_at)  # type: ignore[call-overload]
                               .where(StrategyProcess.tenant_id == self.tenant.id)).first()
            if row is None or not STRATEGY_REVIEW.waits_on(row.state):
                return
            since = from_storage(row.updated_at).astimezone(zone).date() if row.updated_at else day
            if day < since + timedelta(days=DELAY_DAYS):
                return
            step = self._next_step(conn, row.state)
            if step is None:
                return
            trigger, role, fields = step
            actor = self._person(conn, role)
            if actor is None:
                return
            try:
                events = self.workflow.fire_in(conn, row.id, trigger, actor, fields, now=now)
            except Refused:
                month.refused += 1
                return
            for event in events:
                month.transitions[event.trigger] += 1

    def _next_step(self, conn: Connection, state: str) -> tuple[str, str, dict[str, Any]] | None:
        t = self.tenant
        actions = conn.execute(select(func.count()).select_from(Action).where(
            Action.strategy_id == t.id, Action.status == "active")).scalar_one()
        period = f"{fy_label(t.first_fy)}–{fy_label(t.target_fy)}"
        steps: dict[str, tuple[str, str, dict[str, Any]]] = {
            "mid_review": ("submit_mid_review", SECRETARIAT, {
                "summary": f"計画期間（{period}）の中間年として、{actions}件の取組の進捗と指標の推移を確認した。"}),
            "final_review": ("submit_review", SECRETARIAT, {
                "summary": f"計画期間（{period}）の{actions}件の取組について、毎年度の点検と評価、"
                           "指標の実績と見通しをまとめた。"}),
            "review_council": ("approve_review", PROMOTION_CHAIR, {}),
            "next_drafting": ("submit_draft", SECRETARIAT, self._draft(conn)),
            "draft_review": ("approve_draft", PROMOTION_CHAIR, {}),
            "draft_approved": ("adopt", SECRETARIAT, {}),
        }
        return steps.get(state)

    def _draft(self, conn: Connection) -> dict[str, Any]:
        """The next strategy: the ten years after this one's target year, under a free code."""
        t = self.tenant
        first, target = t.target_fy + 1, t.target_fy + 10
        code = f"{t.code.rsplit('-', 1)[0]}-{first}"
        while conn.execute(select(Strategy.id).where(Strategy.code == code)).first():
            code += "-next"
        return {"code": code, "name_ja": f"次期{t.name_ja}", "name_en": f"Next {t.name_en}",
                "first_fy": str(first), "target_fy": str(target)}


__all__ = ["Actors"]
