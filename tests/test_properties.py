"""Random people firing random triggers, with or without the fields they need, on fresh
cycles: the engine decides exactly what an independent model of the issue's table and its
roles decides, and the cycle never leaves the spec's states."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from engine import db
from engine.errors import GuardRefused, InvalidFields, NotAllowedNow, Refused, WrongRole
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
)
from tests.test_action_cycle import EXPECTED, FIELDS, NEEDS_COMMENT
from workflows.action_cycle import ACTION_CYCLE
from workflows.models import Action, ActionOwner, Cycle, Indicator, Person
from workflows.tick import open_year

PEOPLE = [OWNER, CHAIR, VICE_CHAIR, PROMOTION_CHAIR, PROMOTION_VICE, ADMIN, MEMBER, "jimukyoku@city.example.jp"]
ADMINS = {ADMIN, "jimukyoku@city.example.jp"}
TRIGGERS = sorted({t for t, _ in EXPECTED})
OWNER_TRIGGERS = {"submit_plan", "submit_report", "submit_revision", "post_progress"}
OWNER_OR_CHAIR = {"request_revision"}
PROMOTION_TRIGGERS = {"approve_evaluation", "return_evaluation"}
SYSTEM_TRIGGERS = {"start", "open_check", "flag_late"}
TAKES_NOTHING_REQUIRED = {"submit_plan", "approve_plan", "start", "open_check", "flag_late", "accept_report",
                          "decide_continue", "decide_complete", "approve_revision", "approve_midyear_revision"}
STATES = {s.name for s in ACTION_CYCLE.states}
_codes = itertools.count(1)


def may_fire(trigger: str, who: str, away: set[str]) -> bool:
    if trigger in SYSTEM_TRIGGERS:
        return who in ADMINS
    if trigger in OWNER_TRIGGERS:
        return who == OWNER
    if trigger in OWNER_OR_CHAIR and who == OWNER:
        return True
    chair, vice = (PROMOTION_CHAIR, PROMOTION_VICE) if trigger in PROMOTION_TRIGGERS else (CHAIR, VICE_CHAIR)
    return who == chair or (who == vice and chair in away)


def valid_fields(trigger: str) -> dict[str, Any]:
    fields = dict(FIELDS.get(trigger, {}))
    if trigger == "submit_report":
        fields = {k: v for k, v in fields.items() if not k.startswith("indicators.")} | {"indicators.S1": "3"}
    if trigger in ("submit_revision", "request_revision"):
        fields["revised_plan"] = f"revised at {next(_codes)}"
    if trigger == "post_progress":
        fields = {"indicators.S1": "3"}
    if trigger in NEEDS_COMMENT:
        fields["comment"] = "why"
    return fields


def new_cycle(year: Year) -> str:
    code = f"9-9-{next(_codes)}"
    with db.writing(year.engine) as conn:
        owner = conn.execute(select(Person.id).where(Person.email == OWNER)).scalar_one()
        action = conn.execute(insert(Action).values(
            strategy_id=year.strategy, code=code, basic_policy="9", title_ja="試験", division="農政課",
            plan="計画")).inserted_primary_key[0]
        conn.execute(insert(ActionOwner).values(action_id=action, person_id=owner))
        conn.execute(insert(Indicator).values(action_id=action, code="S1", name_ja="指標", direction="up",
                                              target_value=10))
        open_year(conn, year.pdca.registry, year.tenant(conn), fy=2026, now=NOW, codes=[code])
    return code


def flagged(year: Year, code: str) -> bool:
    with db.reading(year.engine) as conn:
        flags = conn.execute(select(Cycle.flags).where(Cycle.id == year.cycle_id(code))).scalar()
    return any(not f.get("resolution") for f in flags or [])


def rightful(trigger: str, away: set[str]) -> list[str]:
    return [p for p in PEOPLE if may_fire(trigger, p, away)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_firings_follow_the_table_and_the_roles(year: Year, data: st.DataObject) -> None:
    """Mostly plausible steps (a possible trigger, often by its rightful person), so cycles
    travel far; the rest anything at all. On both databases."""
    for chair in (CHAIR, PROMOTION_CHAIR):  # the database outlives an example: nobody is away at its start
        year.set_absent(chair, absent=False)
    code = new_cycle(year)
    state, version, away = "plan.drafting", 1, set()
    reached = set()
    for _ in range(data.draw(st.integers(min_value=1, max_value=40), label="steps")):
        if data.draw(st.integers(0, 19), label="roll") == 0:
            who = data.draw(st.sampled_from([CHAIR, PROMOTION_CHAIR]), label="away")
            absent = data.draw(st.booleans(), label="absent")
            year.set_absent(who, absent=absent)
            away = (away | {who}) if absent else (away - {who})
            continue
        possible = sorted(t for t, s in EXPECTED if s == state)
        plausible = possible and data.draw(st.integers(0, 9), label="plausible") < 7
        trigger = data.draw(st.sampled_from(possible if plausible else TRIGGERS), label="trigger")
        holders = rightful(trigger, away)
        right = holders and data.draw(st.integers(0, 9), label="right person") < 7
        who = data.draw(st.sampled_from(holders if right else PEOPLE), label="who")
        with_fields = data.draw(st.integers(0, 9), label="fields") < 8
        fields = valid_fields(trigger) if with_fields else {}
        if (trigger, state) not in EXPECTED:
            expected: type[Refused] | None = NotAllowedNow
        elif not may_fire(trigger, who, away):
            expected = WrongRole
        elif not with_fields and trigger not in TAKES_NOTHING_REQUIRED:
            expected = InvalidFields
        elif not with_fields and trigger in ("decide_continue", "decide_complete") and flagged(year, code):
            expected = GuardRefused  # a flag needs a revision or a reason to keep going
        else:
            expected = None
        try:
            events = year.fire(code, trigger, who, **fields)
        except Refused as refused:
            assert type(refused) is expected, (trigger, who, state, refused)
        else:
            assert expected is None, (trigger, who, state, "fired but should be", expected)
            assert events[0].to_state == EXPECTED[trigger, state]
            state = events[-1].to_state
            version += len(events)
            reached.add(state)
        story = year.story(code)
        assert story["state"] == state
        assert story["state"] in STATES
        assert story["version"] == version
    for person in (CHAIR, PROMOTION_CHAIR):
        year.set_absent(person, absent=False)
    event(f"reached {max((ORDER.index(s) for s in reached), default=0)} of {len(ORDER) - 1}")


ORDER = [s.name for s in ACTION_CYCLE.states]
