"""The `pdca` commands, through typer's runner, on a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from engine.clock import utc_now
from tests.conftest import ADMIN, CHAIR, CONFIG, OWNER, PROMOTION_CHAIR, SAMPLE
from workflows.action_cycle import ACTION_CYCLE
from workflows.calendar import Calendar


@pytest.fixture
def pdca(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": f"sqlite:///{tmp_path}/pdca.sqlite3"}

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args), env=env)
        assert result.exit_code == code, result.output
        return result.output

    invoke("init")
    invoke("import", str(SAMPLE), "--open-fy", str(Calendar().fiscal_year(utc_now())))
    return invoke


def test_init_and_import_are_idempotent_and_the_actions_are_ready(pdca) -> None:  # type: ignore[no-untyped-def]
    pdca("init")
    out = pdca("import", str(SAMPLE), "--open-fy", str(Calendar().fiscal_year(utc_now())))
    assert "12 actions (0 new, 0 updated, 12 unchanged)" in out and "opened 0 cycles" in out
    rows = json.loads(pdca("actions", "--json"))
    assert len(rows) == 12
    assert {"code", "fy", "state", "owner"} <= set(rows[0])
    assert {r["state"] for r in rows} == {"plan.drafting"}


def test_one_action_walks_a_whole_cycle_and_show_tells_the_story(pdca) -> None:  # type: ignore[no-untyped-def]
    fy = str(json.loads(pdca("actions", "--json"))[0]["fy"])
    steps = [
        ("submit_plan", OWNER, []),
        ("approve_plan", CHAIR, []),
        ("open_check", ADMIN, []),
        ("submit_report", OWNER, ["--field", "status=implemented", "--field", "content=間伐 4ha",
                                  "--field", "indicators.S1=41", "--field", "indicators.S2=500",
                                  "--field", "self_grade=B"]),
        ("accept_report", CHAIR, ["--comment", "確認しました"]),
        ("approve_evaluation", PROMOTION_CHAIR, ["--field", "grade=A", "--field", "evaluation=順調",
                                                 "--field", "proposals=記録を残す"]),
        ("decide_continue", CHAIR, []),
    ]
    for trigger, who, extra in steps:
        pdca("fire", "1-1-2", trigger, "--fy", fy, "--as", who, *extra)
    story = json.loads(pdca("show", "1-1-2", "--fy", fy, "--json"))
    assert story["state"] == "closed"
    assert story["record"]["decision"] == "continue"
    assert [h["trigger"] for h in story["history"]] == [
        "open", "submit_plan", "approve_plan", "start", "open_check", "submit_report", "accept_report",
        "approve_evaluation", "decide_continue"]
    assert story["allowed"] == []
    text = pdca("show", "1-1-2")
    assert "closed" in text and "decide_continue" in text


def test_show_json_lists_allowed_triggers_with_people_and_fields(pdca) -> None:  # type: ignore[no-untyped-def]
    story = json.loads(pdca("show", "1-1-2", "--json"))
    assert story["deadline"]["name"] == "plan_due"
    assert story["allowed"] == [{
        "trigger": "submit_plan", "to": "plan.review", "by": [OWNER],
        "fields": [{"name": "plan", "type": "longtext", "required": False,
                    "label": {"ja": "計画", "en": "Plan"}}],
    }]


def test_refusals_exit_1_with_the_reason(pdca) -> None:  # type: ignore[no-untyped-def]
    fy = str(json.loads(pdca("actions", "--json"))[0]["fy"])
    out = pdca("fire", "1-1-2", "approve_plan", "--fy", fy, "--as", CHAIR, code=1)
    assert "not possible in state plan.drafting; possible now: submit_plan" in out
    out = pdca("fire", "1-1-2", "submit_plan", "--fy", fy, "--as", CHAIR, code=1)
    assert f"needs owner ({OWNER})" in out
    out = pdca("fire", "1-1-2", "submit_plan", "--fy", fy, "--as", "who@nowhere.jp", code=1)
    assert "not a person in the config" in out
    out = pdca("fire", "9-9-9", "submit_plan", "--fy", fy, "--as", OWNER, code=1)
    assert "no action 9-9-9" in out
    out = pdca("fire", "1-1-2", "submit_plan", "--fy", fy, "--as", OWNER, "--field", "colour=red", code=1)
    assert "colour: unknown field; submit_plan takes plan" in out
    out = pdca("fire", "1-1-2", "submit_plan", "--fy", fy, "--as", OWNER, "--field", "plan", code=2)
    pdca("fire", "1-1-2", "submit_plan", "--fy", fy, "--as", OWNER, "--expect-version", "1")
    out = pdca("fire", "1-1-2", "approve_plan", "--fy", fy, "--as", CHAIR, "--expect-version", "1", code=1)
    assert "changed by someone else" in out


def test_import_lists_bad_rows_and_exits_1(pdca, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("code,basic_policy,title_ja,division,owners\n1-1,a,b,c,nobody@x.jp\nx,a,b,c,d@e.jp\n")
    out = pdca("import", str(bad), code=1)
    assert "nothing imported: 2 problem(s)" in out
    assert "row 2: owner nobody@x.jp" in out and "row 3: code 'x'" in out


def test_import_can_open_the_years_cycles(pdca, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.csv"
    good.write_text("code,basic_policy,title_ja,division,owners\n7-1-1,7,新規,農政課,nourin@city.example.jp\n")
    assert "opened 1 cycles for FY2031 (令和13年度)" in pdca("import", str(good), "--open-fy", "2031")
    rows = json.loads(pdca("actions", "--fy", "2031", "--json"))
    assert [(r["code"], r["state"]) for r in rows] == [("7-1-1", "plan.drafting")]


def test_actions_filters_by_phase(pdca) -> None:  # type: ignore[no-untyped-def]
    fy = str(json.loads(pdca("actions", "--json"))[0]["fy"])
    pdca("fire", "1-1-2", "submit_plan", "--fy", fy, "--as", OWNER)
    assert [r["code"] for r in json.loads(pdca("actions", "--state", "plan.review", "--json"))] == ["1-1-2"]
    assert len(json.loads(pdca("actions", "--state", "plan", "--json"))) == 12
    assert json.loads(pdca("actions", "--state", "check", "--json")) == []


def test_absent_lets_the_vice_chair_act_and_needs_an_admin(pdca) -> None:  # type: ignore[no-untyped-def]
    fy = str(json.loads(pdca("actions", "--json"))[0]["fy"])
    pdca("fire", "1-1-2", "submit_plan", "--fy", fy, "--as", OWNER)
    pdca("absent", CHAIR, "--as", OWNER, code=1)
    pdca("absent", CHAIR, "--as", ADMIN)
    pdca("fire", "1-1-2", "approve_plan", "--fy", fy, "--as", "kankyo.kyokucho@city.example.jp")
    pdca("absent", CHAIR, "--as", ADMIN, "--back")


def test_diagram_draws_every_state_and_trigger(pdca) -> None:  # type: ignore[no-untyped-def]
    out = pdca("diagram")
    assert out.startswith("stateDiagram-v2")
    for trigger in ACTION_CYCLE.triggers:
        assert f"{trigger.source.replace('.', '_')} --> {trigger.dest.replace('.', '_')} : {trigger.name}" in out
    assert "state check {" in out


def test_every_trigger_takes_a_comment_and_the_audit_keeps_it(pdca) -> None:  # type: ignore[no-untyped-def]
    fy = str(json.loads(pdca("actions", "--json"))[0]["fy"])
    pdca("fire", "1-1-2", "submit_plan", "--fy", fy, "--as", OWNER, "--comment", "昨年度の反省を踏まえて")
    history = json.loads(pdca("show", "1-1-2", "--fy", fy, "--json"))["history"]
    assert (history[-1]["trigger"], history[-1]["comment"]) == ("submit_plan", "昨年度の反省を踏まえて")
    assert history[-1]["fields"] == {}  # a remark, not a field of the plan


def test_show_as_a_person_says_what_they_may_do_and_why_not(pdca) -> None:  # type: ignore[no-untyped-def]
    fy = str(json.loads(pdca("actions", "--json"))[0]["fy"])
    mine = json.loads(pdca("show", "1-1-2", "--fy", fy, "--as", OWNER, "--json"))["may"]["submit_plan"]
    assert mine == {"fire": True, "draft": True, "why_not": None}  # an owner may also save it as a draft
    theirs = json.loads(pdca("show", "1-1-2", "--fy", fy, "--as", CHAIR, "--json"))["may"]["submit_plan"]
    assert theirs["fire"] is False and OWNER in theirs["why_not"]
    assert "not you: " in pdca("show", "1-1-2", "--fy", fy, "--as", CHAIR)


def test_tokens_are_listed_without_their_secrets_and_a_revoked_one_is_refused_at_once(pdca, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from app.bootstrap import Pdca
    from app.web.main import create_app
    from tests.conftest import settings_for

    first = pdca("token", "create", "nourin@city.example.jp", "--name", "nightly export").strip().splitlines()[-1]
    pdca("token", "create", "kankyo.admin@city.example.jp")
    listed = json.loads(pdca("token", "list", "--json"))
    assert [(t["email"], t["name"], t["revoked_at"]) for t in listed] == [
        ("kankyo.admin@city.example.jp", "script", None), ("nourin@city.example.jp", "nightly export", None)]
    assert first not in json.dumps(listed)  # only the digest is kept
    assert "nightly export" in pdca("token", "list", "nourin@city.example.jp")
    app = Pdca(settings_for(f"sqlite:///{tmp_path}/pdca.sqlite3"))
    try:
        with TestClient(create_app(app)) as web:
            headers = {"Authorization": f"Bearer {first}"}
            assert web.get("/api/cycles", headers=headers).status_code == 200
            mine = next(t["id"] for t in listed if t["email"] == "nourin@city.example.jp")
            assert "1" in pdca("token", "revoke", str(mine))
            assert web.get("/api/cycles", headers=headers).status_code == 401
    finally:
        app.close()
    assert str(mine) in pdca("token", "revoke", str(mine), "999", code=1)
