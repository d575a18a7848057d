"""The final review's charts (最終評価の資料のグラフ): the verdicts of each basic policy as a
stacked bar, and each indicator's measured values, least-squares line, forecast with its
interval and target. Read back as XML the way a browser would, and checked against the
package they were drawn from and against the line computed again here."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from publishing.charts import HEIGHT, VERDICT_ORDER, forecast_svg, verdict_bars_svg
from publishing.review import render_pages, write_pdf
from tests.test_words import visible_text
from workflows import forecast
from workflows.strategy_review.package import VERDICTS, build

SVG = "{http://www.w3.org/2000/svg}"
STRATEGY = {"code": "midori-2021", "name_ja": "みどり市生物多様性戦略", "name_en": "Midori City Biodiversity Strategy",
            "first_fy": 2021, "target_fy": 2030}
RISING = {2023: 30.0, 2024: 33.0, 2025: 35.0, 2026: 39.0}  # slope 2.9; 50.2 in FY2030, short of 60
FALLING = {2023: 88.0, 2024: 75.0, 2025: 60.0, 2026: 52.0}  # lower is better, the target 40 reached by the line


def indicator(code: str, name: str, *, history: dict[int, float], target: float | None, direction: str = "up",
              baseline: tuple[float, int] = (35.0, 2020)) -> dict[str, Any]:
    return {"code": code, "name_ja": name, "name_en": f"{code} in English", "unit": "ha", "direction": direction,
            "baseline": list(baseline), "target": [target, 2030 if target is not None else None],
            "history": sorted(history.items())}


def action(code: str, policy: tuple[str, str], indicators: list[dict[str, Any]]) -> dict[str, Any]:
    return {"code": code, "title_ja": f"取組{code}", "title_en": f"Action {code}", "basic_policy": policy[0],
            "basic_policy_en": policy[1], "division": "環境共生課", "self_grade": "B", "council_grade": "B",
            "decision": "continue", "report_status": "implemented", "flags": [], "proposals": [],
            "indicators": indicators}


NATURE = ("1 豊かな自然を守り、育てる", "1 Protect and nurture rich nature")
PEOPLE = ("2 生物多様性を知り、伝える", "2 Know biodiversity and pass it on")
EMPTY = ("3 まだ指標のない基本方針", "3 A basic policy without indicators yet")


def package(years: range = range(2021, 2027)) -> dict[str, Any]:
    """Six yearly snapshots of three policies: every verdict at least once, an indicator with
    one measured value, one with none, and a policy whose action has no indicator."""
    actions = [
        action("1-1-1", NATURE, [indicator("S1", "里山林の面積", history=RISING, target=60.0),
                                 indicator("S2", "湿地の面積", history={2025: 12.0, 2026: 14.0}, target=13.0),
                                 indicator("S3", "保全活動の参加者", history={2026: 20.0}, target=50.0)]),
        action("1-2-1", NATURE, [indicator("D1", "アライグマの目撃件数", history=FALLING, target=40.0,
                                           direction="down", baseline=(120.0, 2020))]),
        action("2-1-1", PEOPLE, [indicator("S1", "観察会の回数", history={}, target=30.0),
                                 indicator("S4", "調査結果の公開", history={2024: 1.0, 2025: 2.0, 2026: 3.0},
                                           target=None)]),
        action("3-1-1", EMPTY, []),
    ]
    snapshots = [{"fy": fy, "actions": actions} for fy in years]
    return build(STRATEGY, snapshots, summary="総括") | {"version": 1, "published_at": "2027-07-15T10:00:00+09:00",
                                                       "note": None}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert "nan" not in svg.lower().replace("nando", "") and "inf" not in re.sub(r"[a-z]inf|inf[a-z]", "", svg)
    return root


def of(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if cls is None or e.get("class") == cls]


def texts(root: ET.Element) -> str:
    return " ".join("".join(e.itertext()) for e in root.iter(f"{SVG}text"))


def desc(root: ET.Element) -> str:
    return "".join(root.find(f"{SVG}desc").itertext())  # type: ignore[union-attr]


def find(p: dict[str, Any], action_code: str, code: str) -> dict[str, Any]:
    return next(i for a in p["actions"] if a["code"] == action_code for i in a["indicators"] if i["code"] == code)


# -- the bars --------------------------------------------------------------------------------


def test_the_package_gives_every_verdict_and_the_chart_knows_them_in_its_order() -> None:
    p = package()
    assert VERDICT_ORDER == VERDICTS
    seen = {i["verdict"] for a in p["actions"] for i in a["indicators"]}
    assert seen == set(VERDICTS)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_each_policy_s_bar_has_its_counts_and_lengths_in_proportion(language: str) -> None:
    p = package()
    root = parse(verdict_bars_svg(p["by_policy"], language=language))
    segments = [r for r in of(root, "rect") if r.get("data-verdict")]
    # The segments come policy by policy, best verdict first, only those with a count.
    expected = [(v, g["by_verdict"][v]) for g in p["by_policy"] for v in VERDICTS if g["by_verdict"][v]]
    assert [(r.get("data-verdict"), int(r.get("data-count") or 0)) for r in segments] == expected
    widths = [float(r.get("width") or 0) for r in segments]
    per_indicator = widths[0] / expected[0][1]  # one scale for every bar
    for (_v, n), width in zip(expected, widths, strict=True):
        assert width == pytest.approx(n * per_indicator, abs=0.11)
    # Every segment of one policy sits on one row, and each starts where the one before ends.
    rows: dict[str, list[ET.Element]] = {}
    for r in segments:
        rows.setdefault(r.get("y") or "", []).append(r)
    assert len(rows) == sum(1 for g in p["by_policy"] if sum(g["by_verdict"].values()))
    for row in rows.values():
        for before, after in itertools.pairwise(row):
            assert float(after.get("x") or 0) == pytest.approx(
                float(before.get("x") or 0) + float(before.get("width") or 0), abs=0.11)


def test_the_bars_say_their_counts_in_words_in_the_reader_s_language() -> None:
    p = package()
    nature = next(g for g in p["by_policy"] if g["basic_policy"] == NATURE[0])["by_verdict"]
    ja = parse(verdict_bars_svg(p["by_policy"], language="ja"))
    said = desc(ja)
    assert f"{NATURE[0]}: 達成 {nature['achieved']}件、達成の見込み {nature['on_course']}件" in said
    assert f"達成は難しい見込み {nature['off_course']}件" in said and "指標4件" in said
    assert f"{EMPTY[0]}: " in said and "指標0件" in said
    assert "基本方針ごとの指標の判定" in "".join(ja.find(f"{SVG}title").itertext())  # type: ignore[union-attr]
    assert "指標なし" in texts(ja) and "数値目標なし" in texts(ja)  # the empty policy, and the legend
    assert not re.search(r"[a-z]_[a-z]", texts(ja) + said)
    en = parse(verdict_bars_svg(p["by_policy"], language="en"))
    said = desc(en)
    assert f"{NATURE[1]}: achieved {nature['achieved']}, on course {nature['on_course']}" in said
    assert "indicators: 4" in said and "no numerical target" in texts(en)
    assert "里山" not in said and "基本方針" not in said


def test_no_policy_at_all_draws_a_chart_that_says_no_data() -> None:
    root = parse(verdict_bars_svg([], language="ja"))
    assert "データなし" in texts(root) and desc(root) == "データなし"
    assert not [r for r in of(root, "rect") if r.get("data-verdict")]


def test_a_long_policy_name_is_wrapped_on_two_lines_and_ends_in_an_ellipsis() -> None:
    name = ("生物多様性の保全と持続可能な利用を進め、里地里山・湿地・森林・河川・海辺のつながりを取り戻し、"
            "市民・事業者・行政が協働してその恵みを次の世代に引き継ぐ")
    root = parse(verdict_bars_svg([{"basic_policy": name, "basic_policy_en": None,
                                    "by_verdict": dict.fromkeys(VERDICTS, 1)}], language="ja"))
    lines = [t for t in of(root, "text") if t.get("text-anchor") == "start" and "".join(t.itertext())[:3] == name[:3]]
    following = [t for t in of(root, "text") if "".join(t.itertext()).endswith("…")]
    assert len(lines) == 1 and len(following) == 1
    assert name in desc(root)  # the whole name is said


# -- one indicator's forecast ----------------------------------------------------------------


class Plot:
    """The chart's scale found again from its own y-axis labels and x-axis years."""

    def __init__(self, root: ET.Element) -> None:
        grid = [e for e in of(root, "line") if e.get("stroke") == "#e0e0e0"]
        labels = [t for t in of(root, "text") if t.get("text-anchor") == "end" and t.get("font-size") == "10"
                  and re.fullmatch(r"-?[\d,.]+", "".join(t.itertext()))]
        values = [float("".join(t.itertext()).replace(",", "")) for t in labels][: len(grid)]
        ys = [float(g.get("y1") or 0) for g in grid]
        (self.v0, self.y0), (self.v1, self.y1) = (values[0], ys[0]), (values[-1], ys[-1])
        years = [t for t in of(root, "text") if re.fullmatch(r"\d{4}", "".join(t.itertext()))]
        self.years = {int("".join(t.itertext())): float(t.get("x") or 0) for t in years}

    def y(self, value: float) -> float:
        return self.y0 + (value - self.v0) / (self.v1 - self.v0) * (self.y1 - self.y0)

    def x(self, year: int) -> float:
        (a, xa), (b, xb) = min(self.years.items()), max(self.years.items())
        return xa + (year - a) / (b - a) * (xb - xa)


def test_the_forecast_chart_puts_the_forecast_on_the_least_squares_line_with_its_interval() -> None:
    p = package()
    s1 = find(p, "1-1-1", "S1")
    root = parse(forecast_svg(s1, language="ja", action="1-1-1"))
    plot = Plot(root)
    line = forecast.fit(sorted(RISING.items()))
    assert line is not None and s1["forecast"]["value"] == pytest.approx(line.value_at(2030))
    (point,) = of(root, "circle", "forecast")
    assert float(point.get("cx") or 0) == pytest.approx(plot.x(2030), abs=0.2)
    assert float(point.get("cy") or 0) == pytest.approx(plot.y(50.2), abs=0.2)
    (trend,) = of(root, "line", "trend")
    for x, y in (("x1", "y1"), ("x2", "y2")):
        year = 2023 + (float(trend.get(x) or 0) - plot.x(2023)) / (plot.x(2030) - plot.x(2023)) * 7
        assert float(trend.get(y) or 0) == pytest.approx(plot.y(line.value_at(year)), abs=0.2)
    assert float(trend.get("x1") or 0) == pytest.approx(plot.x(2023), abs=0.2)  # from the first measured year
    assert float(trend.get("x2") or 0) == pytest.approx(plot.x(2030), abs=0.2)  # to the target year
    (interval,) = of(root, "g", "interval")
    bar = of(interval, "line")[0]  # the upright, from the interval's high to its low
    assert float(bar.get("y1") or 0) == pytest.approx(plot.y(s1["forecast"]["high"]), abs=0.2)
    assert float(bar.get("y2") or 0) == pytest.approx(plot.y(s1["forecast"]["low"]), abs=0.2)
    assert s1["forecast"]["low"] < 50.2 < s1["forecast"]["high"]
    measured = of(root, "circle", "measured")
    assert [round(float(c.get("cy") or 0)) for c in measured] == [round(plot.y(v)) for v in RISING.values()]
    (target,) = of(root, "rect", "target")
    assert float(target.get("y") or 0) + 4 == pytest.approx(plot.y(60.0), abs=0.2)
    said = desc(root)
    assert "2030年度の見通し: 50.2 ha" in said and "最小二乗法による直線（4年度分）、90%予測区間" in said
    assert "達成は難しい見込み" in said and "見通し 50.2" in texts(root) and "目標 60" in texts(root)
    assert "最小二乗法の直線" in texts(root) and "見通しと90%予測区間" in texts(root)  # the legend


def test_a_falling_indicator_where_lower_is_better_is_drawn_on_its_own_line() -> None:
    d1 = find(package(), "1-2-1", "D1")
    root = parse(forecast_svg(d1, language="en"))
    plot = Plot(root)
    line = forecast.fit(sorted(FALLING.items()))
    assert line is not None and d1["verdict"] == "on_course"
    (point,) = of(root, "circle", "forecast")
    assert float(point.get("cy") or 0) == pytest.approx(plot.y(line.value_at(2030)), abs=0.3)
    assert "lower is better" in texts(root) and "on course" in desc(root) and "Forecast for FY2030" in desc(root)
    assert "Least-squares line" in texts(root) and "Forecast, 90% prediction interval" in texts(root)


def test_two_values_draw_the_line_through_both_with_no_interval() -> None:
    s2 = find(package(), "1-1-1", "S2")
    root = parse(forecast_svg(s2, language="ja"))
    plot = Plot(root)
    assert s2["forecast"]["method"] == "two_points" and not of(root, "g", "interval")
    (trend,) = of(root, "line", "trend")
    assert float(trend.get("y1") or 0) == pytest.approx(plot.y(12.0), abs=0.2)  # through 2025's 12, 2 a year
    assert "予測区間" not in texts(root) and "2年度分の値を結ぶ直線" in desc(root)


def test_one_value_draws_it_held_flat_and_says_so() -> None:
    s3 = find(package(), "1-1-1", "S3")
    root = parse(forecast_svg(s3, language="ja"))
    assert s3["forecast"]["method"] == "last_value"
    (trend,) = of(root, "line", "trend")
    assert trend.get("y1") == trend.get("y2") and len(of(root, "circle", "measured")) == 1
    assert "最新の値のまま" in texts(root) and "実績が1年度分のため" in desc(root)


def test_no_measured_value_draws_the_target_and_says_no_data() -> None:
    empty = find(package(), "2-1-1", "S1")
    for language, words in (("ja", "データなし"), ("en", "No data")):
        root = parse(forecast_svg(empty, language=language))
        assert words in texts(root) and not of(root, "circle") and not of(root, "line", "trend")
        assert of(root, "rect", "target")


def test_no_target_still_draws_the_series_and_the_forecast() -> None:
    s4 = find(package(), "2-1-1", "S4")
    root = parse(forecast_svg(s4, language="en"))
    assert s4["verdict"] == "no_target" and len(of(root, "circle", "measured")) == 3 and of(root, "circle", "forecast")
    assert "no numerical target" in desc(root) and "Target: none" in desc(root)


@pytest.mark.parametrize("broken", [
    {},
    {"code": "X", "series": None, "forecast": None, "baseline": None, "target": None},
    {"code": "X", "series": [[2025, math.nan], [2026, 5.0]], "forecast": {"method": "least_squares", "value": math.inf,
                                                                         "target_year": 2030, "slope": math.nan}},
    {"code": "X", "series": [[2026, 5.0]], "forecast": {"method": "none"}, "target": [5.0, None]},
    {"code": "X", "series": [[2026, 5.0]], "forecast": {"method": "two_points", "value": 1e300, "slope": 1e300,
                                                        "target_year": 2030}},
    {"code": "X", "series": [[2025, -1e308], [2026, 1e308]], "forecast": {"method": "two_points", "value": 1e308,
                                                                        "slope": 1e308, "target_year": 2030}},
])
def test_what_is_missing_or_broken_still_draws_valid_markup_without_nan(broken: dict[str, Any]) -> None:
    for language in ("ja", "en"):
        root = parse(forecast_svg(broken, language=language))
        assert float(root.get("height") or 0) >= HEIGHT


def test_names_from_the_package_are_escaped() -> None:
    s1 = find(package(), "1-1-1", "S1") | {"name_en": "<script>alert(1)</script> & more", "unit": "<b>ha</b>"}
    svg = forecast_svg(s1, language="en")
    parse(svg)
    assert "<script>" not in svg and "<b>" not in svg


# -- the page and the PDF --------------------------------------------------------------------


def test_both_pages_carry_the_bars_and_every_indicator_s_chart_in_their_own_words() -> None:
    p = package()
    pages = render_pages(p)
    count = sum(len(a["indicators"]) for a in p["actions"])
    for path in ("index.html", "en/index.html"):
        page = pages[path]
        assert page.count('data-chart="verdicts"') == 1 and page.count('<details class="chart">') == count
        for svg in re.findall(r"<svg .*?</svg>", page, flags=re.S):
            parse(svg)
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert len(ids) == len(set(ids))  # S1 of two actions keeps its own ids
        assert page.index('data-chart="verdicts"') < page.index("<h2>", page.index('data-chart="verdicts"'))
    ja, en = visible_text(pages["index.html"]), visible_text(pages["en/index.html"])
    for code in (*VERDICTS, "least_squares", "two_points", "last_value"):
        assert code not in ja
        assert "_" not in code or code not in en  # "achieved" is an English word too
    assert "達成の見込み" in ja and "数値目標なし" in ja and "グラフ: 里山林の面積の実績・傾向・見通し" in ja
    assert "on course" in en and "off course" in en and "Chart: S1 in English, measured, trend and forecast" in en
    assert "least-squares line" in en and "Indicator verdicts by basic policy" in en
    assert "里山林の面積" not in en


def test_the_page_s_table_counts_every_verdict_the_bars_draw() -> None:
    page = render_pages(package())["index.html"]
    table = page[page.index("<h2>基本方針ごとの集計</h2>"):page.index('data-chart="verdicts"')]
    assert "数値目標なし</th>" in table and table.count('data-label="数値目標なし"') == 3


def _weasyprint_or_skip() -> None:
    try:
        import weasyprint  # noqa: F401  (loads Pango)
    except OSError as missing:  # the library is installed, Pango is not
        pytest.skip(f"WeasyPrint cannot load Pango here: {missing}")


def test_the_pdf_is_still_made_with_every_chart_open_on_paper(tmp_path: Path) -> None:
    from pypdf import PdfReader

    _weasyprint_or_skip()
    path = write_pdf(package(), tmp_path / "review.pdf")
    reader = PdfReader(path)
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert "計画期間の最終評価" in text and "基本方針ごとの指標の判定" not in text  # the title is for screen readers
    assert "見通しと90%予測区間" in text and "目標 60" in text  # drawn in the charts, so unfolded
    assert "グラフ:" not in text  # the summary line has nothing to open on paper
