"""The owner's report offers an indicator's value from the hub: on the form, the figure the
accepted records add up to, what was counted in words, and a link to those records."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import ADMIN, CHAIR, Year
from tests.test_hub import ACTIVITY, GROUP, ZOO, send, step
from tests.test_web import clock, sign_in, web  # noqa: F401  (the fixtures)

OWNER = "museum@city.example.jp"  # owns 3-1-1, whose C1 counts the surveys' participants


def test_the_report_form_offers_the_hub_s_figure_with_the_query(web: TestClient, year: Year) -> None:  # noqa: F811
    for people in (18, 7):
        item = send(year, GROUP, "send_activity", ACTIVITY | {"participants": str(people), "actions": ["3-1-1"]})
        step(year, item, "take", ZOO)
        step(year, item, "accept", ZOO)
    for trigger, who in (("submit_plan", OWNER), ("approve_plan", CHAIR), ("open_check", ADMIN)):
        year.fire("3-1-1", trigger, who)
    client = sign_in(web, year, OWNER)
    page = client.get("/actions/3-1-1/2026").text
    assert 'name="indicators.C1" value="25"' in page
    hint = re.search(r"<p class=\"hint hub-measure\"[^>]*>(.*?)<a", page)
    assert hint and hint[1] == ("情報拠点の記録から: 25 人（取組3-1-1に関係する採用された活動報告の参加者数の合計"
                                "（実施日がFY2026 (令和8年度)のもの）） "), hint and hint[1]
    assert 'href="/public/hub?kind=activity&amp;fy=2026&amp;action=3-1-1"' in page


def test_a_curator_reads_an_item_in_words_and_where_the_public_will_see_it(web: TestClient,  # noqa: F811
                                                                          year: Year) -> None:
    from tests.test_hub import OBSERVATION

    item = send(year, GROUP, fields=OBSERVATION | {"scientificName": "Hynobius tokyoensis",
                                                   "vernacularName": "トウキョウサンショウウオ",
                                                   "speciesGroup": "amphibians_reptiles"})
    client = sign_in(web, year, ZOO, f"/w/hub_item/{item}")
    page = client.get(f"/w/hub_item/{item}").text
    main = re.sub(r"<[^>]+>", " ", re.search(r"<main.*?</main>", page, re.S)[0])  # type: ignore[index]
    for words in ("トウキョウサンショウウオ（緑川 中流の河川敷）", "両生類・爬虫類", "目視・写真による観察",
                  "確認できた", "1-1-1 湿地の再生", "ウェブの送信フォーム", "2次メッシュ 533934 の中心",
                  "確認を始める"):
        assert words in main, words
    for code in ("HumanObservation", "amphibians_reptiles", "present", "f_", "hub_item", "['1-1-1']"):
        assert code not in main, code
