"""The clock, told as a year: what `tick(now)` does on each milestone, exactly once.

The sample city: 12 actions (1 with two owners, so 13 owner-cycle pairs), an internal
council of 5, a promotion council of 4, a secretariat of 2. FY2026's calendar (in 2027):
plan window 01-15, plans due 02-26, FY2027 begins 04-01, check opens 04-09, reports due
05-28, internal council 06-18, promotion council 07-30 (an override), decisions due 08-31.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.simulate import simulate
from engine import db
from engine.outbox import OutboxItem, OutboxMessage
from tests.conftest import ADMIN, CHAIR, OWNER, VICE_CHAIR, Year
from workflows.models import Cycle
from workflows.tick import TickReport, tick

JST = ZoneInfo("Asia/Tokyo")
OWNER_PAIRS = 13
SECRETARIAT = {ADMIN, "jimukyoku@city.example.jp"}


def at(day: str | date, hour: int = 6) -> datetime:
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(d, time(hour), JST)


def tick_at(year: Year, day: str | date, hour: int = 6) -> TickReport:
    with db.writing(year.engine) as conn:
        return tick(conn, year.pdca.registry, year.pdca.tenants, strategy=year.strategy, now=at(day, hour))


def tick_daily(year: Year, first: str, last: str) -> Counter[str]:
    total: Counter[str] = Counter()
    day = date.fromisoformat(first)
    while day <= date.fromisoformat(last):
        report = tick_at(year, day)
        total.update(report.messages)
        total.update({f"fired:{k}": v for k, v in report.transitions.items()})
        day += timedelta(days=1)
    return +total


def messages(year: Year, kind: str | None = None) -> list[Any]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)  # type: ignore[arg-type]
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    with Session(year.engine) as session:
        return list(session.scalars(query))


def steps(year: Year, kind: str) -> Counter[str]:
    return Counter(m.step for m in messages(year, kind))


def listed(year: Year, message_id: int) -> list[int]:
    with db.reading(year.engine) as conn:
        return sorted(conn.execute(select(OutboxItem.instance_id).where(OutboxItem.outbox_id == message_id)).scalars())


def states(year: Year, fy: int) -> Counter[str]:
    with db.reading(year.engine) as conn:
        return Counter(conn.execute(select(Cycle.state).where(Cycle.fy == fy)).scalars())


def start_fy2026(year: Year) -> None:
    """Every FY2026 plan submitted and approved in November 2026: all implementing."""
    for row in year.actions():
        year.fire(row["code"], "submit_plan", row["owners"][0])
        year.fire(row["code"], "approve_plan", CHAIR)
    assert states(year, 2026) == {"do.implementing": 12}


REPORT = {"status": "implemented", "content": "実施した", "self_grade": "B"}


def report(year: Year, code: str, day: str) -> None:
    story = year.story(code, 2026)
    values = {f"indicators.{i['code']}": "1" for i in story["indicators"]}
    year.fire(code, "submit_report", story["owners"][0], fy=2026, now=at(day, 10), **REPORT, **values)


def test_the_plan_window_opens_next_years_cycles_and_asks_each_owner_once(year: Year) -> None:
    assert tick_at(year, "2027-01-14").transitions["open"] == 0
    first = tick_at(year, "2027-01-15")
    assert (first.transitions["open"], first.messages["plan_requested"]) == (12, OWNER_PAIRS)
    again = [tick_at(year, "2027-01-15"), tick_at(year, "2027-01-15", 18), tick_at(year, "2027-01-16")]
    assert [sum(r.messages.values()) + sum(r.transitions.values()) for r in again] == [0, 0, 0]
    assert states(year, 2027) == {"plan.drafting": 12}
    assert year.story("1-1-2", 2027)["record"]["plan"] == "市民と協働して里山林の間伐・下草刈りを行う"
    assert year.story("1-1-2", 2027)["history"][0]["actor"] == "system"


def test_owners_are_reminded_before_plans_are_due_and_after(year: Year) -> None:
    tick_daily(year, "2027-01-15", "2027-02-14")
    year.fire("1-1-2", "submit_plan", OWNER, fy=2027, now=at("2027-02-15", 10))
    tick_daily(year, "2027-02-15", "2027-03-10")
    assert steps(year, "plan_reminder") == {"-14": OWNER_PAIRS, "-7": OWNER_PAIRS - 1, "-1": OWNER_PAIRS - 1}
    assert steps(year, "plan_overdue") == {"+7": OWNER_PAIRS - 1}
    assert {m.due for m in messages(year, "plan_reminder")} == {date(2027, 2, 26)}
    assert year.cycle_id("1-1-2", 2027) not in {m.instance_id for m in messages(year, "plan_overdue")}


def test_the_year_start_starts_approved_plans_and_escalates_the_rest(year: Year) -> None:
    tick_at(year, "2027-01-15")
    year.fire("1-1-2", "submit_plan", OWNER, fy=2027, now=at("2027-02-15", 10))
    events = year.fire("1-1-2", "approve_plan", CHAIR, fy=2027, now=at("2027-02-16", 10))
    assert [e.trigger for e in events] == ["approve_plan"]  # FY2027 has not begun: it waits
    assert tick_at(year, "2027-03-31").transitions["start"] == 0
    report_ = tick_at(year, "2027-04-01")
    assert report_.transitions["start"] == 1
    assert year.story("1-1-2", 2027)["history"][-1] | {"at": ""} == {
        "at": "", "actor": "system", "on_behalf": None, "trigger": "start", "from": "plan.approved",
        "to": "do.implementing", "version": 4, "comment": None, "fields": {}}
    escalations = messages(year, "plan_escalation")
    assert {m.recipient for m in escalations} == SECRETARIAT | {CHAIR}
    assert all(len(listed(year, m.id)) == 11 for m in escalations)
    assert tick_at(year, "2027-04-05").messages["plan_escalation"] == 0
    assert tick_at(year, "2027-04-08").messages["plan_escalation"] == 3  # a week later, still late


def test_the_check_opens_and_owners_are_asked_for_reports(year: Year) -> None:
    start_fy2026(year)
    assert tick_at(year, "2027-04-08").transitions["open_check"] == 0
    opened = tick_at(year, "2027-04-09")
    assert (opened.transitions["open_check"], opened.messages["report_requested"]) == (12, OWNER_PAIRS)
    assert states(year, 2026) == {"check.self_assessment": 12}
    assert year.story("1-1-2", 2026)["history"][-1]["actor"] == "system"


def test_late_reports_are_chased_then_escalated_in_one_message_per_person(year: Year) -> None:
    start_fy2026(year)
    tick_daily(year, "2027-04-09", "2027-05-19")
    report(year, "1-1-2", "2027-05-20")
    tick_daily(year, "2027-05-20", "2027-06-20")
    late = OWNER_PAIRS - 1
    assert steps(year, "report_reminder") == {"-14": OWNER_PAIRS, "-7": late, "-1": late}
    assert steps(year, "report_overdue") == {"+7": late, "+14": late, "+21": late}
    escalations = messages(year, "report_escalation")
    assert Counter((m.step, m.recipient) for m in escalations) == {
        (step, who): 1 for step in ("+0", "+7") for who in SECRETARIAT | {CHAIR}}
    assert {m.due for m in escalations} == {date(2027, 5, 28)}
    assert all(len(listed(year, m.id)) == 11 for m in escalations)
    assert year.cycle_id("1-1-2", 2026) not in listed(year, escalations[0].id)


def test_while_the_chair_is_away_the_vice_chair_is_told(year: Year) -> None:
    start_fy2026(year)
    year.set_absent(CHAIR)
    tick_daily(year, "2027-04-09", "2027-06-11")
    assert {m.recipient for m in messages(year, "report_escalation")} == SECRETARIAT | {VICE_CHAIR}


def test_each_council_gets_its_packet_on_its_meeting_day(year: Year) -> None:
    start_fy2026(year)
    tick_daily(year, "2027-04-09", "2027-05-27")
    for code in ("1-1-1", "1-1-2"):
        report(year, code, "2027-05-27")
    assert tick_at(year, "2027-06-17").messages["internal_packet"] == 0
    packets = tick_at(year, "2027-06-18").messages["internal_packet"]
    assert packets == 5
    both = sorted(year.cycle_id(c, 2026) for c in ("1-1-1", "1-1-2"))
    assert all(listed(year, m.id) == both for m in messages(year, "internal_packet"))
    year.fire("1-1-2", "accept_report", CHAIR, fy=2026, now=at("2027-06-18", 15))
    assert tick_at(year, "2027-07-23").messages["promotion_packet"] == 0  # the rule date; overridden
    assert tick_at(year, "2027-07-30").messages["promotion_packet"] == 4
    assert [listed(year, m.id) for m in messages(year, "promotion_packet")] == [[both[1]]] * 4
    assert tick_at(year, "2027-07-31").messages["promotion_packet"] == 0


def test_no_packet_when_nothing_waits(year: Year) -> None:
    start_fy2026(year)
    assert sum(tick_daily(year, "2027-06-18", "2027-08-01").values()) > 0
    assert messages(year, "internal_packet") == messages(year, "promotion_packet") == []


def test_the_chair_is_reminded_of_decisions_due(year: Year) -> None:
    start_fy2026(year)
    tick_at(year, "2027-04-09")
    report(year, "1-1-2", "2027-05-20")
    year.fire("1-1-2", "accept_report", CHAIR, fy=2026, now=at("2027-06-18", 15))
    year.fire("1-1-2", "approve_evaluation", "prof.mori@univ.example.ac.jp", fy=2026, now=at("2027-07-30", 15),
              grade="B", evaluation="順調")
    tick_daily(year, "2027-08-01", "2027-09-08")
    reminders = messages(year, "decision_reminder")
    assert [(m.recipient, m.step) for m in reminders] == [(CHAIR, "-14"), (CHAIR, "-7"), (CHAIR, "-1")]
    assert [(m.recipient, m.step) for m in messages(year, "decision_overdue")] == [(CHAIR, "+7")]
    assert listed(year, reminders[0].id) == [year.cycle_id("1-1-2", 2026)]


def test_after_a_week_down_each_series_sends_what_fits_today(year: Year) -> None:
    start_fy2026(year)
    tick_daily(year, "2027-04-01", "2027-04-04")
    caught_up = tick_at(year, "2027-04-12")  # down over the check's opening
    assert (caught_up.transitions["open_check"], caught_up.messages["report_requested"]) == (12, OWNER_PAIRS)
    tick_daily(year, "2027-04-13", "2027-05-18")
    tick_at(year, "2027-05-27")  # down 05-19 .. 05-26: the 7-day reminder was missed
    assert steps(year, "report_reminder") == {"-14": OWNER_PAIRS, "-1": OWNER_PAIRS}


def test_ticking_every_hour_for_a_month_equals_ticking_once_a_day(
    tmp_path: Path, sqlite_template: Path
) -> None:
    years = []
    for name in ("hourly", "daily"):
        shutil.copy(sqlite_template, tmp_path / f"{name}.sqlite3")
        years.append(Year(f"sqlite:///{tmp_path}/{name}.sqlite3"))
    hourly, daily = years
    moment, end = at("2027-01-14", 0), at("2027-02-20", 0)
    while moment < end:
        with db.writing(hourly.engine) as conn:
            tick(conn, hourly.pdca.registry, hourly.pdca.tenants, strategy=hourly.strategy, now=moment)
        moment += timedelta(hours=1)
    tick_daily(daily, "2027-01-14", "2027-02-19")

    def outcome(y: Year) -> tuple[list[str], Counter[str]]:
        return sorted(m.dedupe_key for m in messages(y)), states(y, 2027)

    assert outcome(hourly) == outcome(daily)
    assert len(outcome(daily)[0]) == OWNER_PAIRS * 3  # requested, reminded at -14 and -7
    for y in years:
        y.close()


def test_a_whole_year_closes_every_cycle_and_queues_each_message_once(year: Year) -> None:
    replay = simulate(year.pdca, date(2026, 4, 1), date(2027, 10, 31), actors=True)
    assert states(year, 2026) == {"closed": 12}
    assert states(year, 2027) == {"do.implementing": 12}
    queued = Counter(m.kind for m in messages(year))
    assert queued["plan_requested"] == queued["report_requested"] == OWNER_PAIRS
    assert queued["internal_packet"] == 5 and queued["promotion_packet"] == 4
    assert queued["report_overdue"] >= 1 and queued["report_escalation"] >= 3  # the simulated late owner
    assert sum(replay.totals().messages.values()) == len(messages(year))  # the clock's and the people's
    assert queued["decided"] >= 12 * 5 and queued["returned"] >= 1 and queued["revision_requested"] >= 1
    assert len({m.dedupe_key for m in messages(year)}) == len(messages(year))
    decisions = Counter(year.story(r["code"], 2026)["record"]["decision"] for r in year.actions())
    assert sum(decisions.values()) == 12 and decisions["revise"] >= 1
    assert replay.totals().refused == 0
    assert queued["publication_done"] == 15  # everyone, once, on 2027-09-30
    from workflows.action_cycle import results

    with db.reading(year.engine) as conn:
        published = results.latest(conn, strategy_code=year.pdca.strategy_code, fy=2026)
    assert published is not None and published["version"] == 1 and len(published["actions"]) == 12



def test_a_report_long_overdue_is_flagged_by_the_tick(year: Year) -> None:
    start_fy2026(year)
    tick_daily(year, "2027-04-09", "2027-06-27")  # due 05-28: 30 days late on 06-27
    report(year, "1-1-2", "2027-06-20")
    assert all(not year.story(c)["flags"] for c in ("1-1-1", "1-1-2"))
    version = year.story("1-1-1")["version"]
    assert tick_at(year, "2027-06-28").transitions["flag"] == 11  # all still missing but 1-1-2's
    flagged = year.story("1-1-1")  # a step like any other: the version moves, the audit says when
    assert flagged["version"] == version + 1 and flagged["state"] == "check.self_assessment"
    assert [(h["trigger"], h["actor"]) for h in flagged["history"]][-1] == ("flag_late", "system")
    assert tick_at(year, "2027-06-29").transitions["flag"] == 0  # once
    with db.reading(year.engine) as conn:
        from workflows import service

        story = service.story(conn, year.cycles, year.cycle_id("1-1-1"), today=date(2027, 6, 28))
    assert story["indicators"][0]["stale"] is True  # shown as not updated while the report is late
    (flag,) = year.story("1-1-1")["flags"]
    assert flag["rule"] == "late" and "30 days late" in flag["reason_en"]
    assert year.story("1-1-2")["flags"] == []


def test_a_report_returned_for_changes_is_not_flagged_late(year: Year) -> None:
    start_fy2026(year)
    tick_daily(year, "2027-04-09", "2027-05-20")
    report(year, "1-1-2", "2027-05-20")
    year.fire("1-1-2", "return_report", CHAIR, fy=2026, now=at("2027-05-25", 10), comment="数値を確認してください")
    tick_at(year, "2027-06-28")
    assert year.story("1-1-2")["flags"] == []
    assert [f["rule"] for f in year.story("1-1-1")["flags"]] == ["late"]
