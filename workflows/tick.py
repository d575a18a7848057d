"""What the calendar makes happen, decided from `now` alone: the city's clockwork.

`tick(now)` is the only scheduled behaviour. For every strategy and every registered
workflow it runs that workflow's clock (`Entry.clock`), which works in a few set-based
statements (no Python loop over instances) and is idempotent: a message is queued under a
dedupe key of (kind, instance or person, due date, step, recipient) and a system trigger
moves only instances still in its source state. Ticking twice, hourly, or once after a
week of downtime therefore has the same outcome as ticking once a day; after downtime
each reminder series sends the one step that fits today, not every step it missed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Integer, String, literal, null, select

from engine import db
from engine.bulk import fire_all, open_all
from engine.clock import to_storage
from engine.outbox import attach_items, dedupe_key, queue, queue_returning_ids
from workflows.messages import message_columns
from workflows.registry import Entry, Registry
from workflows.tenants import Tenant, Tenants


@dataclass
class TickReport:
    today: date
    transitions: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)

    def add(self, other: TickReport) -> None:
        self.transitions.update(other.transitions)
        self.messages.update(other.messages)


@dataclass
class TickContext:
    """One workflow of one strategy on one tick, with the ways a clock acts: fire a system
    trigger on a set, open instances, queue messages."""

    conn: Connection
    entry: Entry
    tenant: Tenant
    now: datetime
    report: TickReport
    registry: Registry

    @property
    def at(self) -> datetime:
        return to_storage(self.now)

    @property
    def today(self) -> date:
        return self.tenant.calendar.today(self.now)

    def fire(self, trigger: str, where: Any) -> int:
        """A system trigger on every instance of this strategy `where` selects (its source
        state and its guards are the trigger's own)."""
        moved = fire_all(self.conn, self.entry.workflow, trigger,
                         where=self.entry.store.tenant_condition(self.tenant.id) & where,
                         now=self.now, tenant=self.tenant.id)
        self.report.transitions[trigger] += moved
        return moved

    def open(self, trigger: str, rows: Any, columns: list[str]) -> int:
        opened = open_all(self.conn, self.entry.workflow, trigger, rows=rows, columns=columns, now=self.now,
                          tenant=self.tenant.id)
        self.report.transitions[trigger] += opened
        return opened

    def queue(self, kind: str, rows: Any) -> int:
        queued = queue(self.conn, rows)
        self.report.messages[kind] += queued
        return queued

    def columns(self, kind: str, payload: dict[str, Any], due: date, step: str) -> list[Any]:
        return message_columns(kind, workflow=self.entry.name, tenant=self.tenant.id, payload=payload, due=due,
                               step=step, at=self.at)

    def to_people(
        self, kind: str, payload: dict[str, Any], due: date, step: str, people: Any, items: Any | None
    ) -> None:
        """One message to each person `people` selects (id, email), listing the instances
        `items` selects; nothing when there is nothing to list (unless `items` is None: a
        message about no instance in particular)."""
        if items is not None and not self.conn.execute(select(items.exists())).scalar():
            return
        who = people.subquery()
        # A person with a part in two strategies hears from each: the tenant is in the key.
        scope = literal("person:", String) + who.c.id.cast(String) + literal(f"@{self.tenant.id}", String)
        rows = select(
            dedupe_key(kind, scope, due, step, who.c.email).label("dedupe_key"),
            who.c.email.label("recipient"),
            null().cast(Integer).label("instance_id"),
            *self.columns(kind, payload, due, step),
        )
        created = queue_returning_ids(self.conn, rows)
        if items is not None:
            attach_items(self.conn, created, items)
        self.report.messages[kind] += len(created)


def tick(conn: Connection, registry: Registry, tenants: Tenants, *, now: datetime,
         strategy: int | None = None) -> TickReport:
    """Do everything the calendar says is due by `now`, once: for every configured strategy
    (or only `strategy`), every workflow's clock. Ticks that overlap take turns: the later
    one finds the day's work done."""
    db.take_turns(conn, "pdca.tick")
    chosen = [t for t in tenants.configured(conn) if strategy is None or t.id == strategy]
    report = TickReport(chosen[0].calendar.today(now) if chosen else now.date())
    for tenant in chosen:
        for entry in registry:
            if entry.clock is not None:
                entry.clock(TickContext(conn, entry, tenant, now, report, registry))
    return report


def open_year(conn: Connection, registry: Registry, tenant: Tenant, *, fy: int, now: datetime,
              codes: list[str] | None = None) -> int:
    """Open a fiscal year's instances of the strategy's yearly workflow now, as its clock
    does in the plan window (`pdca import --open-fy`): for the actions named, or all."""
    entry = registry.primary
    opener = entry.options.get("open_year")
    if opener is None:
        return 0
    report = TickReport(tenant.calendar.today(now))
    return int(opener(TickContext(conn, entry, tenant, now, report, registry), fy, codes))
