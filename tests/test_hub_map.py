"""The hub's map (情報ハブの地図): Midori City's outline with the accepted observations and the
citizens' activity reports on it, drawn as one SVG that loads nothing from anywhere. Read back
as XML the way a browser would, and checked against positions and distances worked out here."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from publishing.hub_map import Outline, Point, check_href, hub_map, load_outline, outline_from_geojson

SVG = "{http://www.w3.org/2000/svg}"
SAMPLE = Path(__file__).resolve().parents[1] / "app" / "sample" / "midori_outline.geojson"
LEGEND = {"observation": "生きもの観察記録", "activity": "市民の活動報告", "river": "緑川",
          "cell": "位置をぼかした記録", "uncertainty": "位置の誤差"}
SQUARE = outline_from_geojson({"type": "Polygon", "coordinates": [[[139.0, 35.0], [139.1, 35.0], [139.1, 35.1],
                                                                   [139.0, 35.1], [139.0, 35.0]]]})
"""A 0.1° square: small enough to work the projection out by hand."""
HOSTILE = ("<script>alert(1)</script>", '" onload="x', "a & b ]]> <!-- c")


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def markers(root: ET.Element) -> list[tuple[float, float]]:
    """Where each marker is drawn, from its translate()."""
    out = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "marker":
            x, y = re.fullmatch(r"translate\((\S+) (\S+)\)", g.get("transform", "")).groups()
            out.append((float(x), float(y)))
    return out


def titles(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}title")]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lon1, lat1), (lon2, lat2) = [(math.radians(lon), math.radians(lat)) for lon, lat in (a, b)]
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


@pytest.fixture(scope="module")
def midori() -> Outline:
    return load_outline(SAMPLE)


# -- the outline ---------------------------------------------------------------------------------


def test_the_sample_outline_is_a_city_of_about_twenty_by_fifteen_km_in_the_kanto_plain(midori: Outline) -> None:
    assert (midori.name_ja, midori.name_en) == ("みどり市", "Midori City")
    assert len(midori.polygons) == 1
    ring = midori.polygons[0][0]
    assert 40 <= len(ring) <= 80
    assert len({round(lon, 3) for lon, _lat in ring}) > 10  # not a rectangle
    west, south, east, north = midori.bounds()
    assert 139.40 <= west < east <= 139.65 and 35.55 <= south < north <= 35.70
    assert 17_000 < haversine_m((west, 35.62), (east, 35.62)) < 23_000
    assert 12_000 < haversine_m((139.5, south), (139.5, north)) < 18_000
    river = [line for line in midori.lines if line.kind == "river"]
    assert [(r.name_ja, r.name_en) for r in river] == [("緑川", "Midori River")]


def test_the_sample_file_writes_coordinates_to_at_most_five_decimals() -> None:
    numbers = re.findall(r"-?\d+\.\d+", SAMPLE.read_text(encoding="utf-8"))
    assert numbers and all(len(n.split(".")[1]) <= 5 for n in numbers)
    assert json.loads(SAMPLE.read_text(encoding="utf-8"))["type"] == "FeatureCollection"


def test_an_outline_without_a_polygon_or_with_a_broken_coordinate_is_refused() -> None:
    line = {"type": "Feature", "properties": {"kind": "river"},
            "geometry": {"type": "LineString", "coordinates": [[139.5, 35.6], [139.6, 35.6]]}}
    with pytest.raises(ValueError, match="no Polygon"):
        outline_from_geojson({"type": "FeatureCollection", "features": [line]})
    with pytest.raises(ValueError, match="not a coordinate"):
        outline_from_geojson({"type": "Polygon", "coordinates": [[[139.0, 35.0], [139.1, "35"], [139.1, 35.1]]]})
    with pytest.raises(ValueError, match="WGS84"):
        outline_from_geojson({"type": "Polygon", "coordinates": [[[35.0, 139.0], [35.1, 139.0], [35.1, 139.1]]]})


# -- where things are drawn ----------------------------------------------------------------------


def test_a_point_is_drawn_where_the_projection_worked_by_hand_puts_it() -> None:
    # The square's middle latitude is 35.05°, cos = 0.818651. Its 0.1° of longitude are 0.0818651
    # "latitude degrees" wide, fitted into 640 - 2 × 24 = 592 px: 7231.41 px per degree. So
    # (139.025, 35.075) is 24 + 0.025 × 0.818651 × 7231.41 = 172.0 across, 24 + 0.025 × 7231.41
    # = 204.8 down.
    root = parse(hub_map(SQUARE, [Point(139.025, 35.075, "カワセミ", "observation")], title="地図", legend=LEGEND))
    assert markers(root) == [(172.0, 204.8)]


def test_a_point_on_the_sample_city_is_drawn_at_its_projected_place(midori: Outline) -> None:
    west, south, east, north = midori.bounds()
    cos_lat = math.cos(math.radians((south + north) / 2))
    k = (640 - 48) / ((east - west) * cos_lat)
    lon, lat = 139.52, 35.63
    expected = (24 + (lon - west) * cos_lat * k, 24 + (north - lat) * k)
    root = parse(hub_map(midori, [Point(lon, lat, "カワセミ", "observation")], title="地図", legend=LEGEND))
    [(x, y)] = markers(root)
    assert abs(x - expected[0]) <= 0.051 and abs(y - expected[1]) <= 0.051


def test_a_point_outside_the_outlines_box_is_left_out_rather_than_drawn_off_the_map(midori: Outline) -> None:
    points = [Point(139.52, 35.63, "市内", "observation"), Point(139.80, 35.63, "市外の東", "observation"),
              Point(139.52, 35.40, "市外の南", "activity"), Point(float("nan"), 35.6, "位置不明", "activity")]
    root = parse(hub_map(midori, points, title="地図", legend=LEGEND))
    assert len(markers(root)) == 1
    assert "市内" in titles(root) and not {"市外の東", "市外の南", "位置不明"} & set(titles(root))
    assert "市民の活動報告" not in texts(root)  # no activity on the map, so none in the legend


def test_a_generalised_record_is_its_cell_and_nothing_marks_the_spot_it_came_from() -> None:
    exact = (139.031, 35.062)
    cell = (139.02, 35.05, 139.06, 35.09)
    root = parse(hub_map(SQUARE, [Point(*exact, "オオタカ", "observation", "observations/4.html", cell=cell)],
                         title="地図", legend=LEGEND))
    assert markers(root) == []
    [rect] = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "cell"]
    k = 592 / (0.1 * math.cos(math.radians(35.05)))
    x0 = 24 + (cell[0] - 139.0) * math.cos(math.radians(35.05)) * k
    y0 = 24 + (35.1 - cell[3]) * k
    assert abs(float(rect.get("x")) - x0) <= 0.051 and abs(float(rect.get("y")) - y0) <= 0.051
    assert abs(float(rect.get("width")) - 0.04 * math.cos(math.radians(35.05)) * k) <= 0.11
    spot = (24 + (exact[0] - 139.0) * math.cos(math.radians(35.05)) * k, 24 + (35.1 - exact[1]) * k)
    for circle in root.iter(f"{SVG}circle"):
        assert (float(circle.get("cx", 0)), float(circle.get("cy", 0))) != pytest.approx(spot, abs=1)
    assert "位置をぼかした記録" in texts(root)
    [link] = [a for a in root.iter(f"{SVG}a")]
    assert link.get("href") == "observations/4.html" and link.find(f"{SVG}title").text == "オオタカ"


def test_a_wide_uncertainty_is_drawn_as_a_circle_of_its_radius_and_a_narrow_one_is_not() -> None:
    points = [Point(139.05, 35.05, "ニホンアカガエル", "observation", uncertainty_m=1000.0),
              Point(139.03, 35.03, "カワセミ", "observation", uncertainty_m=50.0)]
    root = parse(hub_map(SQUARE, points, title="地図", legend=LEGEND))
    circles = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "uncertainty"]
    assert len(circles) == 1
    px_per_m = 592 / haversine_m((139.0, 35.05), (139.1, 35.05))
    assert float(circles[0].get("r")) == pytest.approx(1000 * px_per_m, rel=0.01)
    assert len(markers(root)) == 2 and "位置の誤差" in texts(root)


# -- what it says --------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_label_title_or_legend_is_only_ever_text(midori: Outline, hostile: str) -> None:
    points = [Point(139.52, 35.63, hostile, "observation", "observations/1.html"),
              Point(139.55, 35.62, "ok", hostile)]
    root = parse(hub_map(midori, points, title=hostile, legend={"observation": hostile, hostile: hostile},
                         description=hostile))
    assert titles(root).count(hostile) == 2  # the map's own title and the item's
    assert root.find(f"{SVG}desc").text == hostile
    assert hostile in texts(root)
    for element in root.iter():
        assert element.tag.removeprefix(SVG) != "script"
        assert not [name for name in element.attrib if name.lower().startswith("on")]


def test_the_map_is_named_by_its_title_and_sized_to_the_page(midori: Outline) -> None:
    root = parse(hub_map(midori, [], title="みどり市の地図", legend=LEGEND))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("width") == "100%"
    title = root.find(f"{SVG}title")
    assert title is not None and root.get("aria-labelledby") == title.get("id") and title.text == "みどり市の地図"
    assert root.get("font-family") == "sans-serif"
    assert root.get("viewBox").startswith("0 0 640 ")


def test_the_legend_shows_the_callers_words_for_what_is_on_the_map_and_words_of_its_own_only_n_and_km(
        midori: Outline) -> None:
    points = [Point(139.52, 35.63, "a", "observation"), Point(139.50, 35.65, "b", "activity"),
              Point(139.48, 35.62, "c", "survey")]
    root = parse(hub_map(midori, points, title="地図", legend=LEGEND))
    assert {"生きもの観察記録", "市民の活動報告", "緑川", "survey"} <= set(texts(root))  # an unnamed kind by its code
    assert not {"位置をぼかした記録", "位置の誤差"} & set(texts(root))  # no cell, no circle on this map
    bare = parse(hub_map(midori, [], title="地図", legend={}))
    assert [t for t in texts(bare) if not re.fullmatch(r"[\d.]+ km", t)] == ["N"]


def test_observations_and_activities_differ_in_shape_as_well_as_colour() -> None:
    points = [Point(139.02, 35.02, "a", "observation"), Point(139.08, 35.08, "b", "activity")]
    root = parse(hub_map(SQUARE, points, title="地図", legend=LEGEND))
    drawn = [g for g in root.iter(f"{SVG}g") if g.get("class") == "marker"]
    shapes = [(child.tag, child.get("fill")) for g in drawn for child in g]
    assert shapes[0][0] != shapes[1][0] and shapes[0][1] != shapes[1][1]


def test_the_scale_bar_is_as_long_as_the_distance_it_says(midori: Outline) -> None:
    # Two points 0.1° apart north-south and two east-west: their distance on the ground over their
    # distance on the map gives metres per px both ways, which must agree (x shortened by cos φ).
    points = [Point(139.50, 35.58, "s", "observation"), Point(139.50, 35.68, "n", "observation"),
              Point(139.45, 35.62, "w", "observation"), Point(139.55, 35.62, "e", "observation")]
    root = parse(hub_map(midori, points, title="地図", legend=LEGEND))
    south, north, west, east = markers(root)
    per_px_ns = haversine_m((139.50, 35.58), (139.50, 35.68)) / abs(south[1] - north[1])
    per_px_ew = haversine_m((139.45, 35.62), (139.55, 35.62)) / abs(east[0] - west[0])
    assert per_px_ew == pytest.approx(per_px_ns, rel=0.01)
    scale = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "scale")
    bar = next(r for r in scale.iter(f"{SVG}rect") if r.get("class") == "scale-bar")
    label = scale.find(f"{SVG}text").text
    km = float(re.fullmatch(r"([\d.]+) km", label).group(1))
    assert float(bar.get("width")) * per_px_ns == pytest.approx(km * 1000, rel=0.01)
    assert 2 <= km <= 10  # a round distance a citizen can read against a 20 km city


def test_nothing_is_fetched_from_elsewhere_and_the_only_links_are_the_items_own(midori: Outline) -> None:
    hrefs = {"observations/1.html", "activities/7.html", "../observations/9.html"}
    points = [Point(139.52, 35.63, "a", "observation", "observations/1.html"),
              Point(139.50, 35.65, "b", "activity", "activities/7.html"),
              Point(139.48, 35.62, "c", "observation", "../observations/9.html", cell=(139.4, 35.5, 139.5, 35.6))]
    svg = hub_map(midori, points, title="地図", legend=LEGEND)
    root = parse(svg)
    assert {a.get("href") for a in root.iter(f"{SVG}a")} == hrefs
    values = [v for element in root.iter() for name, v in element.attrib.items()
              if not (element is root and name == "xmlns") and name != "href"]
    assert not [v for v in values if "http" in v or "//" in v or ("url(" in v and not v.startswith("url(#"))]
    assert "@import" not in svg and "<style" not in svg and "xlink" not in svg
    assert svg.count("http") == 1  # the SVG namespace, an identifier nobody fetches


@pytest.mark.parametrize("href", ["javascript:alert(1)", "JavaScript:alert(1)", "java\tscript:alert(1)",
                                  " javascript:alert(1)", "data:text/html,<script>x</script>", ""])
def test_a_link_that_could_run_script_is_refused(href: str) -> None:
    with pytest.raises(ValueError):
        check_href(href)
    with pytest.raises(ValueError):
        Point(139.5, 35.6, "a", "observation", href)


def test_the_same_map_twice_is_the_same_string_with_every_number_to_one_decimal(midori: Outline) -> None:
    def draw() -> str:
        return hub_map(load_outline(SAMPLE), [Point(139.52, 35.63, "a", "observation", "observations/1.html",
                                                    uncertainty_m=750.0),
                                              Point(139.50, 35.65, "b", "activity")],
                       title="地図", legend=dict(LEGEND))

    first = draw()
    assert first == draw()
    root = parse(first)
    numbers = [n for element in root.iter() for name, v in element.attrib.items() if name not in ("href", "xmlns")
               for n in re.findall(r"\d+\.\d+", v)]
    assert numbers and all(len(n.split(".")[1]) == 1 for n in numbers)


def test_a_narrower_viewbox_draws_the_same_map_scaled(midori: Outline) -> None:
    point = [Point(139.52, 35.63, "a", "observation")]
    wide = markers(parse(hub_map(midori, point, title="地図", legend=LEGEND)))
    narrow = markers(parse(hub_map(midori, point, title="地図", legend=LEGEND, width=390)))
    assert narrow[0] == pytest.approx((wide[0][0] * 390 / 640, wide[0][1] * 390 / 640), abs=0.1)
