"""Databases made by earlier releases, upgraded: their rows carried over, nothing a step
changed undone. Each test builds a database at an old revision with plain SQL, as that
release left it, then upgrades it to this release's schema."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.bootstrap import Pdca, alembic_config
from app.cli import cli
from app.importing import import_actions
from engine import db
from tests.conftest import CHAIR, CONFIG, NOW, OWNER, PG_ENV, SAMPLE, settings_for

ADVISOR = "shokubutsu@example.org"


@pytest.fixture(params=["sqlite", "postgresql"])
def old(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pdca]:
    """An empty database (a SQLite file, or a scratch PostgreSQL database), for a test to
    build at an old revision."""
    if request.param == "sqlite":
        pdca = Pdca(settings_for(f"sqlite:///{tmp_path / 'old.sqlite3'}"))
        yield pdca
        pdca.close()
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests skipped: set {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    name = f"pdca_old_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    pdca = Pdca(settings_for(make_url(base).set(database=name).render_as_string(hide_password=False)))
    try:
        yield pdca
    finally:
        pdca.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def at_revision(pdca: Pdca, revision: str, sql: str, **params: object) -> None:
    command.upgrade(alembic_config(pdca.engine), revision)
    with pdca.engine.begin() as conn:
        for statement in [s.strip() for s in sql.split(";") if s.strip()]:
            conn.execute(text(statement), params)
        if conn.dialect.name == "postgresql":  # ids given by hand: the sequences go on from there
            for table in ("strategy", "person", "council", "action", "cycle", "opinion_request"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {table}))"))


FIRST_RELEASE = """
INSERT INTO strategy (id, code, name_ja, name_en, first_fy, target_fy, grades)
    VALUES (1, 'biodiversity-2026', 'みどり市', 'Midori', 2026, 2030, '["A","B","C","D","-"]');
INSERT INTO person (id, email, name, language, admin, advisor, absent, digest, active)
    VALUES (1, :owner, '農林', 'ja', FALSE, FALSE, FALSE, FALSE, TRUE),
           (2, :chair, '副市長', 'ja', FALSE, FALSE, FALSE, FALSE, TRUE),
           (3, :advisor, '植物', 'ja', FALSE, TRUE, FALSE, FALSE, TRUE);
INSERT INTO council (id, key, name_ja, name_en) VALUES (1, 'internal', '庁内推進会議', 'Internal'),
    (2, 'promotion', '推進会議', 'Promotion'), (3, 'secretariat', '事務局', 'Secretariat');
INSERT INTO membership (council_id, person_id, role) VALUES (1, 2, 'chair'), (2, 3, 'member');
INSERT INTO action (id, strategy_id, code, basic_policy, title_ja, division, plan, status)
    VALUES (1, 1, '1-1-2', '1', '里山林の保全管理', '農政課', 'revised', 'active');
INSERT INTO action_owner (action_id, person_id) VALUES (1, 1);
INSERT INTO cycle (id, action_id, fy, state, version, plan, return_count, flags, decision)
    VALUES (1, 1, 2026, 'closed', 9, 'old', 0, '[]', 'revise');
INSERT INTO audit_event (workflow, instance_id, at, actor, "trigger", from_state, to_state, version, fields)
    VALUES ('action_cycle', 1, '2027-08-20 01:00:00', :chair, 'approve_revision', 'act.revision_review',
            'closed', 9, '{}')
"""


def test_a_database_from_the_first_release_keeps_its_adopted_revisions(old: Pdca) -> None:
    """Upgraded from revision 0001 (no import baselines yet): a plan that an approved
    revision replaced is known from the cycles' audit, and kept."""
    at_revision(old, "0001", FIRST_RELEASE, owner=OWNER, chair=CHAIR, advisor=ADVISOR)
    old.migrate()
    strategy = old.sync()
    with db.writing(old.engine) as conn:
        result = import_actions(conn, strategy=strategy, path=SAMPLE, now=NOW, zone=ZoneInfo("Asia/Tokyo"))
        plan = conn.execute(text("SELECT plan FROM action WHERE code = '1-1-2'")).scalar_one()
    assert [str(k) for k in result.kept] == ["kept: 1-1-2 plan (revised by approve_revision on 2027-08-20)"]
    assert plan == "revised"


SECOND_RELEASE = FIRST_RELEASE + """;
INSERT INTO opinion_request (id, cycle_id, advisor_id, asked_by, question, due, asked_at, answer, answered_at)
    VALUES (1, 1, 3, 'npo.tombo@example.org', '時期は?', '2027-07-30', '2027-07-20 01:00:00', '7月は避ける',
            '2027-07-25 01:00:00'),
           (2, 1, 3, 'npo.tombo@example.org', '場所は?', '2027-08-30', '2027-07-21 01:00:00', NULL, NULL);
INSERT INTO audit_event (workflow, instance_id, at, actor, "trigger", from_state, to_state, version, fields)
    VALUES ('opinion', 1, '2027-07-20 01:00:00', 'npo.tombo@example.org', 'ask', '', 'asked', 1, '{}'),
           ('person', 1, '2027-07-20 01:00:00', :chair, 'mark_absent', 'back', 'absent', 0, '{}');
INSERT INTO outbox (dedupe_key, kind, recipient, instance_id, fy, due, step, status, attempts, created_at)
    VALUES ('report_reminder|cycle:1|2027-05-28|-7|a', 'report_reminder', :owner, 1, 2026, '2027-05-28', '-7',
            'sent', 1, '2027-05-21 01:00:00'),
           ('opinion_reminder|cycle:1|2027-08-30|o2:-7|b', 'opinion_reminder', :advisor, 1, 2026, '2027-08-30',
            'o2:-7', 'queued', 0, '2027-08-23 01:00:00'),
           ('internal_packet|person:2|2027-06-18||c', 'internal_packet', :chair, NULL, 2026, '2027-06-18', '',
            'sent', 1, '2027-06-18 01:00:00'),
           ('sign_in_link|person:x|2027-06-18|abc|d', 'sign_in_link', :owner, NULL, NULL, '2027-06-18', 'abc',
            'sent', 1, '2027-06-18 01:00:00');
INSERT INTO draft (cycle_id, "trigger", "values", saved_by, saved_at)
    VALUES (1, 'submit_report', '{"content": "書きかけ"}', :owner, '2027-05-20 01:00:00')
"""


def test_the_second_release_carries_its_rows_into_many_workflows_and_strategies(old: Pdca) -> None:
    at_revision(old, "0002", SECOND_RELEASE, owner=OWNER, chair=CHAIR, advisor=ADVISOR)
    old.migrate()

    def rows(sql: str) -> list[tuple]:  # type: ignore[type-arg]
        with old.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]

    assert rows("SELECT key, strategy_id FROM council ORDER BY id") == [
        ("internal", 1), ("promotion", 1), ("secretariat", 1), ("advisors", 1)]
    assert rows("SELECT p.email FROM membership m JOIN council c ON c.id = m.council_id "
                "JOIN person p ON p.id = m.person_id WHERE c.key = 'advisors'") == [(ADVISOR,)]
    assert rows("SELECT id, state, version FROM opinion_request ORDER BY id") == [(1, "answered", 2), (2, "asked", 1)]
    assert rows("SELECT workflow, tenant_id FROM audit_event ORDER BY id") == [
        ("action_cycle", 1), ("opinion", 1), ("person", None)]
    assert rows("SELECT dedupe_key FROM outbox WHERE kind = 'internal_packet'") == [
        ("internal_packet|person:2@1|2027-06-18||c",)]  # a person's message names its strategy now
    outbox = rows("SELECT kind, workflow, instance_id, tenant_id, payload FROM outbox ORDER BY id")
    assert [(k, w, i, t, json.loads(p) if isinstance(p, str) else p) for k, w, i, t, p in outbox] == [
        ("report_reminder", "action_cycle", 1, 1, {"fy": 2026}),
        ("opinion_reminder", "opinion", 2, 1, {"fy": 2026}),
        ("internal_packet", "action_cycle", None, 1, {"fy": 2026}),
        ("sign_in_link", None, None, None, {}),
    ]
    assert rows('SELECT workflow, instance_id, "trigger" FROM draft') == [("action_cycle", 1, "submit_report")]


def test_the_third_release_gets_its_calendar_years_from_the_config_at_init(old: Pdca) -> None:
    """Upgraded from 0003 (calendar only in config.toml): the table is there, empty, until
    `pdca init` copies the configured overrides in; the calendar reads the same."""
    at_revision(old, "0003", """
INSERT INTO strategy (id, code, name_ja, name_en, first_fy, target_fy, grades)
    VALUES (1, 'biodiversity-2026', 'みどり市', 'Midori', 2026, 2030, '["A","B","C","D","-"]')""")
    old.migrate()
    with old.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM calendar_year")).scalar_one() == 0
    strategy = old.sync()
    with old.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT strategy_id, fy FROM calendar_year"))]
    assert rows == [(strategy, 2026)]
    with db.reading(old.engine) as conn:
        calendar = old.tenants.get(conn, strategy).calendar
    assert calendar.due(2026, "promotion_council_meeting").isoformat() == "2027-07-30"


def test_the_fifth_release_gets_the_report_s_own_fields_from_the_config_at_init(old: Pdca) -> None:
    """Upgraded from 0005 (a report asked only the cycle's own fields): a cycle's report
    said nothing more, and `pdca init` gives the strategy the fields its config declares."""
    at_revision(old, "0005", """
INSERT INTO strategy (id, code, name_ja, name_en, first_fy, target_fy, grades, configured)
    VALUES (1, 'biodiversity-2026', 'みどり市', 'Midori', 2026, 2030, '["A","B","C","D","-"]',
            '{"name_ja": "みどり市", "name_en": "Midori", "first_fy": 2026, "target_fy": 2030,
              "grades": ["A","B","C","D","-"]}');
INSERT INTO action (id, strategy_id, code, basic_policy, title_ja, division, plan, status)
    VALUES (1, 1, '1-1-2', '1', '里山林の保全管理', '農政課', 'plan', 'active');
INSERT INTO cycle (id, action_id, fy, state, version, plan, return_count, flags)
    VALUES (1, 1, 2026, 'check.internal_review', 5, 'plan', 0, '[]')""")
    old.migrate()
    with old.engine.connect() as conn:
        assert conn.execute(text("SELECT report_details FROM cycle")).scalar_one() is None
    strategy = old.sync()
    with db.reading(old.engine) as conn:
        keys = [f.key for f in old.tenants.get(conn, strategy).report_fields]
    assert keys == [f.key for f in old.settings.strategy.report_fields] and keys  # the sample declares some


PREVIOUS_RELEASE = Path(__file__).parent / "fixtures" / "release-0008.sql.gz"
"""A database as the previous release (stop 23, schema 0008) left it, dumped with sqlite3's
iterdump: `pdca init`, the sample actions imported with FY2026 open, then 2026-04-01 to
2027-08-31 simulated with the simulated people and their mail delivered (240 audit rows,
hub items, meetings, the exchange, 203 messages). Made by that release's own code."""


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'alembic_version' ORDER BY name")]
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}


def test_the_previous_release_s_database_upgrades_with_nothing_lost(tmp_path: Path) -> None:
    path = tmp_path / "previous.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(gzip.decompress(PREVIOUS_RELEASE.read_bytes()).decode("utf-8"))
    before = _rows(path)
    assert len(before["audit_event"]) == 240 and before["meeting"] and before["hub_item"] and before["outbox"]
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": f"sqlite:///{path}", "PDCA_LANG": "en"}
    runner = CliRunner()
    done = runner.invoke(cli, ["init"], env=env)
    assert done.exit_code == 0, done.output
    after = _rows(path)
    assert set(after) == set(before)
    for table, rows in before.items():
        kept = after[table]
        if table == "audit_event":  # each row keeps every column and gains its place in the chain
            width = len(rows[0])
            assert [r[:width] for r in kept] == rows
            assert all(r[width + 2] is not None for r in kept)  # seq, prev_hash, hash: hash set
        else:
            assert kept == rows, table
    verify = runner.invoke(cli, ["audit", "verify"], env=env)
    assert verify.exit_code == 0 and "the chain is whole" in verify.output, verify.output
    assert runner.invoke(cli, ["tick", "--at", "2027-09-01T06:00:00+09:00"], env=env).exit_code == 0


def test_init_refuses_a_database_a_newer_release_migrated_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": f"sqlite:///{path}", "PDCA_LANG": "en"}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0042'")
    before = _rows(path)
    refused = runner.invoke(cli, ["init"], env=env)
    assert refused.exit_code == 1
    assert "migrated by a newer release of pdca than this one: upgrade pdca" in refused.output
    assert "Traceback" not in refused.output
    assert _rows(path) == before
