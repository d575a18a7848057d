"""One firing semantics: the clock's set-based path and one instance at a time give the
same database, row for row. Two copies of one database: on the first every approved plan
is started and every check opened one cycle at a time; on the second the same triggers
fire in bulk. An ended action (its guard refuses) and a plan not yet approved (not in the
source state) are left alone by both."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url

from app.bootstrap import Pdca
from engine import db
from engine.bulk import fire_all
from engine.errors import GuardRefused
from engine.runtime import SYSTEM_ACTOR, BulkUnsupported
from tests.conftest import CHAIR, PG_ENV, Year, settings_for
from tests.test_action_cycle import CHECKING, PLANNING, YEAR_BEGINS
from workflows.models import Action, Cycle

FY = 2027
STEPS = (("start", YEAR_BEGINS), ("open_check", CHECKING))


def prepared(url: str) -> None:
    """FY2027's cycles: ten plans approved before the year, one only submitted, one of an
    action that has ended since."""
    year = Year(url)
    try:
        year.open(FY, now=PLANNING)
        for row in year.actions(FY):
            year.fire(row["code"], "submit_plan", row["owners"][0], fy=FY, now=PLANNING)
            if row["code"] != "4-1-2":
                year.fire(row["code"], "approve_plan", CHAIR, fy=FY, now=PLANNING)
        with db.writing(year.engine) as conn:
            conn.execute(update(Action).where(Action.code == "3-2-1").values(status="completed", ended_fy=2026))
    finally:
        year.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def copies(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two databases, the second a copy of the first."""
    if request.param == "sqlite":
        first = tmp_path / "first.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), first)
        prepared(f"sqlite:///{first}")
        shutil.copy(first, tmp_path / "second.sqlite3")
        yield f"sqlite:///{first}", f"sqlite:///{tmp_path / 'second.sqlite3'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests skipped: set {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    names = [f"pdca_bulk_{uuid.uuid4().hex[:8]}_{i}" for i in (1, 2)]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    urls = [make_url(base).set(database=n).render_as_string(hide_password=False) for n in names]
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{names[0]}"'))
        pdca = Pdca(settings_for(urls[0]))
        pdca.migrate()
        pdca.close()
        prepared(urls[0])
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{names[1]}" TEMPLATE "{names[0]}"'))
        yield urls[0], urls[1]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def one_at_a_time(url: str) -> None:
    pdca = Pdca(settings_for(url))
    try:
        entry = pdca.registry.primary
        for trigger, now in STEPS:
            with db.reading(pdca.engine) as conn:
                ids = conn.execute(select(Cycle.id).where(Cycle.fy == FY).order_by(Cycle.id)).scalars().all()
            for cycle_id in ids:
                with db.writing(pdca.engine) as conn:
                    instance = entry.store.load(conn, cycle_id)
                    source = next(t.source for t in entry.spec.triggers if t.name == trigger)
                    if instance is None or instance.state != source:
                        continue
                    try:
                        entry.workflow.fire_in(conn, cycle_id, trigger, SYSTEM_ACTOR, {}, now=now)
                    except GuardRefused:
                        continue
    finally:
        pdca.close()


def in_bulk(url: str) -> dict[str, int]:
    pdca = Pdca(settings_for(url))
    moved = {}
    try:
        entry = pdca.registry.primary
        for trigger, now in STEPS:
            with db.writing(pdca.engine) as conn:
                strategy = pdca.tenants.by_code(conn, pdca.strategy_code).id
                moved[trigger] = fire_all(conn, entry.workflow, trigger, where=Cycle.fy == FY, now=now,
                                          tenant=strategy)
    finally:
        pdca.close()
    return moved


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                "cycle": [tuple(r) for r in conn.execute(text("SELECT * FROM cycle ORDER BY id"))],
                "audit": [tuple(r) for r in conn.execute(text(
                    'SELECT workflow, instance_id, tenant_id, at, actor, on_behalf, "trigger", from_state, to_state, '
                    "version, comment, fields FROM audit_event ORDER BY workflow, instance_id, version, id"))],
                "outbox": [tuple(r) for r in conn.execute(text("SELECT dedupe_key, kind FROM outbox ORDER BY 1"))],
            }
    finally:
        engine.dispose()


def test_bulk_and_single_firing_give_the_same_database_row_for_row(copies: tuple[str, str]) -> None:
    single, bulk = copies
    one_at_a_time(single)
    moved = in_bulk(bulk)
    assert moved == {"start": 10, "open_check": 10}
    assert rows(single) == rows(bulk)


def test_a_trigger_the_set_based_path_cannot_run_the_same_way_is_refused_loudly(year: Year) -> None:
    entry = year.cycles
    with db.writing(year.engine) as conn:
        for trigger, why in (("submit_plan", "not a single system trigger"),):
            with pytest.raises(BulkUnsupported, match=why):
                fire_all(conn, entry.workflow, trigger, where=Cycle.fy == FY, now=CHECKING, tenant=year.strategy)
    # A system trigger whose recorder queues a notice (an effect) is refused too, before anything is written.
    from engine.runtime import Workflow
    from engine.spec import SYSTEM, Changes, Label, Trigger, WorkflowSpec

    spec = entry.spec
    noisy = Trigger("open_check", "do.implementing", "check.self_assessment", (SYSTEM,), Label("", ""),
                    record=lambda ctx: Changes({}, [("notify", {"kind": "decided"})]))
    other = WorkflowSpec("noisy", spec.states, spec.initial, (noisy,))
    with db.writing(year.engine) as conn, pytest.raises(BulkUnsupported, match="has effects"):
        fire_all(conn, Workflow(other, entry.store), "open_check", where=Cycle.fy == FY, now=CHECKING,
                 tenant=year.strategy)
