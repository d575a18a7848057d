"""One action's year in a real browser: Chromium (Debian's, driven by Playwright) against
the app served by uvicorn on a loopback port, each person signing in from the link in an
email caught by a real SMTP server. Screenshots of the main pages go to
tests/artifacts/screenshots/ (ignored by git), with the public report and a council's page
on a 390 px phone and the council's packet printed to PDF.

Needs the `chromium` and `fonts-noto-cjk` packages (`.ci/run` installs them) and the
playwright Python package; never `playwright install`. Without them the tests are skipped."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from app.bootstrap import Pdca
from app.mail import delivery
from app.web.main import create_app
from notifications.senders import SmtpSender, SmtpSettings
from publishing.site import write_site
from tests.conftest import ADMIN, CHAIR, NOW, OWNER, PROMOTION_CHAIR, ROOT, Year
from tests.smtp_server import SmtpServer, free_port
from tests.test_publishing_site import snapshot as published_snapshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if os.access(p, os.X_OK)), None)
if CHROMIUM is None:
    pytest.skip("browser tests skipped: no chromium binary (apt-get install chromium fonts-noto-cjk, as .ci/run does)",
                allow_module_level=True)
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="browser tests skipped: the playwright package is missing (pip install -e '.[test]')")
expect = playwright_api.expect

SHOTS = ROOT / "tests" / "artifacts" / "screenshots"
ACTION = "/actions/1-1-2/2026"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@dataclass
class Site:
    """The app at `base`, its database seen through `year`, and the mail it sent."""

    base: str
    year: Year
    pdca: Pdca
    smtp: SmtpServer

    def deliver(self) -> None:
        """Drain the outbox to the test SMTP server (in a thread of its own: the drain runs
        its own event loop, and the main thread belongs to Playwright)."""
        settings = SmtpSettings(host="127.0.0.1", port=self.smtp.port, security="none", timeout=5)
        mail = delivery(self.pdca, sender=lambda: SmtpSender(settings))
        failed: list[BaseException] = []

        def drain() -> None:
            try:
                mail.drain(NOW)
            except BaseException as exc:
                failed.append(exc)

        worker = threading.Thread(target=drain)
        worker.start()
        worker.join(30)
        assert not worker.is_alive() and not failed, failed

    def emailed_link(self, email: str, since: int) -> str:
        """The sign-in link mailed to `email` after the first `since` messages, from the
        text/plain part. Other notices to the same person may go out in the same drain, on
        another connection, so the link is found by its content, not by the order of arrival."""
        self.deliver()
        links = [found[0] for r in self.smtp.handler.received[since:] if email in r.recipients
                 if (found := re.search(r"https?://\S+/sign-in/\S+", plain_text(r.message)))]
        assert len(links) == 1, f"expected one sign-in link mailed to {email}, got {links}"
        return links[0]

    def sign_in(self, context: BrowserContext, email: str, path: str, shot: str | None = None) -> Page:
        """Open `path`, get sent to the sign-in page, ask for a link, follow it from the email."""
        page = context.new_page()
        page.goto(self.base + path)
        expect(page).to_have_url(re.compile(r"/sign-in\?next="))
        expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
        ask = page.locator("form").filter(has=page.get_by_role("button", name="ログイン用リンクを送る", exact=True))
        ask.get_by_label("メールアドレス").fill(email)
        if shot:
            screenshot(page, shot)
        since = len(self.smtp.handler.received)
        ask.get_by_role("button", name="ログイン用リンクを送る", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("ログイン用リンクを送りました")
        link = self.emailed_link(email, since)
        assert link.startswith(f"{self.base}/sign-in/")
        page.goto(link)
        expect(page).to_have_url(self.base + path)
        return page


def plain_text(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def screenshot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def state_line(page: Page) -> Locator:
    """The line under the title: fiscal year ・ division ・ state (version)."""
    return page.locator("main h1 + p")


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} scrolls sideways on a phone: {width[0]}px wide in {width[1]}px"


@pytest.fixture
def site(sqlite_year: Year, smtp: SmtpServer) -> Iterator[Site]:
    """On SQLite only: these tests are about what a person sees and does in Chromium; every
    route they use is run on both databases by test_web.py and its neighbours, and a second
    browser run would double the suite's longest part for no new path."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = sqlite_year.pdca.settings
    pdca = Pdca(settings.model_copy(update={"mail": settings.mail.model_copy(update={"base_url": base})}))
    config = uvicorn.Config(create_app(pdca, clock=lambda: NOW), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Site(base, sqlite_year, pdca, smtp)
    finally:
        server.should_exit = True
        thread.join(10)
        pdca.close()


def person_context(browser: Browser, **options: Any) -> BrowserContext:
    context = browser.new_context(locale="ja-JP", **options)
    context.set_default_timeout(10_000)
    return context


def test_a_year_of_one_action_in_the_browser(browser: Browser, site: Site) -> None:
    year = site.year
    year.fire("1-1-2", "submit_plan", OWNER)
    year.fire("1-1-2", "approve_plan", CHAIR)
    year.fire("1-1-2", "open_check", ADMIN)
    assert year.state("1-1-2") == "check.self_assessment"

    # The owner signs in from the emailed link, sees the report waiting, and submits it.
    owner_context = person_context(browser, viewport={"width": 1280, "height": 900})
    owner = site.sign_in(owner_context, OWNER, "/", shot="01-sign-in")
    expect(owner.get_by_role("heading", level=1)).to_have_text("自分の作業")
    row = owner.get_by_role("listitem").filter(has_text="1-1-2")  # My work is a to-do list
    expect(row).to_contain_text("里山林の保全管理")
    expect(row).to_contain_text("実施状況報告中")
    screenshot(owner, "02-my-work")
    row.get_by_role("link", name="実施状況を報告").click()  # the one button: straight to the form
    expect(owner).to_have_url(site.base + ACTION + "#step-submit_report")
    main = owner.locator("main")
    expect(state_line(owner)).to_contain_text("・ 実施状況報告中 (")

    report = owner.locator("form.step").filter(has=owner.get_by_role("button", name="実施状況を報告", exact=True))
    report.get_by_label("実施状況 *").select_option("implemented")
    report.get_by_label("実施内容 *").fill("間伐 4.2ha、下草刈り 6回")
    report.get_by_label("S1 保全管理した里山林の面積").fill("41.5")
    # Both indicators' reason boxes carry the same label, so the second is picked by its id.
    report.locator("#submit_report-indicators-S2-reason").fill("集計中のため")
    report.get_by_label("自己評価 *").select_option("B")
    screenshot(owner, "03-action-report-form")

    # The same form on a phone, with the owner's session: nothing may scroll sideways.
    phone_context = person_context(browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
                             storage_state=owner_context.storage_state())
    phone = phone_context.new_page()
    for path in ("/", ACTION):
        phone.goto(site.base + path)
        expect(phone.locator("main")).to_contain_text("実施状況報告中")
        no_sideways_scroll(phone)
    screenshot(phone, "04-phone-action-report-form")
    phone_context.close()

    report.get_by_role("button", name="実施状況を報告", exact=True).click()
    expect(owner.get_by_role("status")).to_have_text("完了しました")
    expect(state_line(owner)).to_contain_text("・ 庁内推進会議で点検中 (")
    expect(main).to_contain_text("間伐 4.2ha、下草刈り 6回")
    assert year.state("1-1-2") == "check.internal_review"
    expect(owner.get_by_role("button", name="点検結果を承認", exact=True)).to_have_count(0)  # not the owner's step

    # The internal chair finds it in the council's queue and accepts it.
    chair_context = person_context(browser, viewport={"width": 1280, "height": 900})
    chair = site.sign_in(chair_context, CHAIR, "/councils/internal")
    expect(chair.get_by_role("heading", level=1)).to_have_text("庁内推進会議")
    queued = chair.get_by_role("link", name=re.compile("1-1-2 里山林の保全管理"))
    expect(queued).to_be_visible()
    expect(chair.get_by_role("row").filter(has_text="1-1-2")).to_contain_text("庁内推進会議で点検中")
    expect(chair.get_by_role("checkbox", name=re.compile("^1-1-2 "))).to_be_visible()  # the chair may accept here too
    screenshot(chair, "05-council-internal")
    queued.click()
    expect(chair).to_have_url(site.base + ACTION)
    chair.get_by_role("button", name="点検結果を承認", exact=True).click()
    expect(chair.get_by_role("status")).to_have_text("完了しました")
    expect(state_line(chair)).to_contain_text("・ 推進会議で評価中 (")
    assert year.state("1-1-2") == "check.council_evaluation"

    # The promotion chair grades it, writes the evaluation and two proposals, and approves.
    mori_context = person_context(browser, viewport={"width": 1280, "height": 900})
    mori = site.sign_in(mori_context, PROMOTION_CHAIR, ACTION)
    evaluation = mori.locator("form.step").filter(has=mori.get_by_role("button", name="評価を承認", exact=True))
    evaluation.get_by_label("評価 *", exact=True).select_option("B")
    evaluation.get_by_label("評価内容 *").fill("順調に進んでいる")
    evaluation.get_by_label("改善提案").fill("参加者を記録する\n若い世代を誘う")
    screenshot(mori, "06-action-evaluation-form")
    evaluation.get_by_role("button", name="評価を承認", exact=True).click()
    expect(mori.get_by_role("status")).to_have_text("完了しました")
    expect(state_line(mori)).to_contain_text("・ 対応方針の決定中 (")
    proposals = mori.locator("main ol li")
    expect(proposals).to_have_text(["参加者を記録する", "若い世代を誘う"])
    assert year.state("1-1-2") == "act.deciding"

    # The internal chair decides: one form, the outcome a choice; discontinuing asks to confirm.
    chair.goto(site.base + ACTION)
    decide = chair.locator("form.step.decision")
    expect(decide).to_have_count(1)
    expect(decide.get_by_role("radio")).to_have_count(4)
    expect(decide.get_by_role("button", name="決定する", exact=True)).to_be_visible()
    decide.get_by_role("radio", name="廃止").check()
    decide.get_by_label("コメント").fill("役割を終えた")
    screenshot(chair, "07a-decision-form")
    decide.get_by_role("button", name="決定する", exact=True).click()
    decide = chair.locator("form.step.decision")
    expect(decide.locator(".field-error")).to_contain_text("取り消せません")
    expect(decide.get_by_role("radio", name="廃止")).to_be_checked()  # the form as it was sent
    expect(decide.get_by_label("コメント")).to_have_value("役割を終えた")
    screenshot(chair, "07b-decision-needs-confirmation")
    assert year.state("1-1-2") == "act.deciding"
    decide.get_by_role("radio", name="継続").check()
    decide.get_by_label("コメント").fill("計画どおり続ける")
    decide.get_by_role("button", name="決定する", exact=True).click()
    expect(chair.get_by_role("status")).to_have_text("完了しました")
    main = chair.locator("main")
    expect(state_line(chair)).to_contain_text("・ 完了 (")
    expect(main.locator("ul.history li").last).to_contain_text("副市長 一郎（副市長室）が継続")  # a sentence
    expect(main).to_contain_text("計画どおり続ける")
    expect(chair.locator("form.step")).to_have_count(0)  # nothing more can happen
    assert year.state("1-1-2") == "closed"
    assert year.story("1-1-2")["record"]["decision"] == "continue"
    screenshot(chair, "07-action-decided")

    # The same page in English.
    chair.goto(site.base + ACTION + "?lang=en")
    expect(chair.locator("html")).to_have_attribute("lang", "en")
    expect(chair.get_by_role("heading", level=1)).to_have_text("1-1-2 Managing satoyama woodland")
    main = chair.locator("main")
    expect(state_line(chair)).to_contain_text("・ Closed (Version ")
    expect(main).to_contain_text("Area of managed satoyama woodland")
    expect(chair.get_by_role("heading", name="History")).to_be_visible()
    expect(chair.get_by_role("link", name="My work")).to_be_visible()
    screenshot(chair, "08-action-decided-en")

    for context in (owner_context, chair_context, mori_context):
        context.close()


def test_the_pages_fit_a_phone(browser: Browser, site: Site) -> None:
    phone_context = person_context(browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    phone = site.sign_in(phone_context, CHAIR, "/councils/internal")
    site.year.fire("1-1-2", "submit_plan", OWNER)
    for path in ("/", "/councils/internal", ACTION, "/councils/internal?lang=en"):
        phone.goto(site.base + path)
        expect(phone.locator("main h1")).to_be_visible()
        no_sideways_scroll(phone)
    expect(phone.get_by_role("link", name=re.compile("1-1-2"))).to_be_visible()
    screenshot(phone, "09-phone-council-internal-en")
    phone_context.close()


def cells_on_screen(page: Page) -> None:
    """Every cell of every wide table lies inside the phone's width: no column a person needs
    is off to the side, not even inside a table that scrolls by itself."""
    outside = page.evaluate("""() => [...document.querySelectorAll('table.cards td, table.cards tbody th')]
        .filter(c => c.getClientRects().length)
        .map(c => [c.textContent.trim().slice(0, 30), c.getBoundingClientRect()])
        .filter(([, r]) => r.left < 0 || r.right > window.innerWidth + 0.5)
        .map(([text, r]) => `${text} (${Math.round(r.left)}..${Math.round(r.right)})`)""")
    assert outside == [], f"{page.url}: cells off screen: {outside}"


def test_the_report_and_a_council_packet_fit_a_phone_and_print_clean(browser: Browser, site: Site,
                                                                      tmp_path: Path) -> None:
    write_site(published_snapshot(), tmp_path)
    phone_context = person_context(browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    report = phone_context.new_page()
    for path, shot in (("index.html", "10-phone-public-index"), ("actions/1-1-2.html", "11-phone-public-action")):
        report.goto((tmp_path / path).as_uri())
        expect(report.locator("main h1")).to_be_visible()
        assert report.locator("table.cards tbody tr").count() >= 2
        no_sideways_scroll(report)
        cells_on_screen(report)
        # On a phone each row is a card whose cells say which column they are.
        label = report.locator("table.cards td[data-label]").first
        assert report.evaluate("c => getComputedStyle(c, '::before').content", label.element_handle()) != "none"
        screenshot(report, shot)
    report.emulate_media(media="print")
    expect(report.get_by_role("link", name="English")).to_be_hidden()  # the other language is no use on paper
    expect(report.locator("main h1")).to_be_visible()

    site.year.fire("1-1-2", "submit_plan", OWNER)
    council = site.sign_in(phone_context, CHAIR, "/councils/internal")
    expect(council.get_by_role("heading", level=1)).to_have_text("庁内推進会議")
    expect(council.get_by_role("link", name=re.compile("1-1-2"))).to_be_visible()
    no_sideways_scroll(council)
    cells_on_screen(council)
    expect(council.locator("td[data-label]").filter(has_text="里山林の保全管理")).to_be_visible()
    screenshot(council, "12-phone-council-internal")
    phone_context.close()

    # The council's packet printed from a desktop browser: the queue, without navigation,
    # buttons or checkboxes, on A4.
    desk = person_context(browser, viewport={"width": 1280, "height": 900})
    packet = site.sign_in(desk, CHAIR, "/councils/internal")
    expect(packet.get_by_role("checkbox", name=re.compile("^1-1-2 "))).to_be_visible()
    controls = packet.locator("header, button, input[type=checkbox]")
    assert controls.count() >= 3
    packet.emulate_media(media="print")
    for control in controls.all():
        expect(control).to_be_hidden()
    expect(packet.get_by_role("row").filter(has_text="1-1-2")).to_contain_text("計画審査中")
    SHOTS.mkdir(parents=True, exist_ok=True)
    packet.pdf(path=SHOTS / "13-council-packet-print.pdf", format="A4")
    desk.close()


def test_a_returned_report_the_back_button_the_queue_and_error_pages(browser: Browser, site: Site) -> None:
    year = site.year
    for step, who in (("submit_plan", OWNER), ("approve_plan", CHAIR), ("open_check", ADMIN)):
        year.fire("1-1-2", step, who)
    year.fire("1-1-2", "submit_report", OWNER, status="partly_implemented", content="間伐 3ha",
              self_grade="C", **{"indicators.S1": "38", "indicators.S2.reason": "集計中"})

    # The chair's queue has what a reviewer decides on; the chair returns the report.
    chair_context = person_context(browser, viewport={"width": 1280, "height": 900})
    chair = site.sign_in(chair_context, CHAIR, "/councils/internal")
    row = chair.locator("tr[data-item='1-1-2/2026']")
    expect(row.locator("td[data-field='self_grade']")).to_have_text("C")
    expect(row.locator("td[data-field='report_status']")).to_have_text("一部実施")
    expect(chair.get_by_role("heading", name="まだ届いていないもの")).to_be_visible()
    expect(chair.locator("tr[data-coming='1-1-1']")).to_be_visible()
    screenshot(chair, "20-council-queue-columns")
    chair.goto(site.base + ACTION)
    back = chair.locator("form#step-return_report")
    expect(back.get_by_role("button", name="報告を差し戻す")).to_have_class("back")  # looks apart from approving
    back.get_by_label("コメント").fill("S1の根拠を添えてください")
    back.get_by_role("button", name="報告を差し戻す").click()
    expect(chair.get_by_role("status")).to_have_text("完了しました")
    assert year.state("1-1-2") == "check.self_assessment"

    # The owner finds the report as it was sent, changes one value and sends it again.
    owner_context = person_context(browser, viewport={"width": 1280, "height": 900})
    owner = site.sign_in(owner_context, OWNER, ACTION)
    report = owner.locator("form#step-submit_report")
    expect(report.get_by_label("実施内容 *")).to_have_value("間伐 3ha")
    expect(report.get_by_label("S1 保全管理した里山林の面積")).to_have_value("38")
    expect(report.locator("#submit_report-indicators-S2-reason")).to_have_value("集計中")
    expect(report.get_by_label("自己評価 *")).to_have_value("C")
    screenshot(owner, "21-returned-report-prefilled")
    report.get_by_label("S1 保全管理した里山林の面積").fill("39")
    report.get_by_role("button", name="実施状況を報告", exact=True).click()
    expect(owner.get_by_role("status")).to_have_text("完了しました")
    assert year.state("1-1-2") == "check.internal_review"

    # The back button and the same form again: the step was taken, nobody else is blamed.
    owner.go_back()
    owner.locator("form#step-submit_report").get_by_role("button", name="実施状況を報告", exact=True).click()
    notice = owner.locator("[data-notice='already_done']")
    expect(notice).to_contain_text("この操作はすでに行われています")
    expect(notice).to_contain_text("農林 三郎")
    expect(owner.locator("main")).not_to_contain_text("ほかの人が先に更新しました")
    screenshot(owner, "22-back-button-recognised")
    taken = [h for h in year.story("1-1-2")["history"] if h["trigger"] == "submit_report"]
    assert len(taken) == 2 and year.state("1-1-2") == "check.internal_review"  # the resend took nothing again

    # Error pages are pages, in the person's language, with the navigation.
    for lang, heading in (("ja", "自分の作業"), ("en", "My work")):
        response = owner.goto(site.base + f"/actions/9-9-9/2026?lang={lang}")
        assert response is not None and response.status == 404
        expect(owner.locator("html")).to_have_attribute("lang", lang)
        expect(owner.get_by_role("link", name=heading).first).to_be_visible()
        screenshot(owner, f"23-not-found-{lang}")
    for context in (chair_context, owner_context):
        context.close()


def test_an_admin_moves_a_date_sees_the_preview_and_saves(browser: Browser, site: Site) -> None:
    """The secretariat moves FY2026's report due date: the preview first, nothing saved,
    then the save and the calendar with the new date."""
    context = person_context(browser)
    admin = site.sign_in(context, ADMIN, "/admin?fy=2026")
    form = admin.locator('form.change-date[data-milestone="report_due"]')
    form.get_by_label("新しい日付").fill("2027-06-01")
    form.get_by_label("変更の理由").fill("議会の日程に合わせるため")
    form.get_by_role("button", name="確認する").click()
    preview = admin.locator("#preview")
    expect(preview.get_by_role("heading", level=3)).to_have_text("変更の確認（まだ保存されていません）")
    expect(preview.locator("tr.changed")).to_contain_text("2027-06-01 (火)")
    screenshot(admin, "13-admin-calendar-preview")
    preview.get_by_role("button", name="この内容で保存する").click()
    expect(admin.locator(".flash")).to_have_text("日程を保存しました。")
    expect(admin.locator("main table").first).to_contain_text("2027-06-01 (火)")
    screenshot(admin, "14-admin-calendar-saved")
    context.close()


def test_an_admin_adds_a_person_and_gives_them_a_seat_with_a_preview(browser: Browser, site: Site) -> None:
    """The secretariat registers a new member: a missing reason is refused beside its field
    in Japanese with nothing typed lost, then the person is added; their seat on the internal council is previewed
    (who moves, which queued messages would change) before it is saved."""
    context = person_context(browser)
    admin = site.sign_in(context, ADMIN, "/admin/people")
    form = admin.locator("#add-person")
    form.locator("#add-email").fill("arai@city.example.jp")
    form.locator("#add-name").fill("新井 一郎")
    form.locator("#add-division").fill("環境政策課")
    form.get_by_role("button", name="人を追加する").click()  # no reason given
    expect(admin.locator("#err-add-why")).to_have_text("変更の理由を書いてください")
    expect(admin.locator("#add-name")).to_have_value("新井 一郎")  # nothing typed is lost
    screenshot(admin, "24-admin-person-refused")
    admin.locator("#add-why").fill("4月の人事異動")
    admin.locator("#add-person").get_by_role("button", name="人を追加する").click()
    expect(admin.locator(".flash")).to_have_text("保存しました。")
    expect(admin.locator("main")).to_contain_text("新井 一郎")
    seat = admin.locator('form.seat:has(input[name="body"][value="internal"])')
    seat.locator("#seat-email-internal").fill("arai@city.example.jp")
    seat.locator("#seat-role-internal").select_option("member")
    seat.locator("#seat-why-internal").fill("4月の人事異動")
    seat.get_by_role("button").first.click()
    preview = admin.locator("#seat-preview")
    expect(preview).to_contain_text("arai@city.example.jp")
    screenshot(admin, "25-admin-seat-preview")
    preview.locator("#save-seat").click()
    expect(admin.locator(".flash")).to_have_text("役割を保存しました。")
    expect(admin.locator("main")).to_contain_text("委員: arai@city.example.jp")
    screenshot(admin, "26-admin-seat-saved")
    context.close()


def test_a_partner_sends_an_observation_from_a_phone_and_the_public_reads_it(browser: Browser, site: Site,
                                                                            tmp_path: Path) -> None:
    """On a phone: the group's member finds 観察記録を送る in My work, fills the form (a photo
    taken with its GPS position), is refused for a day in the future beside the field with
    nothing lost, sends it; the museum's curator accepts it on the item's page; the public
    hub shows it on the map and its photo, with no sideways scrolling."""
    from tests.test_hub_send_web import jpeg_with_a_location

    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(jpeg_with_a_location())
    phone = dict(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    partner_context = person_context(browser, **phone)
    partner = site.sign_in(partner_context, "npo.tombo@example.org", "/")
    partner.get_by_role("link", name="観察記録を送る").click()
    form = partner.locator("#step-send_observation")
    form.get_by_label("和名").fill("アキアカネ")
    form.get_by_label("学名").fill("Sympetrum frequens")
    form.get_by_label("分類群").select_option("insects")
    form.get_by_label("観察日 *").fill("2026-12-24")
    form.get_by_label("緯度（十進）").fill("35.6321")
    form.get_by_label("経度（十進）").fill("139.5123")
    form.get_by_label("場所の名前 *").fill("緑川 中流の河川敷")
    form.get_by_label("記録の種類 *").select_option("HumanObservation")
    form.get_by_label("確認の有無 *").select_option("present")
    form.get_by_label("個体数").fill("12")
    form.get_by_label("関係する取組（番号）").fill("1-1-1")
    form.locator('input[type="file"]').set_input_files(str(photo))
    no_sideways_scroll(partner)
    form.get_by_role("button", name="観察記録を送る").click()
    expect(partner.locator("#step-send_observation .field-error")).to_contain_text("今日より後の日付です")
    expect(partner.locator("#step-send_observation").get_by_label("場所の名前 *")).to_have_value("緑川 中流の河川敷")
    screenshot(partner, "27-hub-send-refused")
    again = partner.locator("#step-send_observation")
    again.get_by_label("観察日 *").fill("2026-10-12")
    again.locator('input[type="file"]').set_input_files(str(photo))
    again.get_by_role("button", name="観察記録を送る").click()
    expect(partner.locator(".flash")).to_have_text("送りました。担当者が確認します。")
    expect(partner.locator("main")).to_contain_text("受付待ち")
    screenshot(partner, "28-hub-sent")
    item = partner.url.split("?")[0].rsplit("/", 1)[-1]
    partner_context.close()

    curator_context = person_context(browser, viewport={"width": 1280, "height": 900})
    curator = site.sign_in(curator_context, "museum@city.example.jp", f"/w/hub_item/{item}")
    expect(curator.locator("main table").first).to_contain_text("目視・写真による観察")
    expect(curator.locator(".photos img")).to_have_count(1)
    curator.get_by_role("button", name="確認を始める").click()
    curator.get_by_role("button", name="採用して公開する").click()
    expect(curator.locator("main")).to_contain_text("公開中")
    curator_context.close()

    public_context = person_context(browser, **phone)
    public = public_context.new_page()
    public.goto(f"{site.base}/public/hub")
    expect(public.locator("main")).to_contain_text("アキアカネ")
    expect(public.locator("main svg")).to_have_count(1)
    no_sideways_scroll(public)
    screenshot(public, "29-public-hub-phone")
    public.get_by_role("link", name="アキアカネ（緑川 中流の河川敷）").first.click()
    expect(public.locator("main .photos img")).to_have_count(1)
    size = public.locator("main .photos img").evaluate("img => [img.naturalWidth, img.complete]")
    assert size == [20, True]  # the photo loads, turned upright
    no_sideways_scroll(public)
    screenshot(public, "30-public-hub-item-phone")
    public_context.close()


def test_a_meeting_s_minutes_go_from_the_secretariat_to_the_chair_to_the_public_on_a_phone(
        browser: Browser, site: Site) -> None:
    """The secretariat calls an extra meeting of the internal council, ticks who came and
    writes the minutes; the chair approves them (ticking that it cannot be undone); the
    public reads them on a phone, the chair's name there and nobody's address."""
    desk = person_context(browser, viewport={"width": 1280, "height": 900})
    secretariat = site.sign_in(desk, ADMIN, "/w/meeting/new")
    form = secretariat.locator("#step-convene")
    form.get_by_label("会議").select_option("internal")
    form.get_by_label("審議する年度").fill("2026")
    form.get_by_label("開催日").fill("2026-10-30")
    form.get_by_role("button", name="会議を招集する").click()
    expect(secretariat.locator("main")).to_contain_text("議事録の作成待ち")
    record = secretariat.locator("#step-record_minutes")
    record.get_by_label("副市長 一郎（会長）").check()
    record.get_by_label("議事録（議事の経過と主な意見）").fill("外来種対策の進め方について協議した。<b>次回</b>は1月。")
    screenshot(secretariat, "31-minutes-recorded")
    record.get_by_role("button", name="出席者と議事録を記録する").click()
    expect(secretariat.locator("main")).to_contain_text("会長の確認待ち")
    meeting = secretariat.url.split("?")[0].rsplit("/", 1)[-1]
    desk.close()

    chair_context = person_context(browser, viewport={"width": 1280, "height": 900})
    chair = site.sign_in(chair_context, CHAIR, f"/w/meeting/{meeting}")
    approve = chair.locator("#step-approve_minutes")
    approve.locator('input[name="confirm"]').check()
    approve.get_by_role("button", name="議事録を承認して公開する").click()
    expect(chair.locator("main")).to_contain_text("議事録公開済")
    chair_context.close()

    phone = person_context(browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    public = phone.new_page()
    refused: list[str] = []  # what the Content-Security-Policy blocked, as Chromium reports it
    public.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    public.goto(f"{site.base}/public")
    public.get_by_role("link", name="会議録").click()
    public.get_by_role("link", name=re.compile("2026-10-30 庁内推進会議")).click()
    main = public.locator("main")
    expect(main).to_contain_text("<b>次回</b>は1月")  # shown as written, never as markup
    expect(main).to_contain_text("副市長 一郎（会長）出席")
    assert "@" not in main.inner_text()
    no_sideways_scroll(public)
    screenshot(public, "32-public-minutes-phone")
    public.goto(f"{site.base}/public/hub")
    expect(public.locator("main svg")).to_have_count(0)  # no accepted items yet: no map, but the page works
    assert refused == []
    phone.close()


def test_a_partner_raises_a_topic_on_a_phone_and_a_division_answers(browser: Browser, site: Site) -> None:
    """The group raises a public topic on an action from My work on a phone; the division
    owning it replies on the topic's page; the public reads both, on a phone."""
    phone = dict(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    partner_context = person_context(browser, **phone)
    partner = site.sign_in(partner_context, "npo.tombo@example.org", "/")
    partner.get_by_role("link", name="話題を出す").click()
    form = partner.locator("#step-post")
    form.get_by_label("話題").fill("ため池の外来魚の駆除に参加したい")
    form.get_by_label("内容").fill("かいぼりの日程が決まれば会員で参加します。")
    form.get_by_label("関係する取組（番号）").fill("1-1-2")
    form.get_by_label("公開").select_option("yes")
    no_sideways_scroll(partner)
    form.get_by_role("button", name="話題を出す").click()
    expect(partner.locator("main")).to_contain_text("意見交換中")
    topic = partner.url.split("?")[0].rsplit("/", 1)[-1]
    partner_context.close()

    owner_context = person_context(browser, viewport={"width": 1280, "height": 900})
    owner = site.sign_in(owner_context, OWNER, f"/w/exchange_topic/{topic}")
    reply = owner.locator("#step-reply")
    reply.get_by_label("返信").fill("2月のかいぼりにご参加ください。詳細は後日お知らせします。")
    reply.get_by_role("button", name="返信する").click()
    expect(owner.locator("main")).to_contain_text("2月のかいぼりにご参加ください")
    owner_context.close()

    public_context = person_context(browser, **phone)
    public = public_context.new_page()
    public.goto(f"{site.base}/public/exchange")
    public.get_by_role("link", name="ため池の外来魚の駆除に参加したい").click()
    expect(public.locator("main")).to_contain_text("2月のかいぼりにご参加ください")
    expect(public.locator("main")).to_contain_text("農林 三郎（農政課）")
    no_sideways_scroll(public)
    screenshot(public, "33-public-topic-phone")
    public_context.close()


def test_the_public_hub_s_filters_feed_and_downloads_in_the_browser(browser: Browser, site: Site,
                                                                    tmp_path: Path) -> None:
    """A reader narrows the hub to activity reports with the filter form; the downloads
    then carry the same filter: the feed lists only the activity, the CSV is the one line,
    the Darwin Core Archive (of observations) holds the dragonfly record when unfiltered."""
    from dwca.read import DwCAReader

    from tests.test_hub import ACTIVITY, CURATOR, GROUP, OBSERVATION, send, step

    for trigger, fields in (("send_observation", OBSERVATION), ("send_activity", ACTIVITY)):
        item = send(site.year, GROUP, trigger, fields)
        step(site.year, item, "take", CURATOR)
        step(site.year, item, "accept", CURATOR)
    context = person_context(browser, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{site.base}/public/hub")
    expect(page.get_by_role("status")).to_contain_text("2件")
    page.get_by_label("種類").select_option("activity")
    page.get_by_role("button", name="絞り込む").click()
    expect(page).to_have_url(re.compile(r"kind=activity"))
    expect(page.get_by_role("status")).to_contain_text("1件")
    expect(page.locator("main")).to_contain_text("秋のトンボ調査")
    expect(page.locator("main")).not_to_contain_text("アキアカネ（")
    screenshot(page, "34-public-hub-filtered")

    feed = page.request.get(site.base + str(page.get_by_role("link", name="更新情報（Atom フィード）")
                                            .get_attribute("href")))
    assert feed.ok and "秋のトンボ調査" in feed.text() and "アキアカネ" not in feed.text()
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="一覧（CSV、Excel で開けます）").click()
    rows = Path(csv_download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 2 and "秋のトンボ調査" in rows[1]

    page.get_by_role("link", name="条件を外す").click()
    expect(page.get_by_role("status")).to_contain_text("2件")
    with page.expect_download() as archive:
        page.get_by_role("link", name="観察記録（Darwin Core Archive、GBIF 形式）").click()
    path = tmp_path / "hub.zip"
    archive.value.save_as(path)
    with DwCAReader(str(path)) as reader:
        assert [r.data["http://rs.tdwg.org/dwc/terms/scientificName"] for r in reader] == ["Sympetrum frequens"]
    context.close()
