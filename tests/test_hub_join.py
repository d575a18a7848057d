"""Becoming a partner: anyone asks on the public page without an account (checked like
every form, a program filling the hidden field ignored) and confirms the address through
the link mailed to it (a second confirmed request from the same address refused, a link
used twice or too old refused); then the secretariat is told, accepts on the request's
page, and the applicant is registered, seated among the partners and told they may sign
in; then they may send. A declined applicant is told why, in their language."""

from __future__ import annotations

import re
from email import message_from_bytes

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import db
from engine.outbox import OutboxMessage
from tests.conftest import ADMIN, NOW, Year
from tests.test_web import clock, csrf_of, sign_in, web  # noqa: F401  (the fixtures)
from workflows.models import PartnerRequest, Person

ASK = {"trigger": "ask", "name": "森 はるか", "email": "Haruka.Mori@example.net", "organisation": "みどり野鳥の会",
       "organisation_kind": "citizens_group", "language": "ja", "message": "月例の探鳥会の記録を送りたいです。"}


def requests(year: Year) -> list[tuple[str, str]]:
    with db.reading(year.engine) as conn:
        return [tuple(r) for r in conn.execute(select(PartnerRequest.email, PartnerRequest.state))]  # type: ignore[misc]


def told(year: Year, kind: str) -> list[str]:
    with db.reading(year.engine) as conn:
        return list(conn.execute(select(OutboxMessage.recipient).where(OutboxMessage.kind == kind)
                                 .order_by(OutboxMessage.recipient)).scalars())


def mailed_text(year: Year, kind: str) -> str:
    with db.reading(year.engine) as conn:
        raw = conn.execute(select(OutboxMessage.raw).where(OutboxMessage.kind == kind)
                           .order_by(OutboxMessage.id.desc())).scalars().first()  # type: ignore[union-attr]
    assert raw is not None
    part = next(p for p in message_from_bytes(raw).walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def mailed_link(year: Year, kind: str) -> str:
    found = re.search(r"https?://\S+/join/confirm/\S+", mailed_text(year, kind))
    assert found
    return found[0]


def test_someone_asks_the_secretariat_accepts_and_they_may_send(web: TestClient, year: Year) -> None:  # noqa: F811
    page = web.get("/public/hub/join")
    assert page.status_code == 200 and "情報拠点の連携主体に申し込む" in page.text and "市民団体" in page.text
    refused = web.post("/public/hub/join", data=ASK | {"organisation_kind": "", "name": ""})
    assert refused.status_code == 422 and 'value="みどり野鳥の会"' in refused.text and requests(year) == []
    bot = web.post("/public/hub/join", data=ASK | {"website": "http://spam.example"})
    assert bot.status_code == 200 and "確認のメールをお送りしました" in bot.text and requests(year) == []
    sent = web.post("/public/hub/join", data=ASK)
    assert sent.status_code == 200 and "確認のメールをお送りしました" in sent.text
    assert requests(year) == [("haruka.mori@example.net", "unconfirmed")]
    assert told(year, "partner_requested") == [] and told(year, "partner_confirm") == ["haruka.mori@example.net"]
    link = mailed_link(year, "partner_confirm")
    assert "森 はるか 様" in mailed_text(year, "partner_confirm")
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = web.get(f"/{path}")
    assert page.status_code == 200 and "メールアドレスを確認する" in page.text
    assert requests(year) == [("haruka.mori@example.net", "unconfirmed")]  # looking at the link confirms nothing
    confirmed = web.post(f"/{path}")
    assert confirmed.status_code == 200 and "お申込みを受け付けました" in confirmed.text
    assert requests(year) == [("haruka.mori@example.net", "requested")]
    assert told(year, "partner_requested") == ["jimukyoku@city.example.jp", "kankyo.admin@city.example.jp"]
    assert web.post(f"/{path}").status_code == 404  # a link works once
    assert web.get("/public/hub/join/confirm/not-a-secret").status_code == 404
    twice = web.post("/public/hub/join", data=ASK)
    assert twice.status_code == 409 and "すでに受け付けている" in twice.text

    secretariat = sign_in(web, year, ADMIN)
    with db.reading(year.engine) as conn:
        request_id = conn.execute(select(PartnerRequest.id)).scalar_one()
    page = secretariat.get(f"/w/partner_request/{request_id}").text
    assert "連携主体として登録する" in page
    done = secretariat.post(f"/w/partner_request/{request_id}/fire",
                            data={"csrf": csrf_of(page), "trigger": "accept", "version": "2"})
    assert done.status_code == 303
    with db.reading(year.engine) as conn:
        person = conn.execute(select(Person.name, Person.organisation, Person.organisation_kind, Person.active)
                              .where(Person.email == "haruka.mori@example.net")).one()
    assert tuple(person) == ("森 はるか", "みどり野鳥の会", "citizens_group", True)
    assert told(year, "partner_welcome") == ["haruka.mori@example.net"]
    partner = TestClient(web.app, follow_redirects=False)
    assert "観察記録を送る" in sign_in(partner, year, "haruka.mori@example.net").get("/").text


def test_a_declined_request_says_why_and_registers_nobody(year: Year) -> None:
    from engine.runtime import SYSTEM_ACTOR
    from workflows import service

    workflow = year.pdca.registry["partner_request"].workflow
    with db.writing(year.engine) as conn:
        asked = workflow.open(conn, "ask", SYSTEM_ACTOR, {k: v for k, v in ASK.items() if k != "trigger"}
                              | {"language": "en"}, now=NOW, tenant=year.strategy).instance_id
        workflow.fire_in(conn, asked, "confirm", SYSTEM_ACTOR, {}, now=NOW)
        workflow.fire_in(conn, asked, "decline", service.actor_for(conn, ADMIN),
                         {"comment": "市外の団体のため、県の拠点をご案内します"}, now=NOW)
        row = conn.execute(select(PartnerRequest.state, PartnerRequest.declined_reason)).one()
        person = conn.execute(select(Person.id).where(Person.email == "haruka.mori@example.net")).first()
    assert tuple(row) == ("declined", "市外の団体のため、県の拠点をご案内します") and person is None
    assert told(year, "partner_declined") == ["haruka.mori@example.net"]
    from app.mail import delivery  # the message is rendered as the outbox sends it: render it here

    with db.reading(year.engine) as conn:
        message = Session(bind=conn).scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "partner_declined")).one()
        d = delivery(year.pdca)
        rendered = d.renderer.render(d.directory.contexts(conn, [message])[message.id])
    assert "Dear 森 はるか" in rendered.text and "市外の団体のため" in rendered.text
    assert "not able to register you" in rendered.text


def test_a_request_not_confirmed_in_a_week_lapses(year: Year) -> None:
    from datetime import timedelta

    from engine.runtime import SYSTEM_ACTOR
    from workflows.tick import tick

    workflow = year.pdca.registry["partner_request"].workflow
    with db.writing(year.engine) as conn:
        workflow.open(conn, "ask", SYSTEM_ACTOR, {k: v for k, v in ASK.items() if k != "trigger"}, now=NOW,
                      tenant=year.strategy)
    for days, state in ((6, "unconfirmed"), (8, "lapsed")):
        with db.writing(year.engine) as conn:
            tick(conn, year.pdca.registry, year.pdca.tenants, strategy=year.strategy, now=NOW + timedelta(days=days))
        assert requests(year) == [("haruka.mori@example.net", state)]
