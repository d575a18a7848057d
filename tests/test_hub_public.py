"""The information hub in public: what partners sent and the curators accepted, as a page with
filters and a map, one page per item, an Atom feed, a CSV and a Darwin Core Archive. Only
accepted items are ever there; a protected species (トウキョウサンショウウオ) is shown only to its
~10 km grid square, on every one of them; what a partner wrote is text, never markup; and
every word is the reader's language, never a program's name."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dwca.read import DwCAReader
from fastapi.testclient import TestClient

from app.config import load_settings
from app.web.main import create_app
from engine import db
from tests.conftest import NOW, Year, settings_for
from tests.test_tenants import TOWN, config_with_town
from tests.test_web import Clock
from tests.test_words import ENGLISH
from workflows import service
from workflows.action_cycle import results
from workflows.hub.sensitive import square_of

GROUP = "npo.tombo@example.org"  # a citizens' group, a partner
EXPERT = "shokubutsu@example.org"  # a local expert: partner and expert
CURATOR = "museum@city.example.jp"  # the museum: curator and partner
ZOO = "zoo@city.example.jp"  # the zoo: curator

ATOM = "{http://www.w3.org/2005/Atom}"
GEORSS = "{http://www.georss.org/georss}"
HOSTILE = ('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "&")

DRAGONFLY = {
    "scientificName": "Sympetrum frequens", "vernacularName": "アキアカネ", "speciesGroup": "insects",
    "eventDate": "2026-10-12", "decimalLatitude": "35.6402", "decimalLongitude": "139.5301",
    "coordinateUncertaintyInMeters": "30", "locality": "緑川 中流の河川敷", "basisOfRecord": "HumanObservation",
    "occurrenceStatus": "present", "individualCount": "12", "recordedBy": "とんぼの会", "actions": ["1-1-1"],
}
SALAMANDER_SPOT = ("35.6321", "139.5123")
SALAMANDER = {
    "scientificName": "Hynobius tokyoensis", "vernacularName": "トウキョウサンショウウオ",
    "speciesGroup": "amphibians_reptiles", "eventDate": "2026-09-20", "decimalLatitude": SALAMANDER_SPOT[0],
    "decimalLongitude": SALAMANDER_SPOT[1], "coordinateUncertaintyInMeters": "10", "locality": "ほたる谷戸の奥の湧水池",
    "basisOfRecord": "HumanObservation", "occurrenceStatus": "present", "individualCount": "3",
    "actions": ["1-2-2"], "remarks": "卵のうを確認",
}
LILY = {  # FY2025: observed in March 2026
    "scientificName": "Erythronium japonicum", "vernacularName": "カタクリ", "speciesGroup": "plants",
    "eventDate": "2026-03-20", "decimalLatitude": "35.6103", "decimalLongitude": "139.4805",
    "locality": "北の丘の雑木林", "basisOfRecord": "HumanObservation", "occurrenceStatus": "present",
    "actions": ["2-2-1"],
}
SURVEY = {"title": "秋のトンボ調査", "eventDate": "2026-10-12", "locality": "緑川 中流", "decimalLatitude": "35.6205",
          "decimalLongitude": "139.5508", "participants": "18", "text": "会員と市民18名で河川敷のトンボを調べました。",
          "actions": ["1-1-1", "3-1-1"]}
WAITING = DRAGONFLY | {"vernacularName": "ヒミツノハナ", "locality": "まだ確認前の場所"}
REFUSED = DRAGONFLY | {"vernacularName": "フサイヨウノムシ", "locality": "市外の公園"}
HOSTILE_OBSERVATION = DRAGONFLY | {"vernacularName": HOSTILE[0], "locality": HOSTILE[1], "remarks": HOSTILE[2],
                                   "eventDate": "2026-10-01"}
HOSTILE_ACTIVITY = SURVEY | {"title": "".join(HOSTILE), "text": "".join(HOSTILE), "eventDate": "2026-10-02"}


def send(year: Year, who: str, fields: dict[str, Any], trigger: str = "send_observation",
         tenant: int | None = None) -> int:
    with db.writing(year.engine) as conn:
        return year.pdca.registry["hub_item"].workflow.open(
            conn, trigger, service.actor_for(conn, who), dict(fields), now=NOW,
            tenant=tenant or year.strategy).instance_id


def step(year: Year, item: int, trigger: str, who: str, **fields: Any) -> None:
    with db.writing(year.engine) as conn:
        year.pdca.registry["hub_item"].workflow.fire_in(conn, item, trigger, service.actor_for(conn, who), fields,
                                                        now=NOW)


def accept(year: Year, item: int, curator: str = CURATOR) -> int:
    step(year, item, "take", curator)
    step(year, item, "accept", curator)
    return item


@pytest.fixture
def city(year: Year) -> dict[str, int]:
    """The hub a month into autumn: five items accepted, one waiting, one rejected."""
    dragonfly = send(year, GROUP, DRAGONFLY)
    step(year, dragonfly, "take", CURATOR)
    step(year, dragonfly, "verify", EXPERT, identifiedAs="Sympetrum frequens")
    step(year, dragonfly, "accept", CURATOR)
    refused = send(year, GROUP, REFUSED)
    step(year, refused, "take", ZOO)
    step(year, refused, "reject", ZOO, comment="市外の記録です")
    return {
        "dragonfly": dragonfly,
        "salamander": accept(year, send(year, GROUP, SALAMANDER)),
        "lily": accept(year, send(year, GROUP, LILY)),
        "survey": accept(year, send(year, GROUP, SURVEY, "send_activity")),
        "waiting": send(year, GROUP, WAITING),
        "refused": refused,
    }


@pytest.fixture
def hostile(year: Year) -> dict[str, int]:
    return {"observation": accept(year, send(year, GROUP, HOSTILE_OBSERVATION)),
            "activity": accept(year, send(year, GROUP, HOSTILE_ACTIVITY, "send_activity"))}


@pytest.fixture
def web(year: Year) -> Iterator[TestClient]:
    with TestClient(create_app(year.pdca, clock=Clock(NOW)), follow_redirects=False) as client:
        yield client


def feed_of(response: Any) -> ET.Element:
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root


def entries(feed: ET.Element) -> list[ET.Element]:
    return feed.findall(f"{ATOM}entry")


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def archive_rows(response: Any, tmp_path: Path) -> tuple[list[dict[str, str]], Any]:
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    path = tmp_path / "hub-dwca.zip"
    path.write_bytes(response.content)
    with DwCAReader(str(path)) as reader:
        rows = [{term.rsplit("/", 1)[1]: value for term, value in row.data.items()} for row in reader]
        metadata = reader.metadata
    return rows, metadata


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<title\b.*?</title>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html).replace("&amp;", "&")


def occurrence_id(year: Year, item: int) -> str:
    with db.reading(year.engine) as conn:
        return str(year.pdca.registry["hub_item"].store.load(conn, item).data["occurrence_id"])


# -- only what the curators accepted -----------------------------------------------------------


def test_the_page_lists_the_accepted_items_newest_first_and_nothing_else(
        web: TestClient, year: Year, city: dict[str, int]) -> None:
    page = web.get("/public/hub")
    assert page.status_code == 200
    text = page.text
    for shown in ("アキアカネ", "トウキョウサンショウウオ", "カタクリ", "秋のトンボ調査"):
        assert shown in text
    for hidden in ("ヒミツノハナ", "まだ確認前の場所", "フサイヨウノムシ", "市外の公園"):
        assert hidden not in text
    assert "4件" in text
    cards = re.findall(r'<article class="card hub-card">.*?</article>', text, flags=re.S)
    order = [re.search(r'href="/public/hub/(\d+)"', c)[1] for c in cards]  # type: ignore[index]
    # by the day observed, the later sent first on the same day
    assert order == [str(city[k]) for k in ("survey", "dragonfly", "salamander", "lily")]
    survey, dragonfly = cards[0], cards[1]
    assert "2026-10-12" in dragonfly and "緑川 中流の河川敷" in dragonfly
    assert '<i lang="la">Sympetrum frequens</i>' in dragonfly
    assert "昆虫類" in dragonfly and ">12<" in dragonfly and "とんぼの会" in dragonfly and "同定確認済み" in dragonfly
    assert "1-1-1 湿地の再生" in dragonfly
    assert "参加者数" in survey and "18人" in survey and "3-1-1 生きもの調査への市民参加" in survey
    assert "同定確認済み" not in cards[2]
    # the map above the list: its links, and the same links in a plain list
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text and 'role="img"' in text
    svg = text[text.index("<svg"):text.index("</svg>")]
    for key in ("dragonfly", "salamander", "lily", "survey"):
        assert f'href="/public/hub/{city[key]}"' in svg
        assert text.count(f'href="/public/hub/{city[key]}"') >= 3  # map, list of links, card
    for download in ("/public/hub/feed.atom", "/public/hub/items.csv", "/public/hub/occurrences.zip"):
        assert f'href="{download}' in text


def test_an_item_s_page_shows_it_with_its_map_and_any_other_is_not_there_in_words(
        web: TestClient, city: dict[str, int]) -> None:
    page = web.get(f"/public/hub/{city['survey']}")
    assert page.status_code == 200
    assert "秋のトンボ調査" in page.text and "会員と市民18名で河川敷のトンボを調べました。" in page.text
    assert page.text.count("<svg") == 1 and page.text.count('class="marker"') == 1
    for missing in (city["waiting"], city["refused"], 999_999):
        refused = web.get(f"/public/hub/{missing}")
        assert refused.status_code == 404 and "ページが見つかりません" in refused.text and "<header>" in refused.text
    english = web.get(f"/public/hub/{city['waiting']}?lang=en")
    assert english.status_code == 404 and "Page not found" in english.text and 'lang="en"' in english.text
    not_a_number = web.get("/public/hub/nothing")  # 405: the instances' POST /{child}/{id}/{trigger} matches it
    assert not_a_number.status_code in (404, 405) and not_a_number.headers["content-type"].startswith("text/html")


def test_an_item_of_another_strategy_is_only_under_its_own_address(tmp_path: Path, database_url: str) -> None:
    config = config_with_town(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + '\n[strategies.hub]\ncurators = ["zoo@city.example.jp"]\n'
                      'partners = ["npo.tombo@example.org"]\n', encoding="utf-8")
    settings = load_settings(config, env={"PDCA_DATABASE_URL": database_url})
    base = settings_for(database_url)
    settings = settings.model_copy(update={"mail": base.mail, "web": base.web})
    year = Year(database_url, settings=settings)
    try:
        with db.reading(year.engine) as conn:
            town = year.pdca.tenants.by_code(conn, TOWN).id
        item = send(year, GROUP, DRAGONFLY | {"actions": [], "vernacularName": "ミナミトンボ"}, tenant=town)
        accept(year, item, ZOO)
        with TestClient(create_app(year.pdca, clock=Clock(NOW)), follow_redirects=False) as web:
            assert web.get(f"/public/hub/{item}").status_code == 404
            assert "ミナミトンボ" not in web.get("/public/hub").text
            assert web.get(f"/s/{TOWN}/public/hub/{item}").status_code == 200
            town_page = web.get(f"/s/{TOWN}/public/hub")
            assert "ミナミトンボ" in town_page.text and f'href="/s/{TOWN}/public/hub/{item}"' in town_page.text
            assert web.get("/s/no-such-town/public/hub").status_code == 404
    finally:
        year.close()


def test_the_feed_csv_and_archive_hold_the_accepted_items_only(
        web: TestClient, year: Year, city: dict[str, int], tmp_path: Path) -> None:
    accepted = {k: city[k] for k in ("dragonfly", "salamander", "lily", "survey")}
    feed = feed_of(web.get("/public/hub/feed.atom"))
    found = {e.findtext(f"{ATOM}id"): e for e in entries(feed)}
    assert set(found) == {occurrence_id(year, i) for i in accepted.values()}
    dragonfly = found[occurrence_id(year, city["dragonfly"])]
    assert dragonfly.findtext(f"{ATOM}title") == "アキアカネ（緑川 中流の河川敷）"
    assert dragonfly.find(f"{ATOM}link").get("href") == f"http://testserver/public/hub/{city['dragonfly']}"  # type: ignore[union-attr]
    assert dragonfly.findtext(f"{ATOM}updated", "").startswith("2026-11-02T01:00:00")
    assert dragonfly.find(f"{ATOM}summary").get("type") == "text"  # type: ignore[union-attr]
    assert "昆虫類" in dragonfly.findtext(f"{ATOM}summary", "")
    assert dragonfly.findtext(f"{GEORSS}point") == "35.6402 139.5301"
    assert feed.findtext(f"{ATOM}title") == "みどり市生物多様性戦略: 情報拠点"

    rows = csv_rows(web.get("/public/hub/items.csv"))
    assert rows[0][:3] == ["番号", "種類", "件名"]
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(accepted.values())
    assert not any("ヒミツノハナ" in c or "フサイヨウノムシ" in c for r in rows for c in r)

    occurrences, metadata = archive_rows(web.get("/public/hub/occurrences.zip"), tmp_path)
    assert {o["occurrenceID"] for o in occurrences} == {
        occurrence_id(year, city[k]) for k in ("dragonfly", "salamander", "lily")}  # observations only
    by_name = {o["scientificName"]: o for o in occurrences}
    assert by_name["Sympetrum frequens"]["vernacularName"] == "アキアカネ"
    assert by_name["Sympetrum frequens"]["basisOfRecord"] == "HumanObservation"
    assert by_name["Sympetrum frequens"]["individualCount"] == "12"
    assert by_name["Sympetrum frequens"]["associatedReferences"] == f"http://testserver/public/hub/{city['dragonfly']}"
    eml = ET.tostring(metadata, encoding="unicode")
    assert "みどり市生物多様性戦略 情報拠点の生きもの観察記録" in eml and "jimukyoku@city.example.jp" in eml
    assert "licenses/by/4.0" in eml and "<pubDate>2026-11-02</pubDate>" in eml
    assert "/v2026-11-02.3" in metadata.get("packageId")
    assert "139.41466" in eml and "35.69119" in eml  # the outline's box


# -- filters --------------------------------------------------------------------------------------


def test_the_filters_choose_by_kind_group_action_and_fiscal_year_and_the_downloads_follow(
        web: TestClient, year: Year, city: dict[str, int], tmp_path: Path) -> None:
    def shown(query: str) -> set[int]:
        page = web.get(f"/public/hub?{query}")
        assert page.status_code == 200
        cards = re.findall(r'<article class="card hub-card">.*?</article>', page.text, flags=re.S)
        return {int(re.search(r'href="/public/hub/(\d+)"', c)[1]) for c in cards}  # type: ignore[index]

    assert shown("kind=activity") == {city["survey"]}
    assert shown("kind=observation") == {city["dragonfly"], city["salamander"], city["lily"]}
    assert shown("group=plants") == {city["lily"]}
    assert shown("action=1-1-1") == {city["dragonfly"], city["survey"]}
    assert shown("fy=2025") == {city["lily"]}
    assert shown("fy=2026&kind=observation&group=insects") == {city["dragonfly"]}
    assert shown("kind=&group=&action=&fy=") == {city[k] for k in ("dragonfly", "salamander", "lily", "survey")}
    assert shown("kind=bogus&fy=abc") == shown("")  # an unknown value is no filter, not an error

    page = web.get("/public/hub?group=plants")
    assert "1件" in page.text and 'value="plants" selected' in page.text
    assert 'href="/public/hub/feed.atom?group=plants"' in page.text
    assert 'FY2026 (令和8年度)' in page.text and "1-2-2 希少種の保護増殖" in page.text  # the choices, in words
    feed = feed_of(web.get("/public/hub/feed.atom?group=plants"))
    assert [e.findtext(f"{ATOM}title") for e in entries(feed)] == ["カタクリ（北の丘の雑木林）"]
    rows = csv_rows(web.get("/public/hub/items.csv?action=1-1-1"))
    assert sorted(int(r[0]) for r in rows[1:]) == sorted([city["dragonfly"], city["survey"]])
    occurrences, _ = archive_rows(web.get("/public/hub/occurrences.zip?fy=2025"), tmp_path)
    assert [o["vernacularName"] for o in occurrences] == ["カタクリ"]


def test_fifty_a_page(web: TestClient, year: Year) -> None:
    for n in range(52):  # one a day from 1 August, the last the newest
        day = f"2026-{8 + n // 28:02d}-{1 + n % 28:02d}"
        fields = DRAGONFLY | {"vernacularName": f"トンボ{n:02d}号", "eventDate": day}
        accept(year, send(year, GROUP, fields))
    first = web.get("/public/hub")
    assert "52件" in first.text and first.text.count('<article class="card hub-card">') == 50
    assert 'href="?page=2"' in first.text and "トンボ51号" in first.text and "トンボ00号" not in first.text
    second = web.get("/public/hub?page=2")
    assert second.text.count('<article class="card hub-card">') == 2 and "トンボ00号" in second.text
    assert 'href="?page=1"' in second.text


# -- a protected species is never placed exactly ---------------------------------------------------


def test_a_protected_species_spot_and_place_name_are_nowhere_public(
        web: TestClient, year: Year, city: dict[str, int], tmp_path: Path) -> None:
    item = city["salamander"]
    mesh = square_of(float(SALAMANDER_SPOT[0]), float(SALAMANDER_SPOT[1])).code
    secret = (*SALAMANDER_SPOT, SALAMANDER["locality"], "ほたる谷戸", SALAMANDER["remarks"])

    outputs: dict[str, str] = {}
    for lang in ("ja", "en"):
        outputs[f"list {lang}"] = web.get(f"/public/hub?lang={lang}").text
        outputs[f"item {lang}"] = web.get(f"/public/hub/{item}?lang={lang}").text
        outputs[f"feed {lang}"] = web.get(f"/public/hub/feed.atom?lang={lang}").text
        outputs[f"csv {lang}"] = web.get(f"/public/hub/items.csv?lang={lang}").content.decode("utf-8-sig")
    archive = web.get("/public/hub/occurrences.zip").content
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        for name in zf.namelist():
            outputs[f"archive {name}"] = zf.read(name).decode("utf-8")
    for where, text in outputs.items():
        for word in secret:
            assert word not in text, (where, word)
    for where in ("list ja", "item ja", "feed ja", "csv ja", "archive occurrence.txt"):
        assert mesh in outputs[where], where
    assert "約10km四方の区画" in outputs["item ja"] and "~10 km grid square" in outputs["item en"]
    svg = outputs["item ja"][outputs["item ja"].index("<svg"):outputs["item ja"].index("</svg>")]
    assert 'class="cell"' in svg and 'class="marker"' not in svg  # drawn as its square, no marker at a spot
    assert f"トウキョウサンショウウオ（2次メッシュ {mesh}）" in svg

    feed = feed_of(web.get("/public/hub/feed.atom"))
    entry = next(e for e in entries(feed) if e.findtext(f"{ATOM}id") == occurrence_id(year, item))
    lat, lon = square_of(float(SALAMANDER_SPOT[0]), float(SALAMANDER_SPOT[1])).centre
    assert entry.findtext(f"{GEORSS}point") == f"{lat} {lon}"
    assert entry.findtext(f"{GEORSS}box") is not None
    occurrences, _ = archive_rows(web.get("/public/hub/occurrences.zip"), tmp_path)
    row = next(o for o in occurrences if o["scientificName"] == "Hynobius tokyoensis")
    assert (row["decimalLatitude"], row["decimalLongitude"]) == (str(lat), str(lon))
    assert mesh in row["dataGeneralizations"] and row["locality"] == f"2次メッシュ {mesh}"


# -- what a partner wrote is text -------------------------------------------------------------------


def test_hostile_text_is_escaped_on_the_page_in_the_map_and_in_the_feed(
        web: TestClient, hostile: dict[str, int]) -> None:
    for path in ("/public/hub", f"/public/hub/{hostile['observation']}", f"/public/hub/{hostile['activity']}"):
        page = web.get(path)
        assert page.status_code == 200
        assert "<script" not in page.text and "<img" not in page.text and "onerror=alert(1)>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        svg = page.text[page.text.index("<svg"):page.text.index("</svg>") + 6]
        ET.fromstring(svg)  # still one well-formed SVG element, the text inside it
        assert "&lt;script&gt;" in svg
    feed = feed_of(web.get("/public/hub/feed.atom"))
    titles = {e.findtext(f"{ATOM}title") for e in entries(feed)}
    assert "".join(HOSTILE) in titles  # the activity's own title, exactly as sent
    assert f"{HOSTILE[0]}（{HOSTILE[1]}）" in titles  # the observation's: what was seen (where)
    assert all(e.find(f"{ATOM}summary").get("type") == "text" for e in entries(feed))  # type: ignore[union-attr]
    assert b"<script>" not in web.get("/public/hub/feed.atom").content


def test_a_csv_cell_never_becomes_a_formula(web: TestClient, year: Year) -> None:
    accept(year, send(year, GROUP, DRAGONFLY | {"vernacularName": "=HYPERLINK(\"http://x\")"}))
    rows = csv_rows(web.get("/public/hub/items.csv"))
    assert all(not c.startswith(("=", "+", "@")) for r in rows for c in r)


# -- words, never codes -----------------------------------------------------------------------------

CODES = re.compile(r"\b(?:observation|activity|insects|amphibians_reptiles|plants|HumanObservation|present|"
                   r"speciesGroup|vernacularName|scientificName|basisOfRecord|occurrenceStatus|accepted|hubpage)\b")


def test_japanese_and_english_pages_show_words_not_program_names(
        web: TestClient, city: dict[str, int]) -> None:
    paths = ["/public/hub", *(f"/public/hub/{city[k]}" for k in ("dragonfly", "salamander", "survey"))]
    for lang in ("ja", "en"):
        for path in paths:
            text = visible_text(web.get(f"{path}?lang={lang}").text)
            assert CODES.findall(text) == [], (lang, path, CODES.findall(text))
        if lang == "ja":
            assert ENGLISH.findall(visible_text(web.get(f"/public/hub?lang={lang}").text)) == []
    english = visible_text(web.get(f"/public/hub/{city['dragonfly']}?lang=en").text)
    assert "Insects" in english and "Seen or photographed" in english and "Identification verified" in english
    japanese = visible_text(web.get(f"/public/hub/{city['dragonfly']}?lang=ja").text)
    assert "昆虫類" in japanese and "目視・写真による観察" in japanese and "確認できた" in japanese
    rows = csv_rows(web.get("/public/hub/items.csv?lang=en"))
    assert rows[0][:3] == ["No.", "Kind", "Title"]
    assert not any(CODES.search(c) for r in rows[1:] for c in r[1:6])  # kind, title, date, fy, place
    feed = web.get("/public/hub/feed.atom?lang=en").content.decode()
    summaries = " ".join(re.findall(r"<summary[^>]*>(.*?)</summary>", feed, flags=re.S))
    assert CODES.findall(summaries) == [] and "Insects" in summaries


def test_an_action_links_to_its_page_in_the_year_s_published_results_where_there_is_one(
        web: TestClient, year: Year, city: dict[str, int]) -> None:
    before = web.get(f"/public/hub/{city['survey']}?lang=ja").text
    assert "1-1-1 湿地の再生" in before and 'href="/public/2026/' not in before  # FY2026 is not published yet
    with db.writing(year.engine) as conn:
        results.publish(conn, strategy_code=year.pdca.strategy_code, fy=2026, now=NOW, hub={},
                        meetings=())
    page = web.get(f"/public/hub/{city['survey']}?lang=ja").text
    assert '<a href="/public/2026/v1/actions/1-1-1.html">1-1-1 湿地の再生</a>' in page
    assert '<a href="/public/2026/v1/actions/3-1-1.html">' in page
    english = web.get(f"/public/hub/{city['survey']}?lang=en").text
    assert '<a href="/public/2026/v1/en/actions/1-1-1.html">1-1-1 Restoring wetlands</a>' in english
    listed = web.get("/public/hub?lang=ja").text
    assert '<a href="/public/2026/v1/actions/1-1-1.html">1-1-1 湿地の再生</a>' in listed
    assert "2-2-1 公園の生きもの配慮型管理" in listed and 'href="/public/2025/' not in listed  # unpublished year
    assert web.get("/public/hub/").headers["location"] == "/public/hub"  # not a fiscal year called "hub"
