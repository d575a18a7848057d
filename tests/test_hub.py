"""The information hub's curation, as a workflow of its own: a partner sends an observation
or an activity report, a curator takes it into review and accepts, returns or rejects it,
an expert verifies the identification, nobody curates what they sent, the sender and the
curators are told; and a sensitive species' place is generalised before anyone public
sees it. On SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine import db
from engine.errors import GuardRefused, InvalidFields, WrongRole
from engine.outbox import OutboxMessage
from tests.conftest import ADMIN, NOW, OWNER, Year
from workflows import service
from workflows.hub import measures
from workflows.hub.sensitive import public_place, square_of
from workflows.models import HubItem

GROUP = "npo.tombo@example.org"  # a citizens' group, a partner
EXPERT = "shokubutsu@example.org"  # a local expert: partner and expert
CURATOR = "museum@city.example.jp"  # the museum: curator and partner
ZOO = "zoo@city.example.jp"  # the zoo: curator

OBSERVATION = {
    "scientificName": "Sympetrum frequens", "vernacularName": "アキアカネ", "speciesGroup": "insects",
    "eventDate": "2026-10-12",
    "decimalLatitude": "35.6321", "decimalLongitude": "139.5123", "coordinateUncertaintyInMeters": "30",
    "locality": "緑川 中流の河川敷", "basisOfRecord": "HumanObservation", "occurrenceStatus": "present",
    "individualCount": "12", "recordedBy": "とんぼの会", "actions": ["1-1-1"],
}
ACTIVITY = {"title": "秋のトンボ調査", "eventDate": "2026-10-12", "locality": "緑川 中流",
            "participants": "18", "text": "会員と市民18名で河川敷のトンボを調べました。", "actions": ["1-1-1", "3-1-1"]}


@pytest.fixture
def hub(database_url: str) -> Iterator[Year]:
    year = Year(database_url)
    yield year
    year.close()


def entry(year: Year) -> Any:
    return year.pdca.registry["hub_item"]


def send(year: Year, who: str, trigger: str = "send_observation", fields: dict[str, Any] | None = None,
         now: datetime = NOW) -> int:
    with db.writing(year.engine) as conn:
        return entry(year).workflow.open(conn, trigger, service.actor_for(conn, who), dict(fields or OBSERVATION),
                                         now=now, tenant=year.strategy).instance_id


def step(year: Year, item: int, trigger: str, who: str, **fields: Any) -> None:
    with db.writing(year.engine) as conn:
        entry(year).workflow.fire_in(conn, item, trigger, service.actor_for(conn, who), fields, now=NOW)


def row(year: Year, item: int) -> Any:
    with db.reading(year.engine) as conn:
        return conn.execute(select(HubItem.__table__).where(HubItem.id == item)).mappings().one()  # type: ignore[attr-defined]


def told(year: Year, item: int) -> list[tuple[str, str]]:
    with db.reading(year.engine) as conn:
        return [(m.kind, m.recipient) for m in conn.execute(
            select(OutboxMessage.kind, OutboxMessage.recipient).where(
                OutboxMessage.workflow == "hub_item", OutboxMessage.instance_id == item).order_by(OutboxMessage.id))]


def test_a_partner_s_observation_is_reviewed_verified_and_accepted_and_each_side_is_told(hub: Year) -> None:
    item = send(hub, GROUP)
    sent = row(hub, item)
    assert (sent["state"], sent["kind"]) == ("submitted", "observation")
    assert sent["title"] == "アキアカネ（緑川 中流の河川敷）"
    assert (sent["latitude"], sent["individual_count"], sent["actions"]) == (35.6321, 12, ["1-1-1"])
    assert sent["occurrence_id"].startswith("urn:uuid:") and sent["source"] == "web"
    assert {r for k, r in told(hub, item) if k == "hub_received"} == {
        "kankyo.admin@city.example.jp", CURATOR, ZOO}  # every curator hears of it

    with pytest.raises(WrongRole):
        step(hub, item, "take", GROUP)  # a partner does not curate
    step(hub, item, "take", CURATOR)
    step(hub, item, "verify", EXPERT, identifiedAs="Sympetrum frequens (Selys, 1883)")
    step(hub, item, "accept", CURATOR)
    accepted = row(hub, item)
    assert accepted["state"] == "accepted" and accepted["accepted_at"] is not None
    assert (accepted["verified_by"], accepted["scientific_name"]) == (EXPERT, "Sympetrum frequens (Selys, 1883)")
    assert ("hub_accepted", GROUP) in told(hub, item)


def test_nobody_curates_or_verifies_what_they_sent(hub: Year) -> None:
    item = send(hub, CURATOR)  # the museum sends a record of its own
    with pytest.raises(GuardRefused) as refused:
        step(hub, item, "take", CURATOR)
    assert "ほかの担当者が確認します" in refused.value.reasons[0].ja  # type: ignore[attr-defined]
    step(hub, item, "take", ZOO)
    own = send(hub, EXPERT)
    step(hub, own, "take", ZOO)
    with pytest.raises(GuardRefused):
        step(hub, own, "verify", EXPERT, identifiedAs="Sympetrum frequens")


def test_a_returned_item_comes_back_changed_and_a_rejected_one_says_why(hub: Year) -> None:
    item = send(hub, GROUP, "send_activity", ACTIVITY)
    step(hub, item, "take", ZOO)
    step(hub, item, "return_item", ZOO, comment="参加者数を確かめてください")
    assert row(hub, item)["returned_comment"] == "参加者数を確かめてください"
    assert ("hub_returned", GROUP) in told(hub, item)
    with db.reading(hub.engine) as conn:
        instance = entry(hub).store.load(conn, item)
        assert entry(hub).store.sent_as(instance)["participants"] == 18  # what the form is filled in with
    again = {f"item.{k}": v for k, v in ACTIVITY.items()} | {"item.participants": "16"}
    step(hub, item, "resend", GROUP, **again)
    resent = row(hub, item)
    assert (resent["state"], resent["participants"], resent["returned_comment"]) == ("submitted", 16, None)
    step(hub, item, "take", ZOO)
    step(hub, item, "reject", ZOO, comment="調査地が市外でした")
    assert (row(hub, item)["state"], row(hub, item)["rejected_reason"]) == ("rejected", "調査地が市外でした")
    assert ("hub_rejected", GROUP) in told(hub, item)


def test_what_is_sent_is_checked_and_a_refusal_keeps_nothing(hub: Year) -> None:
    bad = OBSERVATION | {"eventDate": "2027-01-01", "decimalLatitude": "135.6", "individualCount": "-2",
                         "actions": ["9-9-9"], "basisOfRecord": "Rumour"}
    with pytest.raises(InvalidFields) as refused:
        send(hub, GROUP, fields=bad)
    assert {key for key, _ in refused.value.problems} == {
        "eventDate", "decimalLatitude", "individualCount", "actions", "basisOfRecord"}
    half = {k: v for k, v in OBSERVATION.items() if k not in ("scientificName", "vernacularName",
                                                                  "decimalLongitude")}
    with pytest.raises(GuardRefused) as guarded:
        send(hub, GROUP, fields=half)
    assert len(guarded.value.reasons) == 2  # no species named, half a place
    with pytest.raises(WrongRole):
        send(hub, OWNER)  # a division's staff member who is no partner of the hub
    with db.reading(hub.engine) as conn:
        assert conn.execute(select(HubItem.id)).first() is None


def test_an_admin_stands_in_and_an_accepted_item_can_be_withdrawn(hub: Year) -> None:
    item = send(hub, ADMIN)  # the secretariat sends on a partner's behalf (paper form)
    step(hub, item, "take", CURATOR)
    step(hub, item, "accept", CURATOR)
    step(hub, item, "withdraw", ZOO, comment="所有者の希望により非公開に")
    withdrawn = row(hub, item)
    assert (withdrawn["state"], withdrawn["accepted_at"]) == ("withdrawn", None)


def test_a_sensitive_species_is_shown_at_the_centre_of_its_grid_square(hub: Year) -> None:
    salamander = OBSERVATION | {"scientificName": "Hynobius tokyoensis", "vernacularName": "トウキョウサンショウウオ"}
    item = send(hub, GROUP, fields=salamander)
    with db.reading(hub.engine) as conn:
        place = entry(hub).store.place(conn, row(hub, item))
    square = square_of(35.6321, 139.5123)
    assert place.generalised and place.square == square and square.code == "533934"
    assert (place.latitude, place.longitude) == square.centre != (35.6321, 139.5123)
    assert place.uncertainty_m == square.radius_m > 7000
    with db.reading(hub.engine) as conn:
        plain = entry(hub).store.place(conn, row(hub, send(hub, GROUP)))
    assert (plain.latitude, plain.longitude, plain.generalised) == (35.6321, 139.5123, False)


def test_the_standard_grid_square_is_jis_x_0410_s_second_level() -> None:
    """Tokyo Station (35.681236 N, 139.767125 E) lies in 2次メッシュ 533946; a point on a
    square's south-west corner belongs to that square."""
    assert square_of(35.681236, 139.767125).code == "533946"
    corner = square_of(35 + 40 / 60, 139.75)
    assert (corner.code, corner.south, corner.west) == ("533946", 35 + 40 / 60, 139.75)
    assert public_place(None, None, None, "Hynobius tokyoensis", frozenset({"Hynobius tokyoensis"})).latitude is None


def test_an_indicator_takes_its_year_from_the_hub_equal_to_a_hand_count(hub: Year) -> None:
    """C1 of 3-1-1 (participants in the surveys) is `participants` in the sample: the sum of
    the accepted activity reports serving 3-1-1 dated in FY2026, nothing else."""
    def activity(people: int, day: str, actions: list[str], accept: bool = True) -> None:
        item = send(hub, GROUP, "send_activity", ACTIVITY | {"participants": str(people), "eventDate": day,
                                                             "actions": actions})
        step(hub, item, "take", CURATOR)
        step(hub, item, "accept" if accept else "reject", CURATOR, **({} if accept else {"comment": "重複"}))

    activity(18, "2026-10-12", ["3-1-1"])
    activity(7, "2026-05-03", ["3-1-1", "1-1-1"])
    activity(40, "2026-06-01", ["3-1-1"], accept=False)  # rejected: not counted
    activity(11, "2026-07-07", ["1-1-1"])  # another action's
    activity(9, "2026-03-20", ["3-1-1"])  # FY2025
    send(hub, GROUP, "send_activity", ACTIVITY | {"participants": "30"})  # not yet curated
    with db.reading(hub.engine) as conn:
        cycle = hub.cycles.store.load(conn, hub.cycle_id("3-1-1"))
        c1 = next(i for i in hub.cycles.store.details(conn, cycle, today=None)["indicators"] if i["code"] == "C1")
        tenant = hub.tenant(conn)
        everything = measures.measured(conn, tenant, name="all_activities", action="3-1-1", fy=2026)
        species = measures.measured(conn, tenant, name="all_species", action="3-1-1", fy=2026)
    assert c1["hub"]["value"] == 18 + 7 and c1["hub"]["items"] == 2
    assert c1["hub"]["query"]["ja"] == (
        "取組3-1-1に関係する採用された活動報告の参加者数の合計（実施日がFY2026 (令和8年度)のもの）")
    assert c1["hub"]["link"] == "/public/hub?kind=activity&fy=2026&action=3-1-1"
    assert everything["value"] == 3  # 18, 7 and 11: accepted, in FY2026, any action
    assert species["value"] == 0


def test_distinct_species_count_what_was_recorded_present(hub: Year) -> None:
    for name, status in (("Sympetrum frequens", "present"), ("Sympetrum frequens", "present"),
                         ("Alcedo atthis", "present"), ("Rana japonica", "absent")):
        item = send(hub, GROUP, fields=OBSERVATION | {"scientificName": name, "occurrenceStatus": status})
        step(hub, item, "take", CURATOR)
        step(hub, item, "accept", CURATOR)
    with db.reading(hub.engine) as conn:
        found = measures.measured(conn, hub.tenant(conn), name="species", action="1-1-1", fy=2026)
    assert (found["value"], found["items"]) == (2, 4)


def test_the_year_s_publication_lists_each_action_s_hub_records(hub: Year) -> None:
    """Frozen with the year's results: under 3-1-1, the accepted activity report of FY2026
    that serves it, linking to its page on the hub; nothing of what was not accepted."""
    from publishing.site import render_pages
    from workflows.action_cycle import results
    from workflows.hub.public import for_publication

    item = send(hub, GROUP, "send_activity", ACTIVITY)
    step(hub, item, "take", CURATOR)
    step(hub, item, "accept", CURATOR)
    send(hub, GROUP, "send_activity", ACTIVITY | {"title": "未確認の活動"})
    salamander = send(hub, GROUP, fields=OBSERVATION | {"scientificName": "Hynobius tokyoensis",
                                                        "vernacularName": "トウキョウサンショウウオ",
                                                        "locality": "ほたる谷戸の湧水池", "actions": ["1-2-2"]})
    step(hub, salamander, "take", CURATOR)
    step(hub, salamander, "accept", CURATOR)
    with db.writing(hub.engine) as conn:
        tenant = hub.tenant(conn)
        publication, _ = results.publish(conn, strategy_code=tenant.code, fy=2026, now=NOW,
                                         hub=for_publication(conn, tenant, 2026), meetings=())
    listed = {a["code"]: a["hub_items"] for a in publication["actions"]}
    assert [h["title"] for h in listed["3-1-1"]] == ["秋のトンボ調査"] == [h["title"] for h in listed["1-1-1"]]
    assert listed["1-2-1"] == [] and listed["3-1-1"][0]["participants"] == 18
    assert [h["title"] for h in listed["1-2-2"]] == ["トウキョウサンショウウオ（2次メッシュ 533934）"]  # no place name
    pages = render_pages(publication)
    page = next(html for path, html in pages.items() if path.startswith("actions/") and "3-1-1" in html
                and "秋のトンボ調査" in html)
    assert f'href="../../../hub/{item}"' in page and "参加18人" in page and "未確認の活動" not in page
