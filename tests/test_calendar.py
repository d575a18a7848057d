"""The annual calendar: business days, overrides, validation, and what `pdca calendar`
shows and exports."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from icalendar import Calendar as ICalendar
from pydantic import ValidationError
from typer.testing import CliRunner

from app.cli import cli
from engine.calendar import reminder_step, repeating_step, to_business_day
from tests.conftest import CONFIG, SAMPLE
from workflows.calendar import Calendar, CalendarIn


def calendar(**settings: object) -> Calendar:
    return Calendar(CalendarIn.model_validate(settings))


def test_golden_week_moves_a_due_date_to_the_friday_before() -> None:
    cal = calendar(milestones={"report_due": "05-05"})
    due = cal.milestone(2026, "report_due")
    assert due.day == date(2027, 4, 30)
    assert due.when.reasons == ("2027-05-05 こどもの日", "2027-05-04 みどりの日", "2027-05-03 憲法記念日",
                                "2027-05-02 Sunday", "2027-05-01 Saturday")


def test_or_after_it_when_configured() -> None:
    cal = calendar(shift="next", milestones={"report_due": "05-03"})
    assert cal.due(2026, "report_due") == date(2027, 5, 6)


def test_the_year_end_closure_and_extra_closed_days() -> None:
    with pytest.raises(ValidationError, match=re.escape("2026-12-28 is not in 2027")):  # moved back into December
        calendar(milestones={"plan_window_opens": "01-02"})
    cal = calendar(milestones={"plan_window_opens": "01-02"}, shift="next", closed_dates=["2027-01-04"])
    opens = cal.milestone(2026, "plan_window_opens")
    assert opens.day == date(2027, 1, 5)
    assert opens.when.reasons[-1] == "2027-01-04 閉庁日 (closed)"
    assert calendar(year_end_closure=False).closed(date(2026, 12, 29)) is None


def test_an_override_replaces_the_rule_for_that_year_only() -> None:
    cal = calendar(overrides={2026: {"promotion_council_meeting": "2027-07-30"}})
    assert cal.milestone(2026, "promotion_council_meeting").override
    assert cal.due(2026, "promotion_council_meeting") == date(2027, 7, 30)
    assert cal.due(2027, "promotion_council_meeting") == date(2028, 7, 24)


@pytest.mark.parametrize(("settings", "message"), [
    ({"milestones": {"report_due": "04-05"}}, "report_due (2027-04-05) must come after check_opens"),
    ({"milestones": {"report_due": "5/29"}}, "write MM-DD"),
    ({"milestones": {"report_due": "02-30"}}, "not a day of the year"),
    ({"overrides": {2026: {"internal_council_meeting": "2026-06-18"}}}, "is not in 2027"),
    ({"overrides": {2026: {"council_meeting": "2027-06-18"}}}, "overrides.2026.council_meeting: no such milestone"),
    ({"overrides": {2026: {"decisions_due": "2027-07-01"}}}, "decisions_due (2027-07-01) must come after"),
    ({"reminder_days": [7, 7]}, "distinct whole numbers"),
    ({"fiscal_year_start": "04-31"}, "not a day of the year"),
])
def test_bad_calendars_say_what_is_wrong(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        CalendarIn.model_validate(settings)


def test_reminder_steps_name_the_one_that_fits_today() -> None:
    due = date(2027, 5, 28)
    steps = {d: reminder_step(date(2027, 5, d), due, before=[14, 7, 1], every=7) for d in range(10, 31)}
    assert steps[13] is None and steps[14] == "-14" and steps[20] == "-14" and steps[21] == "-7"
    assert steps[27] == "-1" and steps[28] is None and steps[30] is None
    assert reminder_step(date(2027, 6, 4), due, before=[14], every=7) == "+7"
    assert reminder_step(date(2027, 6, 12), due, before=[14], every=7) == "+14"
    assert reminder_step(date(2027, 6, 12), due, before=[14], every=7, until=date(2027, 6, 1)) is None
    assert repeating_step(date(2027, 6, 17), date(2027, 6, 11), 7) == "+0"
    assert repeating_step(date(2027, 6, 18), date(2027, 6, 11), 7) == "+7"
    assert to_business_day(date(2027, 5, 28), lambda d: None).moved is False


def run(*args: str, tmp_path: Path) -> str:
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": f"sqlite:///{tmp_path}/pdca.sqlite3"}
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_pdca_calendar_lists_the_resolved_year_with_reasons(tmp_path: Path) -> None:
    rows = json.loads(run("calendar", "--fy", "2026", "--json", tmp_path=tmp_path))
    by_name = {r["name"]: r for r in rows}
    assert [r["name"] for r in rows] == ["plan_window_opens", "plan_due", "year_start", "check_opens", "report_due",
                                         "internal_council_meeting", "promotion_council_meeting", "decisions_due",
                                         "publication"]
    assert by_name["report_due"] | {"what_ja": "", "what_en": "", "concerns": []} == {
        "name": "report_due", "fy": 2026, "date": "2027-05-28", "rule_date": "2027-05-29", "shifted": True,
        "reasons": ["2027-05-29 Saturday"], "override": False, "what_ja": "", "what_en": "", "concerns": []}
    assert by_name["promotion_council_meeting"]["override"] is True  # the sample config's override
    assert "FY2026 (令和8年度)" in by_name["report_due"]["what_ja"]
    assert "FY2027 (令和9年度) begins" in by_name["year_start"]["what_en"]


def test_the_ics_file_parses_back_with_what_concerns_each_person(tmp_path: Path) -> None:
    run("init", tmp_path=tmp_path)
    run("import", str(SAMPLE), tmp_path=tmp_path)
    every = ICalendar.from_ical(run("calendar", "--fy", "2026", "--ics", tmp_path=tmp_path))
    assert len(every.walk("VEVENT")) == 9
    owner = ICalendar.from_ical(run("calendar", "--fy", "2026", "--ics", "--person", "nourin@city.example.jp",
                                    tmp_path=tmp_path))
    events = {str(e["categories"].cats[0]): e for e in owner.walk("VEVENT")}
    assert "report_due" in events and "promotion_council_meeting" not in events
    due = events["report_due"]
    assert due.decoded("dtstart") == date(2027, 5, 28)
    assert sorted(str(a["trigger"].dt) for a in due.walk("VALARM")) == ["-1 day, 0:00:00", "-7 days, 0:00:00"]
    assert "実施状況報告の提出期限" in str(due["summary"])
    english = ICalendar.from_ical(run("calendar", "--fy", "2026", "--ics", "--person", "zoo@city.example.jp",
                                      tmp_path=tmp_path))
    assert any("reports are due" in str(e["summary"]) for e in english.walk("VEVENT"))
    member = ICalendar.from_ical(run("calendar", "--fy", "2026", "--ics", "--person", "npo.tombo@example.org",
                                     tmp_path=tmp_path))
    assert {str(e["categories"].cats[0]) for e in member.walk("VEVENT")} == {"promotion_council_meeting",
                                                                             "publication"}


def test_each_waiting_state_knows_its_deadline() -> None:
    from workflows.action_cycle.store import deadline

    cal = Calendar()
    assert deadline(cal, 2026, "check.self_assessment", date(2027, 5, 21)) == {
        "name": "report_due", "date": "2027-05-28", "days_left": 7}
    assert deadline(cal, 2027, "plan.drafting")["date"] == "2027-02-26"  # FY2027's plan, in FY2026's calendar
    assert deadline(cal, 2026, "act.deciding", date(2027, 9, 3))["days_left"] == -3
    assert deadline(cal, 2026, "do.implementing") is None


def test_rules_are_checked_for_every_year_not_just_one() -> None:
    with pytest.raises(ValidationError, match=re.escape("must come after report_due")):
        CalendarIn.model_validate({"milestones": {"report_due": "06-16", "internal_council_meeting": "06-17"}})
    with pytest.raises(ValidationError, match="is not in"):
        CalendarIn.model_validate({"milestones": {"plan_window_opens": "01-04"}})


def test_pdca_calendar_shows_the_year_as_stored(tmp_path: Path) -> None:
    """After `pdca init` the database's calendar counts: an admin's change shows."""
    from datetime import date

    from app.bootstrap import Pdca
    from engine import db
    from tests.conftest import settings_for
    from workflows.calendar_store import StoredYear, store_year

    run("init", tmp_path=tmp_path)
    pdca = Pdca(settings_for(f"sqlite:///{tmp_path}/pdca.sqlite3"))
    strategy = pdca.sync()
    with db.writing(pdca.engine) as conn:
        store_year(conn, strategy, StoredYear(2026, {"report_due": date(2027, 6, 1)}, ()))
    pdca.close()
    rows = {r["name"]: r for r in json.loads(run("calendar", "--fy", "2026", "--json", tmp_path=tmp_path))}
    assert rows["report_due"]["date"] == "2027-06-01" and rows["report_due"]["override"] is True
    assert rows["promotion_council_meeting"]["date"] == "2027-07-23"  # the config's override replaced
