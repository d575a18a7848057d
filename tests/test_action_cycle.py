"""The action cycle's contract, on SQLite and PostgreSQL alike.

The expected table below is the issue's table written out by hand, not read from
`workflows/action_cycle.py`, so a change to the spec that breaks the contract fails here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import db
from engine.errors import GuardRefused, InvalidFields, NotAllowedNow, NotFound, Stale, WrongRole
from tests.conftest import (
    ADMIN,
    CHAIR,
    MEMBER,
    NOW,
    OWNER,
    PROMOTION_CHAIR,
    PROMOTION_VICE,
    VICE_CHAIR,
    Year,
    settings_for,
)
from workflows.action_cycle import ACTION_CYCLE
from workflows.models import Action, Cycle, Indicator

JST = ZoneInfo("Asia/Tokyo")

EXPECTED: dict[tuple[str, str], str] = {
    ("submit_plan", "plan.drafting"): "plan.review",
    ("approve_plan", "plan.review"): "plan.approved",
    ("return_plan", "plan.review"): "plan.drafting",
    ("start", "plan.approved"): "do.implementing",
    ("open_check", "do.implementing"): "check.self_assessment",
    ("request_revision", "do.implementing"): "do.revision_review",
    ("post_progress", "do.implementing"): "do.implementing",
    ("approve_midyear_revision", "do.revision_review"): "do.implementing",
    ("return_midyear_revision", "do.revision_review"): "do.implementing",
    ("submit_report", "check.self_assessment"): "check.internal_review",
    ("flag_late", "check.self_assessment"): "check.self_assessment",  # the clock, on a report long late
    ("accept_report", "check.internal_review"): "check.council_evaluation",
    ("return_report", "check.internal_review"): "check.self_assessment",
    ("approve_evaluation", "check.council_evaluation"): "act.deciding",
    ("return_evaluation", "check.council_evaluation"): "check.internal_review",
    ("decide_continue", "act.deciding"): "closed",
    ("decide_complete", "act.deciding"): "closed",
    ("decide_discontinue", "act.deciding"): "closed",
    ("decide_revise", "act.deciding"): "act.revising",
    ("submit_revision", "act.revising"): "act.revision_review",
    ("approve_revision", "act.revision_review"): "closed",
    ("return_revision", "act.revision_review"): "act.revising",
}
WHO = {
    "submit_plan": OWNER, "submit_report": OWNER, "submit_revision": OWNER, "request_revision": OWNER,
    "post_progress": OWNER,
    "start": ADMIN, "open_check": ADMIN, "flag_late": ADMIN,
    "approve_evaluation": PROMOTION_CHAIR, "return_evaluation": PROMOTION_CHAIR,
}
REPORT = {
    "status": "implemented",
    "content": "間伐 4.2ha、下草刈り 6回",
    "indicators.S1": "45",  # on the line for FY2027: no adaptive-revision flag
    "indicators.S2.reason": "集計中のため",
    "self_grade": "B",
}
FIELDS: dict[str, dict[str, Any]] = {
    "submit_plan": {"plan": "里山林の間伐を行う"},
    "submit_report": REPORT,
    "approve_evaluation": {"grade": "B", "evaluation": "順調に進んでいる",
                           "proposals": ["参加者を記録する", "若い世代を誘う"]},
    "submit_revision": {"revised_plan": "間伐を行い、参加者を記録する"},
    "request_revision": {"revised_plan": "間伐に加えて竹林の整理を行う", "comment": "竹の侵入が広がったため"},
    "post_progress": {"indicators.S1": "41", "indicators.S2.reason": "集計中"},
    "decide_continue": {"flags_kept_because": "計画どおり続ける"},
    "decide_complete": {"flags_kept_because": "目標の考え方を見直したうえで完了する"},
}
NEEDS_COMMENT = {"return_plan", "return_report", "return_evaluation", "decide_discontinue", "decide_revise",
                 "return_revision", "return_midyear_revision"}

# FY2027, walked on a calendar: plans before the year, the check a year later.
PLANNING = datetime(2027, 2, 15, 10, tzinfo=JST)
YEAR_BEGINS = datetime(2027, 4, 1, 0, 0, tzinfo=JST)
CHECKING = datetime(2028, 5, 10, 10, tzinfo=JST)
CODE = "1-1-2"
FY = 2027

ROUTE = {  # the shortest legal way from plan.drafting to each state
    "plan.drafting": [],
    "plan.review": ["submit_plan"],
    "plan.approved": ["submit_plan", "approve_plan"],
    "do.implementing": ["submit_plan", "approve_plan", "start"],
    "do.revision_review": ["submit_plan", "approve_plan", "start", "request_revision"],
    "check.self_assessment": ["submit_plan", "approve_plan", "start", "open_check"],
    "check.internal_review": ["submit_plan", "approve_plan", "start", "open_check", "submit_report"],
    "check.council_evaluation": ["submit_plan", "approve_plan", "start", "open_check", "submit_report",
                                 "accept_report"],
    "act.deciding": ["submit_plan", "approve_plan", "start", "open_check", "submit_report", "accept_report",
                     "approve_evaluation"],
    "act.revising": ["submit_plan", "approve_plan", "start", "open_check", "submit_report", "accept_report",
                     "approve_evaluation", "decide_revise"],
    "act.revision_review": ["submit_plan", "approve_plan", "start", "open_check", "submit_report",
                            "accept_report", "approve_evaluation", "decide_revise", "submit_revision"],
    "closed": ["submit_plan", "approve_plan", "start", "open_check", "submit_report", "accept_report",
               "approve_evaluation", "decide_continue"],
}


def when(trigger: str) -> datetime:
    if trigger in ("submit_plan", "approve_plan", "return_plan"):
        return PLANNING
    if trigger == "start":
        return YEAR_BEGINS
    return CHECKING


def step(year: Year, trigger: str, code: str = CODE, fy: int = FY, **extra: Any) -> list[Any]:
    fields = dict(FIELDS.get(trigger, {}))
    if trigger in NEEDS_COMMENT:
        fields["comment"] = f"{trigger} のコメント"
    fields.update(extra)
    return year.fire(code, trigger, WHO.get(trigger, CHAIR), fy=fy, now=when(trigger), **fields)


def walk(year: Year, triggers: list[str], code: str = CODE, fy: int = FY) -> None:
    for trigger in triggers:
        step(year, trigger, code, fy)


@pytest.fixture
def y27(year: Year) -> Year:
    year.open(FY, now=PLANNING)
    return year


def test_the_spec_is_the_issues_table() -> None:
    declared = {(t.name, t.source): t.dest for t in ACTION_CYCLE.triggers}
    assert declared == EXPECTED


@pytest.mark.parametrize(("trigger", "source"), sorted(EXPECTED))
def test_every_trigger_moves_its_cycle_where_the_table_says(y27: Year, trigger: str, source: str) -> None:
    walk(y27, ROUTE[source])
    assert y27.state(CODE, FY) == source
    events = step(y27, trigger)
    assert (events[0].trigger, events[0].from_state, events[0].to_state) == (trigger, source, EXPECTED[trigger, source])
    story = y27.story(CODE, FY)
    assert story["state"] == EXPECTED[trigger, source]
    assert story["version"] == 1 + len(ROUTE[source]) + 1
    assert story["history"][-1]["trigger"] == trigger
    assert story["history"][-1]["actor"] == WHO.get(trigger, CHAIR)


@pytest.mark.parametrize("state", sorted(ROUTE))
def test_every_other_trigger_is_refused_naming_what_is_possible(y27: Year, state: str) -> None:
    walk(y27, ROUTE[state])
    possible = sorted(t for t, s in EXPECTED if s == state)
    for trigger in sorted({t for t, _ in EXPECTED} - set(possible)):
        with pytest.raises(NotAllowedNow) as refused:
            y27.fire(CODE, trigger, ADMIN, fy=FY, now=CHECKING)
        assert sorted(refused.value.allowed) == possible
        assert state in refused.value.message
    assert y27.state(CODE, FY) == state
    assert y27.story(CODE, FY)["version"] == 1 + len(ROUTE[state])


def test_a_whole_year_with_every_return_ends_closed_and_the_story_tells_it(y27: Year) -> None:
    walk(y27, ["submit_plan", "return_plan", "submit_plan", "approve_plan", "start", "open_check",
               "submit_report", "return_report", "submit_report", "accept_report", "return_evaluation",
               "accept_report", "approve_evaluation", "decide_continue"])
    story = y27.story(CODE, FY)
    assert story["state"] == "closed"
    assert story["record"]["decision"] == "continue"
    assert story["record"]["return_count"] == 3
    with db.reading(y27.engine) as conn:
        flags = conn.execute(select(Cycle.flags).where(Cycle.fy == FY, Cycle.id == y27.cycle_id(CODE, FY))).scalar()
    assert [(f["rule"], f["resolution"], f["resolution_reason"]) for f in flags] == [
        ("returned", "kept", "計画どおり続ける")]
    assert story["record"]["council_grade"] == "B"
    assert [p["text"] for p in story["proposals"]] == ["参加者を記録する", "若い世代を誘う"]
    s1, s2 = story["indicators"]
    assert (s1["value"], s1["reason"]) == (45, None)
    assert (s2["value"], s2["reason"]) == (None, "集計中のため")
    assert [h["trigger"] for h in story["history"]][:3] == ["open", "submit_plan", "return_plan"]
    assert story["history"][2]["comment"] == "return_plan のコメント"
    assert story["allowed"] == []


def test_a_return_shows_the_comment_until_the_owner_resubmits(y27: Year) -> None:
    walk(y27, ROUTE["check.internal_review"])
    y27.fire(CODE, "return_report", CHAIR, fy=FY, now=CHECKING, comment="S2 の値を入れてください")
    assert y27.story(CODE, FY)["record"]["returned_comment"] == "S2 の値を入れてください"
    step(y27, "submit_report")
    assert y27.story(CODE, FY)["record"]["returned_comment"] is None


def test_a_revision_becomes_the_plan_the_next_year_starts_from(y27: Year) -> None:
    walk(y27, ROUTE["act.revision_review"][:-1])
    step(y27, "submit_revision", revised_plan="最初の見直し案")
    step(y27, "return_revision")
    step(y27, "submit_revision", revised_plan="間伐と参加者の記録")
    step(y27, "approve_revision")
    assert y27.story(CODE, FY)["record"]["decision"] == "revise"
    y27.open(2028, now=CHECKING)
    assert y27.story(CODE, 2028)["record"]["plan"] == "間伐と参加者の記録"


def test_a_revision_that_changes_nothing_is_refused(y27: Year) -> None:
    walk(y27, ROUTE["act.revising"])
    with db.reading(y27.engine) as conn:
        plan = conn.execute(select(Action.plan).where(Action.code == CODE)).scalar_one()
    with pytest.raises(GuardRefused, match="same as the current plan"):
        step(y27, "submit_revision", revised_plan=plan)


@pytest.mark.parametrize(("decision", "status"), [("decide_complete", "completed"),
                                                  ("decide_discontinue", "discontinued")])
def test_complete_or_discontinue_ends_the_action(y27: Year, decision: str, status: str) -> None:
    walk(y27, ROUTE["act.deciding"])
    step(y27, decision)
    story = y27.story(CODE, FY)
    assert story["action_status"] == status
    assert y27.open(2028, now=CHECKING) == 11  # every other sample action, not this one
    with pytest.raises(NotFound, match="no cycle for FY2028"):
        y27.story(CODE, 2028)


def test_an_ended_action_takes_no_further_steps_in_an_overlapping_year(year: Year) -> None:
    year.open(FY, now=PLANNING)
    walk(year, ROUTE["act.deciding"], fy=FY)
    step(year, "decide_discontinue", fy=FY)
    year.open(2028, now=CHECKING)  # not opened for the ended action
    with pytest.raises(GuardRefused, match="discontinued"):
        year.fire(CODE, "submit_plan", OWNER, fy=2026, plan="x")


def test_discontinue_and_returns_need_a_comment(y27: Year) -> None:
    walk(y27, ROUTE["act.deciding"])
    with pytest.raises(InvalidFields) as refused:
        y27.fire(CODE, "decide_discontinue", CHAIR, fy=FY, now=CHECKING)
    assert refused.value.problems == (("comment", "missing"),)


def test_approving_the_plan_after_the_year_began_starts_it_at_once(year: Year) -> None:
    year.fire(CODE, "submit_plan", OWNER, plan="計画")
    events = year.fire(CODE, "approve_plan", CHAIR)
    assert [(e.trigger, e.actor) for e in events] == [("approve_plan", CHAIR), ("start", "system")]
    assert year.state(CODE) == "do.implementing"


def test_a_plan_approved_before_the_year_waits_for_it(y27: Year) -> None:
    walk(y27, ["submit_plan", "approve_plan"])
    assert y27.state(CODE, FY) == "plan.approved"
    with pytest.raises(GuardRefused, match="2027-04-01"):
        y27.fire(CODE, "start", ADMIN, fy=FY, now=YEAR_BEGINS - timedelta(minutes=1))
    events = y27.fire(CODE, "start", ADMIN, fy=FY, now=YEAR_BEGINS)
    assert (events[0].actor, events[0].on_behalf) == (ADMIN, "system")


def test_an_empty_plan_cannot_be_submitted(y27: Year) -> None:
    with db.writing(y27.engine) as conn:
        conn.execute(update(Cycle).where(Cycle.fy == FY).values(plan=""))
    with pytest.raises(GuardRefused, match="plan is empty"):
        y27.fire(CODE, "submit_plan", OWNER, fy=FY, now=PLANNING)


def test_an_indicator_added_after_the_report_blocks_acceptance(y27: Year) -> None:
    walk(y27, ROUTE["check.internal_review"])
    with db.writing(y27.engine) as conn:
        action_id = conn.execute(select(Action.id).where(Action.code == CODE)).scalar_one()
        conn.execute(Indicator.__table__.insert().values(  # type: ignore[attr-defined]
            action_id=action_id, code="S3", name_ja="ため池の数", unit="箇所", direction="up", target_value=3))
    with pytest.raises(GuardRefused, match="indicator S3 has no value"):
        step(y27, "accept_report")
    step(y27, "return_report")
    step(y27, "submit_report", **{"indicators.S3": "2"})
    step(y27, "accept_report")


def test_the_report_names_every_bad_field_at_once(y27: Year) -> None:
    walk(y27, ROUTE["check.self_assessment"])
    with pytest.raises(InvalidFields) as refused:
        y27.fire(CODE, "submit_report", OWNER, fy=FY, now=CHECKING, status="done",
                 **{"indicators.S1": "many", "indicators.S9": "1", "color": "red"})
    names = [name for name, _ in refused.value.problems]
    assert names == ["status", "content", "indicators.S1", "indicators.S9", "indicators.S2", "self_grade",
                     "color"]
    assert y27.state(CODE, FY) == "check.self_assessment"


def test_a_value_and_a_reason_for_one_indicator_is_refused(y27: Year) -> None:
    walk(y27, ROUTE["check.self_assessment"])
    with pytest.raises(InvalidFields, match="not both"):
        step(y27, "submit_report", **{"indicators.S2": "500"})


def test_a_grade_outside_the_strategys_scale_is_refused(y27: Year) -> None:
    walk(y27, ROUTE["check.council_evaluation"])
    with pytest.raises(InvalidFields, match="'E' is not one of A, B, C, D, -"):
        step(y27, "approve_evaluation", grade="E")


def test_the_wrong_person_is_told_who_may(y27: Year) -> None:
    walk(y27, ROUTE["check.internal_review"])
    for who in (OWNER, MEMBER, VICE_CHAIR, PROMOTION_CHAIR, ADMIN):
        with pytest.raises(WrongRole) as refused:
            y27.fire(CODE, "accept_report", who, fy=FY, now=CHECKING)
        assert refused.value.holders == (CHAIR,)
    with pytest.raises(WrongRole, match="nourin"):
        y27.fire("1-1-1", "submit_plan", OWNER, fy=FY, now=PLANNING, plan="他課の計画")


def test_the_vice_chair_acts_while_the_chair_is_away(y27: Year) -> None:
    walk(y27, ROUTE["check.internal_review"])
    y27.set_absent(CHAIR)
    y27.fire(CODE, "accept_report", VICE_CHAIR, fy=FY, now=CHECKING)
    y27.set_absent(PROMOTION_CHAIR)
    y27.fire(CODE, "approve_evaluation", PROMOTION_VICE, fy=FY, now=CHECKING, **FIELDS["approve_evaluation"])
    y27.set_absent(CHAIR, absent=False)
    with pytest.raises(WrongRole):
        y27.fire(CODE, "decide_continue", VICE_CHAIR, fy=FY, now=CHECKING)
    assert y27.story(CODE, FY)["allowed"][0]["by"] == [CHAIR]


def test_system_triggers_are_the_clocks_or_an_admins_by_hand(y27: Year) -> None:
    walk(y27, ROUTE["do.implementing"])
    with pytest.raises(WrongRole, match="calendar"):
        y27.fire(CODE, "open_check", OWNER, fy=FY, now=CHECKING)
    events = y27.fire(CODE, "open_check", ADMIN, fy=FY, now=CHECKING)
    assert (events[0].actor, events[0].on_behalf) == (ADMIN, "system")
    assert y27.story(CODE, FY)["history"][-1]["on_behalf"] == "system"


def test_allowed_lists_who_and_what_each_next_step_takes(y27: Year) -> None:
    walk(y27, ROUTE["check.self_assessment"])
    (allowed,) = [a for a in y27.story(CODE, FY)["allowed"] if a["trigger"] != "flag_late"]  # the clock's own
    assert (allowed["trigger"], allowed["by"]) == ("submit_report", [OWNER])
    fields = {f["name"]: f for f in allowed["fields"]}
    assert fields["indicators"]["items"] == ["S1", "S2"]
    assert fields["self_grade"]["choices"] == ["A", "B", "C", "D", "-"]
    assert fields["status"]["required"] is True


def test_a_stale_version_is_refused_and_nothing_changes(y27: Year) -> None:
    events = y27.fire(CODE, "submit_plan", OWNER, fy=FY, now=PLANNING, version=1, plan="計画")
    assert events[0].version == 2
    with pytest.raises(Stale, match="reload"):
        y27.fire(CODE, "approve_plan", CHAIR, fy=FY, now=PLANNING, version=1)
    story = y27.story(CODE, FY)
    assert (story["state"], story["version"], len(story["history"])) == ("plan.review", 2, 2)


def test_an_orm_write_of_an_outdated_cycle_is_refused_too(y27: Year) -> None:
    """As a web form does: read in one request, write in a later one."""
    with Session(y27.engine, expire_on_commit=False) as first, Session(y27.engine) as second:
        mine = first.get_one(Cycle, y27.cycle_id(CODE, FY))
        first.commit()
        theirs = second.get_one(Cycle, y27.cycle_id(CODE, FY))
        theirs.plan = "theirs"
        second.commit()
        mine.plan = "mine"
        with pytest.raises(StaleDataError):
            first.commit()


def test_a_failure_after_the_state_moved_leaves_nothing_behind(y27: Year, monkeypatch: pytest.MonkeyPatch) -> None:
    walk(y27, ROUTE["check.self_assessment"])
    store = y27.pdca.workflow.store

    def broken(*args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_apply_measurements", broken)
    with pytest.raises(RuntimeError):
        step(y27, "submit_report")
    story = y27.story(CODE, FY)
    assert story["state"] == "check.self_assessment"
    assert story["version"] == 1 + len(ROUTE["check.self_assessment"])
    assert story["history"][-1]["trigger"] == "open_check"


def test_the_state_survives_a_restart(y27: Year) -> None:
    walk(y27, ROUTE["act.deciding"])
    before = y27.story(CODE, FY)
    url = y27.pdca.settings.database.url
    y27.close()
    from app.bootstrap import Pdca

    again = Pdca(settings_for(url))
    try:
        with db.reading(again.engine) as conn:
            from workflows import service

            strategy = service.strategy_id(conn, again.strategy_code)
            cycle = again.registry.primary.store.find(conn, tenant=strategy, key=CODE, fy=FY)
            after = service.story(conn, again.registry.primary, cycle)
        assert after == before
        assert after["allowed"][0]["trigger"] == "decide_continue"
    finally:
        again.close()


def test_timestamps_come_back_as_the_moment_they_were(y27: Year) -> None:
    walk(y27, ROUTE["plan.review"])
    at = y27.story(CODE, FY)["history"][-1]["at"]
    assert datetime.fromisoformat(at) == PLANNING
    assert NOW.tzinfo is not None


def test_numbers_are_read_strictly(y27: Year) -> None:
    walk(y27, ROUTE["check.self_assessment"])
    for bad in ("1,5", "1_000", "nan", "1,2,3"):
        with pytest.raises(InvalidFields, match="is not a number"):
            step(y27, "submit_report", **{"indicators.S1": bad})
    step(y27, "submit_report", **{"indicators.S1": "1,234.5"})
    assert y27.story(CODE, FY)["indicators"][0]["value"] == 1234.5


def test_a_later_decision_in_an_overlapping_year_does_not_rewrite_how_the_action_ended(year: Year) -> None:
    year.open(FY, now=PLANNING)
    walk(year, [t for t in ROUTE["act.deciding"] if t != "start"], fy=2026)  # FY2026 began: starts at once
    walk(year, ROUTE["act.deciding"], fy=FY)
    step(year, "decide_discontinue", fy=FY)
    step(year, "decide_complete", fy=2026)  # closes FY2026's books
    with db.reading(year.engine) as conn:
        ended = conn.execute(select(Action.status, Action.ended_fy).where(Action.code == CODE)).one()
    assert tuple(ended) == ("discontinued", FY)
    assert year.story(CODE, 2026)["record"]["decision"] == "complete"


def test_the_flat_machine_decides_as_the_hierarchical_one_would(y27: Year) -> None:
    """The runtime fires on a flat machine for speed; a nested one must agree on every step."""
    from engine.machine import SpecMachine

    nested = SpecMachine(ACTION_CYCLE, hierarchical=True)
    flat = y27.pdca.workflow.machine
    y27.pdca.workflow.machine = nested
    try:
        walk(y27, ROUTE["act.revision_review"])
        step(y27, "approve_revision")
    finally:
        y27.pdca.workflow.machine = flat
    assert y27.state(CODE, FY) == "closed"
    assert nested._machine.get_state("check.self_assessment").name == "self_assessment"


def test_an_off_plan_action_is_flagged_in_words_and_each_flag_must_be_answered(y27: Year) -> None:
    walk(y27, ROUTE["check.self_assessment"])
    step(y27, "submit_report", **{"indicators.S1": "36"})  # expected 45 for FY2027: a tenth of the way
    step(y27, "accept_report")
    step(y27, "approve_evaluation", grade="D")
    flags = y27.story(CODE, FY)["flags"]
    assert [(f["rule"], f["reason_en"]) for f in flags] == [
        ("indicator:S1", "indicator 'Area of managed satoyama woodland' is at 36 ha against 45 ha expected "
                         "for FY2027 (令和9年度) (10% of the change expected from the baseline)"),
        ("grade", "the promotion council graded it D"),
    ]
    assert flags[0]["reason_ja"] == ("指標「保全管理した里山林の面積」のFY2027 (令和9年度)の値は36 haで、"
                                     "見込み値45 haに届いていません（基準値から見込み値までの伸びの10%）")
    with pytest.raises(GuardRefused, match="flags_kept_because"):
        y27.fire(CODE, "decide_continue", CHAIR, fy=FY, now=CHECKING)
    y27.fire(CODE, "decide_continue", CHAIR, fy=FY, now=CHECKING,
             flags_kept_because="用地の確保が済み、来年度に回復する", answers=["参加者名簿を作る", "高校と連携する"])
    story = y27.story(CODE, FY)
    assert {(f["resolution"], f["resolution_reason"]) for f in story["flags"]} == {
        ("kept", "用地の確保が済み、来年度に回復する")}
    assert [p["answer"] for p in story["proposals"]] == ["参加者名簿を作る", "高校と連携する"]
    y27.open(2028, now=CHECKING)
    assert [(p["text"], p["answer"]) for p in y27.story(CODE, 2028)["previous_proposals"]] == [
        ("参加者を記録する", "参加者名簿を作る"), ("若い世代を誘う", "高校と連携する")]


def test_a_revision_answers_the_flags(y27: Year) -> None:
    walk(y27, ROUTE["check.self_assessment"])
    step(y27, "submit_report", **{"indicators.S1": "36"})
    walk(y27, ["accept_report", "approve_evaluation", "decide_revise"])
    assert {f["resolution"] for f in y27.story(CODE, FY)["flags"]} == {"revised"}


def test_a_flag_last_year_flags_this_year_too(year: Year) -> None:
    year.open(FY, now=PLANNING)
    with db.writing(year.engine) as conn:
        conn.execute(update(Cycle).where(Cycle.id == year.cycle_id(CODE, 2026)).values(
            flags=[{"rule": "grade", "reason_ja": "評価D", "reason_en": "graded D", "resolution": "kept",
                    "resolution_reason": "理由"}]))
    walk(year, ROUTE["check.internal_review"])
    step(year, "accept_report")
    assert [f["reason_en"] for f in year.story(CODE, FY)["flags"]] == ["also flagged in FY2026 (令和8年度)"]


def test_answers_name_their_proposal_and_must_fit(y27: Year) -> None:
    walk(y27, ROUTE["act.deciding"])  # two proposals
    with pytest.raises(GuardRefused, match="no proposal 3"):
        y27.fire(CODE, "decide_continue", CHAIR, fy=FY, now=CHECKING, answers=["3: 余分な回答"])
    y27.fire(CODE, "decide_continue", CHAIR, fy=FY, now=CHECKING, answers=["2: 高校と連携する"])
    assert [p["answer"] for p in y27.story(CODE, FY)["proposals"]] == [None, "高校と連携する"]
