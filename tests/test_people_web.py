"""People, the bodies' seats and the reminder series set by admins on the web: checked as
config.toml is, previewed where they re-plan what is queued, audited with who and why, and
kept when `pdca init` runs again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text

from app.web.main import create_app
from engine import db
from engine.outbox import OutboxMessage
from tests.conftest import ADMIN, CHAIR, MEMBER, NOW, OWNER, Year
from tests.test_calendar_web import queue_report_reminder, shown
from tests.test_web import Clock, csrf_of, sign_in
from workflows.models import Council, Membership, Person

SECRETARIAT_MEMBER = "jimukyoku@city.example.jp"


@pytest.fixture
def admin(year: Year) -> Iterator[TestClient]:
    with TestClient(create_app(year.pdca, clock=Clock(NOW)), follow_redirects=False) as client:
        yield sign_in(client, year, ADMIN)


def form(client: TestClient, page: str = "/admin/people", **values: str) -> dict[str, str]:
    return {"csrf": csrf_of(client.get(page).text)} | values


def snapshot(year: Year) -> list[tuple]:  # type: ignore[type-arg]
    """What a refused change must leave as it was, on either database."""
    with year.engine.connect() as conn:
        return [tuple(conn.execute(text(sql)).all()) for sql in (
            "SELECT count(*) FROM audit_event",
            "SELECT email, name, division FROM person ORDER BY id",
            "SELECT council_id, person_id, role FROM membership ORDER BY id",
            "SELECT id, status FROM outbox ORDER BY id",
            "SELECT id, reminders FROM strategy ORDER BY id")]


def queue_to(year: Year, kind: str, recipient: str, due: date, step: str) -> int:
    with db.writing(year.engine) as conn:
        return int(conn.execute(insert(OutboxMessage).values(
            dedupe_key=f"{kind}|{due.isoformat()}|{step}|{recipient}", kind=kind, recipient=recipient,
            workflow="action_cycle", instance_id=None, tenant_id=year.strategy, payload={"fy": 2026}, due=due,
            step=step, status="queued", created_at=NOW)).inserted_primary_key[0])


def status_of(year: Year, message: int) -> str:
    with db.reading(year.engine) as conn:
        return str(conn.execute(select(OutboxMessage.status).where(OutboxMessage.id == message)).scalar())


# -- the reminder series ---------------------------------------------------------------------------------------


def test_the_reminder_series_is_previewed_then_saved_and_replans_the_queued_reminders(
        admin: TestClient, year: Year) -> None:
    reminder = queue_report_reminder(year, date(2027, 5, 28))  # step -7
    before = snapshot(year)
    values = {"reminder_days": "14, 3, 1", "repeat_days": "5", "escalate_after_days": "10", "why": "課長会議の決定"}
    preview = admin.post("/admin/reminders?fy=2026", data=form(admin, "/admin?fy=2026", **values))
    assert preview.status_code == 200
    said = shown(preview.text)
    assert "変更の確認" in said and "2027-05-25 (火)" in said  # the report due 05-28, three days before
    assert OWNER in said and "report_reminder" not in said
    assert snapshot(year) == before and status_of(year, reminder) == "queued"

    saved = admin.post("/admin/reminders?fy=2026", data=form(admin, "/admin?fy=2026", confirm="yes", **values))
    assert saved.status_code == 303 and saved.headers["location"] == "/admin?fy=2026&done=reminders"
    assert "お知らせの日程を保存しました" in admin.get(saved.headers["location"]).text
    assert status_of(year, reminder) == "cancelled"
    outbox = shown(admin.get("/admin/outbox?status=cancelled").text)
    assert "お知らせの日程の変更により取消し" in outbox and "期限の14・7・1日前" in outbox
    audit = shown(admin.get("/admin/audit").text)
    assert "お知らせの日程を変えました" in audit and "期限の14・3・1日前、期限後5日ごと、10日遅れで事務局へ" in audit
    assert "課長会議の決定" in audit
    year.pdca.sync()  # `pdca init` again keeps it
    with db.reading(year.engine) as conn:
        settings = year.pdca.tenants.get(conn, year.strategy).calendar.settings
    assert (settings.reminder_days, settings.repeat_days, settings.escalate_after_days) == ([14, 3, 1], 5, 10)


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"reminder_days": "7, 7"}, "reminder_days", "重ならないように"),
    ({"reminder_days": "一週間"}, "reminder_days", "重ならないように"),
    ({"repeat_days": "0"}, "repeat_days", "1から60まで"),
    ({"escalate_after_days": "x"}, "escalate_after_days", "1から120まで"),
    ({"why": " "}, "why", "変更の理由を書いてください"),
])
def test_a_bad_reminder_series_is_refused_beside_its_field_and_nothing_changes(
        admin: TestClient, year: Year, values: dict[str, str], field: str, words: str) -> None:
    before = snapshot(year)
    sent = {"reminder_days": "14, 7, 1", "repeat_days": "7", "escalate_after_days": "14", "why": "理由"} | values
    refused = admin.post("/admin/reminders?fy=2026", data=form(admin, "/admin?fy=2026", confirm="yes", **sent))
    assert refused.status_code == 422
    assert f'id="err-series-{field}"' in refused.text and words in refused.text
    assert snapshot(year) == before


# -- people ----------------------------------------------------------------------------------------------------


def test_a_person_is_added_checked_as_the_config_is_and_kept_by_init(admin: TestClient, year: Year) -> None:
    before = snapshot(year)
    refused = admin.post("/admin/people/add", data=form(admin, email="not-an-address", name="", why=""))
    assert refused.status_code == 422
    for key, words in (("email", "メールアドレスとして読めません"), ("name", "名前を書いてください"),
                       ("why", "変更の理由を書いてください")):
        assert f'id="err-add-{key}"' in refused.text and words in refused.text
    taken = admin.post("/admin/people/add", data=form(admin, email=OWNER, name="農林", why="異動"))
    assert taken.status_code == 422 and "すでに登録されています" in taken.text
    assert snapshot(year) == before

    added = admin.post("/admin/people/add", data=form(
        admin, email="Shizen@City.example.jp", name="自然 七海", name_en="Nanami Shizen", division="自然保護課",
        language="ja", why="4月の異動で着任"))
    assert added.status_code == 303 and added.headers["location"] == "/admin/people?done=person"
    page = shown(admin.get("/admin/people").text)
    assert "自然 七海" in page and "shizen@city.example.jp" in page and "日本語" in page
    audit = shown(admin.get("/admin/audit").text)
    assert "自然 七海（自然保護課）を登録しました" in audit and "4月の異動で着任" in audit
    year.pdca.sync()  # not in config.toml, but added on the web: init leaves them active
    with db.reading(year.engine) as conn:
        assert conn.execute(select(Person.active).where(Person.email == "shizen@city.example.jp")).scalar() is True


def test_an_edit_on_the_web_survives_init_while_the_config_still_sets_what_nobody_changed(
        admin: TestClient, year: Year) -> None:
    edited = admin.post("/admin/people/edit", data=form(
        admin, email=OWNER, name="農林 三郎", name_en="Saburo Norin", division="農業振興課", language="en",
        why="組織改正"))
    assert edited.status_code == 303
    audit = shown(admin.get("/admin/audit").text)
    assert "農林 三郎（農業振興課）の所属、言語を変えました" in audit
    year.pdca.sync()
    assert year.pdca.last_sync is not None
    kept = {(kind, who, what) for kind, who, what, _ in year.pdca.last_sync.kept}
    assert kept == {("person", OWNER, "division"), ("person", OWNER, "language")}
    with db.reading(year.engine) as conn:
        row = conn.execute(select(Person.division, Person.language).where(Person.email == OWNER)).one()
    assert tuple(row) == ("農業振興課", "en")


def test_removing_someone_keeps_them_named_and_init_does_not_bring_them_back(
        admin: TestClient, year: Year) -> None:
    removed = admin.post("/admin/people/edit", data=form(
        admin, email=MEMBER, name="河川 四郎", language="ja", active="0", why="退職"))
    assert removed.status_code == 303
    page = shown(admin.get("/admin/people").text)
    assert "外された人" in page and "河川 四郎 (kasen@city.example.jp)" in page
    year.pdca.sync()
    with db.reading(year.engine) as conn:
        assert conn.execute(select(Person.active).where(Person.email == MEMBER)).scalar() is False
    yourself = admin.post("/admin/people/edit", data=form(admin, email=ADMIN, name="環境 花子", active="0",
                                                          why="x"))
    assert yourself.status_code == 422 and "自分自身は外せません" in yourself.text


def test_only_an_admin_of_every_strategy_makes_one(year: Year) -> None:
    with TestClient(create_app(year.pdca, clock=Clock(NOW)), follow_redirects=False) as client:
        secretariat = sign_in(client, year, SECRETARIAT_MEMBER)
        refused = secretariat.post("/admin/people/edit", data=form(
            secretariat, email=OWNER, name="農林 三郎", language="ja", admin="1", why="頼まれたので"))
    assert refused.status_code == 422 and "全体の管理者を決められるのは全体の管理者だけです" in refused.text


# -- seats -----------------------------------------------------------------------------------------------------


def seats(year: Year, body: str) -> dict[str, str]:
    with db.reading(year.engine) as conn:
        return dict(conn.execute(select(Person.email, Membership.role).join(
            Membership, Membership.person_id == Person.id).join(Council, Council.id == Membership.council_id)
            .where(Council.strategy_id == year.strategy, Council.key == body)).all())


def test_a_new_chair_is_previewed_with_the_messages_it_replans_then_saved_and_kept_by_init(
        admin: TestClient, year: Year) -> None:
    reminder = queue_to(year, "decision_reminder", CHAIR, date(2027, 8, 31), "-7")
    packet = queue_to(year, "internal_packet", CHAIR, date(2027, 6, 18), "")
    before = snapshot(year)
    values = {"body": "internal", "email": MEMBER, "role": "chair", "why": "人事異動"}
    preview = admin.post("/admin/people/seat", data=form(admin, **values))
    assert preview.status_code == 200
    said = shown(preview.text)
    assert f"{CHAIR}: 会長 → 委員" in said and f"{MEMBER}: 委員 → 会長" in said
    assert "対応方針の決定期限のお知らせ" in said and "decision_reminder" not in said
    assert snapshot(year) == before

    saved = admin.post("/admin/people/seat", data=form(admin, confirm="yes", **values))
    assert saved.status_code == 303
    assert seats(year, "internal")[MEMBER] == "chair" and seats(year, "internal")[CHAIR] == "member"
    assert status_of(year, reminder) == "cancelled"
    assert status_of(year, packet) == "queued"  # still a member: the packet is still theirs
    outbox = shown(admin.get("/admin/outbox?status=cancelled").text)
    assert "役割の変更により取消し" in outbox and "庁内推進会議" in outbox
    audit = shown(admin.get("/admin/audit").text)
    assert "河川 四郎（河川課）を委員から会長にしました" in audit and "人事異動" in audit
    year.pdca.sync()
    assert seats(year, "internal")[MEMBER] == "chair"
    assert year.pdca.last_sync is not None
    assert ("body", "internal", "seats", year.strategy) in year.pdca.last_sync.kept


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"body": "internal", "email": CHAIR, "role": ""}, "role", "会長がいなくなります"),
    ({"body": "secretariat", "email": OWNER, "role": "chair"}, "role", "委員を選んでください"),
    ({"body": "internal", "email": "nobody@city.example.jp", "role": "member"}, "email", "登録されていません"),
    ({"body": "internal", "email": OWNER, "role": "member", "why": ""}, "why", "変更の理由を書いてください"),
])
def test_a_seat_no_config_could_hold_is_refused_beside_its_field(
        admin: TestClient, year: Year, values: dict[str, str], field: str, words: str) -> None:
    before = snapshot(year)
    refused = admin.post("/admin/people/seat", data=form(admin, confirm="yes", **({"why": "理由"} | values)))
    assert refused.status_code == 422
    assert f'id="err-seat-{field}"' in refused.text and words in refused.text
    assert snapshot(year) == before


def test_a_body_is_renamed_and_the_history_says_so(admin: TestClient, year: Year) -> None:
    renamed = admin.post("/admin/people/body", data=form(
        admin, body="promotion", name_ja="生物多様性みどり会議", name_en="Midori Biodiversity Council", why="改称"))
    assert renamed.status_code == 303
    assert "生物多様性みどり会議" in admin.get("/admin/people").text
    assert "の名称を生物多様性みどり会議に変えました" in shown(admin.get("/admin/audit").text)


# -- what an import keeps ----------------------------------------------------------------------------------------


def test_an_import_says_in_a_sentence_who_changed_what_it_kept(admin: TestClient, year: Year) -> None:
    from app.sample_city import SAMPLE_ACTIONS

    moved = admin.post("/admin/people/owners", data=form(admin, code="1-1-2", emails=MEMBER))
    assert moved.status_code == 303
    for lang, words in (("ja", "1-1-2の担当者: 2026/11/02に環境 花子（環境共生課）が変更しているため、"
                               "ファイルの値にしませんでした"),
                        ("en", "1-1-2 owners: kept, as Hanako Kankyo (環境共生課) changed it on 2026/11/02")):
        page = admin.get("/admin/import")
        done = admin.post(f"/admin/import?lang={lang}", data={"csrf": csrf_of(page.text)}, files={
            "file": ("actions.csv", SAMPLE_ACTIONS.read_bytes(), "text/csv")})
        assert done.status_code == 200
        said = shown(done.text)
        assert words in said and "owners (" not in said


def test_init_says_what_it_kept_in_the_person_s_language(admin: TestClient, year: Year) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from tests.conftest import CONFIG

    admin.post("/admin/people/edit", data=form(admin, email=OWNER, name="農林 三郎", division="農業振興課",
                                               language="ja", why="組織改正"))
    result = CliRunner().invoke(cli, ["--config", str(CONFIG), "--lang", "ja", "init"],
                                env={"PDCA_DATABASE_URL": year.pdca.settings.database.url})
    assert result.exit_code == 0, result.output
    assert f"そのまま: {OWNER}の所属はWebで変更されているため" in result.output
