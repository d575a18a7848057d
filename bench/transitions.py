"""Persisted transitions per second: the engine against the floor of what SQLite can do.

Engine side: real transitions through `Workflow.fire` on a database built from the sample
`config.toml` (migrated, directory synced, one cycle per generated action opened for
FY2026). Each cycle goes submit_plan (owner) -> approve_plan (internal chair; the
automatic `start` follows in the same transaction) -> open_check (an admin standing in for
the calendar): four persisted transitions in three write transactions. Every `Fired`
returned counts as one transition.

Floor side: what a persisted transition cannot do without, written by hand with the
stdlib `sqlite3` module on a file with the same settings the engine uses (WAL,
synchronous=NORMAL, foreign keys, busy timeout, autocommit driver with an explicit
BEGIN IMMEDIATE ... COMMIT): the optimistic state move
`UPDATE cycle SET state=?, version=version+1 WHERE id=? AND version=?` (rowcount checked)
and one audit row, in tables shaped and indexed like `cycle` and `audit_event`, one
transaction per transition. No loading, no role check, no field validation, no guards, no
ORM/Core compilation: that is the cost of durability and bookkeeping alone, so the ratio
says how much of the engine's time is spent on everything else. The floor is generous to
the engine in one way: `start` shares approve_plan's transaction there, never here.

With `--database` a PostgreSQL URL, the engine runs on that database (emptied first) and
the floor with `psycopg` on the same server, in tables of the same shape in a schema of
their own (`pdca_bench_floor`), BEGIN ... COMMIT (PostgreSQL's row lock does what
SQLite's IMMEDIATE does).

Both sides run in the same process and in a fresh temporary directory; ./var is never
touched. The last line printed is a JSON object for tooling; there are no timing
assertions here.

    python bench/transitions.py [--n N] [--database URL]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and this module would shadow
# the `transitions` package the engine is built on; drop that entry before importing it.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for bench.common

from sqlalchemy import make_url, select

from app.bootstrap import Pdca
from bench.common import FY, OWNER, add_actions, database_url, open_database, open_year, prepare, raw_connect, settle
from engine import db
from engine.runtime import Actor
from workflows import service
from workflows.models import Cycle

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CHAIR = "fukushichou@city.example.jp"
ADMIN = "kankyo.admin@city.example.jp"
PER_CYCLE = 4
"""submit_plan, approve_plan, start (automatic), open_check."""
WARMUP_CYCLES = 5


@dataclass(frozen=True)
class Step:
    """One persisted transition as the floor writes it (mirrors what the engine records)."""

    trigger: str
    from_state: str
    to_state: str
    actor: str
    on_behalf: str | None
    fields: dict[str, Any]


STEPS = (
    Step("submit_plan", "plan.drafting", "plan.review", OWNER, None, {"plan": "bench plan"}),
    Step("approve_plan", "plan.review", "plan.approved", CHAIR, None, {}),
    Step("start", "plan.approved", "do.implementing", "system", None, {}),
    Step("open_check", "do.implementing", "check.self_assessment", ADMIN, "system", {}),
)


# -- engine ------------------------------------------------------------------------------


def _engine_setup(url: str, cycles: int) -> tuple[Pdca, list[int], dict[str, Actor]]:
    pdca = open_database(url)
    strategy = prepare(pdca)
    with db.writing(pdca.engine) as conn:
        add_actions(conn, strategy=strategy, codes=[f"B-{i:06d}" for i in range(cycles)], plans=[""] * cycles)
        open_year(pdca, conn, strategy=strategy, fy=FY, now=NOW)
        cycle_ids = list(conn.execute(select(Cycle.id).where(Cycle.fy == FY).order_by(Cycle.id)).scalars())  # type: ignore[arg-type]
    settle(pdca.engine)
    with db.reading(pdca.engine) as conn:
        actors = {email: service.actor_for(conn, email) for email in (OWNER, CHAIR, ADMIN)}
    return pdca, cycle_ids, actors


def _engine_cycle(pdca: Pdca, cycle_id: int, actors: dict[str, Actor]) -> int:
    fire = pdca.workflow.fire
    engine = pdca.engine
    fired = len(fire(engine, cycle_id, "submit_plan", actors[OWNER], {"plan": "bench plan"}, now=NOW))
    fired += len(fire(engine, cycle_id, "approve_plan", actors[CHAIR], {}, now=NOW))
    fired += len(fire(engine, cycle_id, "open_check", actors[ADMIN], {}, now=NOW))
    return fired


def run_engine(url: str, n: int) -> tuple[int, float]:
    """(transitions, seconds) of the timed part; setup and a short warm-up are not timed."""
    cycles = -(-n // PER_CYCLE)
    pdca, cycle_ids, actors = _engine_setup(url, cycles + WARMUP_CYCLES)
    try:
        warmup, timed = cycle_ids[:WARMUP_CYCLES], cycle_ids[WARMUP_CYCLES:]
        for cycle_id in warmup:
            _engine_cycle(pdca, cycle_id, actors)
        gc.collect()
        count = 0
        started = time.perf_counter()
        for cycle_id in timed:
            count += _engine_cycle(pdca, cycle_id, actors)
        elapsed = time.perf_counter() - started
    finally:
        pdca.close()
    if count != len(timed) * PER_CYCLE:
        raise SystemExit(f"engine fired {count} transitions, expected {len(timed) * PER_CYCLE}")
    return count, elapsed


# -- floor -------------------------------------------------------------------------------

FLOOR_SCHEMA = """
CREATE TABLE cycle (
    id INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL,
    fy INTEGER NOT NULL,
    state VARCHAR(64) NOT NULL,
    version INTEGER NOT NULL,
    plan VARCHAR NOT NULL DEFAULT '',
    returned_comment VARCHAR,
    opened_at DATETIME,
    UNIQUE (action_id, fy)
);
CREATE INDEX ix_cycle_fy_state ON cycle (fy, state);
CREATE TABLE audit_event (
    id INTEGER PRIMARY KEY,
    workflow VARCHAR(64) NOT NULL,
    instance_id INTEGER NOT NULL,
    at DATETIME NOT NULL,
    actor VARCHAR(320) NOT NULL,
    on_behalf VARCHAR(64),
    "trigger" VARCHAR(64) NOT NULL,
    from_state VARCHAR(64) NOT NULL,
    to_state VARCHAR(64) NOT NULL,
    version INTEGER NOT NULL,
    comment VARCHAR,
    fields JSON NOT NULL
);
CREATE INDEX ix_audit_event_instance ON audit_event (workflow, instance_id, id);
"""

UPDATE = "UPDATE cycle SET state = ?, version = version + 1 WHERE id = ? AND version = ?"
AUDIT = (
    'INSERT INTO audit_event (workflow, instance_id, at, actor, on_behalf, "trigger", from_state, '
    "to_state, version, comment, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


FLOOR_SCHEMA_PG = "pdca_bench_floor"
"""On PostgreSQL the floor's tables are in a schema of their own in the same database."""


def _floor_connect(url: str) -> tuple[Any, str]:
    """The driver's connection (the engine's settings on SQLite), with the floor's tables
    made afresh; and the dialect's name."""
    conn, dialect = raw_connect(url)
    if dialect == "sqlite":
        conn.executescript(FLOOR_SCHEMA)
    else:
        conn.execute(f"DROP SCHEMA IF EXISTS {FLOOR_SCHEMA_PG} CASCADE")
        conn.execute(f"CREATE SCHEMA {FLOOR_SCHEMA_PG}")
        conn.execute(f"SET search_path TO {FLOOR_SCHEMA_PG}")
        audit_id = ("id INTEGER PRIMARY KEY,\n    workflow", "id BIGSERIAL PRIMARY KEY,\n    workflow")
        conn.execute(FLOOR_SCHEMA.replace(*audit_id).replace("DATETIME", "TIMESTAMP"))
    return conn, dialect


def _floor_sql(dialect: str) -> tuple[str, str, str]:
    """BEGIN (SQLite's takes the write lock up front, as the engine's does), the UPDATE and
    the INSERT in the driver's parameter style."""
    if dialect == "sqlite":
        return "BEGIN IMMEDIATE", UPDATE, AUDIT
    return "BEGIN", UPDATE.replace("?", "%s"), AUDIT.replace("?", "%s")


def _floor_cycle(conn: Any, dialect: str, cycle_id: int) -> int:
    at = NOW.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    begin, update, audit = _floor_sql(dialect)
    version = 1
    for step in STEPS:
        conn.execute(begin)
        try:
            if conn.execute(update, (step.to_state, cycle_id, version)).rowcount != 1:
                raise RuntimeError(f"cycle {cycle_id} is not at version {version}")
            version += 1
            conn.execute(
                audit,
                ("action_cycle", cycle_id, at, step.actor, step.on_behalf, step.trigger, step.from_state,
                 step.to_state, version, None, json.dumps(step.fields)),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(STEPS)


def run_floor(url: str, n: int) -> tuple[int, float]:
    cycles = -(-n // PER_CYCLE) + WARMUP_CYCLES
    conn, dialect = _floor_connect(url)
    begin, _, _ = _floor_sql(dialect)
    mark = "?" if dialect == "sqlite" else "%s"
    try:
        conn.execute(begin)
        conn.cursor().executemany(
            f"INSERT INTO cycle (id, action_id, fy, state, version, plan) VALUES ({', '.join([mark] * 4)}, 1, '')",
            [(i, i, FY, "plan.drafting") for i in range(1, cycles + 1)],
        )
        conn.execute("COMMIT")
        if dialect != "sqlite":
            conn.execute("ANALYZE")  # as `settle` does for the engine's side
        ids = list(range(1, cycles + 1))
        warmup, timed = ids[:WARMUP_CYCLES], ids[WARMUP_CYCLES:]
        for cycle_id in warmup:
            _floor_cycle(conn, dialect, cycle_id)
        gc.collect()
        count = 0
        started = time.perf_counter()
        for cycle_id in timed:
            count += _floor_cycle(conn, dialect, cycle_id)
        elapsed = time.perf_counter() - started
    finally:
        if dialect != "sqlite":
            conn.execute(f"DROP SCHEMA IF EXISTS {FLOOR_SCHEMA_PG} CASCADE")
        conn.close()
    return count, elapsed


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=20000, help="persisted transitions per side (default 20000, ~10 s)")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (emptied first; it must be empty or a "
                        "bench's; the floor's tables go in a schema of their own) or a SQLite file; default: a "
                        "SQLite file for each side in a temporary directory")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")

    with tempfile.TemporaryDirectory(prefix="pdca-bench-") as name:
        tmp = Path(name)
        url = database_url(args.database, tmp / "engine.sqlite3")
        floor_url = url if args.database and make_url(url).get_backend_name() != "sqlite" else database_url(
            None, tmp / "floor.sqlite3")
        engine_n, engine_s = run_engine(url, args.n)
        floor_n, floor_s = run_floor(floor_url, args.n)

    engine_per_s = engine_n / engine_s
    floor_per_s = floor_n / floor_s
    print(f"engine: {engine_n} transitions in {engine_s:.3f} s, {1e6 * engine_s / engine_n:.1f} µs each")
    print(f"floor:  {floor_n} transitions in {floor_s:.3f} s, {1e6 * floor_s / floor_n:.1f} µs each")
    print(f"engine/floor: {engine_per_s / floor_per_s:.3f}")
    print(
        json.dumps(
            {
                "bench": "transitions",
                "database": make_url(url).get_backend_name(),
                "engine_per_s": round(engine_per_s, 1),
                "floor_per_s": round(floor_per_s, 1),
                "ratio": round(engine_per_s / floor_per_s, 4),
                "n": engine_n,
            }
        )
    )


if __name__ == "__main__":
    main()
