"""The councils' meetings, as a year tells them: the internal council is convened by the
calendar on its meeting day with the reports waiting for it as its agenda; after it the
secretariat records who came and the minutes, the decisions taken on the agenda's items
since the meeting come with them from the audit; only that council's chair approves the
minutes, and then the public reads them, with every word escaped."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine import db
from engine.errors import GuardRefused, InvalidFields, WrongRole
from engine.outbox import OutboxMessage
from tests.conftest import ADMIN, CHAIR, NOW, OWNER, PROMOTION_CHAIR, VICE_CHAIR, Year
from tests.test_action_cycle import REPORT
from tests.test_web import Clock, clock, csrf_of, sign_in, web  # noqa: F401  (the fixtures)
from workflows import service
from workflows.models import Meeting
from workflows.tick import tick

JST = ZoneInfo("Asia/Tokyo")
MEETING_DAY = datetime(2027, 6, 18, 6, tzinfo=JST)  # 06-19 is a Saturday: the Friday before
AFTER = datetime(2027, 6, 25, 10, tzinfo=JST)
HOSTILE = '<script>alert("議事録")</script> & 次回'


def to_internal_review(year: Year, code: str) -> None:
    report = REPORT if code == "1-1-2" else {"status": "implemented", "content": "調査を実施", "indicators.F1": "10",
                                                      "self_grade": "B"}
    for trigger, who, fields in (("submit_plan", OWNER, {"plan": "計画"}), ("approve_plan", CHAIR, {}),
                                 ("open_check", ADMIN, {}), ("submit_report", OWNER, report)):
        year.fire(code, trigger, who, **fields)


def tick_on(year: Year, moment: datetime) -> None:
    with db.writing(year.engine) as conn:
        tick(conn, year.pdca.registry, year.pdca.tenants, strategy=year.strategy, now=moment)


def meetings(year: Year) -> list[dict]:
    with db.reading(year.engine) as conn:
        return [dict(r) for r in conn.execute(select(Meeting.__table__).order_by(Meeting.id)).mappings()]  # type: ignore[attr-defined]


def fire(year: Year, meeting: int, trigger: str, who: str, now: datetime = AFTER, **fields: object) -> None:
    with db.writing(year.engine) as conn:
        year.pdca.registry["meeting"].workflow.fire_in(conn, meeting, trigger, service.actor_for(conn, who), fields,
                                                       now=now)


def test_the_calendar_convenes_the_council_with_its_packet_and_the_minutes_carry_its_decisions(year: Year) -> None:
    to_internal_review(year, "1-1-2")
    to_internal_review(year, "2-1-1")
    tick_on(year, datetime.combine(MEETING_DAY.date().replace(day=17), time(6), JST))
    assert [m for m in meetings(year) if m["body"] == "internal"] == []  # not before its day
    tick_on(year, MEETING_DAY)
    tick_on(year, MEETING_DAY.replace(hour=18))  # a second tick that day convenes nothing more
    internal = [m for m in meetings(year) if m["body"] == "internal"]
    assert len(internal) == 1
    meeting = internal[0]
    assert meeting["state"] == "convened" and meeting["fy"] == 2026 and meeting["regular"]
    assert meeting["held_on"].isoformat() == "2027-06-18"
    assert meeting["agenda"] == [year.cycle_id("1-1-2"), year.cycle_id("2-1-1")]

    year.fire("1-1-2", "accept_report", CHAIR, now=AFTER)  # decided after the meeting; 2-1-1 still open
    with pytest.raises(InvalidFields):  # someone not on the council is no attendee
        fire(year, meeting["id"], "record_minutes", ADMIN, present=[PROMOTION_CHAIR], minutes="議事録")
    with pytest.raises(WrongRole):  # minutes are the secretariat's to record
        fire(year, meeting["id"], "record_minutes", CHAIR, present=[CHAIR], minutes="議事録")
    fire(year, meeting["id"], "record_minutes", ADMIN, present=[CHAIR, VICE_CHAIR], minutes=HOSTILE)
    recorded = next(m for m in meetings(year) if m["id"] == meeting["id"])
    assert recorded["state"] == "minutes_review"
    present = {a["email"]: a["present"] for a in recorded["attendance"]}
    assert present[CHAIR] and present[VICE_CHAIR] and not all(present.values())
    assert [(d["code"], d["trigger"]) for d in recorded["decisions"]] == [("1-1-2", "accept_report")]
    with db.reading(year.engine) as conn:
        told = conn.execute(select(OutboxMessage.recipient).where(OutboxMessage.kind == "minutes_to_approve")
                            ).scalars().all()
    assert told == [CHAIR]

    with pytest.raises(WrongRole):  # the promotion council's chair has no say over these minutes
        fire(year, meeting["id"], "approve_minutes", PROMOTION_CHAIR)
    fire(year, meeting["id"], "return_minutes", CHAIR, comment="出席者に環境局長を加えてください")
    assert next(m for m in meetings(year) if m["id"] == meeting["id"])["state"] == "convened"
    fire(year, meeting["id"], "record_minutes", ADMIN, present=[CHAIR, VICE_CHAIR], minutes=HOSTILE)
    fire(year, meeting["id"], "approve_minutes", CHAIR)
    assert next(m for m in meetings(year) if m["id"] == meeting["id"])["state"] == "published"


def test_an_extra_meeting_s_minutes_wait_until_it_is_held(year: Year) -> None:
    with db.writing(year.engine) as conn:
        fired = year.pdca.registry["meeting"].workflow.open(
            conn, "convene", service.actor_for(conn, ADMIN),
            {"body": "promotion", "fy": "2026", "held_on": "2026-12-10"}, now=NOW, tenant=year.strategy)
    extra = next(m for m in meetings(year) if m["id"] == fired.instance_id)
    assert not extra["regular"] and extra["title"].startswith("生物多様性推進会議")
    with pytest.raises(GuardRefused) as refused:
        fire(year, extra["id"], "record_minutes", ADMIN, now=NOW, present=[PROMOTION_CHAIR], minutes="議事録")
    assert "2026-12-10" in str(refused.value.reasons[0])
    with pytest.raises(WrongRole), db.writing(year.engine) as conn:  # nobody but the secretariat calls a meeting
        year.pdca.registry["meeting"].workflow.open(
            conn, "convene", service.actor_for(conn, OWNER),
            {"body": "promotion", "fy": "2026", "held_on": "2026-12-10"}, now=NOW, tenant=year.strategy)


def test_published_minutes_are_public_in_words_and_escaped(web: TestClient, year: Year,  # noqa: F811
                                                           clock: Clock) -> None:  # noqa: F811
    to_internal_review(year, "1-1-2")
    tick_on(year, MEETING_DAY)
    meeting = next(m for m in meetings(year) if m["body"] == "internal")
    assert web.get(f"/public/meetings/{meeting['id']}").status_code == 404  # not before the chair approves
    year.fire("1-1-2", "accept_report", CHAIR, now=AFTER)
    clock.now = AFTER
    secretariat = sign_in(web, year, ADMIN)
    page = secretariat.get(f"/w/meeting/{meeting['id']}").text
    assert "出席者と議事録を記録する" in page and 'type="checkbox"' in page
    done = secretariat.post(f"/w/meeting/{meeting['id']}/fire", data={
        "csrf": csrf_of(page), "trigger": "record_minutes", "version": "1", "present": [CHAIR, VICE_CHAIR],
        "minutes": HOSTILE})
    assert done.status_code == 303, done.text
    fire(year, meeting["id"], "approve_minutes", CHAIR)

    listing = web.get("/public/meetings")
    assert listing.status_code == 200 and "庁内推進会議" in listing.text and "2027-06-18" in listing.text
    public = web.get(f"/public/meetings/{meeting['id']}")
    assert public.status_code == 200
    text = public.text
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text and "&amp; 次回" in text
    assert "1-1-2" in text and "里山林の保全管理" in text and "出席" in text and "欠席" in text
    assert CHAIR not in text and "@" not in text.split("<main")[1].split("</main>")[0]  # names, never addresses
    english = web.get(f"/public/meetings/{meeting['id']}?lang=en").text
    assert "Intra-office" in english and "present" in english


def test_the_yearly_publication_lists_the_year_s_meetings_with_a_link_to_their_minutes(year: Year) -> None:
    from publishing.site import render_pages
    from workflows.action_cycle import results

    to_internal_review(year, "1-1-2")
    tick_on(year, MEETING_DAY)
    meeting = next(m for m in meetings(year) if m["body"] == "internal")
    fire(year, meeting["id"], "record_minutes", ADMIN, present=[CHAIR], minutes="議事録")
    options = year.pdca.registry.primary.options
    with db.reading(year.engine) as conn:
        assert options["meetings"](conn, year.tenant(conn), 2026) == []  # not before the chair approves
    fire(year, meeting["id"], "approve_minutes", CHAIR)
    with db.writing(year.engine) as conn:
        tenant = year.tenant(conn)
        publication, _ = results.publish(conn, strategy_code=tenant.code, fy=2026, now=NOW, hub={},
                                         meetings=options["meetings"](conn, tenant, 2026))
    assert [(m["id"], m["held_on"], m["council_ja"], m["items"]) for m in publication["meetings"]] == [
        (meeting["id"], "2027-06-18", "庁内推進会議", 1)]
    index = render_pages(publication)["index.html"]
    assert f'href="../../meetings/{meeting["id"]}"' in index and "この年度の会議" in index
