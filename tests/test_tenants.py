"""Several strategies in one database: the sample city's and a neighbouring town's, with
their own councils, calendar and grade scale. A person may hold roles in both; a chair of
one neither sees nor acts on the other's items; one tick runs each on its own calendar;
each publishes on its own; a simulated year leaves nothing crossing between them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.bootstrap import Pdca
from app.cli import cli
from app.config import ConfigError, load_settings
from app.importing import import_actions
from app.simulate import simulate
from app.web.main import create_app
from engine import db
from engine.audit import AuditEvent
from engine.errors import WrongRole
from engine.outbox import OutboxMessage
from tests.conftest import CHAIR, CONFIG, NOW, OWNER, SAMPLE
from tests.test_web import Clock, sign_in, token_for
from workflows import service
from workflows.models import Action, Cycle, Publication
from workflows.tick import open_year, tick

JST = ZoneInfo("Asia/Tokyo")
TOWN = "minami-2026"
TOWN_CHAIR = "kasen@city.example.jp"  # chairs the town's internal council; an owner and a member in the city's
SECOND = f"""
[[strategies]]
code = "{TOWN}"
name_ja = "みなみ町生物多様性戦略"
name_en = "Minami Town Biodiversity Strategy"
first_fy = 2025
target_fy = 2030
grades = ["S", "A", "B", "C"]

[strategies.secretariat]
division = "みなみ町 環境課"
members = ["koen@city.example.jp"]

[strategies.councils.internal]
name_ja = "みなみ町 庁内会議"
name_en = "Minami internal council"
chair = "{TOWN_CHAIR}"
members = ["museum@city.example.jp"]

[strategies.councils.promotion]
name_ja = "みなみ町 推進会議"
name_en = "Minami promotion council"
chair = "dr.kawa@univ.example.ac.jp"

[strategies.calendar.milestones]
plan_window_opens = "02-01"
plan_due = "03-05"
check_opens = "04-15"
report_due = "06-05"
internal_council_meeting = "06-26"
promotion_council_meeting = "07-31"
decisions_due = "09-15"
publication = "10-30"
"""
TOWN_ACTIONS = (
    "code,basic_policy,title_ja,division,owners,plan,indicator_code,indicator_name_ja,unit,direction,"
    "baseline_value,baseline_year,target_value,target_year\n"
) + """1-1-1,1 まもる,ため池の保全,農林課,nourin@city.example.jp,ため池を見回る,P1,保全したため池,箇所,up,3,2025,10,2030
9-1-1,9 つなぐ,生きもの教室,教育課,zoo@city.example.jp,教室を開く,,,,,,,,
"""


def config_with_town(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.read_text(encoding="utf-8") + SECOND, encoding="utf-8")
    return path


class Deployment:
    """The two strategies in one database, their actions imported and FY2026 open."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        config = config_with_town(tmp_path)
        settings = load_settings(config, env={"PDCA_DATABASE_URL": url})
        self.pdca = Pdca(settings)
        self.pdca.migrate()
        self.city = self.pdca.sync()
        town_file = tmp_path / "town.csv"
        town_file.write_text(TOWN_ACTIONS, encoding="utf-8")
        with db.writing(self.pdca.engine) as conn:
            self.town = self.pdca.tenants.by_code(conn, TOWN).id
            import_actions(conn, strategy=self.city, path=SAMPLE, now=NOW)
            import_actions(conn, strategy=self.town, path=town_file, now=NOW)

    def cycle(self, strategy: int, code: str, fy: int = 2026) -> int:
        with db.reading(self.pdca.engine) as conn:
            return self.pdca.registry.primary.store.find(conn, tenant=strategy, key=code, fy=fy)

    def fire(self, strategy: int, code: str, trigger: str, who: str, now: datetime = NOW, **fields: Any) -> Any:
        with db.writing(self.pdca.engine) as conn:
            return self.pdca.workflow.fire_in(conn, self.cycle(strategy, code), trigger, service.actor_for(conn, who),
                                              fields, now=now)

    def tick(self, at: datetime) -> Any:
        with db.writing(self.pdca.engine) as conn:
            return tick(conn, self.pdca.registry, self.pdca.tenants, now=at)


@pytest.fixture
def two(tmp_path: Path, database_url: str) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path, database_url)
    yield deployment
    deployment.pdca.close()


def test_the_second_strategy_is_checked_as_the_first(tmp_path: Path) -> None:
    path = config_with_town(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(f'chair = "{TOWN_CHAIR}"', 'chair = "nobody@x.jp"'),
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"strategies\[0\]\.councils\.internal\.chair: nobody@x.jp"):
        load_settings(path, env={})
    path.write_text(CONFIG.read_text(encoding="utf-8") + SECOND.replace(TOWN, "biodiversity-2026"), encoding="utf-8")
    with pytest.raises(ConfigError, match="code biodiversity-2026 used more than once"):
        load_settings(path, env={})


def test_a_chair_of_one_strategy_neither_sees_nor_acts_on_the_others_items(two: Deployment, tmp_path: Path) -> None:
    with db.writing(two.pdca.engine) as conn:
        open_year(conn, two.pdca.registry, two.pdca.tenants.get(conn, two.town), fy=2026, now=NOW)
        open_year(conn, two.pdca.registry, two.pdca.tenants.get(conn, two.city), fy=2026, now=NOW)
    two.fire(two.town, "1-1-1", "submit_plan", OWNER)
    two.fire(two.city, "1-1-2", "submit_plan", OWNER)
    with pytest.raises(WrongRole, match=TOWN_CHAIR):
        two.fire(two.town, "1-1-1", "approve_plan", CHAIR)  # the city's chair, on the town's plan
    with pytest.raises(WrongRole, match=CHAIR):
        two.fire(two.city, "1-1-2", "approve_plan", TOWN_CHAIR)  # the town's chair, on the city's plan

    with TestClient(create_app(two.pdca, clock=Clock(NOW)), follow_redirects=False) as client:
        city_chair = sign_in(TestClient(client.app, follow_redirects=False), _year(two), CHAIR)
        assert city_chair.get(f"/s/{TOWN}/actions/1-1-1/2026").status_code == 404
        assert city_chair.get(f"/s/{TOWN}/councils/internal").status_code == 404
        assert "1-1-2" in city_chair.get("/councils/internal").text
        api = client.get(f"/api/strategies/{TOWN}/cycles", headers=token_for(_year(two), CHAIR))
        assert api.status_code == 404
        # The town's chair owns an action in the city: his work in both, each linked to its strategy's page.
        town_chair = sign_in(TestClient(client.app, follow_redirects=False), _year(two), TOWN_CHAIR)
        work = town_chair.get("/").text
        assert f'href="/s/{TOWN}/actions/1-1-1/2026"' in work and 'href="/actions/1-1-1/2026"' in work
        assert 'href="/actions/1-1-2/2026"' not in work  # the city's plan waits for the city's chair
        assert town_chair.get(f"/s/{TOWN}/actions/1-1-1/2026").status_code == 200
        page = town_chair.get("/actions/1-1-2/2026").text  # a member of the city's council: he may draft, not approve
        assert '<button type="submit">計画を承認</button>' not in page and "下書き保存" in page
    two.fire(two.town, "1-1-1", "approve_plan", TOWN_CHAIR)


def _year(two: Deployment) -> Any:
    """What the web test helpers need of a Year: the engine."""
    return type("Y", (), {"engine": two.pdca.engine})()


def test_one_tick_runs_each_strategy_on_its_own_calendar(two: Deployment) -> None:
    report = two.tick(datetime(2026, 1, 15, 6, tzinfo=JST))  # the city's plan window; not yet the town's
    assert report.transitions["open"] == 12
    report = two.tick(datetime(2026, 2, 2, 6, tzinfo=JST))  # the town's (Feb 1 was a Sunday: moved back)
    assert report.transitions["open"] == 2
    with db.reading(two.pdca.engine) as conn:
        requested = conn.execute(select(OutboxMessage.tenant_id, OutboxMessage.recipient, OutboxMessage.due)
                                 .where(OutboxMessage.kind == "plan_requested")).all()
    town = sorted((r.recipient, r.due) for r in requested if r.tenant_id == two.town)
    assert town == [(OWNER, date(2026, 3, 5)), ("zoo@city.example.jp", date(2026, 3, 5))]
    assert {r.due for r in requested if r.tenant_id == two.city} == {date(2026, 2, 27)}


def test_each_strategy_publishes_on_its_own_and_a_simulated_year_keeps_them_apart(two: Deployment) -> None:
    replay = simulate(two.pdca, date(2025, 1, 15), date(2026, 11, 30), actors=True)
    assert replay.totals().refused == 0
    with db.reading(two.pdca.engine) as conn:
        states = conn.execute(select(Action.strategy_id, Cycle.state).join(Action, Action.id == Cycle.action_id)
                              .where(Cycle.fy == 2025)).all()
        assert {s for _, s in states} == {"closed"}
        assert sorted({sid for sid, _ in states}) == sorted({two.city, two.town})
        strategy_of = dict(conn.execute(
            select(Cycle.id, Action.strategy_id).join(Action, Action.id == Cycle.action_id)).all())
        audits = conn.execute(select(AuditEvent.instance_id, AuditEvent.tenant_id)
                              .where(AuditEvent.workflow == "action_cycle")).all()
        assert all(tenant == strategy_of[cycle] for cycle, tenant in audits)
        messages = conn.execute(select(OutboxMessage.instance_id, OutboxMessage.tenant_id, OutboxMessage.recipient)
                                .where(OutboxMessage.workflow == "action_cycle")).all()
        assert all(tenant == strategy_of[cycle] for cycle, tenant, _ in messages if cycle)
        town_people = {r for _, t, r in messages if t == two.town}
        assert town_people <= {OWNER, "zoo@city.example.jp", TOWN_CHAIR, "museum@city.example.jp",
                               "dr.kawa@univ.example.ac.jp", "koen@city.example.jp"}
        published = conn.execute(select(Publication.strategy_id, Publication.fy, Publication.content)).all()
    codes = {(sid, fy): sorted(a["code"] for a in content["actions"]) for sid, fy, content in published}
    assert codes[two.town, 2025] == ["1-1-1", "9-1-1"]
    assert len(codes[two.city, 2025]) == 12


def test_the_cli_asks_which_strategy_when_there_are_several(tmp_path: Path) -> None:
    config = config_with_town(tmp_path)
    env = {"PDCA_CONFIG": str(config), "PDCA_DATABASE_URL": f"sqlite:///{tmp_path}/pdca.sqlite3"}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    (tmp_path / "town.csv").write_text(TOWN_ACTIONS, encoding="utf-8")
    imported = runner.invoke(cli, ["--strategy", TOWN, "import", str(tmp_path / "town.csv"), "--open-fy", "2026"],
                             env=env)
    assert imported.exit_code == 0, imported.output
    which = runner.invoke(cli, ["actions"], env=env)
    assert which.exit_code == 2 and TOWN in which.output and "--strategy" in which.output
    listed = runner.invoke(cli, ["--strategy", TOWN, "actions", "--json"], env=env)
    assert listed.exit_code == 0 and '"9-1-1"' in listed.output
    unknown = runner.invoke(cli, ["--strategy", "atlantis", "actions"], env=env)
    assert unknown.exit_code == 2 and "not a strategy of this config" in unknown.output


def test_a_person_with_a_part_in_both_hears_from_each(tmp_path: Path, database_url: str) -> None:
    """Same calendar, same day: the city's and the town's publication notices are two."""
    two = Deployment(tmp_path, database_url)
    two.pdca.close()
    config = tmp_path / "config.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text[:text.index("[strategies.calendar.milestones]")], encoding="utf-8")  # the file's calendar
    try:
        two.pdca = Pdca(load_settings(config, env={"PDCA_DATABASE_URL": database_url}))
        with db.writing(two.pdca.engine) as conn:
            for strategy in (two.city, two.town):
                open_year(conn, two.pdca.registry, two.pdca.tenants.get(conn, strategy), fy=2026, now=NOW)
        report = two.tick(datetime(2027, 9, 30, 6, tzinfo=JST))
        assert report.transitions["publish"] == 2
        with db.reading(two.pdca.engine) as conn:
            told = conn.execute(select(OutboxMessage.tenant_id).where(
                OutboxMessage.kind == "publication_done", OutboxMessage.recipient == OWNER)).scalars().all()
        assert sorted(told) == sorted([two.city, two.town])
    finally:
        two.pdca.close()


def test_a_strategys_admins_see_and_act_on_their_own_mail_and_people_only(two: Deployment) -> None:
    from app.mail import queue_now

    with db.writing(two.pdca.engine) as conn:
        queue_now(two.pdca, conn, kind="sign_in_link", email="prof.mori@univ.example.ac.jp", now=NOW,
                  extra={"link": "http://x/sign-in/secret", "expires_minutes": 30})
        town_admin = service.actor_for(conn, "koen@city.example.jp")
        with pytest.raises(WrongRole, match="administers no strategy in which fukushichou"):
            service.set_absent(conn, email=CHAIR, absent=True, now=NOW, by=town_admin)
        service.set_absent(conn, email=TOWN_CHAIR, absent=True, now=NOW, by=town_admin)
        seen = conn.execute(select(AuditEvent.tenant_id).where(AuditEvent.workflow == "person")).scalars().all()
    assert sorted(seen) == sorted([two.city, two.town])  # he sits in both: both audit logs say so
    with TestClient(create_app(two.pdca, clock=Clock(NOW)), follow_redirects=False) as client:
        koen = sign_in(TestClient(client.app, follow_redirects=False), _year(two), "koen@city.example.jp")
        assert "prof.mori" not in koen.get(f"/s/{TOWN}/admin/outbox").text
        admin = sign_in(TestClient(client.app, follow_redirects=False), _year(two), "kankyo.admin@city.example.jp")
        assert "prof.mori" in admin.get(f"/s/{TOWN}/admin/outbox").text  # the deployment's admin sees all
