"""`pdca init --sample`: a sample city whose history runs up to a day, built through the
same tick and simulated people as `pdca simulate --actors auto`."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from engine.clock import utc_now
from tests.conftest import ADMIN, CHAIR, CONFIG, OWNER, PROMOTION_CHAIR
from workflows.calendar import Calendar

AS_OF = "2026-12-02"
Run = Callable[..., str]


def runner_in(folder: Path) -> Run:
    """`pdca` with the sample config copied into `folder` (its database, mail and public
    site live beside it)."""
    config = folder / "config.toml"
    if not config.exists():
        shutil.copy(CONFIG, config)

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config), *args], env={"PDCA_DATABASE_URL": ""})
        assert result.exit_code == code, result.output
        return result.output

    return run


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    runner_in(folder)("init", "--sample", "--as-of", AS_OF)
    return folder


@pytest.fixture
def city(built: Path, tmp_path: Path) -> Path:
    """A copy of the built sample for one test to change."""
    target = tmp_path / "city"
    shutil.copytree(built, target)
    return target


def query(folder: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    """Closed at once (sqlite3's `with` only commits): a connection the garbage collector
    closes later removes the WAL files while another test copies the folder."""
    with closing(sqlite3.connect(folder / "var" / "pdca.sqlite3")) as conn:
        return conn.execute(sql).fetchall()


def test_the_sample_has_a_published_year_a_year_at_work_and_open_items(city: Path) -> None:
    run = runner_in(city)
    rows = json.loads(run("actions", "--json"))
    by_year: dict[int, dict[str, str]] = {}
    for r in rows:
        by_year.setdefault(r["fy"], {})[r["code"]] = r["state"]
    assert set(by_year) == {2025, 2026}
    assert set(by_year[2026].values()) == {"do.implementing"}
    open_2025 = {code: state for code, state in by_year[2025].items() if state != "closed"}
    assert open_2025 == {"2-2-1": "check.self_assessment", "2-1-2": "check.self_assessment"}

    late = json.loads(run("show", "2-2-1", "--fy", "2025", "--json"))
    assert [f["rule"] for f in late["flags"] if not f["resolution"]] == ["late"]
    assert late["deadline"]["days_left"] < 0
    returned = json.loads(run("show", "2-1-2", "--fy", "2025", "--json"))
    assert returned["record"]["returned_comment"]
    assert "return_report" in [h["trigger"] for h in returned["history"]]

    assert query(city, "SELECT fy, version FROM publication") == [(2025, 1)]
    assert "unchanged since version 1" in run("publish", "--fy", "2025")


def test_past_mail_is_delivered_to_files_and_nothing_waits_in_the_outbox(city: Path) -> None:
    statuses = dict(query(city, "SELECT status, count(*) FROM outbox GROUP BY status"))
    assert set(statuses) == {"sent"}
    emls = list((city / "var" / "mail").glob("*.eml"))
    assert len(emls) == statuses["sent"] > 100
    kinds = {k for (k,) in query(city, "SELECT DISTINCT kind FROM outbox")}
    assert {"report_requested", "report_escalation", "returned", "publication_done"} <= kinds


def test_the_same_day_gives_the_same_history(built: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    again.mkdir()
    runner_in(again)("init", "--sample", "--as-of", AS_OF)
    for sql in (
        "SELECT a.code, c.fy, c.state, c.version, c.flags FROM cycle c JOIN action a ON a.id = c.action_id "
        "ORDER BY a.code, c.fy",
        "SELECT workflow, instance_id, at, actor, trigger, from_state, to_state, version, comment, fields "
        "FROM audit_event ORDER BY id",
        # sent_at to the minute: a drain's clock starts at the simulated evening and runs on
        "SELECT dedupe_key, status, substr(sent_at, 1, 16) FROM outbox ORDER BY id",
        "SELECT fy, version, content_hash FROM publication",
    ):
        assert query(again, sql) == query(built, sql), sql


def test_running_it_again_keeps_a_walked_revision_and_says_so(city: Path) -> None:
    run = runner_in(city)
    fire = ("fire", "1-1-2")
    steps = [
        ("open_check", ADMIN, []),
        ("submit_report", OWNER, ["--field", "status=implemented", "--field", "content=間伐 4ha",
                                  "--field", "indicators.S1=41", "--field", "indicators.S2=500",
                                  "--field", "self_grade=B"]),
        ("accept_report", CHAIR, []),
        ("approve_evaluation", PROMOTION_CHAIR, ["--field", "grade=B", "--field", "evaluation=順調"]),
        ("decide_revise", CHAIR, ["--comment", "参加者の記録を計画に入れる"]),
        ("submit_revision", OWNER, ["--field", "revised_plan=間伐を行い、参加者を記録する"]),
        ("approve_revision", CHAIR, []),
    ]
    for trigger, who, extra in steps:
        run(*fire, trigger, "--fy", "2026", "--as", who, *extra)
    today = Calendar().today(utc_now()).isoformat()
    audit_rows = query(city, "SELECT count(*) FROM audit_event")

    out = run("init", "--sample")
    assert f"kept: 1-1-2 plan (revised by approve_revision on {today})" in out
    assert "kept: 3-1-2 plan (revised by approve_revision on 2026-08-" in out  # the sample's own revision
    assert "history exists already" in out
    story = json.loads(run("show", "1-1-2", "--fy", "2026", "--json"))
    assert story["state"] == "closed"
    assert query(city, "SELECT plan FROM action WHERE code = '1-1-2'") == [("間伐を行い、参加者を記録する",)]
    assert query(city, "SELECT count(*) FROM audit_event") == audit_rows  # nothing else changed, nothing audited


def test_in_a_simulated_year_partners_items_reach_the_hub_the_feed_an_indicator_the_report_and_the_archive(
        city: Path, tmp_path: Path) -> None:
    """The hub's whole path in the sample's FY2025, each part through what a reader uses: the
    citizens' group's survey reports and the citizen's frog record, sent and curated by the
    simulated people, are on the public hub and its feed, counted in 3-1-1's indicator (equal
    to a hand count of the participants), listed under their actions in the published year,
    and in the Darwin Core Archive."""
    from dwca.read import DwCAReader
    from fastapi.testclient import TestClient

    from app.bootstrap import Pdca
    from app.web.main import create_app
    from tests.conftest import settings_for

    items = query(city, "SELECT h.id, h.kind, h.state, h.title, h.participants, h.actions, p.email, p.organisation_kind"
                        " FROM hub_item h JOIN person p ON p.id = h.created_by"
                        " WHERE h.event_date BETWEEN '2025-04-01' AND '2026-03-31' ORDER BY h.id")
    group = [i for i in items if i[1] == "activity" and i[7] == "citizens_group"]
    frog = [i for i in items if i[1] == "observation" and i[7] == "citizen" and "ニホンアカガエル" in i[3]]
    assert len(group) == 4 and len(frog) == 1 and {i[2] for i in items} == {"accepted"}

    by_hand = sum(i[4] for i in group if "3-1-1" in json.loads(i[5]))
    (value,) = query(city, "SELECT m.value FROM measurement m JOIN cycle c ON c.id = m.cycle_id"
                           " JOIN indicator i ON i.id = m.indicator_id WHERE i.code = 'C1' AND c.fy = 2025")[0]
    assert value == by_hand == 24 + 28 + 18 + 15

    (content,) = query(city, "SELECT content FROM publication WHERE fy = 2025")[0]
    listed = {a["code"]: [h["id"] for h in a["hub_items"]] for a in json.loads(content)["actions"]}
    assert sorted(listed["3-1-1"]) == [i[0] for i in group] and listed["2-2-1"] == [frog[0][0]]

    pdca = Pdca(settings_for(f"sqlite:///{city / 'var' / 'pdca.sqlite3'}"))
    try:
        with TestClient(create_app(pdca)) as web:
            page = web.get("/public/hub?fy=2025").text
            feed = web.get("/public/hub/feed.atom").text
            archive = web.get("/public/hub/occurrences.zip?fy=2025")
    finally:
        pdca.close()
    for title in ("春の生きもの調査", "夏休み 親子生きもの調査", "秋のトンボ調査", "冬の野鳥調査", "ニホンアカガエル"):
        assert title in page and title in feed
    (tmp_path / "hub.zip").write_bytes(archive.content)
    with DwCAReader(str(tmp_path / "hub.zip")) as reader:
        names = [row.data["http://rs.tdwg.org/dwc/terms/scientificName"] for row in reader]
    assert "Rana japonica" in names and len(names) == 4  # FY2025's four observations


def test_the_sample_s_councils_met_and_the_exchange_was_used(city: Path) -> None:
    """FY2025's two meetings convened on their calendar days with their packets, their
    minutes recorded and approved; each June's topic answered by the division and closed."""
    meetings = query(city, "SELECT body, fy, held_on, state, json_array_length(agenda), attendance IS NOT NULL"
                           " FROM meeting ORDER BY held_on")
    assert [(m[0], m[1], m[2], m[3]) for m in meetings] == [
        ("internal", 2025, "2026-06-19", "published"), ("promotion", 2025, "2026-07-24", "published")]
    assert all(m[4] > 0 and m[5] for m in meetings)
    topics = query(city, "SELECT t.state, t.public, count(r.id) FROM exchange_topic t"
                         " LEFT JOIN exchange_reply r ON r.topic_id = t.id GROUP BY t.id ORDER BY t.id")
    assert topics == [("closed", 1, 1), ("closed", 1, 1)]
