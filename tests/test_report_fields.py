"""The fields a strategy's report asks beyond the cycle's own (`[[strategy.report_fields]]`):
課題及び今後の見通し, an outlook grade, 予算額 and 決算額 in the sample. Declared in the
config and checked like it, taken by the report like every field (each problem next to its
field, nothing changed by a refusal), and shown wherever the report is read: the action
page, a council's queue, a returned report's form, the published report and its CSV/XLSX."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pydantic import ValidationError
from sqlalchemy import select

from app.web.main import create_app
from engine import db
from engine.errors import InvalidFields
from publishing.site import write_site
from tests.conftest import ADMIN, CHAIR, NOW, OWNER, Year, settings_for
from tests.test_web import REPORT, csrf_of, sign_in, walk
from workflows.action_cycle import results
from workflows.directory import StrategyIn
from workflows.models import Cycle
from workflows.report_fields import ReportFieldIn

DETAILS = {"details.issues_outlook": "担い手の高齢化が課題。来年度は企業の参加を募る",
           "details.outlook": "B", "details.budget": "8,000", "details.spending": "7250.5"}
STRATEGY = {"code": "x", "name_ja": "戦略", "name_en": "Strategy", "first_fy": 2025, "target_fy": 2030,
            "grades": ["A", "B"]}


def stored(year: Year, code: str = "1-1-2") -> tuple[str, dict[str, Any] | None]:
    with db.reading(year.engine) as conn:
        row = conn.execute(select(Cycle.state, Cycle.report_details).where(Cycle.id == year.cycle_id(code))).one()
    return row.state, row.report_details


@pytest.fixture
def reported(year: Year) -> Year:
    """1-1-2's FY2026 report sent with the sample's four fields."""
    walk(year, "check.self_assessment")
    year.fire("1-1-2", "submit_report", OWNER, **REPORT, **DETAILS)
    return year


def test_the_sample_declares_the_fields_japanese_cities_write(year: Year) -> None:
    with db.reading(year.engine) as conn:
        asked = year.tenant(conn).report_fields
    assert [(f.key, f.type, f.label_ja) for f in asked] == [
        ("issues_outlook", "longtext", "課題及び今後の見通し"), ("outlook", "choice", "見通し"),
        ("budget", "number", "予算額"), ("spending", "number", "決算額")]


@pytest.mark.parametrize(("field", "problem"), [
    ({"key": "status", "type": "text", "label_ja": "状況", "label_en": "Status"}, "one of the report's own fields"),
    ({"key": "Budget", "type": "number", "label_ja": "予算", "label_en": "Budget"}, "lower-case letters"),
    ({"key": "outlook", "type": "choice", "label_ja": "見通し", "label_en": "Outlook"}, "needs its choices"),
    ({"key": "note", "type": "text", "label_ja": "備考", "label_en": "Note", "unit": "円"}, "are for a number"),
    ({"key": "kind", "type": "colour", "label_ja": "色", "label_en": "Colour"}, "type"),
])
def test_a_bad_declaration_is_refused_naming_it(field: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        ReportFieldIn(**field)


def test_two_fields_with_one_key_are_refused() -> None:
    twice = {"key": "budget", "type": "number", "label_ja": "予算額", "label_en": "Budget"}
    with pytest.raises(ValidationError, match="key budget used more than once"):
        StrategyIn(**STRATEGY, report_fields=[twice, twice])


def test_a_bad_declaration_in_the_config_exits_2_and_names_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from tests.conftest import CONFIG

    text = CONFIG.read_text(encoding="utf-8").replace('key = "budget"', 'key = "content"', 1)
    bad = tmp_path / "config.toml"
    bad.write_text(text, encoding="utf-8")
    ran = CliRunner().invoke(cli, ["--config", str(bad), "init"],
                             env={"PDCA_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert ran.exit_code == 2, ran.output
    assert "content" in ran.output and "report's own fields" in ran.output and "Traceback" not in ran.output
    assert not (tmp_path / "x.db").exists()  # nothing made of a config that does not hold


def test_the_report_keeps_what_was_sent_in_them(reported: Year) -> None:
    state, details = stored(reported)
    assert state == "check.internal_review"
    assert details == {"issues_outlook": DETAILS["details.issues_outlook"], "outlook": "B", "budget": 8000.0,
                       "spending": 7250.5}
    record = reported.story("1-1-2")["record"]["report_details"]
    assert [(d["label_ja"], d["text_ja"]) for d in record][1:] == [
        ("見通し", "B：計画どおり達成できる"), ("予算額", "8,000 千円"), ("決算額", "7,250.5 千円")]
    assert record[1]["text_en"] == "B: will be achieved on plan"


def test_each_bad_value_is_named_at_its_field_and_nothing_changes(year: Year) -> None:
    walk(year, "check.self_assessment")
    with pytest.raises(InvalidFields) as refused:
        year.fire("1-1-2", "submit_report", OWNER, **REPORT, **{
            "details.outlook": "E", "details.budget": "たくさん", "details.spending": "-5", "details.colour": "red"})
    problems = dict(refused.value.problems)
    assert set(problems) == {"details.outlook", "details.budget", "details.spending", "details.colour"}
    assert problems["details.spending"].key == "field.below_minimum"  # type: ignore[attr-defined]
    assert stored(year) == ("check.self_assessment", None)
    assert refused.value.labels["details.budget"].ja == "予算額（千円）"  # words for whoever says the problems


def test_a_field_the_strategy_requires_must_be_given(database_url: str) -> None:
    settings = settings_for(database_url)
    strategy = settings.strategy.model_copy(update={"report_fields": [
        *settings.strategy.report_fields[:2],
        ReportFieldIn(key="budget", type="number", label_ja="予算額", label_en="Budget", unit="千円", minimum=0,
                      required=True)]})
    year = Year(database_url, settings=settings.model_copy(update={"strategy": strategy}))
    try:
        walk(year, "check.self_assessment")
        with pytest.raises(InvalidFields) as refused:
            year.fire("1-1-2", "submit_report", OWNER, **REPORT)
        assert [name for name, _ in refused.value.problems] == ["details.budget"]
        year.fire("1-1-2", "submit_report", OWNER, **REPORT, **{"details.budget": "0"})
        assert stored(year) == ("check.internal_review", {"budget": 0.0})
    finally:
        year.close()


def test_what_a_step_takes_lists_them_for_scripts(year: Year) -> None:
    walk(year, "check.self_assessment")
    allowed = {a["trigger"]: a for a in year.story("1-1-2")["allowed"]}
    details = next(f for f in allowed["submit_report"]["fields"] if f["name"] == "details")
    assert details["type"] == "fieldset"
    by_name = {f["name"]: f for f in details["fields"]}
    assert list(by_name) == ["details.issues_outlook", "details.outlook", "details.budget", "details.spending"]
    assert by_name["details.budget"]["label"]["ja"] == "予算額（千円）"
    assert by_name["details.outlook"]["choices"] == ["A", "B", "C", "D"]


@pytest.fixture
def web(year: Year) -> Iterator[TestClient]:
    with TestClient(create_app(year.pdca, clock=lambda: NOW), follow_redirects=False) as client:
        yield client


def test_the_form_asks_them_and_a_returned_report_comes_back_with_them(web: TestClient, year: Year) -> None:
    walk(year, "check.self_assessment")
    sign_in(web, year, OWNER)
    page = web.get("/actions/1-1-2/2026")
    assert "課題及び今後の見通し" in page.text and 'name="details.budget"' in page.text
    assert "B：計画どおり達成できる" in page.text  # the outlook's choices in words
    bad = web.post("/actions/1-1-2/2026/fire", data={"csrf": csrf_of(page.text), "trigger": "submit_report",
                                                     "version": "5", **REPORT, **DETAILS, "details.budget": "-1"})
    assert bad.status_code == 422 and "予算額（千円）" in bad.text and "0以上の値を入力してください" in bad.text
    sent = web.post("/actions/1-1-2/2026/fire", data={"csrf": csrf_of(page.text), "trigger": "submit_report",
                                                      "version": "5", **REPORT, **DETAILS})
    assert sent.status_code == 303, sent.text
    year.fire("1-1-2", "return_report", CHAIR, comment="予算の内訳を書いてください")
    again = web.get("/actions/1-1-2/2026")
    assert 'name="details.budget" value="8000"' in again.text
    assert 'value="B" selected' in again.text and DETAILS["details.issues_outlook"] in again.text
    assert "8,000 千円" in again.text  # the record shows what was sent, as people write it


def test_the_councils_queue_has_a_column_for_each(web: TestClient, reported: Year) -> None:
    sign_in(web, reported, CHAIR)
    queue = web.get("/councils/internal")
    assert queue.status_code == 200
    assert "<th>予算額</th>" in queue.text and "<th>見通し</th>" in queue.text
    assert 'data-field="details.budget"' in queue.text and "8,000 千円" in queue.text


def test_the_published_report_and_its_files_show_them(reported: Year, tmp_path: Path) -> None:
    for trigger, who, fields in (("accept_report", CHAIR, {}),):
        reported.fire("1-1-2", trigger, who, **fields)
    with db.writing(reported.engine) as conn:
        publication, _ = results.publish(conn, strategy_code=reported.pdca.strategy_code, fy=2026, now=NOW, hub={},
                                          meetings=())
    action = next(a for a in publication["actions"] if a["code"] == "1-1-2")
    assert [d["text_ja"] for d in action["report_details"]][2:] == ["8,000 千円", "7,250.5 千円"]
    assert [f["key"] for f in publication["report_fields"]] == ["issues_outlook", "outlook", "budget", "spending"]
    out = tmp_path / "site"
    write_site(publication, out)
    pages = {p: p.read_text(encoding="utf-8") for p in out.rglob("*.html")}
    ja = [t for p, t in pages.items() if "en" not in p.relative_to(out).parts and "8,000 千円" in t]
    en = [t for p, t in pages.items() if "en" in p.relative_to(out).parts and "B: will be achieved on plan" in t]
    assert len(ja) == 1 and "課題及び今後の見通し" in ja[0] and "予算額" in ja[0]
    assert len(en) == 1 and "Budget" in en[0]
    with (out / "results.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["code"] == "1-1-2"]
    assert rows and {r["details.budget"] for r in rows} == {"8000"} and rows[0]["details.outlook"] == "B"
    book = load_workbook(out / "results.xlsx")
    sheet = book["actions"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[header.index("code")] == "1-1-2")
    assert row[header.index("details.spending")] == 7250.5  # a number people can sum
    assert row[header.index("details.issues_outlook")] == DETAILS["details.issues_outlook"]


def test_a_strategy_that_asks_nothing_more_publishes_what_it_always_did(database_url: str) -> None:
    settings = settings_for(database_url)
    year = Year(database_url, settings=settings.model_copy(update={
        "strategy": settings.strategy.model_copy(update={"report_fields": []})}))
    try:
        with db.reading(year.engine) as conn:
            snap = results.snapshot(conn, strategy_code=year.pdca.strategy_code, fy=2026)
        assert "report_fields" not in snap and all("report_details" not in a for a in snap["actions"])
    finally:
        year.close()


def test_an_admin_sees_them_in_pdca_show(reported: Year) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from tests.conftest import CONFIG

    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": reported.pdca.settings.database.url}
    shown = CliRunner().invoke(cli, ["show", "1-1-2", "--fy", "2026", "--json", "--as", ADMIN], env=env)
    assert shown.exit_code == 0, shown.output
    assert '"report_details"' in shown.stdout and "8,000 千円" in shown.stdout
    said = CliRunner().invoke(cli, ["--lang", "ja", "show", "1-1-2", "--fy", "2026", "--as", ADMIN], env=env)
    assert said.exit_code == 0 and "予算額" in said.stdout and "8,000 千円" in said.stdout
    assert "report_details" not in said.stdout and "'key'" not in said.stdout
