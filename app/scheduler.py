"""The one scheduler of a deployment (APScheduler 3.x): it calls `tick` daily and drains
the outbox every minute.

Jobs live in a persistent job store in the pdca database (table `apscheduler_jobs`, which
the migrations leave alone). A run missed while the process was down fires once when it
comes back (coalesce, grace time), and a catch-up tick runs at every start; `tick` is
idempotent, so neither sends anything twice. With PostgreSQL several nodes may run
`pdca scheduler`: each tries an advisory lock on a dedicated connection and only the holder
schedules; the others wait as standbys. On SQLite one scheduler runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Connection, Engine, text

from app.config import Settings
from engine.clock import utc_now

JOBS_TABLE = "apscheduler_jobs"
TICK_JOB = "app.jobs:daily_tick"
DRAIN_JOB = "app.jobs:drain_outbox"
LEADER_LOCK = 0x70646361  # "pdca"
GRACE = timedelta(hours=12)


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
