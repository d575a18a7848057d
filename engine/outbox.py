"""The outbox: every message a step or the clock decides to send, written in the same
transaction as the decision. Delivery reads it later, so a crash loses nothing.

Each row has a unique dedupe key (kind, scope, due date, step, recipient): queueing the
same message twice is a no-op, which is what makes the clock's tick idempotent. A row
names the workflow and the instance it is about (if one), and its tenant; what else the
workflow needs to render it (a fiscal year, say) is in its `payload`. A message about
several instances of its workflow (a council packet, an escalation) lists them in
`outbox_item`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, Index, Select, String, bindparam, cast, literal, select, text, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel

KEY_SEPARATOR = "|"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=600, unique=True)
    kind: str = Field(max_length=64, index=True)
    recipient: str = Field(max_length=320)
    workflow: str | None = Field(default=None, max_length=64, description="the workflow of the instance(s) it is about")
    instance_id: int | None = Field(default=None, description="the instance a message is about, if one")
    tenant_id: int | None = Field(default=None, index=True, description="whose message: a strategy, say")
    payload: dict[str, Any] = Field(default_factory=dict, description="what the workflow needs to render it",
                                    sa_column=Column(JSON, nullable=False, server_default=text("'{}'")))
    due: date
    step: str = Field(default="", max_length=16, description="which reminder of a series: -7, +14, ...")
    status: str = Field(default="queued", max_length=16, description="queued | sending | sent | dead")
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime
    claimed_at: datetime | None = Field(default=None, description="when a sender took it; stale claims are retaken")
    claimed_by: str | None = Field(default=None, max_length=32, description="the drain run holding the claim")
    sent_at: datetime | None = None
    message_id: str | None = Field(default=None, max_length=200)
    raw: bytes | None = Field(default=None, description="the message as rendered once; a resend sends these bytes")
    digest_id: int | None = Field(default=None, foreign_key="outbox.id", description="folded into this daily digest")


class OutboxItem(SQLModel, table=True):
    """An instance listed in a message about several."""

    __tablename__ = "outbox_item"

    outbox_id: int = Field(foreign_key="outbox.id", primary_key=True)
    instance_id: int = Field(primary_key=True)


outbox_table = OutboxMessage.__table__  # type: ignore[attr-defined]
item_table = OutboxItem.__table__  # type: ignore[attr-defined]


def dedupe_key(kind: str, scope: Any, due: date, step: str, recipient: Any) -> Any:
    """The key as a SQL expression, so a whole set of messages is keyed in one statement.
    `scope` and `recipient` may be columns; e.g. 'report_reminder|cycle:12|2027-05-28|-7|a@b.jp'."""
    sep = KEY_SEPARATOR
    return (
        literal(f"{kind}{sep}", String) + cast(scope, String)
        + literal(f"{sep}{due.isoformat()}{sep}{step}{sep}", String) + cast(recipient, String)
    )


def dedupe_key_bound(kind: str, scope: Any, recipient: Any) -> Any:
    """As `dedupe_key`, with the due date and step left to a bound parameter `key_middle`
    (see `key_middle`), so one prepared statement serves every date and step."""
    return (
        literal(f"{kind}{KEY_SEPARATOR}", String) + cast(scope, String)
        + bindparam("key_middle", type_=String) + cast(recipient, String)
    )


def key_middle(due: date, step: str) -> str:
    return f"{KEY_SEPARATOR}{due.isoformat()}{KEY_SEPARATOR}{step}{KEY_SEPARATOR}"


def dedupe_key_text(kind: str, scope: str, due: date, step: str, recipient: str) -> str:
    """The same key as `dedupe_key`, for one message built in Python."""
    return KEY_SEPARATOR.join((kind, scope, due.isoformat(), step, recipient))


def insert_ignoring_duplicates(conn: Connection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def queue_statement(conn: Connection, rows: Select[Any]) -> Any:
    """The INSERT ... SELECT ... ON CONFLICT DO NOTHING for `rows`, to prepare once and
    execute with parameters."""
    columns = [c.name for c in rows.selected_columns]
    return (
        insert_ignoring_duplicates(conn, outbox_table)
        .from_select(columns, rows.where(true()))  # SQLite's upsert needs a WHERE after SELECT
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


def queue(conn: Connection, rows: Select[Any]) -> int:
    """Insert the messages `rows` selects (columns named as in the outbox) unless already
    queued; return how many are new. Nothing is read back, so memory stays flat however
    many there are."""
    result = conn.execute(queue_statement(conn, rows), execution_options={"preserve_rowcount": True})
    return result.rowcount


def queue_returning_ids(conn: Connection, rows: Select[Any]) -> list[int]:
    """As `queue`, returning the new messages' ids (for the few that list items)."""
    return list(conn.execute(queue_statement(conn, rows).returning(outbox_table.c.id)).scalars())


def attach_items(conn: Connection, message_ids: list[int], instances: Select[Any]) -> None:
    """List the instances `instances` selects (one id column) in each of these messages."""
    if not message_ids:
        return
    subject = instances.subquery()
    pairs = (
        select(outbox_table.c.id, *subject.c)
        .select_from(outbox_table.join(subject, true()))  # every listed instance in every message
        .where(outbox_table.c.id.in_(message_ids))
    )
    conn.execute(
        insert_ignoring_duplicates(conn, item_table)
        .from_select(["outbox_id", "instance_id"], pairs)
        .on_conflict_do_nothing()
    )


CANCELLED = "cancelled"


def cancel(conn: Connection, ids: list[int], reason: str) -> int:
    """Cancel queued messages no longer due (a date moved, an owner changed): kept in the
    outbox with the reason, their dedupe keys freed so the tick may queue the right ones.
    Only still-queued messages change; the number cancelled."""
    if not ids:
        return 0
    return conn.execute(
        OutboxMessage.__table__.update()  # type: ignore[attr-defined]
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "queued")  # type: ignore[union-attr]
        .values(status=CANCELLED, last_error=reason,
                dedupe_key=OutboxMessage.dedupe_key + "|cancelled:" + cast(OutboxMessage.id, String))  # type: ignore[operator]
    ).rowcount
