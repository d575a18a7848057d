"""A strategy's own process through its target year: the tick opens the final review on its
date and reminds the secretariat; an extension moves the target year (and the targets, if
so chosen); the drafted next strategy, approved and adopted, is a strategy of its own that
opens its first cycles through the normal plan window while the old one opens none and
finishes its last check, then is superseded once that year is published."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.bootstrap import Pdca
from app.importing import import_actions
from app.web.main import create_app
from engine import db
from engine.errors import GuardRefused, InvalidFields
from engine.outbox import OutboxMessage
from tests.conftest import ADMIN, NOW, PROMOTION_CHAIR, SAMPLE, settings_for
from tests.test_web import Clock, csrf_of, sign_in
from tests.test_words import visible_text
from workflows import service
from workflows.models import Action, Council, Cycle, Indicator, Membership, Strategy, StrategyProcess
from workflows.strategy_review import STRATEGY_REVIEW
from workflows.tick import open_year, tick

JST = ZoneInfo("Asia/Tokyo")
SECRETARIAT = "jimukyoku@city.example.jp"


def at(day: str, hour: int = 6) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=JST)


class City:
    """The sample strategy with its target year brought forward to FY2026, so that a test
    reaches it; its FY2026 cycles open."""

    def __init__(self, url: str) -> None:
        settings = settings_for(url)
        self.pdca = Pdca(settings.model_copy(update={
            "strategy": settings.strategy.model_copy(update={"target_fy": 2026})}))
        self.strategy = self.pdca.sync()
        with db.writing(self.pdca.engine) as conn:
            import_actions(conn, strategy=self.strategy, path=SAMPLE, now=NOW)
            open_year(conn, self.pdca.registry, self.pdca.tenants.get(conn, self.strategy), fy=2026, now=NOW)

    @property
    def engine(self) -> Any:
        return self.pdca.engine

    @property
    def entry(self) -> Any:
        return self.pdca.registry["strategy"]

    def tick(self, day: str) -> Any:
        with db.writing(self.pdca.engine) as conn:
            return tick(conn, self.pdca.registry, self.pdca.tenants, now=at(day))

    def process(self, strategy: int | None = None) -> Any:
        with db.reading(self.pdca.engine) as conn:
            return conn.execute(select(StrategyProcess).where(
                StrategyProcess.tenant_id == (strategy or self.strategy))).first()

    def fire(self, trigger: str, who: str, day: str, **fields: Any) -> None:
        with db.writing(self.pdca.engine) as conn:
            self.entry.workflow.fire_in(conn, self.process().id, trigger, service.actor_for(conn, who),
                                        fields, now=at(day, 10))

    def state(self, strategy: int | None = None) -> str:
        return str(self.process(strategy).state)

    def queued(self, kind: str) -> list[str]:
        with db.reading(self.pdca.engine) as conn:
            return sorted(conn.execute(select(OutboxMessage.recipient).where(OutboxMessage.kind == kind)).scalars())

    def cycles(self, strategy: int, fy: int) -> list[str]:
        with db.reading(self.pdca.engine) as conn:
            return list(conn.execute(select(Cycle.state).join(Action, Action.id == Cycle.action_id).where(
                Action.strategy_id == strategy, Cycle.fy == fy)).scalars())


@pytest.fixture
def city(database_url: str) -> Iterator[City]:
    c = City(database_url)
    yield c
    c.pdca.close()


def test_the_final_review_opens_on_its_date_in_the_target_year_and_the_secretariat_is_reminded(city: City) -> None:
    city.tick("2026-05-31")
    assert city.state() == "active"
    city.tick("2026-06-01")
    assert city.state() == "final_review"
    assert SECRETARIAT in city.queued("final_review_opened") and ADMIN in city.queued("final_review_opened")
    city.tick("2026-09-16")  # 14 days before the package is due on 09-30
    assert SECRETARIAT in city.queued("strategy_reminder")
    city.tick("2026-10-07")
    assert SECRETARIAT in city.queued("strategy_overdue")


def test_an_extension_approved_by_the_promotion_council_moves_the_target_year_and_the_targets(city: City) -> None:
    with db.writing(city.pdca.engine) as conn:  # one target set for the old target year
        conn.execute(update(Indicator).where(Indicator.code == "S1").values(target_year=2026))
    city.tick("2026-06-01")
    with pytest.raises(InvalidFields, match="new_target_fy"):
        city.fire("request_extension", SECRETARIAT, "2026-06-10", new_target_fy="2026", reason="国家戦略の改定待ち",
                  targets="move")
    city.fire("request_extension", SECRETARIAT, "2026-06-10", new_target_fy="2028",
              reason="国家戦略の改定が遅れているため", targets="move")
    assert city.state() == "extension_review"
    assert PROMOTION_CHAIR in city.queued("strategy_step")
    city.fire("approve_extension", PROMOTION_CHAIR, "2026-07-30")
    assert city.state() == "active"
    with db.reading(city.pdca.engine) as conn:
        assert conn.execute(select(Strategy.target_fy).where(Strategy.id == city.strategy)).scalar() == 2028
        years = set(conn.execute(select(Indicator.target_year).join(Action, Action.id == Indicator.action_id)
                                 .where(Action.strategy_id == city.strategy, Indicator.code == "S1")).scalars())
        extension = city.process().extension
    assert years == {2028} and extension["moved_indicators"] >= 1
    assert extension["reason"] == "国家戦略の改定が遅れているため"
    city.tick("2026-08-01")
    assert city.state() == "active"  # the final review waits for FY2028 now
    city.tick("2027-01-20")  # the plan window for FY2027: still within the period
    assert city.cycles(city.strategy, 2027) and set(city.cycles(city.strategy, 2027)) == {"plan.drafting"}
    city.pdca.sync()  # `pdca init` again keeps the approved extension
    with db.reading(city.pdca.engine) as conn:
        assert conn.execute(select(Strategy.target_fy).where(Strategy.id == city.strategy)).scalar() == 2028


def test_the_next_strategy_is_drafted_approved_adopted_and_takes_over_without_mixing(city: City) -> None:
    city.tick("2026-06-01")
    city.fire("submit_review", SECRETARIAT, "2026-09-01", summary="31の取組のうち…")
    assert city.state() == "review_council"
    city.fire("return_review", PROMOTION_CHAIR, "2026-09-10", comment="指標ごとの見通しを加えてください")
    city.fire("submit_review", SECRETARIAT, "2026-09-20", summary="指標ごとの見通しを加えました")
    city.fire("approve_review", PROMOTION_CHAIR, "2026-10-01")
    assert city.state() == "next_drafting"
    with pytest.raises(GuardRefused, match="after FY2026"):
        city.fire("submit_draft", SECRETARIAT, "2026-11-01", code="midori-2027", name_ja="第2次みどり市生物多様性戦略",
                  name_en="Second Midori City Biodiversity Strategy", first_fy="2026", target_fy="2036")
    with pytest.raises(InvalidFields, match="code"):
        city.fire("submit_draft", SECRETARIAT, "2026-11-01", code="biodiversity-2026", name_ja="x", name_en="x",
                  first_fy="2027", target_fy="2036")
    with pytest.raises(GuardRefused, match="say why"):
        city.fire("plan_action", SECRETARIAT, "2026-10-05", action="1-1-1", treatment="drop")
    with pytest.raises(GuardRefused, match="merges into"):
        city.fire("plan_action", SECRETARIAT, "2026-10-05", action="1-2-1", treatment="merge", into="9-9-9",
                  reason="重複")
    city.fire("plan_action", SECRETARIAT, "2026-10-05", action="1-1-1", treatment="drop", reason="目標を達成した")
    city.fire("plan_action", SECRETARIAT, "2026-10-05", action="1-2-1", treatment="merge", into="1-2-2",
              reason="同じ湿地で行う取組をまとめる")
    city.fire("plan_action", SECRETARIAT, "2026-10-05", action="1-1-2", treatment="change",
              title_ja="里山林の保全と活用", reason="活用まで広げる")
    with pytest.raises(GuardRefused, match=r"nobody@city\.example\.jp"):
        city.fire("add_action", SECRETARIAT, "2026-10-06", code="5-1-1", basic_policy="5 気候変動への適応",
                  title_ja="緑の回廊づくり", division="公園課", owners=["nobody@city.example.jp"], plan="計画",
                  reason="国家戦略の行動目標に対応")
    city.fire("add_action", SECRETARIAT, "2026-10-06", code="5-1-1", basic_policy="5 気候変動への適応",
              title_ja="緑の回廊づくり", division="公園課", owners=["koen@city.example.jp"],
              plan="河川沿いの緑をつなぐ", reason="国家戦略の行動目標に対応")
    city.fire("submit_draft", SECRETARIAT, "2026-11-01", code="midori-2027", name_ja="第2次みどり市生物多様性戦略",
              name_en="Second Midori City Biodiversity Strategy", first_fy="2027", target_fy="2036")
    city.fire("approve_draft", PROMOTION_CHAIR, "2026-12-01")
    assert city.state() == "draft_approved"
    city.fire("adopt", SECRETARIAT, "2026-12-10")
    assert city.state() == "finishing"
    with db.reading(city.pdca.engine) as conn:
        new = conn.execute(select(Strategy.__table__).where(Strategy.code == "midori-2027")).one()  # type: ignore[attr-defined]
        assert (new.predecessor_id, new.first_fy, new.target_fy) == (city.strategy, 2027, 2036)
        old_actions = conn.execute(select(Action.code).where(Action.strategy_id == city.strategy)).scalars().all()
        new_actions = conn.execute(select(Action.code).where(Action.strategy_id == new.id)).scalars().all()
        assert sorted(new_actions) == sorted({*old_actions} - {"1-1-1", "1-2-1"} | {"5-1-1"})
        assert conn.execute(select(Action.title_ja).where(Action.strategy_id == new.id, Action.code == "1-1-2")
                            ).scalar() == "里山林の保全と活用"
        seats = conn.execute(select(Council.key, Membership.role).join(Membership, Membership.council_id == Council.id)
                             .where(Council.strategy_id == new.id)).all()
        assert ("promotion", "chair") in [tuple(s) for s in seats]
        assert conn.execute(select(Indicator.target_year).join(Action, Action.id == Indicator.action_id).where(
            Action.strategy_id == new.id, Indicator.target_value.is_not(None))).scalars().all()[0] == 2036
    city.tick("2026-12-11")
    assert city.state(new.id) == "adopted"
    city.tick("2027-01-20")  # the plan window for FY2027
    assert city.cycles(city.strategy, 2027) == []  # the old strategy opens no year past its target
    assert set(city.cycles(new.id, 2027)) == {"plan.drafting"} and len(city.cycles(new.id, 2027)) == len(new_actions)
    assert len(new_actions) == len(old_actions) - 1
    city.tick("2027-04-01")
    assert city.state(new.id) == "active"
    assert set(city.cycles(city.strategy, 2026)) and city.state() == "finishing"  # its last check still runs
    city.tick("2027-09-30")  # FY2026 published
    city.tick("2027-10-01")
    assert city.state() == "superseded"
    with db.reading(city.pdca.engine) as conn:  # the new strategy's cycles stayed its own
        assert set(conn.execute(select(Cycle.fy).join(Action, Action.id == Cycle.action_id)
                                .where(Action.strategy_id == new.id)).scalars()) == {2027}


def test_only_the_secretariat_and_the_promotion_chair_move_it(city: City) -> None:
    from engine.errors import WrongRole

    city.tick("2026-06-01")
    with pytest.raises(WrongRole):
        city.fire("submit_review", "nourin@city.example.jp", "2026-09-01", summary="x")
    city.fire("submit_review", SECRETARIAT, "2026-09-01", summary="総括")
    with pytest.raises(WrongRole):
        city.fire("approve_review", SECRETARIAT, "2026-09-02")


def test_a_simulation_through_the_target_year_ends_with_the_next_strategy_adopted_and_planning(
        city: City) -> None:
    from datetime import date

    from app.simulate import simulate

    replay = simulate(city.pdca, date(2026, 4, 1), date(2027, 1, 16), actors=True)  # the plan window opens 01-15
    total = replay.totals()
    for step in ("open_final_review", "submit_review", "approve_review", "submit_draft", "approve_draft", "adopt"):
        assert total.transitions[step] == 1, step
    assert city.state() == "finishing"
    with db.reading(city.pdca.engine) as conn:
        new = conn.execute(select(Strategy.id).where(Strategy.predecessor_id == city.strategy)).scalar_one()
    assert city.state(new) == "adopted"
    assert set(city.cycles(new, 2027)) == {"plan.drafting"} and city.cycles(city.strategy, 2027) == []
    assert city.cycles(new, 2026) == []  # adopted in June, yet nothing of its own before its first year
    assert set(city.cycles(city.strategy, 2026)) == {"do.implementing"}  # the old strategy's last year goes on


def test_the_process_page_speaks_words_and_takes_the_secretariat_s_step(city: City) -> None:
    codes = {s.name for s in STRATEGY_REVIEW.states if "_" in s.name} | {
        t.name for t in (*STRATEGY_REVIEW.triggers, *STRATEGY_REVIEW.openings) if "_" in t.name}
    city.tick("2026-06-01")
    process = city.process().id
    with TestClient(create_app(city.pdca, clock=Clock(at("2026-06-02", 10))), follow_redirects=False) as client:
        sign_in(client, city, SECRETARIAT)  # type: ignore[arg-type]  (sign_in needs only the engine)
        for lang, words in (("ja", "最終評価中"), ("en", "Final review")):
            page = client.get(f"/w/strategy/{process}?lang={lang}")
            assert page.status_code == 200
            text = visible_text(page.text)
            assert words in text and not [c for c in codes if c in text], text
        home = visible_text(client.get("/?lang=ja").text)
        assert "みどり市生物多様性戦略" in home and "最終評価中" in home  # My work: it waits for the secretariat
        page = client.get(f"/w/strategy/{process}")
        sent = client.post(f"/w/strategy/{process}/fire", data={
            "csrf": csrf_of(page.text), "trigger": "submit_review", "summary": "12件の取組の総括",
            "version": str(city.process().version)})
        assert sent.status_code == 303, visible_text(sent.text)
    assert city.state() == "review_council"


def test_the_approved_review_publishes_a_frozen_package_whose_figures_are_the_database_s(city: City) -> None:
    from workflows.models import Measurement

    with db.writing(city.pdca.engine) as conn:
        s1 = conn.execute(select(Indicator.id).join(Action, Action.id == Indicator.action_id).where(
            Action.strategy_id == city.strategy, Action.code == "1-1-2", Indicator.code == "S1")).scalar_one()
        for fy, value in ((2023, 30.0), (2024, 33.0), (2025, 35.0), (2026, 39.0)):
            conn.execute(Measurement.__table__.insert().values(indicator_id=s1, fy=fy, value=value))  # type: ignore[attr-defined]
    city.tick("2026-06-01")
    city.fire("submit_review", SECRETARIAT, "2026-09-01", summary="総括")
    city.fire("approve_review", PROMOTION_CHAIR, "2026-09-20")
    store = city.entry.store
    with db.reading(city.pdca.engine) as conn:
        published = store.published_review(conn, city.strategy)
        count = conn.execute(select(Action.id).where(Action.strategy_id == city.strategy)).all()
    assert published["version"] == 1 and len(published["content_hash"]) == 64
    assert len(published["actions"]) == len(count) and published["summary"] == "総括"
    s1_row = next(i for a in published["actions"] if a["code"] == "1-1-2" for i in a["indicators"] if i["code"] == "S1")
    assert s1_row["series"] == [[2023, 30.0], [2024, 33.0], [2025, 35.0], [2026, 39.0]]
    # 30 33 35 39: x̄ 2024.5, ȳ 34.25, Sxy = -1.5·-4.25 + -0.5·-1.25 + 0.5·0.75 + 1.5·4.75 = 14.5, Sxx 5: slope 2.9
    # 2030: 34.25 + 2.9 · 5.5 = 50.2, short of the target 60 (baseline 35): off course, progress (39-35)/25 = 0.16
    assert s1_row["forecast"]["method"] == "least_squares" and s1_row["forecast"]["value"] == 50.2
    assert (s1_row["verdict"], s1_row["progress"]) == ("off_course", 0.16)
    assert published["counts"]["by_verdict"]["off_course"] >= 1
    with db.writing(city.pdca.engine) as conn:  # nothing changed: publishing again makes no new version
        again = store.publish_review(conn, store.instance_of(conn, city.strategy), now=at("2026-09-21"))
    assert again["version"] == 1


def test_the_published_review_reads_in_both_languages_with_its_files(city: City) -> None:
    city.tick("2026-06-01")
    city.fire("submit_review", SECRETARIAT, "2026-09-01", summary="12件の取組の総括")
    city.fire("approve_review", PROMOTION_CHAIR, "2026-09-20")
    with TestClient(create_app(city.pdca, clock=Clock(at("2026-09-21", 10))), follow_redirects=False) as client:
        index = visible_text(client.get("/public").text)
        assert "計画期間の最終評価" in index
        latest = client.get("/public/review/")
        assert latest.status_code == 303 and latest.headers["location"] == "/public/review/v1/"
        ja = visible_text(client.get("/public/review/v1/").text)
        en = visible_text(client.get("/public/review/v1/en/").text)
        assert "計画期間の最終評価" in ja and "12件の取組の総括" in ja and "データなし" in ja
        assert "Final review of the strategy&#39;s period" in en and "no data" in en
        for text in (ja, en):
            assert "no_data" not in text and "off_course" not in text and "least_squares" not in text
        csv_file = client.get("/public/review/v1/review.csv")
        assert csv_file.status_code == 200 and "実績がありません" in csv_file.content.decode("utf-8-sig")
        assert client.get("/public/review/v1/review.xlsx").content[:2] == b"PK"
        assert client.get("/public/review/v2/").status_code == 404
        assert client.get("/public/review/v1/..%2F..%2F..%2Fconfig.toml").status_code == 404


def test_actions_tagged_with_framework_targets_make_the_contribution_table(city: City) -> None:
    city.tick("2026-05-01")
    with pytest.raises(GuardRefused, match="kmgbf:99"):
        city.fire("tag_targets", SECRETARIAT, "2026-05-01", action="1-1-2", targets=["kmgbf:99"])
    city.fire("tag_targets", SECRETARIAT, "2026-05-01", action="1-1-2", targets=["kmgbf:3", "nbsap_japan_2023:A1-1"])
    city.fire("tag_targets", SECRETARIAT, "2026-05-01", action="1-1-2", indicator="S1", targets=["kmgbf:2"])
    with TestClient(create_app(city.pdca, clock=Clock(at("2026-05-02", 10))), follow_redirects=False) as client:
        ja = visible_text(client.get("/public/contributions").text)
        assert "国の戦略・世界目標への貢献" in ja and "1-1-2 里山林の保全管理" in ja and "ターゲット3" in ja
        en = visible_text(client.get("/public/contributions?lang=en").text)
        assert "Target 3" in en and "kmgbf" not in en
        csv_text = client.get("/public/contributions.csv").content.decode("utf-8-sig")
        assert csv_text.count("1-1-2") == 3 and "昆明" in csv_text
        assert client.get("/public/contributions.xlsx").content[:2] == b"PK"
    # the draft's tags go with the next strategy
    city.tick("2026-06-01")
    city.fire("submit_review", SECRETARIAT, "2026-09-01", summary="総括")
    city.fire("approve_review", PROMOTION_CHAIR, "2026-09-20")
    city.fire("tag_targets", SECRETARIAT, "2026-10-01", action="1-2-2", targets=["kmgbf:11"])
    city.fire("submit_draft", SECRETARIAT, "2026-11-01", code="midori-2027", name_ja="第2次", name_en="Second",
              first_fy="2027", target_fy="2036")
    city.fire("approve_draft", PROMOTION_CHAIR, "2026-12-01")
    city.fire("adopt", SECRETARIAT, "2026-12-10")
    from workflows.models import FrameworkTag

    with db.reading(city.pdca.engine) as conn:
        new = conn.execute(select(Strategy.id).where(Strategy.code == "midori-2027")).scalar_one()
        tags = conn.execute(select(FrameworkTag.action_code, FrameworkTag.target).where(
            FrameworkTag.strategy_id == new)).all()
    assert [tuple(t) for t in tags] == [("1-2-2", "11")]


def test_next_targets_are_proposed_from_the_trend_editable_with_a_reason_and_published_with_why(
        city: City) -> None:
    from workflows.models import Measurement

    with db.writing(city.pdca.engine) as conn:
        ids = dict(conn.execute(select(Indicator.code, Indicator.id).join(Action, Action.id == Indicator.action_id)
                                .where(Action.strategy_id == city.strategy, Action.code == "1-1-2")).all())
        for fy, s1, s2 in ((2023, 30.0, 500.0), (2024, 33.0, 480.0), (2025, 35.0, 470.0), (2026, 39.0, 460.0)):
            conn.execute(Measurement.__table__.insert(), [  # type: ignore[attr-defined]
                {"indicator_id": ids["S1"], "fy": fy, "value": s1}, {"indicator_id": ids["S2"], "fy": fy, "value": s2}])
    city.tick("2026-06-01")
    city.fire("submit_review", SECRETARIAT, "2026-09-01", summary="総括")
    city.fire("approve_review", PROMOTION_CHAIR, "2026-09-20")
    with pytest.raises(GuardRefused, match="carries no indicator"):
        city.fire("set_target", SECRETARIAT, "2026-10-02", action="1-1-2", indicator="X9", target_value="1", reason="x")
    city.fire("set_target", SECRETARIAT, "2026-10-02", action="1-1-2", indicator="S2", target_value="600",
              reason="参加者は減っているが、学校との連携で増やす")
    city.fire("submit_draft", SECRETARIAT, "2026-11-01", code="midori-2027", name_ja="第2次みどり市生物多様性戦略",
              name_en="Second Midori City Biodiversity Strategy", first_fy="2027", target_fy="2036")
    store = city.entry.store
    with db.reading(city.pdca.engine) as conn:
        proposals = {p["indicator"]: p for p in store.target_proposals(conn, store.instance_of(conn, city.strategy))
                     if p["action"] == "1-1-2"}
    # S1 30 33 35 39 (slope 2.9, the line 34.25 + 2.9 · (2036 - 2024.5) = 67.6): proposed 68, rounded to whole ha
    assert (proposals["S1"]["proposal"]["method"], proposals["S1"]["target_value"]) == ("trend", 68.0)
    # S2 (higher is better) falls: keep at least the latest 460; the draft sets 600 with why
    assert proposals["S2"]["proposal"]["method"] == "maintain" and proposals["S2"]["target_value"] == 600.0
    city.fire("approve_draft", PROMOTION_CHAIR, "2026-12-01")
    city.fire("adopt", SECRETARIAT, "2026-12-10")
    with db.reading(city.pdca.engine) as conn:
        new = conn.execute(select(Strategy.id).where(Strategy.code == "midori-2027")).scalar_one()
        query = select(Indicator.code, Indicator.baseline_value, Indicator.baseline_year, Indicator.target_value,
                       Indicator.target_year, Indicator.target_basis).join(Action, Action.id == Indicator.action_id)
        rows = {r.code: r for r in conn.execute(query.where(Action.strategy_id == new, Action.code == "1-1-2"))}
        package = store.published_review(conn, city.strategy)
    assert (rows["S1"].baseline_value, rows["S1"].baseline_year, rows["S1"].target_value, rows["S1"].target_year) == (
        39.0, 2026, 68.0, 2036)
    assert rows["S2"].target_basis["method"] == "edited" and "学校" in rows["S2"].target_basis["reason"]
    assert package["version"] == 2 and package["next_strategy"]["code"] == "midori-2027"
    with TestClient(create_app(city.pdca, clock=Clock(at("2026-12-11", 10))), follow_redirects=False) as client:
        ja = visible_text(client.get("/public/review/v2/").text)
        en = visible_text(client.get("/public/review/v2/en/").text)
    assert "次期戦略の数値目標とその根拠" in ja and "学校との連携で増やす" in ja and "2036年度まで延ばした値" in ja
    assert "The next strategy's targets and why" in en.replace("&#39;", "'") and "maintain" not in en


def test_pdca_review_package_prints_the_published_figures_and_writes_its_pdf(city: City, tmp_path: Any) -> None:
    from pypdf import PdfReader
    from typer.testing import CliRunner

    from app.cli import cli
    from tests.conftest import CONFIG

    url = city.pdca.settings.database.url
    if not url.startswith("sqlite"):
        pytest.skip("runs on SQLite only: the CLI is pointed at the test database file, once is enough")
    runner = CliRunner()
    args = ["--config", str(CONFIG), "--lang", "ja", "review", "package"]
    env = {"PDCA_DATABASE_URL": url}
    refused = runner.invoke(cli, args, env=env)
    assert refused.exit_code == 1 and "最終評価はまだ公表されていません" in refused.output
    city.tick("2026-06-01")
    city.fire("submit_review", SECRETARIAT, "2026-09-01", summary="総括")
    city.fire("approve_review", PROMOTION_CHAIR, "2026-09-20")
    pdf = tmp_path / "review.pdf"
    shown = runner.invoke(cli, [*args, "--pdf", str(pdf)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "最終評価 第1版" in shown.output and "データなし" in shown.output
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "計画期間の最終評価" in text
    as_json = runner.invoke(cli, [*args, "--json"], env=env)
    import json

    assert json.loads(as_json.output)["version"] == 1
