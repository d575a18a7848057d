"""A partner sends to the hub from the web: My work says what they may send, the form is
built from the step's fields, a refusal comes back beside its fields with what was typed
kept, a returned item's form starts from what was sent; someone who is no partner is told
so in words."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine import db
from tests.conftest import OWNER, Year
from tests.test_hub import GROUP, ZOO, step
from tests.test_web import clock, csrf_of, sign_in, web  # noqa: F401  (the fixtures)
from workflows.models import HubItem

FORM = {"trigger": "send_observation", "vernacularName": "アキアカネ", "scientificName": "Sympetrum frequens",
        "speciesGroup": "insects", "eventDate": "2026-10-12", "decimalLatitude": "35.6321",
        "decimalLongitude": "139.5123", "locality": "緑川 中流の河川敷", "basisOfRecord": "HumanObservation",
        "occurrenceStatus": "present", "individualCount": "12", "actions": "1-1-1\n3-1-1"}


def items(year: Year) -> list[tuple[int, str]]:
    with db.reading(year.engine) as conn:
        return [tuple(r) for r in conn.execute(select(HubItem.id, HubItem.state).order_by(HubItem.id))]  # type: ignore[misc]


def test_a_partner_sends_an_observation_from_the_web_and_sends_it_again(web: TestClient,  # noqa: F811
                                                                        year: Year) -> None:
    client = sign_in(web, year, GROUP)
    home = client.get("/").text
    assert 'href="/w/hub_item/new#step-send_observation">観察記録を送る' in home
    assert "活動報告を送る" in home
    page = client.get("/w/hub_item/new").text
    assert 'id="step-send_observation"' in page and 'id="step-send_activity"' in page
    assert "<option value=\"insects\">昆虫類</option>" in page and "選択してください" in page

    refused = client.post("/w/hub_item/new", data=FORM | {"csrf": csrf_of(page), "eventDate": "2027-01-05"})
    assert refused.status_code == 422
    assert "2027-01-05 は今日より後の日付です" in refused.text
    assert 'value="緑川 中流の河川敷"' in refused.text  # nothing typed is lost
    assert items(year) == []

    sent = client.post("/w/hub_item/new", data=FORM | {"csrf": csrf_of(page)})
    assert sent.status_code == 303
    (item, state), = items(year)
    assert state == "submitted" and sent.headers["location"] == f"/w/hub_item/{item}?done=sent"
    assert "送りました。担当者が確認します。" in client.get(sent.headers["location"]).text

    step(year, item, "take", ZOO)
    step(year, item, "return_item", ZOO, comment="場所をもう少し詳しく")
    returned = client.get(f"/w/hub_item/{item}").text
    assert 'name="item.vernacularName" value="アキアカネ"' in returned  # the form starts from what was sent
    assert ">1-1-1\n3-1-1</textarea>" in returned
    fields = {k: v for k, v in re.findall(r'name="(item\.[A-Za-z]+)" value="([^"]*)"', returned)}
    resent = client.post(f"/w/hub_item/{item}/fire", data=fields | {
        "csrf": csrf_of(returned), "trigger": "resend", "version": "3", "item.locality": "緑川 中流 右岸の河川敷",
        "item.actions": "1-1-1\n3-1-1", "item.basisOfRecord": "HumanObservation", "item.occurrenceStatus": "present",
        "item.speciesGroup": "insects"})
    assert resent.status_code == 303, resent.text
    with db.reading(year.engine) as conn:
        row = conn.execute(select(HubItem.state, HubItem.locality, HubItem.actions)).one()
    assert tuple(row) == ("submitted", "緑川 中流 右岸の河川敷", ["1-1-1", "3-1-1"])


def test_someone_who_is_no_partner_is_told_so(web: TestClient, year: Year) -> None:  # noqa: F811
    client = sign_in(web, year, OWNER)
    assert "観察記録を送る" not in client.get("/").text
    page = client.get("/w/hub_item/new")
    assert page.status_code == 403 and "情報拠点の連携主体として登録されると送れます" in page.text
    assert client.get("/w/nothing/new").status_code == 404


def jpeg_with_a_location() -> bytes:
    """A phone's photo: 40 × 20 px, turned by its EXIF orientation, with a GPS position and
    the camera's owner in its metadata."""
    import io

    from PIL import Image

    image = Image.new("RGB", (40, 20), (40, 120, 60))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° to show
    exif[0x013B] = "Midori Taro"  # Artist
    exif[0x8825] = {1: "N", 2: (35.0, 37.0, 55.56), 3: "E", 4: (139.0, 30.0, 44.28)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_photos_are_kept_without_their_location_and_shown_once_accepted(web: TestClient,  # noqa: F811
                                                                        year: Year) -> None:
    import io

    from PIL import Image

    photo = jpeg_with_a_location()
    assert b"Midori Taro" in photo and Image.open(io.BytesIO(photo)).getexif().get(0x8825)
    client = sign_in(web, year, GROUP)
    page = client.get("/w/hub_item/new").text
    assert 'enctype="multipart/form-data"' in page and 'type="file" name="photos"' in page
    bad = client.post("/w/hub_item/new", data=FORM | {"csrf": csrf_of(page)},
                      files=[("photos", ("note.jpg", b"not a picture", "image/jpeg"))])
    assert bad.status_code == 422 and "1枚目は JPEG・PNG・WebP の写真として読めません" in bad.text
    assert items(year) == []
    sent = client.post("/w/hub_item/new", data=FORM | {"csrf": csrf_of(page)},
                       files=[("photos", ("IMG_0001.jpg", photo, "image/jpeg"))])
    assert sent.status_code == 303
    (item, _), = items(year)
    staff = client.get(f"/w/hub_item/{item}/photos/1")
    assert staff.status_code == 200 and staff.headers["content-type"] == "image/jpeg"
    kept = Image.open(io.BytesIO(staff.content))
    assert kept.size == (20, 40)  # turned upright
    assert not kept.getexif() and b"Midori Taro" not in staff.content and b"Exif" not in staff.content
    assert f'src="/w/hub_item/{item}/photos/1"' in client.get(f"/w/hub_item/{item}").text

    public = TestClient(web.app)
    assert public.get(f"/public/hub/{item}/photos/1").status_code == 404  # not accepted yet
    step(year, item, "take", ZOO)
    step(year, item, "accept", ZOO)
    assert public.get(f"/public/hub/{item}/photos/1").content == staff.content
    assert f'src="/public/hub/{item}/photos/1"' in public.get(f"/public/hub/{item}").text
    with db.reading(year.engine) as conn:
        from engine.audit import AuditEvent

        fields = conn.execute(select(AuditEvent.fields).where(AuditEvent.trigger == "send_observation")).scalar_one()
    assert fields["photos"] == [f"{len(photo)} bytes"]  # the audit says how big, not what
