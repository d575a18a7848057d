"""One contract, every registered workflow: the city's (the yearly cycle, the advisors'
opinions, the hub's curation and its partners' requests, the councils' meetings, the
exchange's topics) and a small example written only here (tests/example_workflow.py), on
SQLite and PostgreSQL alike.

Each workflow's case says how to bring an instance into being and one legal path through
it; the contract is the same for all: the path moves as the spec says, one version and one
audit row a step; every refusal (not possible now, wrong role, bad fields, a stale
version, a guard) changes nothing; the one authorization answer agrees with firing; and a
step whose effect fails leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from app import bootstrap
from engine import db
from engine.audit import AuditEvent
from engine.errors import GuardRefused, InvalidFields, NotAllowedNow, Stale, WrongRole
from engine.outbox import OutboxMessage
from tests import example_workflow
from tests.conftest import ADMIN, CHAIR, NOW, OWNER, PROMOTION_CHAIR, Year
from tests.test_action_cycle import CHECKING, FIELDS, PLANNING, REPORT, YEAR_BEGINS

SECRETARY = "jimukyoku@city.example.jp"
MEMBER = "npo.tombo@example.org"
ADVISOR = "shokubutsu@example.org"


@dataclass(frozen=True)
class Step:
    trigger: str
    who: str
    fields: dict[str, Any] = field(default_factory=dict)
    now: datetime = NOW


@dataclass(frozen=True)
class Case:
    workflow: str
    create: Callable[[Year], int]
    path: list[Step]
    intruder: str
    """Someone with no role for the first step."""
    guard: tuple[int, Step] | None = None
    """After the first N steps of the path, a step its guards refuse."""
    not_now: Step | None = None
    """A step not possible at the start, when the path's last one is (every step of an open
    exchange topic is possible while it is open)."""


def _cycle(year: Year) -> int:
    year.open(2027, now=PLANNING)
    return year.cycle_id("1-1-2", 2027)


def _opinion(year: Year) -> int:
    for trigger, who, fields in (("submit_plan", OWNER, {}), ("approve_plan", CHAIR, {}), ("open_check", ADMIN, {}),
                                 ("submit_report", OWNER, REPORT), ("accept_report", CHAIR, {})):
        year.fire("1-1-2", trigger, who, **fields)
    entry = year.pdca.registry["opinion"]
    with db.writing(year.engine) as conn:
        cycle = year.cycles.store.load(conn, year.cycle_id("1-1-2"))
        fired = entry.workflow.open(conn, "ask", actor(conn, MEMBER), {
            "advisor": ADVISOR, "question": "下草刈りの時期は?", "due": "2026-11-20"}, now=NOW, parent=cycle)
    return fired.instance_id


def _note(year: Year) -> int:
    entry = year.pdca.registry["example"]
    with db.writing(year.engine) as conn:
        fired = entry.workflow.open(conn, "write", actor(conn, SECRETARY), {"title": "現地確認の記録"}, now=NOW,
                                    tenant=year.strategy)
    return fired.instance_id


MUSEUM = "museum@city.example.jp"  # a curator of the hub who sends records too
ZOO = "zoo@city.example.jp"  # another curator


def _hub_item(year: Year) -> int:
    entry = year.pdca.registry["hub_item"]
    with db.writing(year.engine) as conn:
        fired = entry.workflow.open(conn, "send_observation", actor(conn, MUSEUM), {
            "vernacularName": "カワセミ", "speciesGroup": "birds", "eventDate": "2026-10-30", "locality": "緑川",
            "basisOfRecord": "HumanObservation", "occurrenceStatus": "present"}, now=NOW, tenant=year.strategy)
    return fired.instance_id


def _partner_request(year: Year) -> int:
    from engine.runtime import SYSTEM_ACTOR

    entry = year.pdca.registry["partner_request"]
    with db.writing(year.engine) as conn:
        fired = entry.workflow.open(conn, "ask", SYSTEM_ACTOR, {
            "name": "森 はるか", "email": "haruka.mori@example.net", "organisation_kind": "citizen",
            "language": "ja"}, now=NOW, tenant=year.strategy)
    return fired.instance_id


def _meeting(year: Year) -> int:
    entry = year.pdca.registry["meeting"]
    with db.writing(year.engine) as conn:
        fired = entry.workflow.open(conn, "convene", actor(conn, SECRETARY), {
            "body": "internal", "fy": "2026", "held_on": "2026-10-30"}, now=NOW, tenant=year.strategy)
    return fired.instance_id


STRANGER = "stranger.nobody@example.net"  # a person with no part in the strategy (added for the exchange)


def _topic(year: Year) -> int:
    from sqlalchemy import insert

    from workflows.models import Person

    entry = year.pdca.registry["exchange_topic"]
    with db.writing(year.engine) as conn:
        conn.execute(insert(Person).values(email=STRANGER, name="通りがかり", language="ja", active=True))
        fired = entry.workflow.open(conn, "post", actor(conn, MEMBER), {
            "title": "ため池の外来魚", "text": "駆除の計画はありますか", "actions": ["1-1-2"], "public": "yes"},
            now=NOW, tenant=year.strategy)
    return fired.instance_id


def actor(conn: Any, email: str) -> Any:
    from workflows import service

    return service.actor_for(conn, email)


CASES = [
    Case("action_cycle", _cycle, [
        Step("submit_plan", OWNER, FIELDS["submit_plan"], PLANNING), Step("approve_plan", CHAIR, {}, PLANNING),
        Step("start", ADMIN, {}, YEAR_BEGINS), Step("open_check", ADMIN, {}, CHECKING),
        Step("submit_report", OWNER, REPORT, CHECKING), Step("accept_report", CHAIR, {}, CHECKING),
        Step("approve_evaluation", PROMOTION_CHAIR, FIELDS["approve_evaluation"], CHECKING),
        Step("decide_revise", CHAIR, {"comment": "記録を加える"}, CHECKING),
        Step("submit_revision", OWNER, FIELDS["submit_revision"], CHECKING),
        Step("approve_revision", CHAIR, {}, CHECKING),
    ], intruder="koen@city.example.jp", guard=(2, Step("start", ADMIN, {}, PLANNING))),
    Case("opinion", _opinion, [Step("answer", ADVISOR, {"answer": "7月は避けるべきです"})], intruder=OWNER),
    Case("hub_item", _hub_item, [
        Step("take", ZOO), Step("verify", ADVISOR, {"identifiedAs": "Alcedo atthis"}), Step("accept", ZOO),
        Step("withdraw", ZOO, {"comment": "営巣地に近いため"}),
    ], intruder=OWNER, guard=(0, Step("take", MUSEUM))),
    Case("partner_request", _partner_request, [Step("confirm", ADMIN), Step("accept", SECRETARY)], intruder=OWNER),
    Case("meeting", _meeting, [
        Step("record_minutes", SECRETARY, {"present": [CHAIR], "minutes": "臨時会。外来種対策について協議した。"}),
        Step("approve_minutes", CHAIR),
    ], intruder=OWNER),
    Case("exchange_topic", _topic, [
        Step("reply", OWNER, {"text": "来年度に調査します"}), Step("close", MEMBER),
        Step("hide", SECRETARY, {"comment": "個人の連絡先が含まれていたため"}),
    ], intruder=STRANGER, not_now=Step("no_such_step", MEMBER)),
    Case("example", _note, [Step("submit", SECRETARY), Step("acknowledge", CHAIR, {"reply": "確認しました"})],
         intruder=OWNER),
]


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example workflow, registered as bootstrap registers the city's."""
    monkeypatch.setattr(bootstrap, "EXTRA_WORKFLOWS", [example_workflow.register])


@pytest.fixture
def contract_year(registered: None, database_url: str) -> Iterator[Year]:
    year = Year(database_url)
    example_workflow.metadata.drop_all(year.engine)
    example_workflow.metadata.create_all(year.engine)
    yield year
    example_workflow.metadata.drop_all(year.engine)
    year.close()


def snapshot(year: Year, workflow: str, instance_id: int) -> tuple[Any, ...]:
    entry = year.pdca.registry[workflow]
    with db.reading(year.engine) as conn:
        instance = entry.store.load(conn, instance_id)
        audits = conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        outbox = conn.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    assert instance is not None
    return instance.state, instance.version, audits, outbox


def fire(year: Year, workflow: str, instance_id: int, step: Step, version: int | None = None) -> list[Any]:
    entry = year.pdca.registry[workflow]
    with db.writing(year.engine) as conn:
        return entry.workflow.fire_in(conn, instance_id, step.trigger, actor(conn, step.who), step.fields,
                                      now=step.now, expected_version=version)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.workflow)
def test_the_legal_path_moves_as_the_spec_says_one_version_and_one_audit_row_a_step(
    contract_year: Year, case: Case
) -> None:
    year = contract_year
    entry = year.pdca.registry[case.workflow]
    instance_id = case.create(year)
    for step in case.path:
        state, version, *_ = snapshot(year, case.workflow, instance_id)
        events = fire(year, case.workflow, instance_id, step)
        assert events[0].from_state == state
        assert events[0].to_state == entry.spec.trigger(step.trigger, state).dest  # type: ignore[union-attr]
        assert [e.version for e in events] == list(range(version + 1, version + 1 + len(events)))
    with db.reading(year.engine) as conn:
        rows = conn.execute(select(AuditEvent.version, AuditEvent.tenant_id, AuditEvent.trigger, AuditEvent.actor)
                            .where(AuditEvent.workflow == case.workflow, AuditEvent.instance_id == instance_id)
                            .order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
    final = snapshot(year, case.workflow, instance_id)
    assert [r.version for r in rows] == list(range(1, final[1] + 1))
    assert {r.tenant_id for r in rows} == {year.strategy}
    assert entry.spec.state(final[0]).final


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.workflow)
def test_every_refusal_leaves_everything_as_it_was(contract_year: Year, case: Case) -> None:
    year = contract_year
    instance_id = case.create(year)
    first = case.path[0]
    before = snapshot(year, case.workflow, instance_id)
    refusals: list[tuple[type[Exception], Step, int | None]] = [
        (NotAllowedNow, Step("no_such_step", first.who, {}, first.now), None),
        (NotAllowedNow, case.not_now or (case.path[-1] if len(case.path) > 1 else Step("no_such_step", first.who)),
         None),
        (WrongRole, Step(first.trigger, case.intruder, first.fields, first.now), None),
        (InvalidFields, Step(first.trigger, first.who, {**first.fields, "colour": "red"}, first.now), None),
        (Stale, first, before[1] + 5),
    ]
    for kind, step, version in refusals:
        with pytest.raises(kind):
            fire(year, case.workflow, instance_id, step, version)
        assert snapshot(year, case.workflow, instance_id) == before, (kind, step)
    if case.guard is not None:
        walked, step = case.guard
        for earlier in case.path[:walked]:
            fire(year, case.workflow, instance_id, earlier)
        midway = snapshot(year, case.workflow, instance_id)
        with pytest.raises(GuardRefused):
            fire(year, case.workflow, instance_id, step)
        assert snapshot(year, case.workflow, instance_id) == midway


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.workflow)
def test_the_one_authorization_answer_agrees_with_firing(contract_year: Year, case: Case) -> None:
    year = contract_year
    entry = year.pdca.registry[case.workflow]
    instance_id = case.create(year)
    for step in case.path:
        with db.reading(year.engine) as conn:
            instance = entry.store.load(conn, instance_id)
            assert instance is not None
            rightful = {o.trigger.name: o for o in entry.workflow.options(conn, instance, actor(conn, step.who))}
            stranger = {o.trigger.name: o for o in entry.workflow.options(conn, instance, actor(conn, case.intruder))}
        assert rightful[step.trigger].may_fire and rightful[step.trigger].why_not is None
        assert not stranger[step.trigger].may_fire and stranger[step.trigger].why_not
        fire(year, case.workflow, instance_id, step)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.workflow)
def test_a_step_whose_effect_fails_leaves_nothing_behind(
    contract_year: Year, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    year = contract_year
    instance_id = case.create(year)
    before = snapshot(year, case.workflow, instance_id)
    store = year.pdca.registry[case.workflow].store

    def broken(*args: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(store, "apply", broken)
    with pytest.raises(RuntimeError):
        fire(year, case.workflow, instance_id, case.path[0])
    assert snapshot(year, case.workflow, instance_id) == before
