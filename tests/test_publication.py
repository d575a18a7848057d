"""The yearly publication (公表): frozen and hashed, corrections as new versions, the site
written from it and served without sign-in, its figures equal to the database's."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import update
from typer.testing import CliRunner

from app.cli import cli
from app.simulate import simulate
from app.web.main import create_app
from engine import db
from engine.errors import InvalidFields
from tests.conftest import CONFIG, Year
from workflows.action_cycle import results
from workflows.models import Cycle

NOW = datetime(2027, 10, 1, tzinfo=UTC)


def hub_of(year: Year, conn: Any, fy: int) -> Any:
    """The hub's accepted items of the year by action, as the calendar's publication takes them."""
    return year.pdca.registry.primary.options["hub_items"](conn, year.tenant(conn), fy)


def meetings_of(year: Year, conn: Any, fy: int) -> Any:
    """The year's meetings with published minutes, as the calendar's publication takes them."""
    return year.pdca.registry.primary.options["meetings"](conn, year.tenant(conn), fy)


@pytest.fixture
def year_done(year: Year) -> Year:
    """The sample's FY2026, carried through a simulated year (published on 2027-09-30)."""
    simulate(year.pdca, datetime(2026, 4, 1).date(), datetime(2027, 10, 1).date(), actors=True)
    return year


def test_a_publication_is_frozen_and_a_correction_is_a_new_version(year_done: Year) -> None:
    code = year_done.pdca.strategy_code
    with db.writing(year_done.engine) as conn:
        first = results.latest(conn, strategy_code=code, fy=2026)
        assert first is not None and first["version"] == 1
        hub, meetings = hub_of(year_done, conn, 2026), meetings_of(year_done, conn, 2026)
        again, created = results.publish(conn, strategy_code=code, fy=2026, now=NOW, hub=hub, meetings=meetings)
        assert not created and again["content_hash"] == first["content_hash"]
        conn.execute(update(Cycle).where(Cycle.fy == 2026).values(council_grade="A"))
        with pytest.raises(InvalidFields, match="say what this correction changes"):
            results.publish(conn, strategy_code=code, fy=2026, now=NOW, hub=hub, meetings=meetings)
        second, created = results.publish(conn, strategy_code=code, fy=2026, now=NOW, hub=hub, meetings=(),
                                          note="評価の誤記を訂正")
        assert created and second["version"] == 2 and second["note"] == "評価の誤記を訂正"
        still = results.version(conn, strategy_code=code, fy=2026, number=1)
    assert still == first  # the first version stays as it was
    frozen = {k: v for k, v in still.items() if k != "content_hash"}
    assert results.content_hash(frozen) == still["content_hash"]
    changes = results.diff(first, second)
    assert changes and all(c["change"] == "council_grade" and c["after"] == "A" for c in changes)


def test_the_snapshot_tells_what_the_database_holds(year_done: Year) -> None:
    with db.reading(year_done.engine) as conn:
        published = results.latest(conn, strategy_code=year_done.pdca.strategy_code, fy=2026)
    assert published is not None
    by_code = {a["code"]: a for a in published["actions"]}
    assert len(by_code) == 12
    for code, action in by_code.items():
        story = year_done.story(code, 2026)
        assert action["council_grade"] == story["record"]["council_grade"]
        assert action["decision"] == story["record"]["decision"]
        assert [(i["code"], i["value"]) for i in action["indicators"]] == [
            (i["code"], i["value"]) for i in story["indicators"]]
    counts = published["counts"]
    assert sum(counts["by_grade"].values()) == 12
    assert sum(counts["by_indicator_status"].values()) == sum(len(a["indicators"]) for a in published["actions"])


def test_pdca_publish_writes_the_site_its_tables_and_the_pdf(year_done: Year, tmp_path: Path) -> None:
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": year_done.pdca.settings.database.url}
    result = CliRunner().invoke(cli, ["publish", "--fy", "2026", "--out", str(tmp_path), "--json", "--pdf"], env=env)
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)
    assert (written["version"], written["created"]) == (1, False)
    assert written["pdf"] == str(tmp_path / "results.pdf")
    pdf = PdfReader(tmp_path / "results.pdf")
    assert len(pdf.pages) > len(year_done.actions())  # the index, then a sheet or more per action
    assert all(a["code"] in "".join(p.extract_text() for p in pdf.pages) for a in year_done.actions())
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    english = (tmp_path / "en" / "index.html").read_text(encoding="utf-8")
    for action in year_done.actions():
        assert action["code"] in index and action["code"] in english
        assert (tmp_path / "actions" / f"{action['code']}.html").exists()
    with (tmp_path / "results.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert {r["code"] for r in rows} == {a["code"] for a in year_done.actions()}
    wetland = next(r for r in rows if r["indicator_code"] == "W1")
    assert float(wetland["value"]) == year_done.story("1-1-1", 2026)["indicators"][0]["value"]


def test_the_public_report_is_served_without_sign_in(year_done: Year) -> None:
    web = TestClient(create_app(year_done.pdca), follow_redirects=False)
    assert "FY2026 (令和8年度)" in web.get("/public").text
    assert web.get("/public/2026/").headers["location"] == "/public/2026/v1/"
    page = web.get("/public/2026/v1/")
    assert page.status_code == 200 and "1-1-2" in page.text
    assert web.get("/public/2026/v1/en/index.html").status_code == 200
    assert web.get("/public/2026/v1/results.xlsx").status_code == 200
    assert web.get("/public/2026/v1/../../../config.toml").status_code == 404
    assert web.get("/public/2025/").status_code == 404


def test_pdca_compare_shows_what_changed_between_published_years(year_done: Year) -> None:
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": year_done.pdca.settings.database.url}
    runner = CliRunner()
    missing = runner.invoke(cli, ["compare", "--fy", "2026"], env=env)
    assert missing.exit_code == 1 and "not published: FY2025" in missing.output
    with db.writing(year_done.engine) as conn:  # FY2027 is implementing; publish it as it stands
        results.publish(conn, strategy_code=year_done.pdca.strategy_code, fy=2027, now=NOW,
                        hub=hub_of(year_done, conn, 2027), meetings=())
    shown = runner.invoke(cli, ["compare", "--fy", "2027"], env=env)
    assert shown.exit_code == 0, shown.output
    changes = json.loads(shown.stdout)["changes"]
    assert {c["change"] for c in changes} >= {"council_grade", "decision"}
    assert {c["code"] for c in changes} == {a["code"] for a in year_done.actions()}


def test_the_automatic_publication_is_dated_in_the_citys_time(year_done: Year) -> None:
    with db.reading(year_done.engine) as conn:
        published = results.latest(conn, strategy_code=year_done.pdca.strategy_code, fy=2026)
    assert published is not None and published["published_at"].startswith("2027-09-30T06:00:00+09:00")


def test_odd_public_addresses_are_404_not_errors(year_done: Year) -> None:
    web = TestClient(create_app(year_done.pdca), follow_redirects=False)
    for path in ("/public/99999999999999999999/", "/public/2026/v99999999999999999999/", "/public/2026/v1/%00"):
        assert web.get(path).status_code == 404, path


def test_an_advisor_s_opinion_is_published_with_the_action_it_concerns(year: Year) -> None:
    """Answered opinions stay with their action in the yearly publication; one still
    awaited is not published."""
    from publishing.site import render_pages
    from tests.test_contract import ADVISOR, _opinion, actor

    asked = _opinion(year)
    entry = year.pdca.registry["opinion"]
    with db.writing(year.engine) as conn:
        entry.workflow.fire_in(conn, asked, "answer", actor(conn, ADVISOR), {"answer": "7月の下草刈りは避けるべきです"},
                               now=NOW)
        publication, _ = results.publish(conn, strategy_code=year.pdca.strategy_code, fy=2026, now=NOW, hub={},
                                         meetings=())
    by_code = {a["code"]: a for a in publication["actions"]}
    answer = "7月の下草刈りは避けるべきです"
    assert by_code["1-1-2"]["opinions"] == [{"advisor": "地元 植物研究家", "advisor_en": "Local botanist",
                                             "question": "下草刈りの時期は?", "answer": answer}]
    assert "opinions" not in by_code["1-1-1"]
    page = next(html for path, html in render_pages(publication).items()
                if path.startswith("actions/") and "7月の下草刈りは避けるべきです" in html)
    assert "有識者の意見" in page and "地元 植物研究家" in page
