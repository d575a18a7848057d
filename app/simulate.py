"""`pdca simulate`: replay days through the same tick the scheduler runs, optionally with
simulated people who answer their prompts, so an admin can watch a year in seconds.

The simulated people (`--actors auto`) are each workflow's own (`Entry.people`): they act
a few days after an instance starts waiting for them, through the same `fire` as real
people, reproducibly. Every configured strategy is replayed side by side.
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
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.bootstrap import Pdca
from app.config import DatabaseSettings
from engine import db
from engine.clock import from_storage, to_storage
from engine.errors import Refused
from engine.outbox import OutboxMessage
from notifications.drain import Delivery
from workflows.tick import TickReport, tick

DRAIN_HOUR = time(18, 0)


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


def simulate(
    pdca: Pdca, start: date, end: date, *, actors: bool, progress: Callable[[date], None] | None = None,
    deliver: Delivery | None = None, laggards: Mapping[str, str] | None = None,
) -> Replay:
    """Replay the days; with `deliver`, the outbox is also drained every simulated evening."""
    replay = Replay()
    people: list[Any] = []
    with db.reading(pdca.engine) as conn:
        tenants = pdca.tenants.configured(conn)
    acting: set[int] = set()

    def cast_people(day: date) -> None:
        """The simulated people of every strategy, and of each adopted on the way."""
        if not actors:
            return
        with db.reading(pdca.engine) as conn:
            for tenant in pdca.tenants.configured(conn):
                if tenant.id in acting:
                    continue
                acting.add(tenant.id)
                for entry in pdca.registry:
                    if entry.people is not None:
                        people.append(entry.people(pdca.engine, entry.workflow, conn, tenant, day,
                                                   laggards=laggards, end=end))

    cast_people(start)
    tick_hour = min((t.calendar.settings.tick_hour for t in tenants), default=6)
    zone = tenants[0].calendar.zone if tenants else pdca.calendar.zone
    for day in days(start, end):
        month = replay.month(day)
        now = datetime.combine(day, time(tick_hour), zone)
        with db.writing(pdca.engine) as conn:
            report: TickReport = tick(conn, pdca.registry, pdca.tenants, now=now)
        month.transitions.update(report.transitions)
        adopted = month.transitions["adopt"]
        for someone in list(people):
            someone.act(day, month)
        if month.transitions["adopt"] != adopted:
            cast_people(day)
        if deliver is not None:
            drained = deliver.drain(datetime.combine(day, DRAIN_HOUR, zone))
            month.sent += drained.sent
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
