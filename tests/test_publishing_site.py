"""The public report (公表): the static site, its charts and its CSV/XLSX, read back the way
a reader's browser or spreadsheet would, and compared with the snapshot they came from."""

from __future__ import annotations

import copy
import csv
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from publishing.charts import indicator_svg
from publishing.site import write_site
from publishing.tables import ACTION_COLUMNS, COLUMNS, rows, write_xlsx

STATUS = {
    "ja": {"achieved": "達成", "on_track": "順調", "behind": "遅れ", "no_data": "データなし",
           "not_applicable": "対象外"},
    "en": {"achieved": "Achieved", "on_track": "On track", "behind": "Behind", "no_data": "No data",
           "not_applicable": "Not applicable"},
}
REPORT_STATUS = {
    "ja": {"implemented": "実施", "partly_implemented": "一部実施", "not_implemented": "未実施"},
    "en": {"implemented": "Implemented", "partly_implemented": "Partly implemented",
           "not_implemented": "Not implemented"},
}
DECISION = {
    "ja": {"continue": "継続", "revise": "見直し", "complete": "完了", "discontinue": "廃止"},
    "en": {"continue": "Continue", "revise": "Revise", "complete": "Complete", "discontinue": "Discontinue"},
}
RESOLUTION = {"ja": {"revised": "見直した", None: "未対応"}, "en": {"revised": "Revised", None: "Not resolved yet"}}
SCRIPT_TITLE = "<script>alert('x')</script> Raccoon control & removal"


def snapshot() -> dict[str, Any]:
    """FY2026 of a small strategy: two basic policies, three actions (codes out of order, to
    check 1-1-2 comes before 1-1-10), a "down" indicator, a missing value with its reason,
    an action without indicators, and one with proposals and flags."""
    return {
        "strategy": {"code": "midori-2021", "name_ja": "みどり市生物多様性戦略",
                     "name_en": "Midori City Biodiversity Strategy"},
        "fy": 2026, "fy_label": "FY2026 (令和8年度)", "version": 2, "published_at": "2027-07-15T10:00:00+09:00",
        "note": "取組1-1-2の指標S2の説明を訂正しました。",
        "grades": ["A", "B", "C", "D", "-"],
        "counts": {"by_grade": {"A": 1, "B": 1, "C": 1, "D": 0, "-": 0},
                   "by_indicator_status": {"achieved": 0, "on_track": 2, "behind": 0, "no_data": 1,
                                           "not_applicable": 0}},
        "actions": [
            {
                "code": "2-1-1", "basic_policy": "生物多様性を知り、伝える", "basic_policy_en": None,
                "title_ja": "生きもの調査の結果の発信", "title_en": None, "division": "博物館", "state": "act.closed",
                "report_status": "not_implemented", "report_content": "調査員の確保ができず、実施できなかった。",
                "self_grade": "C", "internal_comment": "体制を見直すこと。", "council_grade": "C",
                "evaluation": "取組の目的は重要であり、実施体制の確保が必要。", "decision": "discontinue",
                "decision_reason": "情報拠点の事業に統合するため",
                "indicators": [],
                "proposals": [{"seq": 1, "text": "調査結果をウェブで公開する",
                               "answer": "情報拠点のページで公開します。"}],
                "flags": [],
            },
            {
                "code": "1-1-10", "basic_policy": "豊かな自然を守り、育てる",
                "basic_policy_en": "Protect and nurture rich nature",
                "title_ja": "外来種（アライグマ）の防除", "title_en": SCRIPT_TITLE, "division": "環境共生課",
                "state": "act.closed", "report_status": "partly_implemented",
                "report_content": "捕獲わなを30基設置した。\n一部地区では設置が遅れた。", "self_grade": "A",
                "internal_comment": None, "council_grade": "A", "evaluation": "目撃件数が順調に減っている。",
                "decision": "continue", "decision_reason": None,
                "indicators": [{
                    "code": "D1", "name_ja": "アライグマの目撃件数", "name_en": "Raccoon sightings <b>reported</b>",
                    "unit": "件", "direction": "down", "baseline": [120.0, 2020], "target": [40.0, 2030],
                    "value": 60.0, "reason": None, "expected": 72.0, "progress": 0.75, "status": "on_track",
                    "history": [[2024, 88.0], [2025, 75.0], [2026, 60.0]],
                }],
                "proposals": [], "flags": [],
            },
            {
                "code": "1-1-2", "basic_policy": "豊かな自然を守り、育てる",
                "basic_policy_en": "Protect and nurture rich nature",
                "title_ja": "里山林の保全活動", "title_en": "Conserving satoyama woodland", "division": "農林政策課",
                "state": "act.revising", "report_status": "implemented",
                "report_content": "間伐 4.2ha、下草刈り 6回\n市民ボランティア延べ120人", "self_grade": "B",
                "internal_comment": "計画どおり実施されている。", "council_grade": "B", "evaluation": "おおむね順調",
                "decision": "revise", "decision_reason": "参加者の記録を計画に入れる",
                "indicators": [
                    {"code": "S1", "name_ja": "保全活動を行った里山林の面積",
                     "name_en": "Satoyama woodland under conservation", "unit": "ha", "direction": "up",
                     "baseline": [30.0, 2020], "target": [50.0, 2030], "value": 41.5, "reason": None,
                     "expected": 42.0, "progress": 0.575, "status": "on_track",
                     "history": [[2024, 36.0], [2025, 39.2], [2026, 41.5]]},
                    {"code": "S2", "name_ja": "保全活動に参加した市民の数", "name_en": None, "unit": "人",
                     "direction": "up", "baseline": [800.0, 2020], "target": [1500.0, 2030], "value": None,
                     "reason": "集計中のため（7月に確定予定）", "expected": 1220.0, "progress": None,
                     "status": "no_data", "history": [[2024, 950.0], [2025, 1010.0]]},
                ],
                "proposals": [{"seq": 2, "text": "若い世代を誘う", "answer": None},
                              {"seq": 1, "text": "参加者を記録する", "answer": "次年度から参加者名簿を作成します。"}],
                "flags": [
                    {"rule": "behind_two_years", "reason_ja": "指標S2が2年続けて見込みを下回っています",
                     "reason_en": "Indicator S2 has been below the expected line for two years",
                     "resolution": "revised", "resolution_reason": "募集の方法を見直した"},
                    {"rule": "no_data", "reason_ja": "指標S2の値が報告されていません",
                     "reason_en": "No value was reported for indicator S2", "resolution": None,
                     "resolution_reason": None},
                ],
            },
        ],
    }


CODES = ["1-1-2", "1-1-10", "2-1-1"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    context: dict[str, str]  # data-* attributes of the element and its ancestors, nearest first
    text: str = ""


@dataclass
class Page(HTMLParser):
    """A tiny collector: every element with its text and its ancestors' data-* attributes,
    and every link (href/src)."""

    elements: list[Element] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    stack: list[tuple[Element, list[str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.links += [(tag, values[k]) for k in ("href", "src") if k in values]
        context = dict(self.stack[-1][0].context) if self.stack else {}
        context |= {k: v for k, v in values.items() if k.startswith("data-")}
        element = Element(tag, values, context)
        self.elements.append(element)
        if tag not in VOID:
            self.stack.append((element, []))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.links += [(tag, values[k]) for k in ("href", "src") if k in values]

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            element, parts = self.stack.pop()
            element.text = " ".join("".join(parts).split())
            if element.tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for _element, parts in self.stack:
            parts.append(data)

    def find(self, tag: str | None = None, **context: str) -> list[Element]:
        wanted = {k.replace("_", "-"): v for k, v in context.items()}
        return [e for e in self.elements if (tag is None or e.tag == tag)
                and all(e.context.get(k) == v for k, v in wanted.items())]

    def one(self, tag: str | None = None, **context: str) -> Element:
        found = self.find(tag, **context)
        assert found, f"no {tag or 'element'} with {context}"
        return found[0]

    def texts(self) -> str:
        return " ".join(e.text for e in self.elements if e.tag == "html")


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def resolve(out: Path, page: Path, href: str) -> Path:
    return (page.parent / href.split("#")[0]).resolve()


@pytest.fixture()
def site(tmp_path: Path) -> tuple[dict[str, Any], Path, list[Path]]:
    snap = snapshot()
    out = tmp_path / "public" / "2026" / "v2"
    return snap, out, write_site(snap, out)


def page_path(out: Path, language: str, code: str | None = None) -> Path:
    base = out if language == "ja" else out / language
    return base / "index.html" if code is None else base / "actions" / f"{code}.html"


def test_the_site_has_every_file_and_only_relative_links(site: tuple[dict[str, Any], Path, list[Path]]) -> None:
    _snap, out, written = site
    expected = {"index.html", "en/index.html", "results.csv", "results.xlsx", "style.css"}
    expected |= {f"actions/{c}.html" for c in CODES} | {f"en/actions/{c}.html" for c in CODES}
    assert {p.relative_to(out).as_posix() for p in written} == expected
    assert all(p.is_file() for p in written)
    assert len(written) == len(expected)
    for html in out.rglob("*.html"):
        raw = html.read_text(encoding="utf-8")
        assert "http://" not in raw and "https://" not in raw, html
        assert "<script" not in raw.lower(), html
        assert '<meta name="viewport"' in raw
        page = parse(html)
        assert page.links, html
        for _tag, href in page.links:
            assert not re.match(r"^([a-z][a-z0-9+.-]*:|/)", href, re.IGNORECASE), (html, href)
            target = resolve(out, html, href)
            assert target.is_file(), (html, href)
            assert target.is_relative_to(out.resolve()), (html, href)
    css = (out / "style.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css and "http" not in css


@pytest.mark.parametrize("language", ["ja", "en"])
def test_each_index_lists_every_action_by_basic_policy(site: tuple[dict[str, Any], Path, list[Path]],
                                                       language: str) -> None:
    snap, out, _ = site
    index = page_path(out, language)
    page = parse(index)
    text = page.texts()
    assert snap["fy_label"] in text
    assert (snap["strategy"]["name_ja"] if language == "ja" else snap["strategy"]["name_en"]) in text
    assert snap["note"] in text
    assert ("第2版" if language == "ja" else "version 2") in text
    assert ("2027年7月15日" if language == "ja" else "15 July 2027") in text
    twin = page_path(out, "en" if language == "ja" else "ja")
    assert twin.resolve() in {resolve(out, index, href) for _t, href in page.links}

    rows_in_order = [e.attrs["data-action"] for e in page.find("tr") if "data-action" in e.attrs]
    assert rows_in_order == CODES  # in code order: 1-1-2 before 1-1-10, grouped by basic policy
    headings = [e.text for e in page.find("h3")]
    assert headings == (["豊かな自然を守り、育てる", "生物多様性を知り、伝える"] if language == "ja"
                        else ["Protect and nurture rich nature", "生物多様性を知り、伝える"])
    by_code = {a["code"]: a for a in snap["actions"]}
    for code, a in by_code.items():
        link = page.one("a", data_action=code, data_field="code")
        assert resolve(out, index, link.attrs["href"]) == page_path(out, language, code).resolve()
        title = a["title_en"] if language == "en" and a["title_en"] else a["title_ja"]
        assert page.one("td", data_action=code, data_field="title").text.startswith(" ".join(title.split()))
        assert page.one("td", data_action=code, data_field="division").text == a["division"]
        assert page.one("td", data_action=code, data_field="council_grade").text == a["council_grade"]
        assert page.one("td", data_action=code, data_field="decision").text == DECISION[language][a["decision"]]
        flagged = page.find("span", data_action=code, data_field="flagged")
        assert bool(flagged) == bool(a["flags"])
        statuses = [e.text for e in page.find("span", data_action=code) if "data-indicator" in e.attrs]
        assert statuses == [f"{i['code']} {STATUS[language][i['status']]}" for i in a["indicators"]]
    for key, count in snap["counts"]["by_grade"].items():
        assert page.one("td", data_table="by_grade", data_key=key).text == str(count)
    for key, count in snap["counts"]["by_indicator_status"].items():
        assert page.one("th", data_table="by_status", data_key=key).text == STATUS[language][key]
        assert page.one("td", data_table="by_status", data_key=key).text == str(count)


def number_cell(page: Page, indicator: str, name: str) -> float | None:
    """The machine-readable number in a cell (<data value=...>), or None when it shows none."""
    cell = page.one("td", data_indicator=indicator, data_field=name)
    data = [e for e in page.elements if e.tag == "data" and e.context.get("data-field") == name
            and e.context.get("data-indicator") == indicator]
    if not data:
        assert cell.text in ("—",) or page.find(data_indicator=indicator, data_field="reason"), cell.text
        return None
    return float(data[0].attrs["value"])


def pair_shown(value: float | None) -> str:
    return "—" if value is None else f"{value:,.4f}".rstrip("0").rstrip(".")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_action_pages_show_the_snapshot(site: tuple[dict[str, Any], Path, list[Path]], language: str) -> None:
    snap, out, _ = site
    other = "en" if language == "ja" else "ja"
    for a in snap["actions"]:
        path = page_path(out, language, a["code"])
        page = parse(path)
        targets = {resolve(out, path, href) for _t, href in page.links}
        assert page_path(out, language).resolve() in targets  # back to its index
        assert page_path(out, other, a["code"]).resolve() in targets  # its twin
        title = a["title_en"] if language == "en" and a["title_en"] else a["title_ja"]
        assert page.one("span", data_field="title").text == " ".join(title.split())
        assert page.one("dd", data_field="division").text == a["division"]
        assert page.one("dd", data_field="report_status").text == REPORT_STATUS[language][a["report_status"]]
        assert page.one("dd", data_field="report_content").text == " ".join(a["report_content"].split())
        assert page.one("dd", data_field="self_grade").text == a["self_grade"]
        assert page.one("dd", data_field="internal_comment").text == (a["internal_comment"] or "—")
        assert page.one("dd", data_field="council_grade").text == a["council_grade"]
        assert page.one("dd", data_field="evaluation").text == a["evaluation"]
        assert page.one("dd", data_field="decision").text == DECISION[language][a["decision"]]
        assert page.one("dd", data_field="decision_reason").text == (a["decision_reason"] or "—")

        shown = [int(e.attrs["data-proposal"]) for e in page.find("li") if "data-proposal" in e.attrs]
        assert shown == sorted(p["seq"] for p in a["proposals"])
        for p in a["proposals"]:
            seq = str(p["seq"])
            assert page.one("p", data_proposal=seq, data_field="proposal").text == p["text"]
            answer = page.one("span", data_proposal=seq, data_field="answer").text
            assert answer == (p["answer"] or ("回答なし" if language == "ja" else "No answer"))

        for ind in a["indicators"]:
            code = ind["code"]
            assert number_cell(page, code, "baseline") == ind["baseline"][0]
            assert number_cell(page, code, "target") == ind["target"][0]
            assert number_cell(page, code, "value") == ind["value"]
            assert number_cell(page, code, "expected") == ind["expected"]
            assert number_cell(page, code, "progress") == ind["progress"]
            target_cell = page.one("td", data_indicator=code, data_field="target").text
            assert target_cell.startswith(pair_shown(ind["target"][0]))
            assert str(ind["target"][1]) in target_cell
            assert str(ind["baseline"][1]) in page.one("td", data_indicator=code, data_field="baseline").text
            value_cell = page.one("td", data_indicator=code, data_field="value").text
            assert value_cell == (pair_shown(ind["value"]) if ind["value"] is not None else ind["reason"])
            shown_progress = {"S1": "58%", "S2": "—", "D1": "75%"}[code]  # 0.575 rounds half up
            assert page.one("td", data_indicator=code, data_field="progress").text == shown_progress
            assert page.one("td", data_indicator=code, data_field="status").text == STATUS[language][ind["status"]]
            assert page.one("td", data_indicator=code, data_field="unit").text == ind["unit"]
        charts = [e.attrs["data-chart"] for e in page.find("figure")]
        assert charts == [i["code"] for i in a["indicators"]]

        flags = [e.attrs["data-flag"] for e in page.find("tr") if "data-flag" in e.attrs]
        assert flags == [f["rule"] for f in a["flags"]]
        for f in a["flags"]:
            reason = f["reason_en"] if language == "en" else f["reason_ja"]
            assert page.one("td", data_flag=f["rule"], data_field="reason").text == reason
            assert page.one("td", data_flag=f["rule"], data_field="resolution").text == \
                RESOLUTION[language][f["resolution"]]
            assert page.one("td", data_flag=f["rule"], data_field="resolution_reason").text == \
                (f["resolution_reason"] or "—")


def test_charts_are_well_formed_accessible_svg(site: tuple[dict[str, Any], Path, list[Path]]) -> None:
    snap, out, _ = site
    names = {i["code"]: i for a in snap["actions"] for i in a["indicators"]}
    seen = 0
    for html in out.rglob("*.html"):
        for markup in re.findall(r"<svg\b.*?</svg>", html.read_text(encoding="utf-8"), re.DOTALL):
            svg = ET.fromstring(markup)
            assert svg.get("role") == "img"
            title = svg.find("title")
            assert title is not None and title.text
            code = title.text.split()[0]
            ind = names[code]
            name = ind["name_en"] if html.parent.parent.name == "en" and ind["name_en"] else ind["name_ja"]
            assert title.text == f"{code} {name}"
            assert svg.get("aria-labelledby") == title.get("id")
            assert svg.get("aria-describedby") == svg.find("desc").get("id")
            assert html.read_text(encoding="utf-8").count(f'id="{title.get("id")}"') == 1
            assert not svg.findall(".//script") and not svg.findall(".//image")
            seen += 1
    assert seen == 2 * len(names)


@pytest.mark.parametrize("indicator", [
    {},  # nothing at all
    {"code": "X", "name_ja": "何もない", "unit": "", "direction": "up", "baseline": [None, None],
     "target": [None, None], "value": None, "expected": None, "history": []},
    {"code": "X", "name_ja": "基準と目標が同じ", "unit": "%", "direction": "up", "baseline": [5, 2020],
     "target": [5, 2020], "value": 5, "expected": 5, "history": [], "fy": 2020},
    {"code": "X", "name_ja": "年が不明", "unit": "種", "direction": "down", "baseline": [10, None],
     "target": [4, None], "value": 7, "expected": None, "history": None},
    {"code": "X", "name_ja": "壊れた値", "unit": "t", "direction": "down", "baseline": [float("nan"), "2020"],
     "target": [float("inf"), 2030], "value": "12", "expected": True, "history": [[2024], "x", [2025, None]]},
    {"code": "X", "name_ja": "長い系列", "unit": "羽", "direction": "up", "baseline": [0, 2000],
     "target": [1e9, 2040], "value": 3.5e8, "expected": 6.5e8, "fy": 2026,
     "history": [[y, y * 1e6] for y in range(2000, 2026)]},
    {"code": "X", "name_ja": "年度なし", "unit": "ha", "direction": "up", "baseline": [1, 2020],
     "target": [2, 2030], "value": 1.4, "expected": 1.6, "history": [[2025, 1.3], [2026, 1.4]]},
    {"code": "X", "name_ja": "小さな値", "unit": "mg/L", "direction": "down", "baseline": [0.0002, 2020],
     "target": [0.0001, 2030], "value": 0.00015, "expected": 0.00014, "fy": 2026, "history": []},
])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_charts_cope_with_missing_and_odd_values(indicator: dict[str, Any], language: str) -> None:
    svg = ET.fromstring(indicator_svg(indicator, language=language))
    assert svg.get("role") == "img" and svg.find("title") is not None
    for element in svg.iter():
        for name, value in element.attrib.items():
            if name in ("x", "y", "x1", "y1", "x2", "y2", "cx", "cy"):
                assert math.isfinite(float(value)), (name, value)


def test_a_chart_says_which_way_is_better() -> None:
    down = snapshot()["actions"][1]["indicators"][0] | {"fy": 2026}
    ja = ET.fromstring(indicator_svg(down, language="ja"))
    en = ET.fromstring(indicator_svg(down, language="en"))
    assert "小さいほど良い" in "".join(ja.itertext())
    assert "lower is better" in "".join(en.itertext())
    assert en.find("title").text == "D1 Raccoon sightings <b>reported</b>"  # escaped in markup, intact as text
    assert len(ja.findall("polyline")) == 1  # the measured series 2024..2026
    with pytest.raises(ValueError):
        indicator_svg(down, language="fr")


def test_csv_and_xlsx_hold_the_rows(site: tuple[dict[str, Any], Path, list[Path]]) -> None:
    snap, out, _ = site
    expected = rows(snap)
    assert [r["code"] for r in expected] == ["1-1-2", "1-1-2", "1-1-10", "2-1-1"]
    assert all(list(r) == list(COLUMNS) for r in expected)
    assert expected[-1]["indicator_code"] is None and expected[-1]["status"] is None  # no indicators, one row
    assert expected[2]["direction"] == "down" and expected[1]["reason"] == "集計中のため（7月に確定予定）"

    raw = (out / "results.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with (out / "results.csv").open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == list(COLUMNS)
        read = list(reader)
    assert read == [{k: "" if v is None else str(v) for k, v in r.items()} for r in expected]

    book = load_workbook(out / "results.xlsx")
    assert book.sheetnames == ["results", "actions"]
    sheet = book["results"]
    table = list(sheet.iter_rows(values_only=True))
    assert list(table[0]) == list(COLUMNS)
    got = [dict(zip(COLUMNS, r, strict=True)) for r in table[1:]]
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        for k in COLUMNS:
            if isinstance(e[k], float):
                assert isinstance(g[k], int | float) and g[k] == pytest.approx(e[k], rel=1e-12), k
            else:
                assert g[k] == e[k], k

    actions = list(book["actions"].iter_rows(values_only=True))
    assert list(actions[0]) == list(ACTION_COLUMNS)
    by_code = {r[1]: dict(zip(ACTION_COLUMNS, r, strict=True)) for r in actions[1:]}
    assert list(by_code) == CODES
    assert by_code["1-1-2"]["proposals"] == "1. 参加者を記録する\n2. 若い世代を誘う"
    assert by_code["1-1-2"]["flags"].split("\n") == ["指標S2が2年続けて見込みを下回っています",
                                                     "指標S2の値が報告されていません"]
    assert by_code["1-1-10"]["proposals"] is None and by_code["1-1-10"]["flags"] is None


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    snap = copy.deepcopy(snapshot())
    snap["actions"][0]["title_en"] = "=HYPERLINK(\"x\")"
    write_xlsx(snap, tmp_path / "r.xlsx")
    sheet = load_workbook(tmp_path / "r.xlsx")["results"]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value == "=HYPERLINK(\"x\")"]
    assert cells and all(c.data_type == "s" for c in cells)


def test_everything_from_the_snapshot_is_escaped(site: tuple[dict[str, Any], Path, list[Path]]) -> None:
    _snap, out, _ = site
    for path in (page_path(out, "en"), page_path(out, "en", "1-1-10")):
        raw = path.read_text(encoding="utf-8")
        assert "<script>" not in raw and "<b>" not in raw
        assert "&lt;script&gt;" in raw
        assert SCRIPT_TITLE in parse(path).texts()  # the reader sees the title as written
    assert "&lt;b&gt;reported&lt;/b&gt;" in page_path(out, "en", "1-1-10").read_text(encoding="utf-8")
