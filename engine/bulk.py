"""System triggers fired on a whole set of instances in one statement, audited.

The clock starts thousands of approved plans or opens thousands of checks on one morning;
doing that one instance at a time through the machine would cost a Python loop over every
row. Here the trigger's move is one UPDATE and its audit trail one INSERT ... SELECT. The
caller's `where` must already say in SQL what the trigger's guards say in Python.
On PostgreSQL both happen in one statement (a data-modifying CTE), so a concurrent change
to a row can never leave an audit row without its move; on SQLite the write lock taken by
`db.writing` keeps the two statements consistent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, Integer, and_, insert, literal, select, update

from engine.audit import audit_table
from engine.clock import to_storage
from engine.runtime import Workflow
from engine.spec import SYSTEM

AUDIT_COLUMNS = ["workflow", "instance_id", "at", "actor", "trigger", "from_state", "to_state", "version", "fields"]


def fire_all(
    conn: Connection,
    workflow: Workflow,
    trigger_name: str,
    *,
    where: Any,
    now: datetime,
    values: dict[str, Any] | None = None,
) -> int:
    """Fire a system trigger on every instance in its source state that `where` selects;
    return how many moved."""
    candidates = [t for t in workflow.spec.triggers if t.name == trigger_name]
    if len(candidates) != 1 or SYSTEM not in candidates[0].roles:
        raise ValueError(f"{trigger_name} is not a single system trigger of {workflow.spec.name}")
    trigger = candidates[0]
    table = workflow.store.table
    at = to_storage(now)
    chosen = and_(table.c.state == trigger.source, where)
    moves = {"state": trigger.dest, "version": table.c.version + 1, **(values or {})}
    if "updated_at" in table.c:
        moves["updated_at"] = at

    def audit_rows(ids: Any, versions: Any) -> Any:
        return select(
            literal(workflow.spec.name), ids, literal(at, audit_table.c.at.type), literal(SYSTEM),
            literal(trigger.name), literal(trigger.source), literal(trigger.dest),
            versions, literal({}, JSON),
        )

    if conn.dialect.name == "postgresql":
        moved = update(table).where(chosen).values(moves).returning(table.c.id, table.c.version).cte("moved")
        statement = (
            insert(audit_table)
            .from_select(AUDIT_COLUMNS, audit_rows(moved.c.id, moved.c.version).select_from(moved))
            .add_cte(moved)
        )
        return conn.execute(statement, execution_options={"preserve_rowcount": True}).rowcount
    conn.execute(
        insert(audit_table).from_select(
            AUDIT_COLUMNS, audit_rows(table.c.id, (table.c.version + 1).cast(Integer)).where(chosen)
        )
    )
    return conn.execute(update(table).where(chosen).values(moves)).rowcount
