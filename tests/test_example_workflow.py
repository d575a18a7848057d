"""The example workflow (tests/example_workflow.py), only written and registered, shows up
everywhere a workflow does: `pdca workflows`, `open`, `show` and `fire`, the JSON API, its
page, the councils' queues, the audit log and the outbox, with its mail rendered."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app import bootstrap
from app.cli import cli
from app.web.main import create_app
from engine.outbox import OutboxMessage
from tests import example_workflow
from tests.conftest import ADMIN, CHAIR, CONFIG, NOW, OWNER, Year
from tests.test_web import Clock, csrf_of, sign_in, token_for

SECRETARY = "jimukyoku@city.example.jp"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bootstrap, "EXTRA_WORKFLOWS", [example_workflow.register])


def test_the_cli_opens_shows_and_fires_it(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    shutil.copy(CONFIG, config)  # its mail goes to files beside it
    env = {"PDCA_CONFIG": str(config), "PDCA_DATABASE_URL": f"sqlite:///{tmp_path}/pdca.sqlite3"}

    def pdca(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, list(args), env=env)
        assert result.exit_code == code, result.output
        return result.output

    pdca("init")
    engine = create_engine(env["PDCA_DATABASE_URL"])
    example_workflow.metadata.create_all(engine)
    engine.dispose()
    assert "example" in pdca("workflows") and "記録メモ" in pdca("workflows")
    opened = json.loads(pdca("open", "example", "write", "--as", SECRETARY, "--field", "title=現地確認", "--json"))
    key = str(opened["instance_id"])
    story = json.loads(pdca("show", key, "--workflow", "example", "--json"))
    assert story["state"] == "draft" and story["record"] == {"title": "現地確認", "text": None, "reply": None}
    assert [a["trigger"] for a in story["allowed"]] == ["submit"]
    assert "refused (wrong_role)" in pdca("fire", key, "submit", "--workflow", "example", "--as", OWNER, code=1)
    assert "submitted" in pdca("fire", key, "submit", "--workflow", "example", "--as", SECRETARY,
                               "--comment", "ご確認ください")
    history = json.loads(pdca("show", key, "--workflow", "example", "--json"))["history"]
    assert [(h["trigger"], h["comment"]) for h in history] == [("write", None), ("submit", "ご確認ください")]
    queued = json.loads(pdca("outbox", "--json"))
    assert [(m["kind"], m["recipient"]) for m in queued] == [("example_submitted", CHAIR)]
    assert "sent 1" in pdca("outbox", "send")
    (eml,) = (tmp_path / "var" / "mail").glob("*.eml")
    message = message_from_bytes(eml.read_bytes())
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == "【記録メモ】現地確認: 確認待ち"
    body = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True)
    assert f"http://127.0.0.1:8000/w/example/{key}" in body.decode()  # type: ignore[union-attr]


@pytest.fixture
def web(database_url: str) -> Iterator[tuple[TestClient, Year]]:
    year = Year(database_url)
    example_workflow.metadata.create_all(year.engine)
    with TestClient(create_app(year.pdca, clock=Clock(NOW)), follow_redirects=False) as client:
        yield client, year
    year.close()


def test_the_api_the_pages_the_queue_and_the_audit_log_serve_it(web: tuple[TestClient, Year]) -> None:
    client, year = web
    secretary = token_for(year, SECRETARY)
    opened = client.post("/api/workflows/example/open", headers=secretary,
                         json={"trigger": "write", "fields": {"title": "水辺の観察会の記録"}})
    assert opened.status_code == 200, opened.json()
    note = opened.json()["events"][0]["instance_id"]
    refused = client.post(f"/api/workflows/example/{note}/fire", headers=token_for(year, OWNER),
                          json={"trigger": "submit"})
    assert refused.status_code == 403 and refused.json()["by"] == [SECRETARY]
    assert client.post(f"/api/workflows/example/{note}/fire", headers=secretary,
                       json={"trigger": "submit"}).status_code == 200

    chair = sign_in(TestClient(client.app, follow_redirects=False), year, CHAIR)
    queue = chair.get("/councils/internal")
    assert queue.status_code == 200 and "水辺の観察会の記録" in queue.text
    page = chair.get(f"/w/example/{note}")
    assert page.status_code == 200 and "確認待ち" in page.text and 'name="reply"' in page.text
    done = chair.post(f"/w/example/{note}/fire", data={"csrf": csrf_of(page.text), "trigger": "acknowledge",
                                                       "reply": "確認しました"})
    assert done.status_code == 303
    assert "確認済" in chair.get(f"/w/example/{note}").text

    admin = sign_in(TestClient(client.app, follow_redirects=False), year, ADMIN)
    audit = admin.get("/admin/audit", params={"code": str(note)})
    assert audit.status_code == 200 and "確認する" in audit.text and "メモを書く" in audit.text
    with Session(year.engine) as session:
        about = select(OutboxMessage).where(OutboxMessage.workflow == "example")
        kinds = sorted(m.kind for m in session.scalars(about))
    assert kinds == ["example_acknowledged", "example_submitted"]
    assert client.get(f"/api/workflows/example/{note}", headers=secretary).json()["state"] == "acknowledged"


def test_what_comes_to_a_council_next_is_derived_from_the_spec() -> None:
    """The states one owner's step before a council's queue: what its queue lists as still to come."""
    from workflows.action_cycle import ACTION_CYCLE

    roles = ACTION_CYCLE.body_roles()
    assert ACTION_CYCLE.coming_to(roles["internal"]) == ("plan.drafting", "check.self_assessment", "act.revising")
    assert ACTION_CYCLE.coming_to(roles["promotion"]) == ()  # it hears only from the internal council
