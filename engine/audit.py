"""The audit trail: one row per step of any workflow, written in the step's transaction.

This module is the only writer of audit rows: `record` for one step, `record_from` for the
rows of a set-based step (the clock's), given as a SELECT. A row names its workflow, its
instance and, where there is one, its tenant (the strategy it belongs to).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, Index, Select, insert
from sqlmodel import Field, SQLModel


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_instance", "workflow", "instance_id", "id"),
        Index("ix_audit_event_tenant", "tenant_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workflow: str = Field(max_length=64)
    instance_id: int
    tenant_id: int | None = Field(default=None, description="whose instance: a strategy, for the city's workflows")
    at: datetime
    actor: str = Field(max_length=320, description="email, or 'system' for the clock")
    on_behalf: str | None = Field(
        default=None, max_length=64, description="'system' when an admin fired a system trigger"
    )
    trigger: str = Field(max_length=64)
    from_state: str = Field(max_length=64)
    to_state: str = Field(max_length=64)
    version: int = Field(description="the instance's version after this event")
    comment: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


audit_table = AuditEvent.__table__  # type: ignore[attr-defined]
COLUMNS = ("workflow", "instance_id", "tenant_id", "at", "actor", "on_behalf", "trigger", "from_state",
           "to_state", "version", "comment", "fields")

_insert = insert(audit_table)


def json_safe(value: Any) -> Any:
    """Fields as JSON keeps them: a date or a time as its ISO text, a file by its size."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):  # a file (a photo): the audit says how big, not what
        return f"{len(value)} bytes"
    return value


def record(
    conn: Connection,
    *,
    workflow: str,
    instance_id: int,
    at: datetime,
    actor: str,
    trigger: str,
    from_state: str,
    to_state: str,
    version: int,
    comment: str | None = None,
    fields: dict[str, Any] | None = None,
    on_behalf: str | None = None,
    tenant_id: int | None = None,
) -> None:
    """Write one audit row in the caller's transaction: the step and its record commit or
    roll back together."""
    conn.execute(_insert, {
        "workflow": workflow, "instance_id": instance_id, "tenant_id": tenant_id, "at": at, "actor": actor,
        "on_behalf": on_behalf, "trigger": trigger, "from_state": from_state, "to_state": to_state,
        "version": version, "comment": comment, "fields": json_safe(fields or {}),
    })


def record_from(conn: Connection, rows: Select[Any], *, cte: Any = None) -> int:
    """Write the audit rows `rows` selects, its columns in the order of `COLUMNS` (a set-based
    step: one statement whatever the number of instances); return how many. `cte`: a
    data-modifying CTE the SELECT reads from, run in the same statement."""
    statement = insert(audit_table).from_select(list(COLUMNS), rows)
    if cte is not None:
        statement = statement.add_cte(cte)
    return conn.execute(statement, execution_options={"preserve_rowcount": True}).rowcount
