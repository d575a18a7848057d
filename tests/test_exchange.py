"""The promotion council's exchange of information: a citizen partner raises a public topic
on an action, its owning division is told and replies, the citizen hears of the reply (the
one who replied does not hear of their own); the public reads the topic with its reply,
every word escaped and nobody's address; a topic for participants only and a hidden one are
never public; someone with no part in the strategy cannot post; no open topic is anyone's
work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from engine import db
from engine.errors import InvalidFields, WrongRole
from engine.outbox import OutboxMessage
from tests.conftest import ADMIN, NOW, OWNER, Year
from tests.test_web import clock, csrf_of, sign_in, web  # noqa: F401  (the fixtures)
from workflows import service
from workflows.models import ExchangeTopic, Person

CITIZEN = "sakura.midori@example.net"
STRANGER = "stranger@example.net"
HOSTILE = '<img src=x onerror="alert(1)"> 里山の下草刈りに参加したい & 道具は?'
TOPIC = {"title": HOSTILE, "text": "週末に参加できる日はありますか。\n<b>太字</b>", "actions": ["1-1-2"],
         "public": "yes"}


def post(year: Year, who: str, fields: dict) -> int:
    with db.writing(year.engine) as conn:
        return year.pdca.registry["exchange_topic"].workflow.open(
            conn, "post", service.actor_for(conn, who), fields, now=NOW, tenant=year.strategy).instance_id


def fire(year: Year, topic: int, trigger: str, who: str, **fields: object) -> None:
    with db.writing(year.engine) as conn:
        year.pdca.registry["exchange_topic"].workflow.fire_in(conn, topic, trigger, service.actor_for(conn, who),
                                                              fields, now=NOW + timedelta(days=1))


def told(year: Year, kind: str) -> list[str]:
    with db.reading(year.engine) as conn:
        return sorted(conn.execute(select(OutboxMessage.recipient).where(OutboxMessage.kind == kind)).scalars())


def test_a_topic_is_raised_answered_and_only_what_is_public_is_shown(year: Year) -> None:
    with pytest.raises(InvalidFields):  # an action the strategy does not have
        post(year, CITIZEN, TOPIC | {"actions": ["9-9-9"]})
    with db.writing(year.engine) as conn:
        conn.execute(insert(Person).values(email=STRANGER, name="通りがかり", language="ja", active=True))
    with pytest.raises(WrongRole):  # no part in the strategy, no post
        post(year, STRANGER, TOPIC)
    topic = post(year, CITIZEN, TOPIC)
    assert told(year, "exchange_posted") == sorted(["jimukyoku@city.example.jp", ADMIN, OWNER])
    fire(year, topic, "reply", OWNER, text="11月の第2土曜に作業日があります。")
    assert told(year, "exchange_replied") == [CITIZEN]
    fire(year, topic, "reply", CITIZEN, text="ありがとうございます。参加します。")
    assert told(year, "exchange_replied") == sorted([CITIZEN, OWNER])  # each told of the other's reply only
    with db.reading(year.engine) as conn:
        row = conn.execute(select(ExchangeTopic.state, ExchangeTopic.version).where(ExchangeTopic.id == topic)).one()
        work = service.work_for(conn, year.pdca.registry, year.pdca.tenants.configured(conn),
                                person_id=service.actor_for(conn, OWNER).person_id, now=NOW)
    assert tuple(row) == ("open", 3)
    assert not [w for w in work if w.get("workflow") == "exchange_topic"]
    with pytest.raises(WrongRole):  # only its author or the secretariat closes it
        fire(year, topic, "close", OWNER)
    fire(year, topic, "close", CITIZEN)


def test_the_public_reads_public_topics_escaped_and_never_the_others(
        web: TestClient, year: Year) -> None:  # noqa: F811
    topic = post(year, CITIZEN, TOPIC)
    private = post(year, CITIZEN, TOPIC | {"title": "委員だけに相談", "public": "no"})
    fire(year, topic, "reply", OWNER, text="<script>x()</script>作業日は11月です。")

    index = web.get("/public").text
    assert "<" not in index.split("<title>")[1].split("</title>")[0]  # words in the title, not links
    assert 'href="/public/exchange"' in index and 'href="/public/meetings"' in index and 'href="/public/hub"' in index
    listing = web.get("/public/exchange")
    assert listing.status_code == 200 and "委員だけに相談" not in listing.text
    assert "&lt;img src=x" in listing.text and "<img src=x" not in listing.text
    page = web.get(f"/public/exchange/{topic}")
    assert page.status_code == 200
    main = page.text.split("<main")[1].split("</main>")[0]
    assert "&lt;script&gt;x()" in main and "<script>x()" not in main and "&lt;b&gt;太字" in main
    assert "作業日は11月です" in main and "1-1-2" in main and "里山林の保全管理" in main
    assert "@" not in main and "緑 さくら" in main and "農林 三郎（農政課）" in main
    assert web.get(f"/public/exchange/{private}").status_code == 404

    fire(year, topic, "hide", ADMIN, comment="個人の連絡先が書かれていたため")
    assert web.get(f"/public/exchange/{topic}").status_code == 404
    assert told(year, "exchange_hidden") == [CITIZEN]


def test_a_partner_raises_a_topic_from_the_web_form(web: TestClient, year: Year) -> None:  # noqa: F811
    citizen = sign_in(web, year, CITIZEN)
    form = citizen.get("/w/exchange_topic/new")
    assert form.status_code == 200 and "話題を出す" in form.text and "公開する" in form.text
    refused = citizen.post("/w/exchange_topic/new", data={
        "csrf": csrf_of(form.text), "trigger": "post", "title": "水辺の観察会", "text": "", "public": "yes"})
    assert refused.status_code == 422 and 'value="水辺の観察会"' in refused.text
    sent = citizen.post("/w/exchange_topic/new", data={
        "csrf": csrf_of(form.text), "trigger": "post", "title": "水辺の観察会", "text": "一緒に開きませんか",
        "actions": "1-1-2", "public": "yes"})
    assert sent.status_code == 303
    assert "水辺の観察会" in web.get("/public/exchange").text
