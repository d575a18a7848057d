"""The audit trail: one row per transition, written in the transition's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, Index, insert
from sqlmodel import Field, SQLModel


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_instance", "workflow", "instance_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    workflow: str = Field(max_length=64)
    instance_id: int
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

_insert = insert(audit_table)


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
) -> None:
    """Write one audit row in the caller's transaction: the step and its record commit or
    roll back together."""
    conn.execute(_insert, {
        "workflow": workflow, "instance_id": instance_id, "at": at, "actor": actor, "on_behalf": on_behalf,
        "trigger": trigger, "from_state": from_state, "to_state": to_state, "version": version,
        "comment": comment, "fields": fields or {},
    })
