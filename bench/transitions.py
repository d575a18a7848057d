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

Both sides run in the same process and in a fresh temporary directory; ./var is never
touched. The last line printed is a JSON object for tooling; there are no timing
assertions here.

    python bench/transitions.py [--n N]
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
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

from sqlalchemy import select

from app.bootstrap import Pdca
from bench.common import FY, OWNER, add_actions, open_pdca, open_year, prepare
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


def _engine_setup(tmp: Path, cycles: int) -> tuple[Pdca, list[int], dict[str, Actor]]:
    pdca = open_pdca(tmp / "engine.sqlite3")
    strategy = prepare(pdca)
    with db.writing(pdca.engine) as conn:
        add_actions(conn, strategy=strategy, codes=[f"B-{i:06d}" for i in range(cycles)], plans=[""] * cycles)
        open_year(pdca, conn, strategy=strategy, fy=FY, now=NOW)
        cycle_ids = list(conn.execute(select(Cycle.id).where(Cycle.fy == FY).order_by(Cycle.id)).scalars())  # type: ignore[arg-type]
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


def run_engine(tmp: Path, n: int) -> tuple[int, float]:
    """(transitions, seconds) of the timed part; setup and a short warm-up are not timed."""
    cycles = -(-n // PER_CYCLE)
    pdca, cycle_ids, actors = _engine_setup(tmp, cycles + WARMUP_CYCLES)
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


def _floor_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={db.BUSY_TIMEOUT_MS}")
    return conn


def _floor_cycle(conn: sqlite3.Connection, cycle_id: int) -> int:
    at = NOW.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    version = 1
    for step in STEPS:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute(UPDATE, (step.to_state, cycle_id, version)).rowcount != 1:
                raise RuntimeError(f"cycle {cycle_id} is not at version {version}")
            version += 1
            conn.execute(
                AUDIT,
                ("action_cycle", cycle_id, at, step.actor, step.on_behalf, step.trigger, step.from_state,
                 step.to_state, version, None, json.dumps(step.fields)),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(STEPS)


def run_floor(tmp: Path, n: int) -> tuple[int, float]:
    cycles = -(-n // PER_CYCLE) + WARMUP_CYCLES
    conn = _floor_connect(tmp / "floor.sqlite3")
    try:
        conn.executescript(FLOOR_SCHEMA)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO cycle (id, action_id, fy, state, version, plan) VALUES (?, ?, ?, ?, 1, '')",
            [(i, i, FY, "plan.drafting") for i in range(1, cycles + 1)],
        )
        conn.execute("COMMIT")
        ids = list(range(1, cycles + 1))
        warmup, timed = ids[:WARMUP_CYCLES], ids[WARMUP_CYCLES:]
        for cycle_id in warmup:
            _floor_cycle(conn, cycle_id)
        gc.collect()
        count = 0
        started = time.perf_counter()
        for cycle_id in timed:
            count += _floor_cycle(conn, cycle_id)
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    return count, elapsed


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=20000, help="persisted transitions per side (default 20000, ~10 s)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")

    with tempfile.TemporaryDirectory(prefix="pdca-bench-") as name:
        tmp = Path(name)
        engine_n, engine_s = run_engine(tmp, args.n)
        floor_n, floor_s = run_floor(tmp, args.n)

    engine_per_s = engine_n / engine_s
    floor_per_s = floor_n / floor_s
    print(f"engine: {engine_n} transitions in {engine_s:.3f} s, {1e6 * engine_s / engine_n:.1f} µs each")
    print(f"floor:  {floor_n} transitions in {floor_s:.3f} s, {1e6 * floor_s / floor_n:.1f} µs each")
    print(f"engine/floor: {engine_per_s / floor_per_s:.3f}")
    print(
        json.dumps(
            {
                "bench": "transitions",
                "engine_per_s": round(engine_per_s, 1),
                "floor_per_s": round(floor_per_s, 1),
                "ratio": round(engine_per_s / floor_per_s, 4),
                "n": engine_n,
            }
        )
    )


if __name__ == "__main__":
    main()
