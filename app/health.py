"""What an operator watches (`pdca health`): mail given up or stuck, the scheduler's leader,
and jobs that should have run and did not. Read-only; each finding has a key the words
and the JSON share, so a monitor can alert on the exit code and a person read why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, inspect, select, text

from app.scheduler import JOBS_TABLE, LEADER_LOCK
from engine.clock import from_storage, to_storage
from engine.outbox import OutboxMessage

STUCK = timedelta(minutes=30)
"""Mail due this long ago and not sent: the drain (every minute) is not running."""
LATE = timedelta(minutes=10)
"""A job whose run time passed this long ago: its scheduler is not running."""


@dataclass
class Health:
    dead: int
    stuck: int
    leader: dict[str, Any] | None
    several_nodes: bool
    jobs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        found = []
        if self.dead:
            found.append("dead_mail")
        if self.stuck:
            found.append("stuck_mail")
        if self.several_nodes and self.leader is None:
            found.append("no_leader")
        if any(j["late"] for j in self.jobs):
            found.append("late_job")
        return found

    def as_json(self) -> dict[str, Any]:
        return {"dead": self.dead, "stuck": self.stuck, "leader": self.leader, "jobs": self.jobs,
                "problems": self.problems}


def _leader(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(text(
        "SELECT a.pid, host(a.client_addr) AS client, a.backend_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = :key "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"),  # a lock is per database
        {"key": LEADER_LOCK}).first()
    if row is None:
        return None
    return {"pid": row.pid, "client": row.client or "local", "since": from_storage(row.backend_start).isoformat()}


def _jobs(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    if not inspect(conn).has_table(JOBS_TABLE):
        return []  # no scheduler has run against this database yet
    rows = conn.execute(text(f"SELECT id, next_run_time FROM {JOBS_TABLE} ORDER BY id")).all()
    found = []
    for job_id, next_run in rows:
        at = datetime.fromtimestamp(next_run, tz=now.tzinfo) if next_run is not None else None
        found.append({"id": job_id, "next_run_at": at.isoformat() if at else None,
                      "late": at is not None and at < now - LATE})
    return found


def check(conn: Connection, *, now: datetime) -> Health:
    o = OutboxMessage
    count = select(func.count()).select_from(o)
    dead = conn.execute(count.where(o.status == "dead")).scalar_one()
    stuck = conn.execute(count.where(o.status == "queued", o.created_at < to_storage(now - STUCK),  # type: ignore[operator]
                                     (o.next_attempt_at.is_(None)) |  # type: ignore[union-attr]
                                     (o.next_attempt_at < to_storage(now - STUCK)))).scalar_one()  # type: ignore[operator]
    postgres = conn.dialect.name == "postgresql"
    return Health(dead, stuck, _leader(conn) if postgres else None, postgres, _jobs(conn, now))
