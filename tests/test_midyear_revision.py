"""Revision at any time (順応的な見直し "as needed"): during the year an owner or the internal
council asks to revise an action's plan with the reason; the internal council's chair
approves (the plan becomes the year's and the action's, audited, a later import keeps it)
or returns it; either way the year's cycle goes on to its check."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import db
from engine.errors import GuardRefused, WrongRole
from tests.conftest import CHAIR, OWNER, Year
from tests.test_action_cycle import CODE, FY, PLANNING, ROUTE, step, walk
from workflows.models import Action


def plan_of(year: Year) -> str:
    with db.reading(year.engine) as conn:
        return str(conn.execute(select(Action.plan).where(Action.strategy_id == year.strategy,
                                                          Action.code == CODE)).scalar())


def test_a_mid_year_revision_approved_becomes_the_plan_and_the_year_goes_on(year: Year) -> None:
    year.open(FY, now=PLANNING)
    walk(year, ROUTE["do.implementing"])
    step(year, "request_revision")
    assert year.state(CODE, FY) == "do.revision_review"
    with pytest.raises(WrongRole):
        year.fire(CODE, "approve_midyear_revision", OWNER, fy=FY, now=PLANNING)
    step(year, "approve_midyear_revision")
    assert year.state(CODE, FY) == "do.implementing"
    assert plan_of(year) == "間伐に加えて竹林の整理を行う"
    story = year.story(CODE, FY)
    assert story["record"]["plan"] == "間伐に加えて竹林の整理を行う"
    assert [h["trigger"] for h in story["history"]][-2:] == ["request_revision", "approve_midyear_revision"]
    step(year, "open_check")  # the year goes on to its check
    assert year.state(CODE, FY) == "check.self_assessment"


def test_a_mid_year_revision_returned_leaves_the_plan_and_the_same_plan_is_refused(year: Year) -> None:
    year.open(FY, now=PLANNING)
    walk(year, ROUTE["do.implementing"])
    before = plan_of(year)
    with pytest.raises(GuardRefused, match="same as the current plan"):
        step(year, "request_revision", revised_plan=before)
    year.fire(CODE, "request_revision", CHAIR, fy=FY, now=PLANNING, revised_plan="会議からの見直し案",
              comment="外来種対策を優先する")  # the internal council may open one too
    step(year, "return_midyear_revision")
    assert year.state(CODE, FY) == "do.implementing" and plan_of(year) == before
    assert year.story(CODE, FY)["record"]["returned_comment"] == "return_midyear_revision のコメント"


def test_interim_progress_behind_the_line_flags_the_action_months_before_the_check(year: Year) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    year.open(FY, now=PLANNING)
    walk(year, ROUTE["do.implementing"])
    october = datetime(2027, 10, 1, 10, tzinfo=ZoneInfo("Asia/Tokyo"))  # half of FY2027 gone
    # S1: baseline 35 (2025), target 60 (2030): the line expects 40 for FY2026 and 45 for FY2027,
    # so 42.5 by 1 October 2027; 37 is (37 - 35) / (42.5 - 35) = 27 % of the change, behind by more than 25 %
    year.fire(CODE, "post_progress", OWNER, fy=FY, now=october, **{"indicators.S1": "37",
                                                                   "indicators.S2.reason": "集計中"})
    story = year.story(CODE, FY)
    assert story["state"] == "do.implementing"
    flags = [f for f in story["flags"] if f["rule"] == "interim:S1"]
    assert flags and "2027-10-01時点の値は37 ha" in flags[0]["reason_ja"] and "見込み値42.5 ha" in flags[0]["reason_ja"]
    with db.reading(year.engine) as conn:
        from workflows.models import Cycle

        interim = conn.execute(select(Cycle.interim).where(Cycle.id == year.cycle_id(CODE, FY))).scalar()
    assert interim[0]["day"] == "2027-10-01" and interim[0]["values"]["S1"]["value"] == 37.0
    # on the line, no new flag
    year.fire(CODE, "post_progress", OWNER, fy=FY, now=october, **{"indicators.S1": "43",
                                                                   "indicators.S2.reason": "集計中"})
    assert len([f for f in year.story(CODE, FY)["flags"] if f["rule"].startswith("interim")]) == 1


def test_the_action_page_shows_the_interim_values_posted(year: Year) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from fastapi.testclient import TestClient

    from app.web.main import create_app
    from tests.test_web import sign_in

    year.open(FY, now=PLANNING)
    walk(year, ROUTE["do.implementing"])
    october = datetime(2027, 10, 1, 10, tzinfo=ZoneInfo("Asia/Tokyo"))
    year.fire(CODE, "post_progress", OWNER, fy=FY, now=october, comment="上半期の集計",
              **{"indicators.S1": "37", "indicators.S2.reason": "集計中"})
    with TestClient(create_app(year.pdca, clock=lambda: october), follow_redirects=False) as web:
        sign_in(web, year, OWNER)
        page = web.get(f"/actions/{CODE}/{FY}")
    assert page.status_code == 200
    table = page.text[page.text.index("年度途中の経過"):]
    table = table[:table.index("</table>")]
    assert "2027-10-01" in table and "37 ha" in table and "集計中" in table and "上半期の集計" in table
