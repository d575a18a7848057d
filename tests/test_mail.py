"""Delivery against a real SMTP server: every message once, in its reader's language, with
faults losing nothing and doubling nothing."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.mail import delivery
from engine import db
from engine.outbox import OutboxMessage
from notifications.drain import Delivery, _Run
from notifications.senders import FileSender, SmtpSender, SmtpSettings
from tests.conftest import ADMIN, CHAIR, CONFIG, Year
from tests.smtp_server import SmtpServer
from workflows.models import Action, Person
from workflows.tick import tick

JST = ZoneInfo("Asia/Tokyo")
OWNER_PAIRS = 13


def at(day: str, hour: int = 6, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), JST)


def tick_at(year: Year, day: str) -> None:
    with db.writing(year.engine) as conn:
        tick(conn, year.pdca.registry, year.pdca.tenants, strategy=year.strategy, now=at(day))


def outbox(year: Year, **where: Any) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)  # type: ignore[arg-type]
    for key, value in where.items():
        query = query.where(getattr(OutboxMessage, key) == value)
    with Session(year.engine) as session:
        return list(session.scalars(query))


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body(message: Message, subtype: str = "plain") -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/{subtype} part")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def over_smtp(year: Year, server: SmtpServer) -> Delivery:
    settings = SmtpSettings(host="127.0.0.1", port=server.port, security="none", timeout=5, connections=2)
    d = delivery(year.pdca, sender=lambda: SmtpSender(settings))
    d.rng = random.Random(7)
    return d


def test_reminders_arrive_once_each_in_the_readers_language(year: Year, smtp: SmtpServer) -> None:
    tick_at(year, "2027-01-15")
    report = over_smtp(year, smtp).drain(at("2027-01-15", 6, 1))
    assert (report.sent, report.retrying, report.dead) == (OWNER_PAIRS, 0, 0)
    assert over_smtp(year, smtp).drain(at("2027-01-15", 6, 2)).sent == 0
    received = {r.recipients[0]: r for r in smtp.handler.received}
    assert len(smtp.handler.received) == OWNER_PAIRS
    assert len({r.message["Message-ID"] for r in smtp.handler.received}) == OWNER_PAIRS
    ja = received["kasen@city.example.jp"].message
    assert subject(ja) == "【提出依頼 2/26まで】令和9年度 計画 1-1-1 湿地の再生"
    assert "河川 四郎 様" in body(ja) and "http://127.0.0.1:8000/actions/1-1-1/2027" in body(ja)
    assert "2027年2月26日（金）" in body(ja)
    en = received["zoo@city.example.jp"].message
    assert subject(en) == "[Please submit by 26 Feb] FY2027 plan, action 1-2-2 Protecting rare species"
    assert "Dear Nanami Dosho," in body(en)
    assert '<a href="http://127.0.0.1:8000/actions/1-2-2/2027"' in body(en, "html")
    assert en.get_content_type() == "multipart/alternative"
    assert en["Auto-Submitted"] == "auto-generated"
    assert en["List-Id"].endswith("<biodiversity-2026.city.example.jp>")
    assert en["Message-ID"] == outbox(year, recipient="zoo@city.example.jp")[0].message_id
    assert received["zoo@city.example.jp"].sender == "biodiversity@city.example.jp"


def test_a_451_is_retried_later_and_delivered_once(year: Year, smtp: SmtpServer) -> None:
    tick_at(year, "2027-01-15")
    smtp.handler.script.extend(["451", "451"])
    first = over_smtp(year, smtp).drain(at("2027-01-15", 6, 1))
    assert (first.sent, first.retrying) == (OWNER_PAIRS - 2, 2)
    waiting = outbox(year, status="queued")
    assert {m.attempts for m in waiting} == {1} and all("451" in (m.last_error or "") for m in waiting)
    assert over_smtp(year, smtp).drain(at("2027-01-15", 6, 1)).sent == 0  # not before its time
    later = over_smtp(year, smtp).drain(at("2027-01-15", 6, 5))
    assert later.sent == 2
    assert len(smtp.handler.received) == OWNER_PAIRS
    assert len({r.message["Message-ID"] for r in smtp.handler.received}) == OWNER_PAIRS


def test_a_dropped_connection_is_reopened_and_nothing_is_lost(year: Year, smtp: SmtpServer) -> None:
    tick_at(year, "2027-01-15")
    smtp.handler.script.extend(["ok", "drop", "ok", "drop"])
    over_smtp(year, smtp).drain(at("2027-01-15", 6, 1))
    over_smtp(year, smtp).drain(at("2027-01-15", 7))
    assert {m.status for m in outbox(year)} == {"sent"}
    assert sorted(r.recipients[0] for r in smtp.handler.received) == sorted(m.recipient for m in outbox(year))


def test_a_550_is_dead_with_its_reason_and_the_admins_hear_once_a_day(year: Year, smtp: SmtpServer) -> None:
    tick_at(year, "2027-01-15")
    smtp.handler.refuse.add("kasen@city.example.jp")
    smtp.handler.script.append("550")
    report = over_smtp(year, smtp).drain(at("2027-01-15", 6, 1))
    assert report.dead == 2
    dead = outbox(year, status="dead")
    assert sorted(m.last_error or "" for m in dead)[0].startswith("550 5.7.1") or any(
        "recipient refused: 550" in (m.last_error or "") for m in dead)
    assert any("no such user" in (m.last_error or "") for m in dead)
    over_smtp(year, smtp).drain(at("2027-01-15", 6, 2))
    over_smtp(year, smtp).drain(at("2027-01-15", 18))
    notices = [r for r in smtp.handler.received if subject(r.message).startswith("【配信エラー】")]
    assert sorted(r.recipients[0] for r in notices) == sorted([ADMIN, "jimukyoku@city.example.jp"])
    assert "no such user" in body(notices[0].message)
    over_smtp(year, smtp).drain(at("2027-01-16", 6))
    assert len([r for r in smtp.handler.received if subject(r.message).startswith("【配信エラー】")]) == 4


def test_the_server_down_then_back_loses_nothing_and_doubles_nothing(year: Year, smtp: SmtpServer) -> None:
    tick_at(year, "2027-01-15")
    smtp.stop()
    down = over_smtp(year, smtp).drain(at("2027-01-15", 6, 1))
    assert (down.sent, down.retrying) == (0, OWNER_PAIRS)
    smtp.start()
    assert over_smtp(year, smtp).drain(at("2027-01-15", 8)).sent == OWNER_PAIRS
    assert over_smtp(year, smtp).drain(at("2027-01-15", 9)).sent == 0
    assert len(smtp.handler.received) == OWNER_PAIRS


def test_after_many_failures_a_message_is_dead_and_can_be_retried(year: Year, smtp: SmtpServer) -> None:
    tick_at(year, "2027-01-15")
    smtp.stop()
    moment = at("2027-01-15", 6, 1)
    for _ in range(year.pdca.settings.mail.max_attempts):
        over_smtp(year, smtp).drain(moment)
        moment += timedelta(hours=8)
    assert {m.status for m in outbox(year) if m.kind == "plan_requested"} == {"dead"}
    smtp.start()
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": year.pdca.settings.database.url}
    result = CliRunner().invoke(cli, ["outbox", "retry", "--all-dead"], env=env)
    assert result.exit_code == 0 and f"{OWNER_PAIRS} message(s) queued again" in result.output
    before = {m.id: m.message_id for m in outbox(year, kind="plan_requested")}
    assert over_smtp(year, smtp).drain(moment).sent >= OWNER_PAIRS
    assert {m.id: m.message_id for m in outbox(year, kind="plan_requested")} == before


def test_a_sender_that_died_mid_batch_is_taken_over_with_the_same_message(year: Year, smtp: SmtpServer) -> None:
    tick_at(year, "2027-01-15")
    d = over_smtp(year, smtp)
    crashed = d._claim_and_render(_Run(at("2027-01-15", 6, 1)))  # claimed and rendered, then the process died
    assert {m.status for m in outbox(year)} == {"sending"}
    assert d.drain(at("2027-01-15", 6, 5)).sent == 0  # still within the claim's lease
    assert d.drain(at("2027-01-15", 6, 20)).sent == OWNER_PAIRS
    sent_ids = {r.message["Message-ID"] for r in smtp.handler.received}
    assert sent_ids == {o.message_id for o in crashed}


def test_crashes_alone_never_use_up_the_attempts_of_messages_that_never_left(year: Year,
                                                                             smtp: SmtpServer) -> None:
    """A sender killed over and over, each time with the same batch claimed: only the first
    messages of its claim (one per connection) can have been on the wire and are counted;
    the rest are queued again with their attempt given back, and none is given up."""
    tick_at(year, "2027-01-15")
    d = over_smtp(year, smtp)
    d.policy = dataclasses.replace(d.policy, in_flight=2)
    moment = at("2027-01-15", 6, 1)
    for _ in range(year.pdca.settings.mail.max_attempts + 2):  # more deaths than attempts allowed
        d._claim_and_render(_Run(moment))  # claimed, then the process died
        moment += timedelta(minutes=11)  # its lease ran out
    rows = sorted(outbox(year), key=lambda m: m.id)
    assert len(rows) > 2 and {m.status for m in rows} <= {"sending", "queued", "dead"}
    suspects, never_left = rows[:2], rows[2:]
    assert all(m.status == "dead" for m in suspects)  # on the wire at every death: given up
    # the next two were first on the wire at the last death only; the rest never were
    assert [m.attempts for m in never_left] == [2, 2] + [1] * (len(never_left) - 2)
    d.drain(moment)  # (with the admins' notice of the two given up)
    assert {m.status for m in outbox(year) if m.id in {n.id for n in never_left}} == {"sent"}


def test_a_digest_reader_gets_one_message_a_day(year: Year, smtp: SmtpServer) -> None:
    with db.writing(year.engine) as conn:
        conn.execute(update(Person).where(Person.email == "jimukyoku@city.example.jp").values(digest=True))
    tick_at(year, "2027-01-15")  # jimukyoku owns five actions: five requests
    first = over_smtp(year, smtp).drain(at("2027-01-15", 6, 1))
    assert (first.sent, first.folded) == (OWNER_PAIRS - 5, 5)
    assert over_smtp(year, smtp).drain(at("2027-01-15", 7, 59)).sent == 0
    assert over_smtp(year, smtp).drain(at("2027-01-15", 8, 0)).sent == 1
    digest = [r for r in smtp.handler.received if r.recipients == ["jimukyoku@city.example.jp"]]
    assert len(digest) == 1
    assert subject(digest[0].message) == "【まとめ 1/15】お知らせ 5件"
    text = body(digest[0].message)
    assert "1-2-1 外来種の防除" in text and "2-1-2 地下水かん養の推進" in text and "4-1-2" in text


def test_owners_hear_when_their_report_is_returned(year: Year, smtp: SmtpServer) -> None:
    year.fire("1-1-2", "submit_plan", "nourin@city.example.jp")
    year.fire("1-1-2", "approve_plan", CHAIR, comment="承認します")
    year.fire("1-1-2", "open_check", ADMIN)
    year.fire("1-1-2", "submit_report", "nourin@city.example.jp", status="implemented", content="実施",
              self_grade="B", **{"indicators.S1": "40", "indicators.S2": "500"})
    year.fire("1-1-2", "return_report", CHAIR, comment="S2 の根拠を書いてください")
    over_smtp(year, smtp).drain(at("2026-11-03"))
    by_subject = {subject(r.message): body(r.message) for r in smtp.handler.received}  # two connections: any order
    returned, approved = "【差戻し】令和8年度 1-1-2 里山林の保全管理", "【計画承認済】令和8年度 1-1-2 里山林の保全管理"
    assert sorted(by_subject) == [returned, approved]
    assert "S2 の根拠を書いてください" in by_subject[returned]
    assert "承認します" in by_subject[approved]


def test_a_title_cannot_add_a_header(year: Year, tmp_path: Path) -> None:
    with db.writing(year.engine) as conn:
        conn.execute(update(Action).where(Action.code == "1-1-1").values(title_ja="湿地\r\nBcc: evil@example.com"))
    tick_at(year, "2027-01-15")
    d = delivery(year.pdca, sender=lambda: FileSender(tmp_path))
    assert d.drain(at("2027-01-15", 6, 1)).sent == OWNER_PAIRS
    for path in tmp_path.glob("*.eml"):
        message = message_from_bytes(path.read_bytes())
        assert message["Bcc"] is None
        assert "\n" not in subject(message)


def test_the_file_backend_writes_one_readable_eml_per_message(year: Year, tmp_path: Path) -> None:
    tick_at(year, "2027-01-15")
    d = delivery(year.pdca, sender=lambda: FileSender(tmp_path))
    d.drain(at("2027-01-15", 6, 1))
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == OWNER_PAIRS
    parsed = [message_from_bytes(f.read_bytes()) for f in files]
    assert {m["To"].split("<")[-1].rstrip(">") for m in parsed} == {m.recipient for m in outbox(year)}
    assert all(m["Date"] and m["Message-ID"] and body(m) and body(m, "html") for m in parsed)
    with db.writing(year.engine) as conn:  # sent again, e.g. after a crash: the same file, no copy
        conn.execute(update(OutboxMessage).values(status="queued"))
    d.drain(at("2027-01-15", 6, 2))
    assert sorted(tmp_path.glob("*.eml")) == files


def test_pdca_outbox_lists_and_sends(year: Year, tmp_path: Path) -> None:
    tick_at(year, "2027-01-15")
    env = {"PDCA_CONFIG": str(CONFIG), "PDCA_DATABASE_URL": year.pdca.settings.database.url}
    runner = CliRunner()
    listed = runner.invoke(cli, ["outbox", "--status", "queued", "--json"], env=env)
    assert listed.exit_code == 0
    import json

    rows = json.loads(listed.stdout)
    assert len(rows) == OWNER_PAIRS and {r["kind"] for r in rows} == {"plan_requested"}
    assert runner.invoke(cli, ["outbox", "retry", "--all-dead"], env=env).exit_code == 1  # nothing dead


def test_a_simulated_year_delivers_every_message_once(year: Year, smtp: SmtpServer) -> None:
    from app.simulate import simulate

    replay = simulate(year.pdca, date(2026, 4, 1), date(2027, 10, 31), actors=True,
                      deliver=over_smtp(year, smtp))
    queued = outbox(year)
    assert {m.status for m in queued} == {"sent"}
    assert replay.totals().sent == len(queued) == len(smtp.handler.received)
    assert {r.message["Message-ID"] for r in smtp.handler.received} == {m.message_id for m in queued}
    kinds = {m.kind for m in queued}
    assert {"plan_escalation", "report_requested", "report_overdue", "report_escalation", "internal_packet",
            "promotion_packet", "decided", "returned"} <= kinds
    english = [r for r in smtp.handler.received if r.recipients == ["zoo@city.example.jp"]]
    assert english and all(subject(r.message).startswith("[") for r in english)
    packets = [r for r in smtp.handler.received if subject(r.message).startswith("【会議資料")]
    assert all("/actions/" in body(r.message) and "/councils/" in body(r.message) for r in packets)
    # A packet's agenda shows what each report said in the strategy's own fields.
    assert any("予算額: " in body(r.message) and " 千円" in body(r.message) for r in packets)


def test_two_senders_share_the_outbox_on_postgresql(year: Year, smtp: SmtpServer) -> None:
    if year.engine.dialect.name != "postgresql":
        pytest.skip("on SQLite one sender runs")
    import dataclasses
    import threading

    for day in ("2027-01-15", "2027-02-12", "2027-02-19"):  # requests and two rounds of reminders
        tick_at(year, day)
    total = len(outbox(year))
    senders = [over_smtp(year, smtp) for _ in range(2)]
    for d in senders:
        d.policy = dataclasses.replace(d.policy, batch=5)  # small claims, so the two interleave
    threads = [threading.Thread(target=d.drain, args=(at("2027-02-19", 7),)) for d in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {m.status for m in outbox(year)} == {"sent"}
    assert len(smtp.handler.received) == total
    assert len({r.message["Message-ID"] for r in smtp.handler.received}) == total


class Exploding:
    """A sender that fails in a way nobody planned for."""

    async def send(self, batch: Any, done: Any = None) -> Any:
        raise RuntimeError("the network card caught fire")

    async def close(self) -> None:
        return None


def test_a_drain_that_blows_up_puts_its_claims_back_and_counts_the_tries(year: Year) -> None:
    tick_at(year, "2027-01-15")
    d = delivery(year.pdca, sender=Exploding)
    moment = at("2027-01-15", 6, 1)
    for tries in range(1, year.pdca.settings.mail.max_attempts + 1):
        with pytest.raises(RuntimeError):
            d.drain(moment)
        rows = outbox(year, kind="plan_requested")
        assert {(m.status, m.attempts) for m in rows} == {("queued", tries)}
        assert all("network card" in (m.last_error or "") for m in rows)
        assert d.drain(moment).sent == 0  # put back with a wait, not at once
        moment += timedelta(hours=8)
    d.drain(moment)  # out of tries: given up, not sent again
    assert {m.status for m in outbox(year, kind="plan_requested")} == {"dead"}


def test_an_outcome_is_recorded_only_by_the_run_holding_the_claim(year: Year, smtp: SmtpServer) -> None:
    tick_at(year, "2027-01-15")
    d = over_smtp(year, smtp)
    stale = _Run(at("2027-01-15", 6, 1))
    d._claim_and_render(stale)
    d.drain(at("2027-01-15", 6, 30))  # the lease ran out: another run took over and delivered
    assert {m.status for m in outbox(year)} == {"sent"}
    from notifications.drain import DrainReport
    from notifications.senders import Result

    report = DrainReport()
    d._record([Result(m.id, False, True, "550 late news") for m in outbox(year)], stale, report)
    assert report.dead == 0 and {m.status for m in outbox(year)} == {"sent"}


class Dying:
    """A sender whose process dies after the server has accepted `survives` messages: each
    accepted message is told as its reply arrives, then the process stops dead (the
    exception stands for the kill: nothing of the drain's own clean-up counts, see below)."""

    def __init__(self, year: Year, survives: int) -> None:
        self.year, self.survives, self.accepted = year, survives, 0

    async def send(self, batch: Any, done: Any = None) -> Any:
        from notifications.senders import Result

        for message in batch:
            sent_before = len(outbox(self.year, status="sent"))
            assert sent_before == self.accepted  # every earlier reply is already recorded
            if self.accepted == self.survives:
                raise KeyboardInterrupt("killed")
            self.accepted += 1
            done(Result(message.id, True))
        return []

    async def close(self) -> None:
        return None


def test_a_crash_mid_batch_leaves_only_the_message_in_flight_to_send_again(year: Year) -> None:
    """Each delivery is recorded as its reply arrives: killed after the server accepted 3 of
    a batch, the outbox has those 3 as sent; only what was on the wire (one message per
    connection) is sent again, with the same Message-ID, once the claim's lease runs out."""
    tick_at(year, "2027-01-15")
    queued = outbox(year, kind="plan_requested")
    assert len(queued) > 4
    d = delivery(year.pdca, sender=lambda: Dying(year, survives=3))
    moment = at("2027-01-15", 6, 1)
    with pytest.raises(KeyboardInterrupt):
        d.drain(moment)
    with db.writing(year.engine) as conn:  # a SIGKILL runs no clean-up: put the claims back as they were
        conn.execute(update(OutboxMessage).where(OutboxMessage.status == "queued", OutboxMessage.attempts > 0)
                     .values(status="sending", claimed_at=moment, next_attempt_at=None))
    assert len(outbox(year, status="sent")) == 3
    ids = {m.id: m.message_id for m in outbox(year, kind="plan_requested") if m.status == "sent"}
    later = moment + timedelta(minutes=11)  # past the claim's lease (10 minutes)
    folder = Path(year.pdca.settings.mail.dir) / "after"
    resent = delivery(year.pdca, sender=lambda: FileSender(folder)).drain(later)
    assert resent.sent == len(queued) - 3  # the rest, none of the three again
    assert {m.id: m.message_id for m in outbox(year, kind="plan_requested")
            if m.id in ids} == ids
