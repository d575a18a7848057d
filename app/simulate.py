"""`pdca simulate`: replay days through the same tick the scheduler runs, optionally with
simulated people who answer their prompts, so an admin can watch a year in seconds.

The simulated people (`--actors auto`) act a few days after a cycle starts waiting for
them, through the same `fire` as real people; which ones are late, returned or revised
depends only on the cycle's id, so a replay is reproducible.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url

from app.bootstrap import Pdca
from app.config import DatabaseSettings
from engine import db
from engine.clock import from_storage, to_storage
from engine.errors import Refused
from engine.outbox import OutboxMessage
from engine.runtime import Actor
from notifications.drain import Delivery
from workflows import service
from workflows.models import Action, ActionOwner, Council, Cycle, Indicator, Membership, Person
from workflows.store import chair_seats
from workflows.tick import TickReport, tick

ACTING_HOUR = time(10, 0)
DRAIN_HOUR = time(18, 0)
WAITING = (
    "plan.drafting", "plan.review", "check.self_assessment", "check.internal_review",
    "check.council_evaluation", "act.deciding", "act.revising", "act.revision_review",
)


@dataclass
class Month:
    transitions: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    sent: int = 0


@dataclass
class Replay:
    months: dict[str, Month] = field(default_factory=dict)

    def month(self, day: date) -> Month:
        return self.months.setdefault(day.strftime("%Y-%m"), Month())

    def totals(self) -> Month:
        total = Month()
        for m in self.months.values():
            total.transitions.update(m.transitions)
            total.messages.update(m.messages)
            total.refused += m.refused
            total.sent += m.sent
        return total


def days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


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
        self, pdca: Pdca, conn: Connection, strategy: int, started: date, *,
        laggards: Mapping[str, str] | None = None, end: date | None = None,
    ) -> None:
        self.pdca = pdca
        self.strategy = strategy
        self.started = started
        self.laggards = dict(laggards or {})
        self.last_check_fy = _last_check(pdca, end) if end is not None else None
        self.chair = self._chair(conn, "internal")
        self.promotion_chair = self._chair(conn, "promotion")
        self.owners: dict[int, Actor] = {}

    def _chair(self, conn: Connection, key: str) -> Actor:
        email = conn.execute(
            select(Person.email)
            .join(Membership, Membership.person_id == Person.id)
            .join(Council, Council.id == Membership.council_id)
            .where(Council.key == key, chair_seats(), Person.active)
            .order_by(Membership.role)
        ).scalars().first()
        if email is None:
            raise Refused(f"nobody can act as the {key} council's chair")
        return service.actor_for(conn, email)

    def owner(self, conn: Connection, action_id: int) -> Actor | None:
        if not self.owners:  # everyone's first owner, in one query
            rows = conn.execute(
                select(ActionOwner.action_id, Person.id, Person.email, Person.admin)
                .join(Person, Person.id == ActionOwner.person_id).where(Person.active).order_by(Person.email)
            )
            for action, person_id, email, admin in rows:
                self.owners.setdefault(action, Actor(email=email, person_id=person_id, is_admin=admin))
        if action_id not in self.owners:
            email = conn.execute(
                select(Person.email).join(ActionOwner, ActionOwner.person_id == Person.id)
                .where(ActionOwner.action_id == action_id, Person.active).order_by(Person.email)
            ).scalars().first()
            if email is None:
                return None
            self.owners[action_id] = service.actor_for(conn, email)
        return self.owners[action_id]

    def act(self, day: date, month: Month) -> None:
        pdca, cal = self.pdca, self.pdca.calendar
        now = datetime.combine(day, ACTING_HOUR, cal.zone)
        cutoff = to_storage(now - timedelta(days=2))
        with db.reading(pdca.engine) as conn:
            waiting = conn.execute(
                select(Cycle.id, Cycle.state, Cycle.fy, Cycle.action_id, Cycle.return_count, Cycle.updated_at,
                       Action.plan, Action.code)
                .join(Action, Action.id == Cycle.action_id)
                .where(Action.strategy_id == self.strategy, Action.status == "active",
                       Cycle.state.in_(WAITING),  # type: ignore[attr-defined]
                       (Cycle.updated_at <= cutoff) | (Cycle.updated_at > to_storage(now)))
                .order_by(Cycle.id)
            ).all()
        # One transaction for the day's steps, to replay a year quickly. Each step is still
        # a whole `fire_in`; a refusal is decided before it writes anything, so it leaves
        # the others intact.
        with db.writing(pdca.engine) as conn:
            for row in waiting:
                since = from_storage(row.updated_at).astimezone(cal.zone).date() if row.updated_at else self.started
                if since > day:  # touched in the real world, after the simulated day
                    since = self.started
                step = self._next_step(row, day, since)
                if step is None:
                    continue
                trigger, actor_for, fields = step
                actor = actor_for(conn)
                if actor is None:
                    continue
                try:
                    events = pdca.workflow.fire_in(conn, row.id, trigger, actor, fields(conn), now=now)
                except Refused:
                    month.refused += 1
                    continue
                for event in events:
                    month.transitions[event.trigger] += 1

    def _next_step(
        self, row: Any, day: date, since: date
    ) -> tuple[str, Callable[[Connection], Actor | None], Callable[[Connection], dict[str, Any]]] | None:
        cal = self.pdca.calendar
        delay = 2 + (row.id * 7) % 6
        if day < since + timedelta(days=delay):
            return None
        owner = lambda conn: self.owner(conn, row.action_id)  # noqa: E731
        chair = lambda conn: self.chair  # noqa: E731
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
            grade = "ABCD"[(row.id * 3) % 4]
            return "approve_evaluation", lambda conn: self.promotion_chair, lambda conn: {
                "grade": grade, "evaluation": f"評価 {grade}: 取組は概ね計画どおり",
                "proposals": ["市民参加の記録を残すこと"] if grade in "CD" else []}
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
        indicators = conn.execute(
            select(Indicator.code, Indicator.baseline_value, Indicator.target_value)
            .where(Indicator.action_id == row.action_id)
        ).all()
        progress = 0.2 + (row.id % 5) * 0.2
        fields: dict[str, Any] = {
            "status": "implemented" if progress >= 0.6 else "partly_implemented",
            "content": f"{row.fy}年度の計画に沿って実施した（進捗 {progress:.0%}）",
            "self_grade": "A" if progress >= 0.8 else "B" if progress >= 0.6 else "C",
        }
        for ind in indicators:
            base = ind.baseline_value or 0.0
            fields[f"indicators.{ind.code}"] = f"{base + (ind.target_value - base) * progress / 5:.1f}"
        return fields


def _last_check(pdca: Pdca, end: date) -> int | None:
    """The newest fiscal year whose check has opened by `end`."""
    fy = pdca.calendar.fiscal_year(datetime.combine(end, time(12), pdca.calendar.zone))
    for year in (fy, fy - 1, fy - 2):
        if pdca.calendar.due(year, "check_opens") <= end:
            return year
    return None


def simulate(
    pdca: Pdca, start: date, end: date, *, actors: bool, progress: Callable[[date], None] | None = None,
    deliver: Delivery | None = None, laggards: Mapping[str, str] | None = None,
) -> Replay:
    """Replay the days; with `deliver`, the outbox is also drained every simulated evening."""
    replay = Replay()
    cal = pdca.calendar
    with db.reading(pdca.engine) as conn:
        strategy = service.strategy_id(conn, pdca.strategy_code)
        people = Actors(pdca, conn, strategy, start, laggards=laggards, end=end) if actors else None
    for day in days(start, end):
        month = replay.month(day)
        now = datetime.combine(day, time(cal.settings.tick_hour), cal.zone)
        with db.writing(pdca.engine) as conn:
            report: TickReport = tick(conn, pdca.workflow, cal, strategy=strategy, now=now)
        month.transitions.update(report.transitions)
        if people is not None:
            people.act(day, month)
        if deliver is not None:
            report = deliver.drain(datetime.combine(day, DRAIN_HOUR, cal.zone))
            month.sent += report.sent
        if progress is not None:
            progress(day)
    _count_messages(pdca, replay, start, end)
    return replay


def _count_messages(pdca: Pdca, replay: Replay, start: date, end: date) -> None:
    """Messages by the month they were queued in: the clock's and those people's steps
    queued (returned, decided, ...)."""
    zone = pdca.calendar.zone
    first = to_storage(datetime.combine(start, time(0), zone))
    last = to_storage(datetime.combine(end + timedelta(days=1), time(0), zone))
    with db.reading(pdca.engine) as conn:
        rows = conn.execute(
            select(OutboxMessage.kind, OutboxMessage.created_at)
            .where(OutboxMessage.created_at >= first, OutboxMessage.created_at < last)
        )
        for kind, created in rows:
            replay.month(from_storage(created).astimezone(zone).date()).messages[kind] += 1


def copy_to(pdca: Pdca, path: Path) -> Pdca:
    """A Pdca on a copy of the configured SQLite database, for a safe preview."""
    url = make_url(pdca.settings.database.url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise Refused("--db copies a SQLite database; for PostgreSQL point PDCA_DATABASE_URL at a scratch database")
    if path.exists():
        raise Refused(f"{path} exists already; name a new file")
    path.parent.mkdir(parents=True, exist_ok=True)
    # SQLite's backup API copies a consistent snapshot, WAL included, even while others read.
    source, target = sqlite3.connect(url.database), sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    settings = pdca.settings.model_copy(update={"database": DatabaseSettings(url=f"sqlite:///{path.resolve()}")})
    return Pdca(settings)


def print_replay(console: Console, replay: Replay) -> None:
    table = Table("month", "transitions", "messages queued", title="what happened")
    for name, month in sorted(replay.months.items()):
        moved = ", ".join(f"{k} {v}" for k, v in sorted(month.transitions.items()) if v)
        queued = ", ".join(f"{k} {v}" for k, v in sorted(month.messages.items()) if v)
        table.add_row(name, moved, queued)
    total = replay.totals()
    table.add_row("total", str(sum(total.transitions.values())), str(sum(total.messages.values())))
    console.print(table)
    if total.sent:
        console.print(f"{total.sent} message(s) delivered")
    if total.refused:
        console.print(f"{total.refused} simulated step(s) were refused (see `pdca show`)")
