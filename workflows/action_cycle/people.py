"""The action cycle's simulated people, for `pdca simulate --actors auto` and the living
sample: owners and chairs who answer a few days after each prompt, through the same
`fire` as real people. Which ones are late, returned or revised depends only on the
cycle's id, so a replay is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, and_, bindparam, select

from engine import db
from engine.clock import from_storage, to_storage
from engine.errors import Refused
from engine.runtime import Workflow
from workflows import bodies, service
from workflows.action_cycle.spec import ACTION_CYCLE
from workflows.hub import measures as hub_measures
from workflows.models import Action, ActionOwner, Council, Cycle, Indicator, Membership, Person
from workflows.tenants import Tenant

ACTING_HOUR = time(10, 0)
SPEC = ACTION_CYCLE


class Tally(Protocol):
    """Where a day's steps are counted (a month of the replay)."""

    transitions: Any
    refused: int


LATE = "late"
RETURNED = "returned"
LAGGARD_KINDS = (LATE, RETURNED)


class Actors:
    """Owners and chairs who answer a few days after each prompt.

    `laggards` (action code -> 'late' or 'returned') leave work undone in the newest check
    up to `end`: a 'late' owner never reports, and a 'returned' report is sent back by the
    chair and not yet resubmitted, so a replay that stops today ends with realistic open
    work, not with every item done."""

    def __init__(
        self, engine: Engine, workflow: Workflow, conn: Connection, tenant: Tenant, started: date, *,
        laggards: Mapping[str, str] | None = None, end: date | None = None,
    ) -> None:
        self.engine = engine
        self.workflow = workflow
        self.tenant = tenant
        self.strategy = tenant.id
        self.laggards = dict(laggards or {})
        self.last_check_fy = _last_check(tenant, end) if end is not None else None
        self.scale = [g for g in tenant.grades if g != "-"] or list(tenant.grades)
        """The strategy's grades, best first, without "not assessable"."""
        self.chair = self._chair(conn, "internal")
        self.promotion_chair = self._chair(conn, "promotion")
        self._moved_on: dict[tuple[int, Any], date | None] = {}
        """The city's day of each cycle's last move, by its id and the time it moved."""
        self.owners: dict[int, str] = {}
        """Each action's first owner's email, read once for all (a step looks the person up
        by it, as a request does)."""

    def _chair(self, conn: Connection, key: str) -> str:
        email = conn.execute(
            select(Person.email)
            .join(Membership, Membership.person_id == Person.id)
            .join(Council, Council.id == Membership.council_id)
            .where(Council.strategy_id == self.strategy, Council.key == key, bodies.chair_seats(), Person.active)
            .order_by(Membership.role)
        ).scalars().first()
        if email is None:
            raise Refused(f"nobody can act as the {key} council's chair")
        return email

    def owner(self, action_id: int) -> str | None:
        """The email of the action's first active owner (None: nobody owns it now)."""
        if action_id in self.owners:
            return self.owners[action_id]
        with db.reading(self.engine) as conn:
            if not self.owners:  # everyone's first owner, in one query
                rows = conn.execute(
                    select(ActionOwner.action_id, Person.email)
                    .join(Person, Person.id == ActionOwner.person_id).where(Person.active).order_by(Person.email)
                )
                for action, email in rows:
                    self.owners.setdefault(action, email)
                if action_id in self.owners:
                    return self.owners[action_id]
            email = conn.execute(
                select(Person.email).join(ActionOwner, ActionOwner.person_id == Person.id)
                .where(ActionOwner.action_id == action_id, Person.active).order_by(Person.email)
            ).scalars().first()
        if email is not None:  # an owner found later (an import) is asked again, not taken as none
            self.owners[action_id] = email
        return email

    def act(self, day: date, month: Tally) -> None:
        cal = self.tenant.calendar
        now = datetime.combine(day, ACTING_HOUR, cal.zone)
        cutoff = to_storage(now - timedelta(days=2))
        with db.reading(self.engine) as conn:
            waiting = conn.execute(
                select(Cycle.id, Cycle.state, Cycle.fy, Cycle.action_id, Cycle.return_count, Cycle.updated_at,
                       Action.plan, Action.code)
                .join(Action, Action.id == Cycle.action_id)
                .where(Action.strategy_id == self.strategy, Action.status == "active",
                       Cycle.state.in_(SPEC.waiting_states()),  # type: ignore[attr-defined]
                       (Cycle.updated_at <= cutoff) | (Cycle.updated_at > to_storage(now)),
                       *self._not_before_the_meeting(day))
                .order_by(Cycle.id)
            ).all()
        # Each step as a request takes it: its own write transaction, the cycle found by its
        # action's code and year, the person by email, then `fire_in`; a refusal leaves
        # the other steps of the day as they were.
        for row in waiting:
            key = (row.id, row.updated_at)
            if key not in self._moved_on:  # read once for each time a cycle moves, not every simulated day
                moved = row.updated_at
                self._moved_on[key] = from_storage(moved).astimezone(cal.zone).date() if moved else None
            since = self._moved_on[key]
            if since is None or since > day:  # touched in the real world, after the simulated day:
                since = cal.year_begins(row.fy).date()  # waiting since its year began, however resumed
            step = self._next_step(row, day, since)
            if step is None:
                continue
            trigger, email_of, fields = step
            email = email_of()
            if email is None:
                continue
            try:
                with db.writing(self.engine) as conn:
                    cycle = self.workflow.store.locate(conn, tenant=self.strategy, key=row.code, fy=row.fy)
                    events = self.workflow.fire_in(conn, cycle, trigger, service.actor_for(conn, email),
                                                   fields(conn), now=now)
            except Refused:
                month.refused += 1
                continue
            for event in events:
                month.transitions[event.trigger] += 1

    def _not_before_the_meeting(self, day: date) -> list[Any]:
        """Leave out the reports a council holds until its meeting (`_next_step` would pass
        them over): for weeks they are most of what waits, read again every day. Not when
        some are laggards, whose report a chair returns before the meeting."""
        if self.laggards:
            return []
        cal = self.tenant.calendar
        fy = cal.fiscal_year(datetime.combine(day, ACTING_HOUR, cal.zone))
        held = [(state, year) for year in range(fy - 2, fy + 1)
                for state, meeting in (("check.internal_review", "internal_council_meeting"),
                                       ("check.council_evaluation", "promotion_council_meeting"))
                if day < cal.due(year, meeting)]
        return [~and_(Cycle.state == state, Cycle.fy == year) for state, year in held]

    def _next_step(
        self, row: Any, day: date, since: date
    ) -> tuple[str, Callable[[], str | None], Callable[[Connection], dict[str, Any]]] | None:
        cal = self.tenant.calendar
        delay = 2 + (row.id * 7) % 6
        if day < since + timedelta(days=delay):
            return None
        owner = lambda: self.owner(row.action_id)  # noqa: E731
        chair = lambda: self.chair  # noqa: E731
        nothing = lambda conn: {}  # noqa: E731
        comment = lambda text: (lambda conn: {"comment": text})  # noqa: E731
        first_time = row.return_count == 0
        state = row.state
        lag = self.laggards.get(row.code) if row.fy == self.last_check_fy else None
        if state == "check.self_assessment" and (lag == LATE or (lag == RETURNED and not first_time)):
            return None  # the newest check's laggards: not reported, or not yet resubmitted
        if state == "check.internal_review" and lag == RETURNED and first_time:
            return "return_report", chair, comment("指標の実績値の根拠（集計方法）を実施内容に書き加えてください")
        if state == "plan.drafting":
            return "submit_plan", owner, nothing
        if state == "plan.review":
            if row.id % 11 == 0 and first_time:
                return "return_plan", chair, comment("指標の目標値を計画に書き込んでください")
            return "approve_plan", chair, nothing
        if state == "check.self_assessment":
            if row.id % 10 == 0 and day < cal.due(row.fy, "report_due") + timedelta(days=20):
                return None  # a late owner
            return "submit_report", owner, lambda conn: self._report(conn, row)
        if state == "check.internal_review":
            if day < cal.due(row.fy, "internal_council_meeting"):
                return None
            if row.id % 7 == 0 and first_time:
                return "return_report", chair, comment("実施内容をもう少し具体的に書いてください")
            return "accept_report", chair, nothing
        if state == "check.council_evaluation":
            if day < cal.due(row.fy, "promotion_council_meeting"):
                return None
            scale = self.scale
            grade = scale[(row.id * 3) % len(scale)]
            return "approve_evaluation", lambda: self.promotion_chair, lambda conn: {
                "grade": grade, "evaluation": f"評価 {grade}: 取組は概ね計画どおり",
                "proposals": ["市民参加の記録を残すこと"] if scale.index(grade) >= len(scale) // 2 else []}
        if state == "act.deciding":
            if row.id % 9 == 0:
                return "decide_revise", chair, comment("目標に届くよう計画を見直してください")
            return "decide_continue", chair, lambda conn: {
                "flags_kept_because": "取組は継続し、翌年度の点検で指標を確認する"}
        if state == "act.revising":
            return "submit_revision", owner, lambda conn: {"revised_plan": f"{row.plan}（{row.fy + 1}年度見直し）"}
        if state == "act.revision_review":
            return "approve_revision", chair, nothing
        return None

    def _report(self, conn: Connection, row: Any) -> dict[str, Any]:
        indicators = _indicators().rows(conn, {"action": row.action_id})
        code = row.code
        progress = 0.2 + (row.id % 5) * 0.2
        fields: dict[str, Any] = {
            "status": "implemented" if progress >= 0.6 else "partly_implemented",
            "content": f"{row.fy}年度の計画に沿って実施した（進捗 {progress:.0%}）",
            "self_grade": self.scale[0 if progress >= 0.8 else 1 if progress >= 0.6 else min(2, len(self.scale) - 1)],
        }
        for ind in indicators:
            base = ind["baseline_value"] or 0.0
            fields[f"indicators.{ind['code']}"] = f"{base + (ind['target_value'] - base) * progress / 5:.1f}"
            if ind["hub_measure"]:  # the form offers the hub's figure, and the owner takes it
                hub = hub_measures.measured(conn, self.tenant, name=ind["hub_measure"], action=code, fy=row.fy)
                fields[f"indicators.{ind['code']}"] = f"{hub['value']:g}"
        rank = 0 if progress >= 0.8 else 1 if progress >= 0.6 else 2
        for i, asked in enumerate(self.tenant.report_fields):  # what the strategy asks beyond the cycle's own
            key = f"details.{asked.key}"
            if asked.type == "choice":
                fields[key] = asked.choices[min(rank, len(asked.choices) - 1)].value
            elif asked.type == "number":  # a budget, then what was spent of it
                fields[key] = str(max(asked.minimum or 0, (1 + row.id % 7) * 800 * (10 - i) // 10))
            else:
                fields[key] = ("参加者の確保が課題。" if rank else "") + f"{row.fy + 1}年度も計画に沿って継続する見通し"
        return fields


@cache
def _indicators() -> db.Prepared:
    """An action's indicators as its owner reads them to report: compiled once."""
    return db.Prepared(select(Indicator.code, Indicator.baseline_value, Indicator.target_value, Indicator.hub_measure)
                       .where(Indicator.action_id == bindparam("action")))


def _last_check(tenant: Tenant, end: date) -> int | None:
    """The newest fiscal year whose check has opened by `end`."""
    fy = tenant.calendar.fiscal_year(datetime.combine(end, time(12), tenant.calendar.zone))
    for year in (fy, fy - 1, fy - 2):
        if tenant.calendar.due(year, "check_opens") <= end:
            return year
    return None


