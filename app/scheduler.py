"""The one scheduler of a deployment (APScheduler 3.x): it calls `tick` daily and drains
the outbox every minute.

Jobs live in a persistent job store in the pdca database (table `apscheduler_jobs`, which
the migrations leave alone). A run missed while the process was down fires once when it
comes back (coalesce, grace time), and a catch-up tick runs at every start; `tick` is
idempotent, so neither sends anything twice. With PostgreSQL several nodes may run
`pdca scheduler` or `pdca serve`: each `Leader` tries an advisory lock on a dedicated
connection and only the holder schedules; the others stand by and try again every second
or two. The holder checks every second that the lock is still its own (a heartbeat on that
connection), and every job checks it before it runs: a node that loses its connection stops
scheduling at once, and a standby takes over within a few seconds. On SQLite one node runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.config import Settings
from engine.clock import utc_now

JOBS_TABLE = "apscheduler_jobs"
TICK_JOB = "app.jobs:daily_tick"
DRAIN_JOB = "app.jobs:drain_outbox"
LEADER_LOCK = 0x70646361  # "pdca"
GRACE = timedelta(hours=12)
HEARTBEAT_SECONDS = 1.0
STANDBY_SECONDS = 2.0
log = logging.getLogger("pdca.scheduler")


def configure(
    scheduler: BaseScheduler, settings: Settings, *, config: str | None, base_url: str | None = None
) -> BaseScheduler:
    """`base_url`: where links in mail point when the config leaves it to the server's
    address and `pdca serve` listens somewhere other than `[web]` says."""
    scheduler.configure(
        jobstores={"default": SQLAlchemyJobStore(url=settings.database.url, tablename=JOBS_TABLE)},
        job_defaults={"coalesce": True, "misfire_grace_time": int(GRACE.total_seconds()), "max_instances": 1},
        timezone=settings.calendar.timezone,
    )
    kwargs = {"config": config}
    scheduler.add_job(TICK_JOB, "cron", hour=settings.calendar.tick_hour, id="daily_tick",
                      name="daily tick", replace_existing=True, kwargs=kwargs)
    scheduler.add_job(TICK_JOB, "date", run_date=utc_now(), id="catch_up_tick",
                      name="catch-up tick at start", replace_existing=True, kwargs=kwargs)
    scheduler.add_job(DRAIN_JOB, "interval", minutes=1, id="drain_outbox", name="outbox drain",
                      replace_existing=True, kwargs={**kwargs, "base_url": base_url}, misfire_grace_time=60)
    return scheduler


def build(settings: Settings, *, config: str | None) -> BlockingScheduler:
    return configure(BlockingScheduler(), settings, config=config)  # type: ignore[return-value]


def try_lead(conn: Connection) -> bool:
    """Take the deployment's scheduler lock on this connection (PostgreSQL); SQLite runs
    one scheduler, so there the answer is always yes."""
    if conn.dialect.name != "postgresql":
        return True
    return bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK}).scalar())


@contextmanager
def leadership(engine: Engine) -> Iterator[bool]:
    """Hold the lock for as long as the block runs, on a connection of its own."""
    with engine.connect() as conn:
        lead = try_lead(conn)
        conn.commit()
        try:
            yield lead
        finally:
            if lead and conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK})
                conn.commit()


_HOLDS = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
              "AND pid = pg_backend_pid() AND objid = :key")


class Leader:
    """This node's part in choosing the one scheduler: while it holds the lock (on a
    connection of its own) it runs the scheduler `start` builds; when it loses the lock it
    shuts that scheduler down at once and stands by again. `run` loops until `stop`."""

    def __init__(self, engine: Engine, start: Callable[[], BaseScheduler], *,
                 heartbeat: float = HEARTBEAT_SECONDS, standby: float = STANDBY_SECONDS,
                 told: Callable[[str], None] | None = None) -> None:
        self.engine = engine
        self.start = start
        self.heartbeat = heartbeat
        self.standby = standby
        self.told = told or (lambda event: log.info("scheduler: %s", event))
        self.scheduler: BaseScheduler | None = None
        self._conn: Connection | None = None
        self._stopped = threading.Event()

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    def holds(self) -> bool:
        """Whether the lock is still this node's: asked on the lock's own connection, so a
        connection the server dropped (a restart, a network cut) answers no."""
        if self._conn is None:
            return False
        if self._conn.dialect.name != "postgresql":
            return True
        try:
            held = bool(self._conn.execute(_HOLDS, {"key": LEADER_LOCK}).scalar())
            self._conn.commit()
            return held
        except SQLAlchemyError:
            return False

    def _try(self) -> bool:
        try:
            conn = self.engine.connect()
        except SQLAlchemyError:
            return False
        try:
            if try_lead(conn):
                conn.commit()
                self._conn = conn
                return True
            conn.commit()
        except SQLAlchemyError:
            pass
        conn.close()
        return False

    def _step_down(self, why: str) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
            self.told(why)
        if self._conn is not None:
            with suppress(SQLAlchemyError):
                self._conn.close()
            self._conn = None

    def run(self) -> None:
        global _current
        _current = self
        standing_by = False
        try:
            while not self._stopped.is_set():
                if self.scheduler is None:
                    if self._try():
                        self.scheduler = self.start()
                        self.scheduler.start()
                        self.told("leading")
                        standing_by = False
                        continue
                    if not standing_by:
                        self.told("standing_by")
                        standing_by = True
                    self._stopped.wait(self.standby)
                elif not self.holds():
                    self._step_down("lost")
                    standing_by = True
                else:
                    self._stopped.wait(self.heartbeat)
        finally:
            self._step_down("stopped")
            _current = None

    def stop(self) -> None:
        self._stopped.set()


_current: Leader | None = None


def still_leading() -> bool:
    """What every job asks before it runs: in a process that campaigns (`Leader.run`), only
    while it holds the lock; a job run any other way (a test, a one-off) always may."""
    leader = _current
    return leader is None or (leader.leading and leader.holds())
