"""Two ticks for the same day at once (the scheduler's and a manual `pdca tick`, or two
nodes'): one does the day's work, the other waits its turn and finds it done; neither fails,
and nothing is done twice. Forced on PostgreSQL, where the second used to fail with a
UniqueViolation opening the plan window's cycles; on SQLite write transactions queue."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time as clock_time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from engine import db
from engine.audit import AuditEvent
from engine.outbox import OutboxMessage
from tests.conftest import CONFIG, SAMPLE, Year, _empty_pg
from workflows.models import Cycle
from workflows.tick import tick

PLAN_WINDOW = datetime(2027, 1, 15, 6, tzinfo=ZoneInfo("Asia/Tokyo"))  # FY2027's cycles open today


def counts(year: Year) -> tuple[int, int, int]:
    with db.reading(year.engine) as conn:
        return (conn.execute(select(func.count()).select_from(Cycle).where(Cycle.fy == 2027)).scalar_one(),
                conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
                conn.execute(select(func.count()).select_from(OutboxMessage)).scalar_one())


def waiting_for_a_lock(year: Year) -> bool:
    """Whether some transaction waits for a lock another holds (PostgreSQL: pg_locks), i.e.
    the second tick really overlaps the first."""
    with db.reading(year.engine) as conn:
        if conn.dialect.name != "postgresql":
            return True
        return bool(conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one())


def test_two_ticks_for_one_day_take_turns_and_do_the_work_once(year: Year) -> None:
    failures: list[BaseException] = []
    second_started = threading.Event()

    def second() -> None:
        second_started.set()
        try:
            with db.writing(year.engine) as conn:  # SQLite: waits here; PostgreSQL: on the tick's own lock
                tick(conn, year.pdca.registry, year.pdca.tenants, now=PLAN_WINDOW)
        except BaseException as exc:  # what a user would have seen as a traceback
            failures.append(exc)

    worker = threading.Thread(target=second)
    with db.writing(year.engine) as conn:  # the first tick, its transaction still open
        first: Any = tick(conn, year.pdca.registry, year.pdca.tenants, now=PLAN_WINDOW)
        worker.start()
        second_started.wait(10)
        deadline = clock_time.monotonic() + 10
        while not waiting_for_a_lock(year):  # the second is blocked behind the first: they overlap
            assert clock_time.monotonic() < deadline, "the second tick never reached the first's lock"
            clock_time.sleep(0.01)
    worker.join(30)
    assert not worker.is_alive() and failures == []
    assert first.transitions["open"] == 12
    once = counts(year)
    assert once[0] == 12  # not 24
    with db.writing(year.engine) as conn:  # a third, later, changes nothing either
        tick(conn, year.pdca.registry, year.pdca.tenants, now=PLAN_WINDOW)
    assert counts(year) == once


def test_three_pdca_tick_processes_at_once_on_postgresql_all_exit_0_with_the_result_of_one(
    pg_url: str, tmp_path: Path,
) -> None:
    """Three `pdca tick` commands for the same day (a scheduler on each of three nodes, or a
    manual run beside them), held at the tick's lock until all three wait there, then let
    go together: each exits 0 without a traceback, and the database is as one tick leaves it."""
    _empty_pg(pg_url)
    env = {**os.environ, "PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": pg_url, "PDCA_LANG": "en"}
    pdca = [sys.executable, "-m", "app.cli"]
    for args in (["init"], ["import", str(SAMPLE), "--open-fy", "2026"]):
        subprocess.run([*pdca, *args], env=env, check=True, capture_output=True, cwd=tmp_path)
    at = ["tick", "--at", PLAN_WINDOW.isoformat()]
    engine = db.open_engine(pg_url)
    try:
        with db.writing(engine) as conn:
            db.take_turns(conn, "pdca.tick")  # the lock every tick takes first: held here
            ticks = [subprocess.Popen([*pdca, *at], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for _ in range(3)]
            deadline = clock_time.monotonic() + 60
            while True:
                with engine.connect() as probe:
                    waiting = probe.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                                 "AND NOT granted")).scalar_one()
                if waiting == 3:
                    break
                assert clock_time.monotonic() < deadline, "the three ticks never all reached the lock"
                assert all(t.poll() is None for t in ticks), [t.communicate() for t in ticks]
                clock_time.sleep(0.05)  # waiting for other processes to start, not setting the time
        results = [t.communicate(timeout=120) for t in ticks]
        with db.reading(engine) as conn:
            after = (conn.execute(select(func.count()).select_from(Cycle).where(Cycle.fy == 2027)).scalar_one(),
                     conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
                     conn.execute(select(func.count()).select_from(OutboxMessage)).scalar_one())
    finally:
        engine.dispose()
    assert [t.returncode for t in ticks] == [0, 0, 0], results
    assert not any("Traceback" in out + err for out, err in results), results
    said = sorted("transitions: none; messages queued: none" in out for out, _ in results)
    assert said == [False, True, True], results  # one did the day's work; two found it done
    assert after[0] == 12, after  # FY2027's twelve cycles, opened once
    once = subprocess.run([*pdca, *at], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert once.returncode == 0
    with db.reading(db.open_engine(pg_url)) as conn:
        again = (conn.execute(select(func.count()).select_from(Cycle).where(Cycle.fy == 2027)).scalar_one(),
                 conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
                 conn.execute(select(func.count()).select_from(OutboxMessage)).scalar_one())
    assert again == after  # a fourth, later, finds nothing to do: the three did the work once
    assert subprocess.run([*pdca, "audit", "verify"], env=env, cwd=tmp_path, capture_output=True).returncode == 0
