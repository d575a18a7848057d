"""The web app through its HTTP interface: signing in from an emailed link, each person's
work, the report form, refusals with the right status, the JSON API with tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.web.auth import create_api_token
from app.web.main import create_app
from app.web.models import ApiToken
from engine import db
from engine.audit import AuditEvent
from engine.outbox import OutboxMessage
from tests.conftest import ADMIN, CHAIR, NOW, OWNER, PROMOTION_CHAIR, Year
from workflows.models import Cycle, Person

REPORT = {"status": "implemented", "content": "間伐 4.2ha", "indicators.S1": "41.5", "indicators.S2.reason": "集計中",
          "self_grade": "B"}


STEPS = [("submit_plan", OWNER, {}), ("approve_plan", CHAIR, {}), ("open_check", ADMIN, {}),
         ("submit_report", OWNER, REPORT), ("accept_report", CHAIR, {})]


def walk(year: Year, until: str) -> None:
    """Take 1-1-2's FY2026 cycle through the first steps until it reaches `until`."""
    for trigger, who, fields in STEPS:
        if year.state("1-1-2") == until:
            return
        year.fire("1-1-2", trigger, who, **fields)
    assert year.state("1-1-2") == until


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def web(year: Year, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(year.pdca, clock=clock), follow_redirects=False) as client:
        yield client


def emailed_link(year: Year, email: str) -> str:
    with Session(year.engine) as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "sign_in_link", OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())  # type: ignore[union-attr]
        ).first()
    assert row is not None and row.raw is not None
    text = next(p for p in message_from_bytes(row.raw).walk() if p.get_content_type() == "text/plain")
    payload = text.get_payload(decode=True)
    assert isinstance(payload, bytes)
    found = re.search(r"https?://\S+/sign-in/(\S+)", payload.decode())
    assert found
    return f"/sign-in/{found[1]}"


def sign_in(client: TestClient, year: Year, email: str, next_url: str = "/") -> TestClient:
    form = client.get(f"/sign-in?next={next_url}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    sent = client.post("/sign-in", data={"email": email, "csrf": csrf[1], "next": next_url})
    assert sent.status_code == 200
    landed = client.get(emailed_link(year, email))
    assert landed.status_code == 303 and landed.headers["location"] == next_url
    return client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found[1]


def test_a_link_in_an_email_signs_in_once_and_lands_on_the_page(web: TestClient, year: Year) -> None:
    assert web.get("/actions/1-1-2/2026").headers["location"] == "/sign-in?next=/actions/1-1-2/2026"
    sign_in(web, year, OWNER, "/actions/1-1-2/2026")
    cookie = web.cookies.get("pdca_session")
    assert cookie
    page = web.get("/actions/1-1-2/2026")
    assert page.status_code == 200 and "里山林の保全管理" in page.text
    again = TestClient(web.app, follow_redirects=False)
    assert again.get(emailed_link(year, OWNER)).status_code == 401  # used already


def test_an_expired_link_is_refused(web: TestClient, year: Year, clock: Clock) -> None:
    form = web.get("/sign-in")
    web.post("/sign-in", data={"email": OWNER, "csrf": csrf_of(form.text), "next": "/"})
    clock.now = NOW + timedelta(minutes=31)
    refused = web.get(emailed_link(year, OWNER))
    assert refused.status_code == 401 and "期限切れ" in refused.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(web: TestClient, year: Year) -> None:
    form = web.get("/sign-in")
    answer = web.post("/sign-in", data={"email": "nobody@example.jp", "csrf": csrf_of(form.text), "next": "/"})
    assert answer.status_code == 200 and "ログイン用リンクを送りました" in answer.text
    with Session(year.engine) as session:
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "sign_in_link")).first() is None


def test_sign_in_refuses_a_form_from_elsewhere_and_never_redirects_off_site(web: TestClient, year: Year) -> None:
    assert web.post("/sign-in", data={"email": OWNER, "csrf": "forged", "next": "/"}).status_code == 403
    form = web.get("/sign-in?next=//evil.example.com/")
    assert 'name="next" value="/"' in form.text


def test_my_work_lists_what_waits_for_me(web: TestClient, year: Year) -> None:
    sign_in(web, year, OWNER)
    home = web.get("/")
    assert "1-1-2" in home.text and "2-1-1" in home.text and "1-1-1" not in home.text
    assert "計画作成中" in home.text


def test_an_owner_reports_through_the_form_and_a_chair_accepts(web: TestClient, year: Year) -> None:
    walk(year, "check.self_assessment")
    sign_in(web, year, OWNER)
    page = web.get("/actions/1-1-2/2026")
    assert 'name="indicators.S1"' in page.text and 'for="submit_report-status"' in page.text
    done = web.post("/actions/1-1-2/2026/fire", data={"csrf": csrf_of(page.text), "trigger": "submit_report",
                                                      "version": "5", **REPORT})
    assert done.status_code == 303
    assert year.state("1-1-2") == "check.internal_review"
    refused = web.post("/actions/1-1-2/2026/fire", data={"csrf": csrf_of(page.text), "trigger": "accept_report",
                                                         "version": "6"})
    assert refused.status_code == 403 and "fukushichou" in refused.text
    chair = TestClient(web.app, follow_redirects=False)
    sign_in(chair, year, CHAIR)
    queue = chair.get("/councils/internal")
    assert queue.status_code == 200 and "1-1-2" in queue.text
    page = chair.get("/actions/1-1-2/2026")
    # The reviewer sees each indicator against the year's expected value, its progress and status.
    row = re.search(r'<tr data-indicator="S1">(.*?)</tr>', page.text, re.S).group(1)  # type: ignore[union-attr]
    cells = dict(re.findall(r'data-field="(\w+)"[^>]*>(.*?)</td>', row, re.S))
    assert cells["value"].strip() == "41.5 ha" and cells["expected"] == "40 ha" and cells["progress"] == "26%"
    assert "順調" in cells["status"] and "進捗率＝" in page.text
    assert chair.post("/actions/1-1-2/2026/fire", data={"csrf": csrf_of(page.text), "trigger": "accept_report",
                                                        "version": "6"}).status_code == 303
    assert year.state("1-1-2") == "check.council_evaluation"


def test_form_refusals_carry_their_status(web: TestClient, year: Year) -> None:
    walk(year, "check.self_assessment")
    sign_in(web, year, OWNER)
    csrf = csrf_of(web.get("/actions/1-1-2/2026").text)
    invalid = web.post("/actions/1-1-2/2026/fire", data={"csrf": csrf, "trigger": "submit_report", "version": "5",
                                                         "status": "done"})
    assert invalid.status_code == 422 and "content" in invalid.text and 'value="done"' not in invalid.text
    stale = web.post("/actions/1-1-2/2026/fire", data={"csrf": csrf, "trigger": "submit_report", "version": "3",
                                                       **REPORT})
    assert stale.status_code == 409 and "読み込み直して" in stale.text  # said in the page's language
    forged = web.post("/actions/1-1-2/2026/fire", data={"csrf": "x", "trigger": "submit_report", "version": "5",
                                                        **REPORT})
    assert forged.status_code == 403
    assert year.state("1-1-2") == "check.self_assessment"


def test_council_pages_are_for_their_members(web: TestClient, year: Year) -> None:
    sign_in(web, year, OWNER)
    assert web.get("/councils/promotion").status_code == 403
    member = TestClient(web.app, follow_redirects=False)
    sign_in(member, year, PROMOTION_CHAIR)
    assert member.get("/councils/promotion").status_code == 200


def test_pages_switch_to_english(web: TestClient, year: Year) -> None:
    sign_in(web, year, OWNER)
    english = web.get("/?lang=en")
    assert "My work" in english.text and 'lang="en"' in english.text
    assert "My work" in web.get("/").text  # remembered
    assert "自分の作業" in web.get("/?lang=ja").text


def test_signing_out_ends_the_session(web: TestClient, year: Year) -> None:
    sign_in(web, year, OWNER)
    csrf = csrf_of(web.get("/").text)
    assert web.post("/sign-out", data={"csrf": csrf}).status_code == 303
    assert web.get("/").status_code == 303


# -- the JSON API ------------------------------------------------------------------------


def token_for(year: Year, email: str) -> dict[str, str]:
    with db.writing(year.engine) as conn:
        secret = create_api_token(conn, email=email, name="test", now=NOW)
    assert secret
    return {"Authorization": f"Bearer {secret}"}


def fire(web: TestClient, headers: dict[str, str], trigger: str, **body: Any) -> Any:
    return web.post("/api/cycles/1-1-2/2026/fire", headers=headers, json={"trigger": trigger, **body})


def test_the_api_needs_a_token(web: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer pdca_nope"}):
        answer = web.get("/api/cycles", headers=headers)
        assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"


def test_a_step_reads_its_token_in_its_own_transaction_and_a_refusal_records_nothing(
        web: TestClient, year: Year) -> None:
    """The step routes look the token up in the step's write transaction: a bad token is a
    401 that moves nothing, and the token's use is recorded with the step or not at all."""
    for headers in ({}, {"Authorization": "Bearer pdca_nope"}, {"Authorization": "Bearer "}):
        refused = fire(web, headers, "submit_plan", fields={"plan": "計画"})
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    owner, chair = token_for(year, OWNER), token_for(year, CHAIR)

    def last_used(email: str) -> list[Any]:
        with db.reading(year.engine) as conn:
            return list(conn.execute(select(ApiToken.last_used_at).join(Person, Person.id == ApiToken.person_id)
                                     .where(Person.email == email)).scalars())

    assert fire(web, chair, "approve_plan").status_code == 409  # not now: nothing written, its use neither
    assert last_used(CHAIR) == [None]
    assert fire(web, owner, "submit_plan", fields={"plan": "計画"}).status_code == 200
    assert year.state("1-1-2") == "plan.review" and last_used(OWNER) != [None]
    assert fire(web, {"Authorization": "Bearer pdca_nope"}, "approve_plan").status_code == 401
    assert year.state("1-1-2") == "plan.review"


def test_the_api_lists_shows_and_fires_with_reasons(web: TestClient, year: Year) -> None:
    owner, chair = token_for(year, OWNER), token_for(year, CHAIR)
    cycles = web.get("/api/cycles", headers=owner, params={"fy": 2026}).json()
    assert len(cycles) == 12 and {"code", "fy", "state", "owner"} <= set(cycles[0])
    story = web.get("/api/cycles/1-1-2/2026", headers=owner).json()
    assert story["allowed"][0]["by"] == [OWNER]
    wrong = fire(web, chair, "submit_plan")
    assert wrong.status_code == 403 and wrong.json()["by"] == [OWNER]
    not_now = fire(web, chair, "approve_plan")
    assert not_now.status_code == 409 and not_now.json()["allowed"] == ["submit_plan"]
    done = fire(web, owner, "submit_plan", fields={"plan": "計画"}, expected_version=1)
    assert done.status_code == 200 and done.json()["events"][0]["to_state"] == "plan.review"
    stale = fire(web, chair, "approve_plan", expected_version=1)
    assert stale.status_code == 409 and stale.json()["error"] == "stale"
    assert fire(web, chair, "approve_plan", expected_version=2).status_code == 200
    fire(web, token_for(year, ADMIN), "open_check")
    invalid = fire(web, owner, "submit_report", fields={"status": "done", "indicators.S1": 3})
    assert invalid.status_code == 422
    assert {p["field"] for p in invalid.json()["problems"]} == {"status", "content", "indicators.S2", "self_grade"}
    assert web.get("/api/cycles/9-9-9/2026", headers=owner).status_code == 404


def test_admin_pages_show_the_year_the_late_the_outbox_and_the_audit(web: TestClient, year: Year) -> None:
    sign_in(web, year, OWNER)
    assert web.get("/admin").status_code == 403
    admin = TestClient(web.app, follow_redirects=False)
    sign_in(admin, year, ADMIN)
    calendar = admin.get("/admin?fy=2026")
    assert calendar.status_code == 200 and "2027-05-28" in calendar.text and "2027-05-29 土曜日" in calendar.text
    assert "1-1-2" in calendar.text  # FY2026 plans were due 2026-02-27: every one is late
    ics = admin.get("/admin/calendar.ics?fy=2026")
    assert ics.headers["content-type"].startswith("text/calendar") and b"BEGIN:VEVENT" in ics.content
    outbox = admin.get("/admin/outbox")
    shown = re.sub(r"<[^>]+>", " ", outbox.text)  # the filter's choices carry codes as values, unseen
    assert "ログイン用リンク" in shown and "sign_in_link" not in shown  # words, not codes
    retried = admin.post("/admin/outbox/retry", data={"csrf": csrf_of(outbox.text)})
    assert retried.status_code == 303
    year.fire("1-1-2", "submit_plan", OWNER)
    audit = admin.get("/admin/audit?code=1-1-2")
    assert "農林 三郎（農政課）が計画を提出" in audit.text and "2-1-1" not in audit.text
    people = admin.get("/admin/people")
    assert "fukushichou@city.example.jp" in people.text and "副会長" in people.text


def test_the_api_documents_itself_without_any_external_asset(web: TestClient) -> None:
    docs = web.get("/docs")
    assert docs.status_code == 200
    assert not re.search(r"(src|href)=['\"]https?://", docs.text)
    assert web.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert "/api/cycles/{code}/{fy}/fire" in web.get("/openapi.json").json()["paths"]


def test_no_page_loads_anything_from_elsewhere(web: TestClient, year: Year) -> None:
    sign_in(web, year, OWNER)
    for path in ("/", "/actions/1-1-2/2026", "/sign-in"):
        assert not re.search(r"(src|href)=['\"]https?://", web.get(path).text)


def test_admins_may_sign_in_with_a_password(web: TestClient, year: Year) -> None:
    from app.web.auth import set_password

    with db.writing(year.engine) as conn:
        assert set_password(conn, email=ADMIN, password="correct horse battery", now=NOW)
        assert not set_password(conn, email=OWNER, password="correct horse battery", now=NOW)
    csrf = csrf_of(web.get("/sign-in").text)
    wrong = web.post("/sign-in/password", data={"email": ADMIN, "password": "nope", "csrf": csrf, "next": "/"})
    assert wrong.status_code == 401
    stranger = web.post("/sign-in/password", data={"email": OWNER, "password": "correct horse battery", "csrf": csrf})
    assert stranger.status_code == 401
    right = web.post("/sign-in/password", data={"email": ADMIN, "password": "correct horse battery", "csrf": csrf,
                                                "next": "/admin"})
    assert right.status_code == 303 and right.headers["location"] == "/admin"
    assert web.get("/admin").status_code == 200


def test_members_draft_and_the_chair_approves(web: TestClient, year: Year) -> None:
    walk(year, "check.council_evaluation")
    member = sign_in(TestClient(web.app, follow_redirects=False), year, "npo.tombo@example.org")
    page = member.get("/actions/1-1-2/2026")
    assert "下書き保存" in page.text and ">評価を承認</button>" not in page.text  # a member drafts, cannot approve
    saved = member.post("/actions/1-1-2/2026/fire", data={
        "csrf": csrf_of(page.text), "trigger": "approve_evaluation", "version": "7", "save_draft": "1",
        "grade": "B", "evaluation": "おおむね順調", "proposals": "記録を残す\n若い世代を誘う"})
    assert saved.status_code == 303
    assert year.state("1-1-2") == "check.council_evaluation"
    chair = sign_in(TestClient(web.app, follow_redirects=False), year, PROMOTION_CHAIR)
    page = chair.get("/actions/1-1-2/2026")
    assert "おおむね順調" in page.text and "npo.tombo@example.org" in page.text  # the draft, prefilled
    done = chair.post("/actions/1-1-2/2026/fire", data={
        "csrf": csrf_of(page.text), "trigger": "approve_evaluation", "version": "7",
        "grade": "B", "evaluation": "おおむね順調", "proposals": "記録を残す\n若い世代を誘う"})
    assert done.status_code == 303
    story = year.story("1-1-2")
    assert story["state"] == "act.deciding"
    assert [p["text"] for p in story["proposals"]] == ["記録を残す", "若い世代を誘う"]
    outsider = sign_in(TestClient(web.app, follow_redirects=False), year, "kyoiku@city.example.jp")  # no council
    refused = outsider.post("/actions/1-1-2/2026/fire", data={
        "csrf": csrf_of(outsider.get("/").text), "trigger": "decide_continue", "version": "8", "save_draft": "1"})
    assert refused.status_code == 403


def test_the_internal_chair_accepts_several_reports_at_once(web: TestClient, year: Year) -> None:
    codes = ["1-1-2", "2-1-1"]
    for code in codes:
        story = year.story(code)
        owner = story["owners"][0]
        values = {f"indicators.{i['code']}": "1" for i in story["indicators"]}
        year.fire(code, "submit_plan", owner)
        year.fire(code, "approve_plan", CHAIR)
        year.fire(code, "open_check", ADMIN)
        year.fire(code, "submit_report", owner, status="implemented", content="実施", self_grade="B", **values)
    chair = sign_in(TestClient(web.app, follow_redirects=False), year, CHAIR)
    queue = chair.get("/councils/internal")
    assert 'name="item" value="1-1-2/2026"' in queue.text
    done = chair.post("/councils/internal/accept", data={"csrf": csrf_of(queue.text),
                                                         "item": ["1-1-2/2026", "2-1-1/2026"]})
    assert done.status_code == 303
    assert [year.state(c) for c in codes] == ["check.council_evaluation"] * 2
    member = sign_in(TestClient(web.app, follow_redirects=False), year, "kasen@city.example.jp")
    assert 'name="item"' not in member.get("/councils/internal").text  # members see the queue, only chairs accept


def test_every_role_against_every_step_through_the_api(web: TestClient, year: Year) -> None:
    """Walk one action through a whole year by the API; at each step everyone else is
    refused first (403 for the wrong person), and the rightful person succeeds."""
    people = [OWNER, CHAIR, "kankyo.kyokucho@city.example.jp", PROMOTION_CHAIR, "dr.kawa@univ.example.ac.jp",
              ADMIN, "kasen@city.example.jp", "npo.tombo@example.org"]
    tokens = {p: token_for(year, p) for p in people}
    steps = [("submit_plan", OWNER, {}), ("approve_plan", CHAIR, {}), ("open_check", ADMIN, {}),
             ("submit_report", OWNER, REPORT), ("accept_report", CHAIR, {}),
             ("approve_evaluation", PROMOTION_CHAIR, {"grade": "A", "evaluation": "良好"}),
             ("decide_revise", CHAIR, {"comment": "記録を加える"}),
             ("submit_revision", OWNER, {"revised_plan": "間伐と記録"}), ("approve_revision", CHAIR, {})]
    for trigger, rightful, fields in steps:
        for person in people:
            if person == rightful or (trigger == "open_check" and person == "jimukyoku@city.example.jp"):
                continue
            refused = fire(web, tokens[person], trigger, fields=fields)
            assert refused.status_code == 403, (trigger, person, refused.json())
        assert fire(web, tokens[rightful], trigger, fields=fields).status_code == 200, trigger
    assert year.state("1-1-2") == "closed"


def test_an_advisor_is_asked_reminded_and_answers(web: TestClient, year: Year, clock: Clock) -> None:
    from workflows.tick import tick

    walk(year, "check.council_evaluation")
    member = sign_in(TestClient(web.app, follow_redirects=False), year, "npo.tombo@example.org")
    page = member.get("/actions/1-1-2/2026")
    assert "有識者に意見を照会する" in page.text
    bad = member.post("/actions/1-1-2/2026/opinions", data={"csrf": csrf_of(page.text), "advisor": OWNER,
                                                            "question": "", "due": "2026-11-01"})
    assert bad.status_code == 422 and "有識者（[advisors] members）ではありません" in bad.text
    assert "今日より後の日付ではありません" in bad.text
    asked = member.post("/actions/1-1-2/2026/opinions", data={
        "csrf": csrf_of(page.text), "advisor": "shokubutsu@example.org",
        "question": "里山林の下草刈りの時期は在来植物に配慮していますか", "due": "2026-11-20"})
    assert asked.status_code == 303
    with db.writing(year.engine) as conn:  # a week before, and after the due date
        for day in (datetime(2026, 11, 13, 6), datetime(2026, 11, 27, 6)):
            tick(conn, year.pdca.registry, year.pdca.tenants, strategy=year.strategy, now=day.astimezone())
    with Session(year.engine) as session:
        kinds = sorted(m.kind for m in session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == "shokubutsu@example.org")))
    assert kinds == ["opinion_overdue", "opinion_reminder", "opinion_requested"]
    advisor = sign_in(TestClient(web.app, follow_redirects=False), year, "shokubutsu@example.org")
    assert "1-1-2" in advisor.get("/").text  # waiting for their opinion
    page = advisor.get("/actions/1-1-2/2026")
    request_id = re.search(r'action="/opinions/(\d+)/answer"', page.text)
    assert request_id
    answered = advisor.post(f"/opinions/{request_id[1]}/answer", data={
        "csrf": csrf_of(page.text), "answer": "7月の刈り取りは避けるべきです", "code": "1-1-2", "fy": "2026"})
    assert answered.status_code == 303
    assert "7月の刈り取りは避けるべきです" in member.get("/actions/1-1-2/2026").text
    assert "1-1-2" not in advisor.get("/").text


def test_a_link_cannot_put_words_in_the_sites_mouth(web: TestClient, year: Year) -> None:
    sign_in(web, year, OWNER)
    page = web.get("/actions/1-1-2/2026?done=報告は却下されました")
    assert "報告は却下されました" not in page.text and 'class="flash"' not in page.text
    assert "完了しました" in web.get("/actions/1-1-2/2026?done=1").text


def test_odd_input_is_refused_not_a_server_error(web: TestClient, year: Year) -> None:
    sign_in(web, year, ADMIN)
    page = web.get("/actions/1-1-2/2026")
    odd = web.post("/actions/1-1-2/2026/fire", data={"csrf": csrf_of(page.text), "trigger": "submit_plan",
                                                      "version": "abc"})
    assert odd.status_code == 422 and "版の番号が読めません" in odd.text
    assert web.get("/admin?fy=10000").status_code == 404
    assert web.get("/w/opinion/99999999999999999999").status_code == 404
    token = token_for(year, ADMIN)
    assert web.get("/api/workflows/opinion/99999999999999999999", headers=token).status_code == 404


def test_my_work_is_a_to_do_list_most_urgent_first_then_what_waits_on_others(
    web: TestClient, year: Year
) -> None:
    walk(year, "check.self_assessment")  # 1-1-2: the report is due 2027-05-28, in 207 days
    year.fire("3-1-1", "submit_plan", "museum@city.example.jp")  # another owner's plan, not mine
    sign_in(web, year, OWNER)
    home = web.get("/").text
    mine = home.split("あなたの番です")[1].split("<h2")[0]
    assert mine.index("2-1-1") < mine.index("1-1-2")  # the plan due last February first, the report after
    assert 'href="/actions/2-1-1/2026#step-submit_plan">計画を提出</a>' in home
    assert 'href="/actions/1-1-2/2026#step-submit_report">実施状況を報告</a>' in home
    assert '自分の作業 <span class="count">2</span>' in home
    museum = TestClient(web.app, follow_redirects=False)
    sign_in(museum, year, "museum@city.example.jp")
    page = museum.get("/").text
    others = page.split("ほかの人の番です")[1]
    assert "3-1-1" in others and "庁内推進会議の会長" in others and "fukushichou@city.example.jp" in others
    admin = TestClient(web.app, follow_redirects=False)
    sign_in(admin, year, ADMIN)
    late = admin.get("/").text.split("期限を過ぎているもの")[1]
    assert "2-1-1" in late and "日超過" in late  # every FY2026 plan was due 2026-02-27


def test_a_council_queue_shows_what_reviewers_decide_on_and_what_is_still_to_come(
        web: TestClient, year: Year) -> None:
    for code, grade, value in (("1-1-2", "B", "41.5"), ("2-1-1", "C", None)):
        story = year.story(code)
        owner = story["owners"][0]
        values = {f"indicators.{i['code']}": value or "" for i in story["indicators"]}
        values |= {f"indicators.{i['code']}.reason": "集計中" for i in story["indicators"] if not value}
        year.fire(code, "submit_plan", owner)
        year.fire(code, "approve_plan", CHAIR)
        year.fire(code, "open_check", ADMIN)
        year.fire(code, "submit_report", owner, status="partly_implemented", content="実施", self_grade=grade,
                  **values)
    chair = sign_in(TestClient(web.app, follow_redirects=False), year, CHAIR)
    queue = chair.get("/councils/internal")
    row = re.search(r'<tr data-item="1-1-2/2026">(.*?)</tr>', queue.text, re.S).group(1)  # type: ignore[union-attr]
    cells = dict(re.findall(r'<td data-field="(\w+)"[^>]*>(.*?)</td>', row, re.S))
    assert cells["self_grade"] == "B" and cells["report_status"] == "一部実施"
    assert cells["submitted"] == "2026-11-02" and cells["due"].startswith("20")
    assert "順調" in cells["indicators"]
    for heading in ("自己評価", "実施状況", "指標", "提出日", "期限"):
        assert f"<th>{heading}</th>" in queue.text
    # Everything else is still with its owner: listed below as still to come.
    coming = re.findall(r'<tr data-coming="([^"]+)"', queue.text)
    assert "1-1-1" in coming and "1-1-2" not in coming and "まだ届いていないもの" in queue.text
    # Select all, without script: both move, and the page says which did.
    done = chair.post("/councils/internal/accept", data={"csrf": csrf_of(queue.text), "all": "1"})
    assert done.status_code == 303
    assert [year.state(c) for c in ("1-1-2", "2-1-1")] == ["check.council_evaluation"] * 2
    after = chair.get(done.headers["location"])
    assert sorted(re.findall(r'data-moved="([^"]+)"', after.text)) == ["1-1-2", "2-1-1"]
    assert "次の件を進めました" in after.text
    # A link cannot claim a move this person did not make.
    forged = chair.get("/councils/internal?moved=1-1-1/2026")
    assert "data-moved" not in forged.text


def test_a_returned_report_comes_back_filled_and_the_back_button_is_not_blamed_on_others(
        web: TestClient, year: Year) -> None:
    walk(year, "check.self_assessment")
    sign_in(web, year, OWNER)
    page = web.get("/actions/1-1-2/2026")
    sent = {"csrf": csrf_of(page.text), "trigger": "submit_report", "version": "5", **REPORT}
    assert web.post("/actions/1-1-2/2026/fire", data=sent).status_code == 303
    again = web.post("/actions/1-1-2/2026/fire", data=sent)  # the back button, the same form again
    assert again.status_code == 200 and 'data-notice="already_done"' in again.text
    assert "この操作はすでに行われています" in again.text and "農林 三郎" in again.text
    assert "ほかの人が先に更新しました" not in again.text
    assert year.state("1-1-2") == "check.internal_review"
    year.fire("1-1-2", "return_report", CHAIR, comment="S1の根拠を添えてください")
    form = web.get("/actions/1-1-2/2026").text
    report = form[form.index('id="step-submit_report"'):]
    report = report[:report.index("</form>")]
    assert 'name="indicators.S1" value="41.5"' in report
    assert 'name="indicators.S2.reason" value="集計中"' in report
    assert ">間伐 4.2ha</textarea>" in report
    assert re.search(r'<option value="implemented" selected>', report)


ERROR_WORDS = {401: ("ログインする", "Sign in"), 403: ("権限がありません", "You may not do this"),
               404: ("ページが見つかりません", "Page not found"),
               405: ("この方法では開けません", "cannot be opened this way"),
               500: ("システムで問題が起きました", "Something went wrong")}


def _japanese_text_has_no_english(html: str) -> bool:
    """The visible words of a Japanese page, markup and the language switch aside."""
    text = re.sub(r"<[^>]+>", " ", html.split("<main>", 1)[1].split("</main>", 1)[0])
    return re.search(r"[A-Za-z]{3,}", text) is None


def test_errors_are_pages_in_the_persons_language_with_the_navigation(web: TestClient, year: Year) -> None:
    def boom() -> None:
        raise RuntimeError("a secret traceback line")

    web.app.add_api_route("/boom", boom)  # type: ignore[attr-defined]
    web.app.add_api_route("/api/boom", boom)  # type: ignore[attr-defined]
    calm = TestClient(web.app, follow_redirects=False, raise_server_exceptions=False)
    sign_in(calm, year, OWNER)
    for lang in ("ja", "en"):
        calm.get(f"/?lang={lang}")
        answers = {401: TestClient(web.app).get(f"/sign-in/not-a-link?lang={lang}"),
                   403: calm.get("/admin"), 404: calm.get("/nothing-here"), 405: calm.delete("/admin"),
                   500: calm.get("/boom")}
        for status, answer in answers.items():
            words = ERROR_WORDS[status][0 if lang == "ja" else 1]
            assert answer.status_code == status, (status, lang)
            assert answer.headers["content-type"].startswith("text/html"), (status, lang)
            assert "<header>" in answer.text and f'lang="{lang}"' in answer.text, (status, lang)
            assert words in answer.text, (status, lang)
            assert "Traceback" not in answer.text and "secret traceback" not in answer.text
            if lang == "ja":
                assert _japanese_text_has_no_english(answer.text), (status, answer.text)
        assert "自分の作業" in answers[404].text if lang == "ja" else "Back to My work" in answers[404].text
    stranger = TestClient(web.app, raise_server_exceptions=False)
    assert "ログインする" in stranger.get("/nothing-here").text
    unknown = stranger.get("/public/2099/v1/nothing.html")
    assert unknown.status_code == 404 and "<header>" in unknown.text and "公表ページへ" in unknown.text
    assert stranger.get("/public/nothing/here").headers["content-type"].startswith("text/html")
    api = calm.get("/api/boom")
    assert api.status_code == 500 and api.json()["error"] == "internal"
    missing = calm.get("/api/no/such/thing")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
    unreadable = calm.get("/api/cycles", params={"fy": "abc"}, headers={"Authorization": "Bearer x"})
    assert unreadable.headers["content-type"].startswith("application/json")
    assert calm.delete("/api/cycles").status_code == 405 and "detail" in calm.delete("/api/cycles").json()


def test_the_admin_calendar_opens_on_the_live_fiscal_year_with_weekdays_and_today(
        web: TestClient, year: Year, clock: Clock) -> None:
    sign_in(web, year, ADMIN)
    opened = web.get("/admin").text
    # 2026-11-02 10:00 in Tokyo, a Monday: FY2026
    assert "FY2026 (令和8年度) (今年度)" in opened
    assert "2027-05-28 (金)" in opened and "<strong>2026-11-02 (月)</strong>" in opened
    today_row = opened.index('<tr class="today">')  # before this year's first date, 2027-01-15
    assert today_row < opened.index("2027-01-15 (金)") and opened.count('<tr class="today">') == 1
    english = web.get("/admin?lang=en").text
    assert "2027-05-28 (Fri)" in english and "2026-11-02 (Mon)" in english and "Today" in english
    web.get("/admin?lang=ja")
    clock.now = datetime(2027, 3, 31, 14, 59, tzinfo=NOW.tzinfo)  # 23:59 on 31 March in Tokyo: still FY2026
    sign_in(web, year, ADMIN)  # the first session has ended by then
    assert "FY2026 (令和8年度) (今年度)" in web.get("/admin").text
    clock.now = datetime(2027, 3, 31, 15, 0, tzinfo=NOW.tzinfo)  # 1 April 00:00 in Tokyo: FY2027
    april = web.get("/admin").text
    assert "FY2027 (令和9年度) (今年度)" in april and "2027-03-31 (水)" not in april
    assert "<strong>2027-04-01 (木)</strong>" in april and re.search(r"2028-01-\d\d \((月|火|水|木|金)\)", april)
    row = april.index('<tr class="today">')  # FY2027's dates start in January 2028: today comes first
    assert row < april.index("2028-01-")
    earlier = web.get("/admin?fy=2025").text
    assert "FY2025" in earlier and "(今年度)" not in earlier and '<tr class="today">' not in earlier


def _rows(page: str) -> int:
    """Rows of the page's table body (cells may carry their column's name for phones)."""
    return len(re.findall(r"<tr><td[ >]", page))


def test_the_outbox_pages_and_filters_by_date_kind_and_person(web: TestClient, year: Year) -> None:
    sign_in(web, year, ADMIN)
    tokyo_midnight = datetime(2026, 10, 4, 15, 0, tzinfo=NOW.tzinfo)  # 5 October 00:00 in Tokyo
    with Session(year.engine) as session:
        for i in range(60):  # one an hour, from 5 October 00:00 in Tokyo on; one a minute before it
            at = tokyo_midnight + timedelta(hours=i) if i else tokyo_midnight - timedelta(minutes=1)
            session.add(OutboxMessage(dedupe_key=f"t{i}", kind="digest" if i % 10 == 0 else "dead_letters",
                                      recipient=OWNER if i < 30 else CHAIR, tenant_id=year.strategy,
                                      due=at.date(), created_at=at))
        session.commit()
    first = web.get("/admin/outbox", params={"to": "2026-10-31"})  # ours, not the sign-in links of November
    assert first.status_code == 200 and _rows(first.text) == 50 and "ページ 1" in first.text
    older = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert older and "page=2" in older[1] and "to=2026-10-31" in older[1] and 'rel="prev"' not in first.text
    second = web.get(older[1].replace("&amp;", "&"))
    assert _rows(second.text) == 10 and 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert "ページ 2" in second.text
    digests = web.get("/admin/outbox", params={"kind": "digest"})
    assert _rows(digests.text) == 6 and "送信できなかったメール</td>" not in digests.text
    assert '<option value="digest" selected>' in digests.text
    chair = web.get("/admin/outbox", params={"recipient": CHAIR.upper()})
    assert _rows(chair.text) == 30 and f"<td>{OWNER}</td>" not in chair.text
    day = web.get("/admin/outbox", params={"from": "2026-10-05", "to": "2026-10-05"})
    assert _rows(day.text) == 23  # hours 1-23 of 5 October in Tokyo: not the minute before, not the 6th
    assert "2026/10/04 23:59" not in day.text and "2026/10/06 00:00" not in day.text
    paged = web.get("/admin/outbox", params={"from": "2026-10-05", "kind": "dead_letters", "recipient": OWNER})
    assert _rows(paged.text) == 27  # OWNER's hours 1-29, less hours 10 and 20 (digests)
    bad = web.get("/admin/outbox", params={"from": "2026-13-45", "kind": "digest"})
    assert bad.status_code == 200 and "「年-月-日」" in bad.text and "「2026-13-45」" in bad.text
    assert _rows(bad.text) == 6  # the other filters still apply
    english = web.get("/admin/outbox", params={"to": "tomorrow", "lang": "en"})
    assert english.status_code == 200 and "Please write dates as year-month-day" in english.text
    web.get("/admin/outbox?lang=ja")
    reversed_days = web.get("/admin/outbox", params={"from": "2026-10-06", "to": "2026-10-05"})
    assert "終了日が開始日より前です" in reversed_days.text and _rows(reversed_days.text) == 0
    assert web.get("/admin/outbox", params={"page": "abc"}).status_code == 200
    odd_year = web.get("/admin", params={"fy": "abc"})
    assert odd_year.status_code == 422 and "アドレスの値が読めません" in odd_year.text and "<header>" in odd_year.text
    assert "fy" not in re.sub(r"<[^>]+>", " ", odd_year.text.split("<main>")[1])  # no validator's report


def test_the_audit_log_pages_and_filters_by_date_step_and_person(web: TestClient, year: Year) -> None:
    year.fire("1-1-2", "submit_plan", OWNER)
    sign_in(web, year, ADMIN)
    tokyo_midnight = datetime(2026, 10, 4, 15, 0, tzinfo=NOW.tzinfo)  # 5 October 00:00 in Tokyo
    with Session(year.engine) as session:
        model = session.scalars(select(AuditEvent).where(AuditEvent.trigger == "submit_plan")).one()
        for i in range(60):
            at = tokyo_midnight + timedelta(hours=i) if i else tokyo_midnight - timedelta(minutes=1)
            session.add(AuditEvent(workflow=model.workflow, instance_id=model.instance_id, tenant_id=model.tenant_id,
                                   at=at, actor=CHAIR if i % 2 else OWNER, trigger="approve_plan" if i < 20
                                   else "submit_plan", from_state="x", to_state="y", version=1, fields={}))
        session.commit()
    first = web.get("/admin/audit", params={"to": "2026-10-31"})  # ours, not what happened in November
    assert _rows(first.text) == 50 and 'rel="next"' in first.text
    older = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert older and "to=2026-10-31" in older[1]
    second = web.get(older[1].replace("&amp;", "&"))
    assert _rows(second.text) == 10 and 'rel="prev"' in second.text and 'rel="next"' not in second.text
    approved = web.get("/admin/audit", params={"trigger": "approve_plan", "to": "2026-10-31"})
    assert _rows(approved.text) == 20 and "計画を承認" in approved.text
    assert '<option value="approve_plan" selected>' in approved.text
    chair = web.get("/admin/audit", params={"actor": CHAIR, "trigger": "submit_plan", "to": "2026-10-31"})
    assert _rows(chair.text) == 20  # the odd hours from 21 to 59
    day = web.get("/admin/audit", params={"from": "2026-10-05", "to": "2026-10-05"})
    assert _rows(day.text) == 23  # hours 1-23 of 5 October in Tokyo (hour 0 is the minute before)
    both = web.get("/admin/audit", params={"from": "2026-10-06", "to": "2026-10-31", "actor": OWNER})
    assert _rows(both.text) == 18  # even hours 24-58
    kept = re.search(r'href="([^"]+)" rel="next"', web.get("/admin/audit", params={"from": "2026-10-01"}).text)
    assert kept and "from=2026-10-01" in kept[1] and "page=2" in kept[1]
    bad = web.get("/admin/audit", params={"to": "2026/10/05"})
    assert bad.status_code == 200 and "「年-月-日」" in bad.text and _rows(bad.text) == 50


def test_the_people_page_shows_who_is_away(web: TestClient, year: Year) -> None:
    from workflows import service

    with db.writing(year.engine) as conn:
        admin = service.actor_for(conn, ADMIN)
        service.set_absent(conn, email=CHAIR, absent=True, now=NOW, by=admin)
    sign_in(web, year, ADMIN)
    people = web.get("/admin/people").text
    row = next(r for r in people.split("<tr>") if CHAIR in r)
    away = '<span class="late">不在</span>'
    assert away in row and all(away not in r for r in people.split("<tr>") if OWNER in r)


def test_the_grade_scale_is_explained_where_a_grade_is_chosen(web: TestClient, year: Year) -> None:
    walk(year, "check.self_assessment")
    sign_in(web, year, OWNER)
    page = web.get("/actions/1-1-2/2026").text
    assert '<option value="B">B：概ね計画どおり</option>' in page and "評価できない" in page
    english = web.get("/actions/1-1-2/2026?lang=en").text
    assert '<option value="D">D: far behind</option>' in english


def test_a_change_of_owners_cancels_what_was_queued_for_the_former_owner(web: TestClient, year: Year) -> None:
    """Re-planning: the former owner's queued reminder about the action is cancelled, with
    the reason in words in the outbox; a message to someone else stays queued."""
    from workflows import service

    cycle = year.story("1-1-2")["id"]
    with Session(year.engine) as session:
        for recipient in (OWNER, CHAIR):
            session.add(OutboxMessage(dedupe_key=f"test:{recipient}", kind="report_reminder", recipient=recipient,
                                      workflow=year.cycles.name, instance_id=cycle, tenant_id=year.strategy,
                                      payload={"fy": 2026}, due=NOW.date(), created_at=NOW))
        session.commit()
    with db.writing(year.engine) as conn:
        before, after, cancelled = service.reassign(conn, year.pdca.registry, tenant=year.strategy, code="1-1-2",
                                                    emails=["kasen@city.example.jp"], by=ADMIN, now=NOW)
    assert (before, after, cancelled) == ([OWNER], ["kasen@city.example.jp"], 1)
    with Session(year.engine) as session:
        status = dict(session.execute(select(OutboxMessage.recipient, OutboxMessage.status)
                                      .where(OutboxMessage.dedupe_key.startswith("test:"))).all())
    assert status == {OWNER: "cancelled", CHAIR: "queued"}
    admin = sign_in(TestClient(web.app, follow_redirects=False), year, ADMIN)
    shown = re.sub(r"<[^>]+>", " ", admin.get("/admin/outbox").text)
    assert f"担当者の変更により取消し: 1-1-2の担当が{OWNER}からkasen@city.example.jpに変わりました" in shown


def test_admins_mark_people_away_and_change_owners_on_the_people_page(web: TestClient, year: Year) -> None:
    admin = sign_in(TestClient(web.app, follow_redirects=False), year, ADMIN)
    page = admin.get("/admin/people")
    assert "不在にする" in page.text and "担当者を変える" in page.text
    away = admin.post("/admin/people/absence", data={"csrf": csrf_of(page.text), "email": CHAIR, "absent": "1"})
    assert away.status_code == 303
    assert "復帰にする" in admin.get("/admin/people").text
    # A bad owner is said in words beside the form; nothing changes.
    bad = admin.post("/admin/people/owners", data={"csrf": csrf_of(page.text), "code": "1-1-2",
                                                   "emails": "nobody@city.example.jp"})
    assert bad.status_code == 422 and "登録されていない人です: nobody@city.example.jp" in bad.text
    assert year.story("1-1-2")["owners"] == [OWNER]
    moved = admin.post("/admin/people/owners", data={"csrf": csrf_of(page.text), "code": "1-1-2",
                                                     "emails": "kasen@city.example.jp"})
    assert moved.status_code == 303 and year.story("1-1-2")["owners"] == ["kasen@city.example.jp"]
    audit = re.sub(r"<[^>]+>", " ", admin.get("/admin/audit").text)
    assert "不在" in audit
    owner = sign_in(TestClient(web.app, follow_redirects=False), year, OWNER)
    assert owner.post("/admin/people/owners", data={"csrf": csrf_of(owner.get("/").text), "code": "1-1-2",
                                                     "emails": OWNER}).status_code == 403


def test_admins_import_the_actions_file_and_see_every_bad_row_in_words(web: TestClient, year: Year) -> None:
    from app.sample_city import SAMPLE_ACTIONS

    admin = sign_in(TestClient(web.app, follow_redirects=False), year, ADMIN)
    page = admin.get("/admin/import")
    assert page.status_code == 200 and "取組の取込" in page.text
    text = SAMPLE_ACTIONS.read_text(encoding="utf-8")
    bad = text.replace(",up,35,2025,60,2030", ",sideways,35,2025,60,2020", 1).replace("nourin@city.example.jp",
                                                                                    "nobody@city.example.jp", 1)
    refused = admin.post("/admin/import", data={"csrf": csrf_of(page.text)},
                         files={"file": ("actions.csv", bad.encode("utf-8"), "text/csv")})
    assert refused.status_code == 422
    shown = re.sub(r"<[^>]+>", " ", refused.text)
    assert "3行目: 担当者nobody@city.example.jpは登録されていません" in shown
    assert "3行目: direction「sideways」は up か down です" in shown
    assert "3行目: 目標年度2020が基準年度2025より前です" in shown
    assert year.story("1-1-2")["owners"] == [OWNER]  # nothing was written
    edited = text.replace("里山林の保全管理", "里山林の保全と活用")
    done = admin.post("/admin/import", data={"csrf": csrf_of(page.text)},
                      files={"file": ("actions.csv", edited.encode("utf-8"), "text/csv")})
    assert done.status_code == 200 and "取り込みました" in done.text
    assert re.search(r'data-field="updated">1<', done.text)
    assert year.story("1-1-2")["title_ja"] == "里山林の保全と活用"
    wrong = admin.post("/admin/import", data={"csrf": csrf_of(page.text)},
                       files={"file": ("actions.pdf", b"%PDF", "application/pdf")})
    assert wrong.status_code == 422 and "CSV（.csv）か Excel（.xlsx）" in wrong.text
    owner = sign_in(TestClient(web.app, follow_redirects=False), year, OWNER)
    assert owner.get("/admin/import").status_code == 403


def test_a_person_signed_out_everywhere_must_sign_in_again(web: TestClient, year: Year) -> None:
    """`pdca sign-out EMAIL` ends every open session of theirs (and their unused links)."""
    from typer.testing import CliRunner

    from app.cli import cli
    from tests.conftest import CONFIG

    sign_in(web, year, OWNER)
    assert web.get("/").status_code == 200
    env = {"PDCA_DATABASE_URL": str(year.pdca.settings.database.url)}
    result = CliRunner().invoke(cli, ["--config", str(CONFIG), "sign-out", OWNER], env=env)
    assert result.exit_code == 0 and "1" in result.output
    assert web.get("/").headers["location"].startswith("/sign-in")
    unknown = CliRunner().invoke(cli, ["--config", str(CONFIG), "sign-out", "nobody@example.net"], env=env)
    assert unknown.exit_code == 1 and "nobody@example.net" in unknown.output


def test_the_clock_through_the_api_is_for_the_deployment_s_admin(web: Any, year: Year) -> None:
    """An owner's token is refused (403) and nothing moves; the admin's ticks, and a time
    without its offset is refused beside the field (422)."""
    owner, admin = token_for(year, OWNER), token_for(year, ADMIN)
    at = "2027-06-01T06:00:00+09:00"
    with db.reading(year.engine) as conn:
        before = list(conn.execute(select(Cycle.id, Cycle.state, Cycle.version).order_by(Cycle.id)))
    for path in ("tick", "drain"):
        refused = web.post(f"/api/clock/{path}", headers=owner, json={"at": at})
        assert refused.status_code == 403 and refused.json()["error"] == "wrong_role"
        assert web.post(f"/api/clock/{path}", json={"at": at}).status_code == 401
        naive = web.post(f"/api/clock/{path}", headers=admin, json={"at": "2027-06-01T06:00:00"})
        assert naive.status_code == 422
    with db.reading(year.engine) as conn:
        assert list(conn.execute(select(Cycle.id, Cycle.state, Cycle.version).order_by(Cycle.id))) == before
    done = web.post("/api/clock/tick", headers=admin, json={"at": at})
    assert done.status_code == 200 and sum(done.json()["transitions"].values()) > 0
    again = web.post("/api/clock/tick", headers=admin, json={"at": at})
    assert again.json()["transitions"] == {}
    unknown = web.post("/api/clock/tick", headers=admin, json={"at": at, "strategy": "nowhere"})
    assert unknown.status_code == 404
    drained = web.post("/api/clock/drain", headers=admin, json={"at": at})
    assert drained.status_code == 200 and drained.json()["sent"] > 0
