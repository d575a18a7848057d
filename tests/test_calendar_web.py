"""A fiscal year's calendar as the database holds it: seeded from config.toml at `pdca
init`, changed by admins on the web, and never undone by init run again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text

from app.web.main import create_app
from engine import db
from engine.outbox import OutboxMessage
from tests.conftest import ADMIN, NOW, OWNER, Year
from tests.test_web import Clock, csrf_of, sign_in
from workflows.calendar import CalendarIn
from workflows.calendar_store import StoredYear, apply_years, store_year, stored_year
from workflows.tick import tick


def test_init_seeds_the_configured_overrides_and_a_rerun_keeps_a_stored_change(year: Year) -> None:
    pdca = year.pdca
    with db.reading(pdca.engine) as conn:
        seeded = stored_year(conn, year.strategy, 2026)
    assert seeded.overrides == {"promotion_council_meeting": date(2027, 7, 30)}
    with db.writing(pdca.engine) as conn:
        store_year(conn, year.strategy, StoredYear(2026, {"report_due": date(2027, 5, 31)}, ()))
    pdca.tenants.forget()
    with db.reading(pdca.engine) as conn:
        assert pdca.tenants.get(conn, year.strategy).calendar.due(2026, "report_due") == date(2027, 5, 31)
    pdca.sync()  # what `pdca init` runs again
    with db.reading(pdca.engine) as conn:
        calendar = pdca.tenants.get(conn, year.strategy).calendar
    assert calendar.due(2026, "report_due") == date(2027, 5, 31)
    assert calendar.due(2026, "promotion_council_meeting") == date(2027, 7, 23)  # the rule again: no override


def test_stored_years_are_validated_as_the_configuration_is() -> None:
    with pytest.raises(ValueError, match="must come after report_due"):
        apply_years(CalendarIn(), [StoredYear(2026, {"report_due": date(2027, 6, 30)}, ())])
    closed = apply_years(CalendarIn(), [StoredYear(2026, {}, (date(2027, 5, 28),))])
    assert closed.closed_dates == [date(2027, 5, 28)]


@pytest.fixture
def admin(year: Year) -> Iterator[TestClient]:
    with TestClient(create_app(year.pdca, clock=Clock(NOW)), follow_redirects=False) as client:
        yield sign_in(client, year, ADMIN)


def queue_report_reminder(year: Year, due: date) -> int:
    """A reminder of the FY2026 report due on `due`, queued as the tick queues it."""
    with db.writing(year.engine) as conn:
        return conn.execute(insert(OutboxMessage).values(
            dedupe_key=f"report_reminder|cycle:1|{due.isoformat()}|-7|{OWNER}", kind="report_reminder",
            recipient=OWNER, workflow="action_cycle", instance_id=1, tenant_id=year.strategy,
            payload={"fy": 2026}, due=due, step="-7", status="queued", created_at=NOW)).inserted_primary_key[0]


def snapshot(year: Year) -> list[tuple]:  # type: ignore[type-arg]
    """What a refused change must leave as it was, on either database."""
    with year.engine.connect() as conn:
        return [tuple(conn.execute(text(sql)).all()) for sql in (
            "SELECT count(*) FROM audit_event", "SELECT count(*) FROM calendar_year",
            "SELECT id, status FROM outbox ORDER BY id", "SELECT id, overrides FROM calendar_year ORDER BY id")]


def change(admin: TestClient, **values: str) -> dict[str, str]:
    page = admin.get("/admin?fy=2026")
    return {"csrf": csrf_of(page.text)} | values


def shown(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_preview_shows_the_year_and_the_messages_and_saves_nothing(admin: TestClient, year: Year) -> None:
    reminder = queue_report_reminder(year, date(2027, 5, 28))
    before = snapshot(year)
    preview = admin.post("/admin/calendar?fy=2026", data=change(
        admin, milestone="report_due", day="2027-06-01", why="議会日程のため"))
    assert preview.status_code == 200
    text_ = shown(preview.text)
    assert "変更の確認" in text_ and "2027-06-01 (火)" in text_ and "2027-05-28 (金)" in text_
    assert "2027-05-29 土曜日" in text_  # the other milestones' shift reasons, as on the calendar
    assert "報告" in text_ and OWNER in text_  # the reminder that would be cancelled, in words
    assert "report_reminder" not in text_ and "report_due" not in text_
    assert snapshot(year) == before
    with db.reading(year.engine) as conn:
        assert conn.execute(select(OutboxMessage.status).where(OutboxMessage.id == reminder)).scalar() == "queued"


def test_saving_moves_the_date_records_why_and_cancels_a_reminder_no_longer_due(
        admin: TestClient, year: Year) -> None:
    reminder = queue_report_reminder(year, date(2027, 5, 28))
    saved = admin.post("/admin/calendar?fy=2026", data=change(
        admin, milestone="report_due", day="2027-06-01", why="議会日程のため", confirm="yes"))
    assert saved.status_code == 303 and saved.headers["location"] == "/admin?fy=2026&done=calendar"
    calendar = admin.get(saved.headers["location"])
    assert "日程を保存しました" in calendar.text and "2027-06-01 (火)" in calendar.text
    assert b"20270601" in admin.get("/admin/calendar.ics?fy=2026").content
    audit = shown(admin.get("/admin/audit").text)
    assert "実施状況報告の提出期限を2027-05-28から2027-06-01に変えました" in audit and "議会日程のため" in audit
    with db.reading(year.engine) as conn:
        assert conn.execute(select(OutboxMessage.status).where(OutboxMessage.id == reminder)).scalar() == "cancelled"
    outbox = shown(admin.get("/admin/outbox?status=cancelled").text)
    assert "取消し" in outbox and "日程の変更により取消し" in outbox and "cancelled" not in outbox
    year.pdca.sync()  # `pdca init` again keeps the web's change
    with db.reading(year.engine) as conn:
        assert year.pdca.tenants.get(conn, year.strategy).calendar.due(2026, "report_due") == date(
            2027, 6, 1)


def test_a_closed_date_shifts_a_milestone(admin: TestClient, year: Year) -> None:
    saved = admin.post("/admin/calendar?fy=2026", data=change(
        admin, closed_add="2027-05-28", why="庁舎の停電", confirm="yes"))
    assert saved.status_code == 303
    page = shown(admin.get("/admin?fy=2026").text)
    assert "2027-05-27 (木)" in page and "閉庁日" in page


@pytest.mark.parametrize(("values", "field", "said"), [
    ({"milestone": "report_due", "day": "2027-13-01", "why": "x"}, "day", "日付が読めません"),
    ({"milestone": "report_due", "day": "2027-06-01", "why": " "}, "why", "変更の理由を書いてください"),
    ({"milestone": "report_due", "day": "2028-05-29", "why": "x"}, "day", "2027年の日付にしてください"),
    ({"milestone": "report_due", "day": "2027-07-30", "why": "x"}, "day", "より後の日にしてください"),
])
def test_bad_input_is_said_beside_the_field_and_nothing_is_saved(
        admin: TestClient, year: Year, values: dict[str, str], field: str, said: str) -> None:
    before = snapshot(year)
    for confirm in ("", "yes"):
        refused = admin.post("/admin/calendar?fy=2026", data=change(admin, **values, confirm=confirm))
        assert refused.status_code == 422
        assert re.search(f'id="err-{field}"[^>]*>[^<]*{said}', refused.text)
    assert snapshot(year) == before


def test_bad_input_in_english(admin: TestClient, year: Year) -> None:
    refused = admin.post("/admin/calendar?fy=2026&lang=en", data=change(
        admin, milestone="report_due", day="2027-06-01", why=""))
    assert refused.status_code == 422 and "Say why the calendar changes" in refused.text


def test_only_admins_change_the_calendar_with_the_sites_form(year: Year) -> None:
    with TestClient(create_app(year.pdca, clock=Clock(NOW)), follow_redirects=False) as web:
        sign_in(web, year, OWNER)
        owner_may_not(web, year)


def owner_may_not(web: TestClient, year: Year) -> None:
    csrf = csrf_of(web.get("/").text)
    before = snapshot(year)
    refused = web.post("/admin/calendar?fy=2026", data={"csrf": csrf, "milestone": "report_due",
                                                        "day": "2027-06-01", "why": "x", "confirm": "yes"})
    assert refused.status_code == 403
    assert snapshot(year) == before


def test_a_form_from_elsewhere_is_refused(admin: TestClient, year: Year) -> None:
    before = snapshot(year)
    refused = admin.post("/admin/calendar?fy=2026", data={"csrf": "forged", "milestone": "report_due",
                                                          "day": "2027-06-01", "why": "x", "confirm": "yes"})
    assert refused.status_code == 403
    assert snapshot(year) == before


def test_after_a_save_the_tick_queues_the_reminders_of_the_new_date(year: Year) -> None:
    """Re-planning: the queued reminder of the old plan date is cancelled on save; the next
    daily tick queues the one of the new date."""
    pdca = year.pdca

    def tick_on(day: datetime) -> list[tuple[str, date, str]]:
        with db.writing(pdca.engine) as conn:
            tick(conn, pdca.registry, pdca.tenants, now=day)
        with db.reading(pdca.engine) as conn:
            return sorted({(r.kind, r.due, r.status) for r in conn.execute(select(
                OutboxMessage.kind, OutboxMessage.due, OutboxMessage.status).where(
                OutboxMessage.kind == "plan_reminder"))})

    assert tick_on(datetime(2027, 2, 19, 0, tzinfo=UTC)) == [("plan_reminder", date(2027, 2, 26), "queued")]
    with TestClient(create_app(pdca, clock=Clock(datetime(2027, 2, 20, 0, tzinfo=UTC))),
                    follow_redirects=False) as admin:
        sign_in(admin, year, ADMIN)
        preview = admin.post("/admin/calendar?fy=2026", data=change(
            admin, milestone="plan_due", day="2027-03-05", why="議会の日程"))
        words = shown(preview.text)
        assert "取り消される送信待ちのお知らせ" in words and "2027-03-04 (木)" in words  # the -1 day reminder to come
        saved = admin.post("/admin/calendar?fy=2026", data=change(
            admin, milestone="plan_due", day="2027-03-05", why="議会の日程", confirm="yes"))
        assert saved.status_code == 303
    assert tick_on(datetime(2027, 2, 26, 0, tzinfo=UTC)) == [
        ("plan_reminder", date(2027, 2, 26), "cancelled"), ("plan_reminder", date(2027, 3, 5), "queued")]
