"""System triggers fired on a whole set of instances in one statement, audited.

The clock starts thousands of approved plans or opens thousands of checks on one morning;
doing that one instance at a time through the machine would cost a Python loop over every
row. Here the trigger's move is one UPDATE and its audit trail one INSERT ... SELECT, with
the same meaning as firing each instance alone: the trigger's guards, in their SQL form,
choose the instances; its recorder's columns are written; the audit rows are the ones a
single firing writes. A trigger the set-based path cannot run the same way (a guard
without a SQL form, a recorder with effects or that reads the instance, automatic
follow-ups) is refused, loudly, before anything is written.

On PostgreSQL the move and its audit are one statement (a data-modifying CTE), so a
concurrent change to a row can never leave an audit row without its move; on SQLite the
write lock taken by `db.writing` keeps the two statements consistent.

`open_all` brings a set of instances into being through an opening system trigger, the
same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, Integer, Select, and_, func, insert, literal, null, select, update

from engine import audit
from engine.clock import to_storage
from engine.runtime import BulkContext, BulkUnsupported, Workflow
from engine.spec import OPENING, SYSTEM, Trigger


def _system_trigger(workflow: Workflow, name: str, *, opening: bool) -> Trigger:
    pool = workflow.spec.openings if opening else workflow.spec.triggers
    candidates = [t for t in pool if t.name == name]
    if len(candidates) != 1 or SYSTEM not in candidates[0].roles:
        raise BulkUnsupported(f"{name} is not a single system trigger of {workflow.spec.name}")
    return candidates[0]


def _columns(workflow: Workflow, trigger: Trigger, ctx: BulkContext) -> dict[str, Any]:
    """The recorder's columns, which must not depend on the instance."""
    if trigger.record is None:
        return {}
    changes = trigger.record(ctx)  # raises BulkUnsupported if it reads the instance
    if changes.effects:
        raise BulkUnsupported(f"{trigger.name} has effects ({', '.join(k for k, _ in changes.effects)}): "
                              "fire it one instance at a time")
    return dict(changes.columns)


def guards_sql(trigger: Trigger, ctx: BulkContext) -> list[Any]:
    missing = [g.name for g in trigger.guards if g.sql is None]
    if missing:
        raise BulkUnsupported(f"{trigger.name}: guard {', '.join(missing)} has no SQL form")
    return [g.sql(ctx) for g in trigger.guards if g.sql is not None]


def fire_all(
    conn: Connection,
    workflow: Workflow,
    trigger_name: str,
    *,
    where: Any,
    now: datetime,
    tenant: int | None = None,
) -> int:
    """Fire a system trigger on every instance in its source state that `where` selects and
    its guards admit; return how many moved. `tenant` is written on the audit rows (the
    caller's `where` keeps to that tenant's instances)."""
    trigger = _system_trigger(workflow, trigger_name, opening=False)
    if any(t.automatic for t in workflow.spec.triggers_from(trigger.dest)):
        raise BulkUnsupported(f"{trigger.dest} has automatic follow-ups: fire {trigger.name} one at a time")
    table = workflow.store.table
    ctx = BulkContext(conn, workflow.store, trigger, now, tenant)
    chosen = and_(table.c.state == trigger.source, where, *guards_sql(trigger, ctx))
    columns = _columns(workflow, trigger, ctx)
    at = to_storage(now)
    moves = {"state": trigger.dest, "version": table.c.version + 1, **columns}
    if "updated_at" in table.c:
        moves["updated_at"] = at

    def audit_rows(ids: Any, versions: Any) -> Select[Any]:
        return select(
            literal(workflow.spec.name), ids, literal(tenant, Integer), literal(at, audit.audit_table.c.at.type),
            literal(SYSTEM), null(), literal(trigger.name), literal(trigger.source), literal(trigger.dest),
            versions, null(), literal({}, JSON),
        )

    if conn.dialect.name == "postgresql":
        moved = update(table).where(chosen).values(moves).returning(table.c.id, table.c.version).cte("moved")
        return audit.record_from(conn, audit_rows(moved.c.id, moved.c.version).select_from(moved),
                                 tenant_id=tenant, cte=moved)
    audit.record_from(conn, audit_rows(table.c.id, (table.c.version + 1).cast(Integer)).where(chosen),
                      tenant_id=tenant)
    return conn.execute(update(table).where(chosen).values(moves)).rowcount


def open_all(
    conn: Connection,
    workflow: Workflow,
    trigger_name: str,
    *,
    rows: Select[Any],
    columns: list[str],
    now: datetime,
    tenant: int | None = None,
) -> int:
    """Create an instance for every row `rows` selects (values for `columns`, in order)
    through an opening system trigger: in its destination state at version 1, with its
    recorder's columns and one audit row each. Returns how many were created."""
    trigger = _system_trigger(workflow, trigger_name, opening=True)
    table = workflow.store.table
    ctx = BulkContext(conn, workflow.store, trigger, now, tenant)
    if trigger.guards:
        raise BulkUnsupported(f"{trigger.name}: an opening trigger's guards belong in the caller's SELECT")
    if any(t.automatic for t in workflow.spec.triggers_from(trigger.dest)):
        raise BulkUnsupported(f"{trigger.dest} has automatic follow-ups: open one at a time")
    recorded = _columns(workflow, trigger, ctx)
    clash = sorted(set(columns) & set(recorded))
    if clash:
        raise BulkUnsupported(f"{trigger.name} records {', '.join(clash)} itself: the SELECT must not give them")
    at = to_storage(now)
    fixed: dict[str, Any] = {"state": trigger.dest, "version": 1, **recorded}
    if "updated_at" in table.c:
        fixed["updated_at"] = at
    fixed = {k: v for k, v in fixed.items() if k not in columns}
    source = rows.add_columns(*(literal(v, table.c[k].type) for k, v in fixed.items()))
    names = [*columns, *fixed]

    def audit_rows(ids: Any) -> Select[Any]:
        return select(
            literal(workflow.spec.name), ids, literal(tenant, Integer), literal(at, audit.audit_table.c.at.type),
            literal(SYSTEM), null(), literal(trigger.name), literal(OPENING), literal(trigger.dest), literal(1),
            null(), literal({}, JSON),
        )

    if conn.dialect.name == "postgresql":
        made = insert(table).from_select(names, source).returning(table.c.id).cte("made")
        return audit.record_from(conn, audit_rows(made.c.id).select_from(made), tenant_id=tenant, cte=made)
    # Under SQLite's write lock the new instances are exactly those above the highest id before.
    before = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    created = conn.execute(insert(table).from_select(names, source),
                           execution_options={"preserve_rowcount": True}).rowcount
    if created:
        audit.record_from(conn, audit_rows(table.c.id).where(table.c.id > before), tenant_id=tenant)
    return created
