"""The audit trail: one row per step of any workflow, written in the step's transaction.

This module is the only writer of audit rows: `record` for one step, `record_from` for the
rows of a set-based step (the clock's), given as a SELECT. A row names its workflow, its
instance and, where there is one, its tenant (the strategy it belongs to).

The rows of each tenant form a hash chain (`engine.chain`): a row carries its place in its
tenant's chain (`seq`), the hash of the row before it (`prev_hash`) and the hash of its own
content with that link (`hash`, see `link`). A row edited, inserted, deleted or moved
after it was written no longer fits, and `engine.chain.verify` names it. Each chain is written under a
lock of its own (`db.take_turns`), so rows take their places in the order they are written.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Index,
    Select,
    String,
    bindparam,
    insert,
    select,
    text,
    type_coerce,
    update,
)
from sqlmodel import Field, SQLModel

from engine import db
from engine.clock import from_storage, to_storage


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_instance", "workflow", "instance_id", "id"),
        Index("ix_audit_event_tenant", "tenant_id", "id"),
        Index("ix_audit_event_chain", "tenant_id", "seq"),
        Index("ix_audit_event_unsealed", "tenant_id", "id", sqlite_where=text("hash IS NULL"),
              postgresql_where=text("hash IS NULL")),
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
    seq: int | None = Field(default=None, description="its place in its tenant's chain, from 1")
    prev_hash: str | None = Field(default=None, max_length=64, description="the hash of the row before it")
    hash: str | None = Field(default=None, max_length=64, description="SHA-256 of prev_hash and its content")


audit_table = AuditEvent.__table__  # type: ignore[attr-defined]
COLUMNS = ("workflow", "instance_id", "tenant_id", "at", "actor", "on_behalf", "trigger", "from_state",
           "to_state", "version", "comment", "fields")

_insert = insert(audit_table)
GENESIS = "0" * 64  # the link of a chain's first row
HASHED = ("seq", *COLUMNS)  # what a row's hash covers, with the link before it


_canonical = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
_AT = HASHED.index("at")


def _moment(at: datetime) -> str:
    return from_storage(to_storage(at)).isoformat(timespec="microseconds")


def _digest(prev_hash: str, values: list[Any]) -> str:
    """SHA-256 of the previous hash and the canonical JSON of `values` (in `HASHED` order,
    the time as text already)."""
    return hashlib.sha256(f"{prev_hash}\n{_canonical(values)}".encode()).hexdigest()


def link(prev_hash: str, row: Any) -> str:
    """The hash of a row: SHA-256 of the previous row's hash and of the row's place and
    content as canonical JSON (its time as aware UTC in ISO form, keys sorted). `row` is a
    mapping, as written or as read back: both give the same text."""
    values = [row[name] for name in HASHED]
    values[_AT] = _moment(row["at"])
    return _digest(prev_hash, values)


def chain_of(tenant_id: int | None) -> Any:
    """The WHERE clause of a tenant's chain (rows of no tenant form one chain of their own)."""
    column = audit_table.c.tenant_id
    return column.is_(None) if tenant_id is None else column == tenant_id


def _lock(conn: Connection, tenant_id: int | None) -> None:
    """Write a tenant's chain one transaction at a time, so each row takes the next place."""
    db.take_turns(conn, f"audit:{'-' if tenant_id is None else tenant_id}")


def head(conn: Connection, tenant_id: int | None) -> tuple[int, str]:
    """The place and hash of a tenant's last row: (0, GENESIS) for an empty chain. What a
    publication records, so that the published year can be checked against the log later."""
    found = _head(tenant_id is None).tuples(conn, {} if tenant_id is None else {"tenant": tenant_id})
    return (found[0][0], found[0][1]) if found else (0, GENESIS)


@cache
def _head(of_none: bool) -> db.Prepared:
    """Compiled once for each kind of chain: every step asks it."""
    column = audit_table.c.tenant_id
    return db.Prepared(select(audit_table.c.seq, audit_table.c.hash)
                       .where(column.is_(None) if of_none else column == bindparam("tenant"),
                              audit_table.c.hash.is_not(None))
                       .order_by(audit_table.c.seq.desc()).limit(1))


@cache
def _insert_row() -> db.Prepared:
    """One step's row, compiled once."""
    names = (*COLUMNS, "seq", "prev_hash", "hash")
    return db.Prepared(insert(audit_table).values({n: bindparam(n, type_=audit_table.c[n].type) for n in names}))


_seal_row = (update(audit_table).where(audit_table.c.id == bindparam("_id"))
             .values(seq=bindparam("_seq"), prev_hash=bindparam("_prev"), hash=bindparam("_hash")))


SEAL_CHUNK = 5000
_RAW = {"at", "fields"}  # read as the driver gives them, each distinct value decoded once
_unsealed = select(audit_table.c.id, *(type_coerce(audit_table.c[name], String) if name in _RAW
                                       else audit_table.c[name] for name in COLUMNS))
_FIELDS = COLUMNS.index("fields")


def _decoded_moment(raw: Any) -> str:
    """The time as `link` writes it, from what the driver read (SQLite: text in UTC)."""
    if isinstance(raw, str):
        raw = datetime.fromisoformat(raw)
    return _moment(raw)


def _seal(conn: Connection, tenant_id: int | None) -> int:
    """Give the tenant's rows written without a place (a set-based step's) theirs, in the
    order they were written, a chunk at a time (memory stays flat however many); return
    how many. A set-based step's rows share their time, so its text is made once."""
    conn.info.pop(_END, None)  # rows are placed here without it
    seq, prev = head(conn, tenant_id)
    chunk = _unsealed.where(chain_of(tenant_id), audit_table.c.hash.is_(None)).order_by(audit_table.c.id)
    moments: dict[Any, str] = {}
    fields: dict[str, Any] = {}
    total = 0
    while rows := conn.execute(chunk.limit(SEAL_CHUNK)).all():
        sealed = []
        for row_id, *content in rows:
            seq += 1
            at, raw = content[_AT - 1], content[_FIELDS]
            if at not in moments:
                moments[at] = _decoded_moment(at)
            content[_AT - 1] = moments[at]
            if isinstance(raw, str):  # SQLite: the JSON text; PostgreSQL's driver decodes it itself
                if raw not in fields:
                    fields[raw] = json.loads(raw)
                content[_FIELDS] = fields[raw]
            digest = _digest(prev, [seq, *content])
            sealed.append({"_id": row_id, "_seq": seq, "_prev": prev, "_hash": digest})
            prev = digest
        conn.execute(_seal_row, sealed)
        total += len(sealed)
    return total


def seal_all(conn: Connection) -> int:
    """Seal every tenant's unsealed rows (a database from before the chain: the migration)."""
    tenants = conn.execute(select(audit_table.c.tenant_id).where(audit_table.c.hash.is_(None)).distinct()).scalars()
    return sum(_seal(conn, tenant) for tenant in sorted(tenants, key=lambda t: -1 if t is None else t))


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
    """Write one audit row in the caller's transaction, at the end of its tenant's chain:
    the step and its record commit or roll back together."""
    row = {
        "workflow": workflow, "instance_id": instance_id, "tenant_id": tenant_id, "at": at, "actor": actor,
        "on_behalf": on_behalf, "trigger": trigger, "from_state": from_state, "to_state": to_state,
        "version": version, "comment": comment, "fields": json_safe(fields or {}),
    }
    _lock(conn, tenant_id)
    seq, prev = _chain_end(conn, tenant_id)
    row["seq"], row["prev_hash"] = seq + 1, prev
    row["hash"] = link(prev, row)
    _insert_row().write(conn, row)
    conn.info[_END] = (conn.get_transaction(), tenant_id, seq + 1, row["hash"])


_END = "pdca.audit_chain_end"


def _chain_end(conn: Connection, tenant_id: int | None) -> tuple[int, str]:
    """Where the next row goes: read once in a transaction, then carried from row to row (a
    step and its automatic follow-ups write several). The chain's lock, held from the first
    row on, keeps everyone else off it until the transaction ends."""
    kept = conn.info.get(_END)
    if kept is not None and kept[0] is conn.get_transaction() and kept[1] == tenant_id:
        return kept[2], kept[3]
    return head(conn, tenant_id)


def record_from(conn: Connection, rows: Select[Any], *, tenant_id: int | None, cte: Any = None) -> int:
    """Write the audit rows `rows` selects, its columns in the order of `COLUMNS` (a set-based
    step: one statement whatever the number of instances), every one of tenant `tenant_id`,
    then seal them onto its chain; return how many. `cte`: a data-modifying CTE the SELECT
    reads from, run in the same statement."""
    _lock(conn, tenant_id)
    statement = insert(audit_table).from_select(list(COLUMNS), rows)
    if cte is not None:
        statement = statement.add_cte(cte)
    written = conn.execute(statement, execution_options={"preserve_rowcount": True}).rowcount
    if written:
        _seal(conn, tenant_id)
    return written
