"""`pdca health`: quiet and exit 0 when all is well; exit 1 naming mail given up, mail
stuck in the queue, a late job, or (PostgreSQL) no scheduler leading."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import text, update
from typer.testing import CliRunner

from app.cli import cli
from app.scheduler import leadership
from engine import db
from engine.clock import utc_now
from engine.outbox import outbox_table
from tests.conftest import CONFIG, Year
from tests.test_overlapping_ticks import PLAN_WINDOW
from workflows.tick import tick


def health(year: Year) -> tuple[int, dict[str, Any]]:
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": year.engine.url.render_as_string(hide_password=False)}
    done = CliRunner().invoke(cli, ["health", "--json"], env=env)
    return done.exit_code, json.loads(done.stdout)


def test_health_names_mail_given_up_or_stuck_and_a_late_job(year: Year) -> None:
    with db.writing(year.engine) as conn:  # the plan window's requests, queued
        tick(conn, year.pdca.registry, year.pdca.tenants, now=PLAN_WINDOW)
    postgres = year.engine.dialect.name == "postgresql"
    with leadership(year.engine):  # a scheduler leads (PostgreSQL: holds the lock)
        code, found = health(year)
        assert (code, found["problems"]) == (0, [])
        if postgres:
            assert found["leader"]["pid"] > 0
        with db.writing(year.engine) as conn:
            conn.execute(update(outbox_table).values(created_at=utc_now() - timedelta(hours=2)))
            conn.execute(text("CREATE TABLE IF NOT EXISTS apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, "
                              "next_run_time FLOAT, job_state BYTEA)" if postgres else
                              "CREATE TABLE IF NOT EXISTS apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, "
                              "next_run_time FLOAT, job_state BLOB)"))
            conn.execute(text("INSERT INTO apscheduler_jobs (id, next_run_time, job_state) "
                              "VALUES ('daily_tick', :t, :s)"),
                         {"t": (utc_now() - timedelta(hours=1)).timestamp(), "s": b"\x80"})
        code, found = health(year)
        assert code == 1 and found["problems"] == ["stuck_mail", "late_job"]
        assert found["jobs"] == [{"id": "daily_tick", "next_run_at": found["jobs"][0]["next_run_at"], "late": True}]
        with db.writing(year.engine) as conn:
            conn.execute(update(outbox_table).values(status="dead"))
        assert health(year)[1]["problems"] == ["dead_mail", "late_job"]
    if postgres:
        assert "no_leader" in health(year)[1]["problems"]  # the lock is let go: nobody schedules
