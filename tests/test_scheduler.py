"""The scheduler's configuration and its one-leader rule; it only ever calls tick."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import inspect
from sqlmodel import SQLModel

from app import scheduler as scheduling
from app.bootstrap import Pdca
from app.jobs import daily_tick
from app.schema import include_object
from tests.conftest import CONFIG, Year, settings_for


def started(url: str) -> BackgroundScheduler:
    sched = BackgroundScheduler()
    scheduling.configure(sched, settings_for(url), config=str(CONFIG))
    sched.start(paused=True)
    return sched


def stop(sched: BackgroundScheduler) -> None:
    """The catch-up job is due at once; remove it so shutting down does not race it."""
    if sched.get_job("catch_up_tick"):
        sched.remove_job("catch_up_tick")
    sched.shutdown(wait=True)


def test_the_daily_tick_is_persisted_with_catch_up_settings(database_url: str) -> None:
    sched = started(database_url)
    try:
        job = sched.get_job("daily_tick")
        assert job.func_ref == scheduling.TICK_JOB
        assert (job.coalesce, job.misfire_grace_time, job.max_instances) == (True, 12 * 3600, 1)
        assert str(job.trigger) == "cron[hour='6']"
        assert str(job.trigger.timezone) == "Asia/Tokyo"
        assert sched.get_job("catch_up_tick") is not None
    finally:
        stop(sched)
    again = started(database_url)  # a restart finds the same jobs in the database
    try:
        assert {j.id for j in again.get_jobs()} >= {"daily_tick"}
    finally:
        stop(again)


def test_migrations_leave_the_schedulers_table_alone(database_url: str) -> None:
    stop(started(database_url))
    pdca = Pdca(settings_for(database_url))
    try:
        pdca.migrate()
        with pdca.engine.connect() as conn:
            assert scheduling.JOBS_TABLE in inspect(conn).get_table_names()
            context = MigrationContext.configure(conn, opts={"include_object": include_object})
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        pdca.close()


def test_the_job_ticks_the_configured_database(year: Year, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDCA_DATABASE_URL", year.pdca.settings.database.url)
    daily_tick(str(CONFIG), at="2027-01-15T06:00:00+09:00")
    assert len(year.actions(2027)) == 12  # the plan window opened FY2027
    daily_tick(str(CONFIG), at="2027-01-15T07:00:00+09:00")
    assert len(year.actions(2027)) == 12


def test_only_one_node_leads_on_postgresql(pg_url: str) -> None:
    first, second = Pdca(settings_for(pg_url)), Pdca(settings_for(pg_url))
    try:
        with scheduling.leadership(first.engine) as leads:
            assert leads
            with scheduling.leadership(second.engine) as also:
                assert not also
        with scheduling.leadership(second.engine) as now_leads:
            assert now_leads
    finally:
        first.close()
        second.close()


def test_sqlite_has_one_scheduler_and_needs_no_lock(sqlite_url: str) -> None:
    pdca = Pdca(settings_for(sqlite_url))
    with scheduling.leadership(pdca.engine) as leads:
        assert leads
    pdca.close()
