"""Two ticks for the same day at once (the scheduler's and a manual `pdca tick`, or two
nodes'): one does the day's work, the other waits its turn and finds it done; neither fails,
and nothing is done twice. Forced on PostgreSQL, where the second used to fail with a
UniqueViolation opening the plan window's cycles; on SQLite write transactions queue."""

from __future__ import annotations

import threading
import time as clock_time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from engine import db
from engine.audit import AuditEvent
from engine.outbox import OutboxMessage
from tests.conftest import Year
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
