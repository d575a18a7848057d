"""The hub's map (情報ハブの地図): the city's outline with accepted observations and activity
reports on it, as one inline SVG.

Drawn here from the outline's coordinates rather than from map tiles, so the public page
loads nothing from anyone else's server, works opened from disk, and tells no tile provider
who looked at which place. The projection is the plain one a small area needs: longitude and
latitude on straight axes, longitude shortened by the cosine of the map's middle latitude so
that a kilometre east is as long as a kilometre north, which is what lets the scale bar be true.

What the map must never do is say more than the data: a sensitive species generalised to a
~10 km cell is drawn as that cell, with no marker at the spot it came from, and a record with
a wide uncertainty carries its circle. Markers differ in shape as well as colour, so a reader
who cannot tell the colours apart can still tell the kinds. The caller gives every word (the
title, the legend, the labels) in the reader's language; the only words here are "N" and "km".

Every text goes through ElementTree, so a label is only ever text, and the same input gives
the same string byte for byte (numbers to one decimal), which keeps the published site's
files unchanged when nothing changed. Standard library only, nothing happens at import time.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SVG_NS = "http://www.w3.org/2000/svg"
EARTH_RADIUS_M = 6_371_008.8  # the mean radius; a small city's map needs no ellipsoid
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180
UNCERTAINTY_MIN_M = 200.0
"""A record placed less precisely than this is drawn as a marker alone: a circle that small
would hide under the marker anyway."""
CELL, UNCERTAINTY = "cell", "uncertainty"
"""Legend keys for the generalised cells and the uncertainty circles, besides the kinds."""
DESIGN_WIDTH = 640  # sizes below are for this width and scale with `width`
MARGIN = 24.0  # around the outline's box, at DESIGN_WIDTH
MAX_ASPECT = 1.25  # a tall outline is fitted to this height / width, and centred
FONT = 18.0  # ~11 px on a 390 px phone, the map drawn at the page's width
MARKER = 8.0
HIT = 16.0  # a linked marker's invisible touch area
PAD = 12.0
ALLOWED_SCHEMES = ("", "http", "https")

COLOURS = {"sea": "#f3f5f7", "frame": "#b0b7bf", "land": "#e6f2dc", "edge": "#5b7f3a", "river": "#4f9fd6",
           "text": "#222222", "paper": "#ffffff", "marker_edge": "#1b1b1b"}
KIND_STYLES: dict[str, tuple[str, str]] = {"observation": ("circle", "#0072b2"), "activity": ("triangle", "#d55e00")}
"""The two kinds the hub has: told apart by shape first, then by hue (Okabe-Ito colours)."""
OTHER_STYLES: tuple[tuple[str, str], ...] = (("diamond", "#cc79a7"), ("square", "#e69f00"),
                                             ("inverted", "#009e73"), ("square", "#56b4e9"))
"""Further kinds, in the order the legend names them; more than these repeat from the start."""

Position = tuple[float, float]
Ring = tuple[Position, ...]
Shape = Callable[[ET.Element, float, str], None]


@dataclass(frozen=True)
class Line:
    """A line drawn on the map with the outline, such as a river (`kind` "river")."""

    coords: tuple[Position, ...]
    kind: str = "line"
    name_ja: str = ""
    name_en: str = ""


@dataclass(frozen=True)
class Outline:
    """The city: its polygons (each an outer ring, then any holes) and the lines drawn with it."""

    polygons: tuple[tuple[Ring, ...], ...]
    lines: tuple[Line, ...] = ()
    name_ja: str = ""
    name_en: str = ""

    def bounds(self) -> tuple[float, float, float, float]:
        """West, south, east, north of the polygons: the map is fitted to these, lines or not."""
        positions = [p for polygon in self.polygons for ring in polygon for p in ring]
        if not positions:
            raise ValueError("the outline has no polygon")
        lons, lats = [p[0] for p in positions], [p[1] for p in positions]
        return min(lons), min(lats), max(lons), max(lats)


@dataclass(frozen=True)
class Point:
    """One item on the map. `label` is its tooltip and the link's name; `href`, a link the
    caller built (a relative path), is checked here because a `javascript:` link would run.
    With a `cell` (west, south, east, north) the item is drawn as that rectangle only, and
    `lon`/`lat` are not used, so a generalised record never shows where it really was."""

    lon: float
    lat: float
    label: str
    kind: str
    href: str | None = None
    uncertainty_m: float | None = None
    cell: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.href is not None:
            check_href(self.href)


def check_href(href: str) -> str:
    """A link is a relative path or a web address: a browser would run a `javascript:` one,
    and ignores the tabs, newlines and spaces that could hide its scheme, so none are allowed."""
    if not href or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in href):
        raise ValueError(f"a map link must be a path without spaces or control characters: {href!r}")
    if urlsplit(href).scheme.lower() not in ALLOWED_SCHEMES:
        raise ValueError(f"a map link must be a relative path or an http(s) address: {href!r}")
    return href


# -- reading the outline ---------------------------------------------------------------------


def _position(value: Any, where: str) -> Position:
    """[lon, lat] (any further number, such as a height, ignored), in range and finite."""
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise ValueError(f"{where}: a position is [lon, lat], not {value!r}")
    lon, lat = value[0], value[1]
    for n in (lon, lat):
        if isinstance(n, bool) or not isinstance(n, int | float) or not math.isfinite(n):
            raise ValueError(f"{where}: {n!r} is not a coordinate")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"{where}: ({lon}, {lat}) is not a longitude and latitude (WGS84)")
    return float(lon), float(lat)


def _positions(value: Any, where: str, *, least: int) -> tuple[Position, ...]:
    if not isinstance(value, list | tuple) or len(value) < least:
        raise ValueError(f"{where}: needs at least {least} positions")
    return tuple(_position(p, f"{where}[{i}]") for i, p in enumerate(value))


def _polygon(rings: Any, where: str) -> tuple[Ring, ...]:
    """A GeoJSON polygon's rings, the first the outside; an unclosed ring is taken as closed."""
    if not isinstance(rings, list | tuple) or not rings:
        raise ValueError(f"{where}: a polygon needs at least one ring")
    return tuple(_positions(ring, f"{where}[{i}]", least=3) for i, ring in enumerate(rings))


def _features(data: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(properties, geometry) pairs of a FeatureCollection, a Feature or a bare geometry."""
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise ValueError("a FeatureCollection needs a list of features")
        return [pair for feature in features for pair in _features(feature)]
    if kind == "Feature":
        geometry = data.get("geometry")
        properties = data.get("properties")
        if not isinstance(geometry, Mapping):
            return []  # a feature without a place draws nothing
        return [(properties if isinstance(properties, Mapping) else {}, geometry)]
    return [({}, data)]


def outline_from_geojson(data: Mapping[str, Any]) -> Outline:
    """The outline in a GeoJSON document: its Polygons and MultiPolygons are the city (the
    first polygon feature's `name_ja`/`name_en`, or `name`, name it), its LineStrings and
    MultiLineStrings the lines drawn with it (`kind`, `name_ja`, `name_en` from their
    properties). Other geometries are left out; a malformed coordinate is an error, because a
    map silently drawn without part of the city is worse than no map."""
    if not isinstance(data, Mapping):
        raise ValueError("a GeoJSON document is an object")
    polygons: list[tuple[Ring, ...]] = []
    lines: list[Line] = []
    names: tuple[str, str] | None = None
    for n, (properties, geometry) in enumerate(_features(data)):
        kind, coords, where = geometry.get("type"), geometry.get("coordinates"), f"feature {n}"
        if kind in ("Polygon", "MultiPolygon"):
            parts = [coords] if kind == "Polygon" else coords
            if not isinstance(parts, list | tuple) or not parts:
                raise ValueError(f"{where}: a MultiPolygon needs at least one polygon")
            polygons += [_polygon(part, f"{where}[{i}]") for i, part in enumerate(parts)]
            if names is None:
                names = (_name(properties, "name_ja"), _name(properties, "name_en"))
        elif kind in ("LineString", "MultiLineString"):
            parts = [coords] if kind == "LineString" else coords
            if not isinstance(parts, list | tuple):
                raise ValueError(f"{where}: a MultiLineString is a list of lines")
            line_kind = str(properties.get("kind") or "line")
            lines += [Line(_positions(part, f"{where}[{i}]", least=2), line_kind, _name(properties, "name_ja"),
                           _name(properties, "name_en")) for i, part in enumerate(parts)]
    if not polygons:
        raise ValueError("the GeoJSON has no Polygon or MultiPolygon for the city")
    name_ja, name_en = names or ("", "")
    return Outline(tuple(polygons), tuple(lines), name_ja, name_en)


def _name(properties: Mapping[str, Any], key: str) -> str:
    value = properties.get(key) or properties.get("name") or ""
    return str(value)


def load_outline(path: Path) -> Outline:
    """The outline from a GeoJSON file (UTF-8, as RFC 7946 requires)."""
    return outline_from_geojson(json.loads(Path(path).read_text(encoding="utf-8")))


# -- the projection --------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """Where a longitude and latitude fall on the map: the outline's box fitted into the width
    less the margins, longitude shortened by the cosine of the box's middle latitude."""

    west: float
    south: float
    east: float
    north: float
    scale: float  # px per degree of latitude
    cos_lat: float
    left: float  # px of the box's west edge
    top: float  # px of the box's north edge
    width: float
    height: float  # of the map, the legend below it not counted

    def place(self, lon: float, lat: float) -> tuple[float, float]:
        return (self.left + (lon - self.west) * self.cos_lat * self.scale,
                self.top + (self.north - lat) * self.scale)

    def holds(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north

    @property
    def metres_per_px(self) -> float:
        return METRES_PER_DEGREE / self.scale


def fit(outline: Outline, width: float) -> Frame:
    """The frame for an outline at a width; a box of no size (a degenerate outline) is given a
    little, so that nothing divides by zero."""
    west, south, east, north = outline.bounds()
    u = width / DESIGN_WIDTH
    margin = MARGIN * u
    cos_lat = math.cos(math.radians((south + north) / 2))
    span_x = max(east - west, 1e-4) * cos_lat
    span_y = max(north - south, 1e-4)
    scale = min((width - 2 * margin) / span_x, (width * MAX_ASPECT - 2 * margin) / span_y)
    left = (width - span_x * scale) / 2
    return Frame(west, south, east, north, scale, cos_lat, left, margin, width, span_y * scale + 2 * margin)


def scale_length_km(metres_per_px: float, longest_px: float) -> float:
    """The longest round distance (1, 2 or 5 times a power of ten, in km) whose bar fits."""
    best = 0.001
    for exponent in range(-3, 5):
        for step in (1, 2, 5):
            km = step * 10.0**exponent
            if km * 1000 / metres_per_px <= longest_px:
                best = km
    return best


# -- drawing ---------------------------------------------------------------------------------


def _f(x: float) -> str:
    text = f"{x:.1f}"
    return "0.0" if text == "-0.0" else text


def _el(parent: ET.Element, tag: str, attrs: Mapping[str, Any] | None = None, text: str | None = None) -> ET.Element:
    """A child element; numbers become one-decimal strings, and ElementTree escapes the rest."""
    element = ET.SubElement(parent, tag, {k: _f(v) if isinstance(v, float) else str(v)
                                          for k, v in (attrs or {}).items()})
    if text is not None:
        element.text = text
    return element


def _path(coords: Iterable[tuple[float, float]], *, close: bool) -> str:
    """Path data from pixel positions, a position repeated after rounding left out."""
    out: list[str] = []
    for x, y in coords:
        step = f"{_f(x)},{_f(y)}"
        if not out or out[-1][1:] != step:
            out.append(("L" if out else "M") + step)
    return "".join(out) + ("Z" if close else "")


def _polygon_shape(points: Sequence[tuple[float, float]]) -> Shape:
    def draw(parent: ET.Element, size: float, fill: str) -> None:
        _el(parent, "polygon", {"points": " ".join(f"{_f(x * size)},{_f(y * size)}" for x, y in points),
                                "fill": fill, "stroke": COLOURS["marker_edge"], "stroke-width": size / 6,
                                "stroke-linejoin": "round"})
    return draw


def _circle_shape(parent: ET.Element, size: float, fill: str) -> None:
    _el(parent, "circle", {"r": size, "fill": fill, "stroke": COLOURS["marker_edge"], "stroke-width": size / 6})


def _square_shape(parent: ET.Element, size: float, fill: str) -> None:
    _el(parent, "rect", {"x": -0.85 * size, "y": -0.85 * size, "width": 1.7 * size, "height": 1.7 * size,
                         "fill": fill, "stroke": COLOURS["marker_edge"], "stroke-width": size / 6})


SHAPES: dict[str, Shape] = {
    "circle": _circle_shape,
    "triangle": _polygon_shape(((0.0, -1.2), (1.1, 0.85), (-1.1, 0.85))),
    "inverted": _polygon_shape(((0.0, 1.2), (1.1, -0.85), (-1.1, -0.85))),
    "diamond": _polygon_shape(((0.0, -1.25), (1.1, 0.0), (0.0, 1.25), (-1.1, 0.0))),
    "square": _square_shape,
}


def assign_styles(kinds: Iterable[str], legend: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Shape and colour of each kind: the hub's own kinds always alike, any other in the
    legend's order, then alphabetically, so the same kinds look the same on every page."""
    present = set(kinds)
    others = [k for k in legend if k in present and k not in KIND_STYLES]
    others += sorted(present - set(others) - set(KIND_STYLES))
    styles = {k: v for k, v in KIND_STYLES.items() if k in present}
    styles.update({k: OTHER_STYLES[i % len(OTHER_STYLES)] for i, k in enumerate(others)})
    return styles


def _text_width(text: str, size: float) -> float:
    """About how wide a text is drawn, with no font metrics: a full-width character a square,
    anything else a little over half of one, so the estimate errs wide."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.62 for c in text)


def _item(parent: ET.Element, point: Point) -> ET.Element:
    """The element that holds one item: its link (named by the label) or a plain group."""
    holder = _el(parent, "a", {"href": point.href}) if point.href else _el(parent, "g")
    _el(holder, "title", text=point.label)
    return holder


def _cell_rect(frame: Frame, cell: tuple[float, float, float, float]) -> tuple[float, float, float, float] | None:
    """The part of a cell (west, south, east, north) on the map, in px (x, y, width, height);
    None for a malformed cell or one beside the outline's box."""
    west, south, east, north = cell
    if not all(math.isfinite(v) for v in cell) or west >= east or south >= north:
        return None
    if east < frame.west or west > frame.east or north < frame.south or south > frame.north:
        return None
    x0, y0 = frame.place(west, north)
    x1, y1 = frame.place(east, south)
    x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, frame.width), min(y1, frame.height)
    return x0, y0, x1 - x0, y1 - y0


def _draw_outline(svg: ET.Element, frame: Frame, outline: Outline, u: float) -> None:
    data = "".join(_path((frame.place(*p) for p in ring), close=True)
                   for polygon in outline.polygons for ring in polygon)
    _el(svg, "path", {"class": "outline", "d": data, "fill": COLOURS["land"], "fill-rule": "evenodd",
                      "stroke": COLOURS["edge"], "stroke-width": 2 * u, "stroke-linejoin": "round"})


def _draw_lines(layer: ET.Element, frame: Frame, outline: Outline, u: float) -> None:
    for line in outline.lines:
        _el(layer, "path", {"class": f"line {line.kind}", "d": _path((frame.place(*p) for p in line.coords),
                                                                    close=False),
                            "fill": "none", "stroke": COLOURS["river"], "stroke-width": 3.5 * u,
                            "stroke-linecap": "round", "stroke-linejoin": "round"})


def _draw_cells(layer: ET.Element, frame: Frame, points: Sequence[Point], styles: Mapping[str, tuple[str, str]],
                u: float) -> int:
    """Generalised items as translucent rectangles, each one its own link; how many drawn."""
    drawn = 0
    for point in points:
        rect = _cell_rect(frame, point.cell) if point.cell else None
        if rect is None:
            continue
        colour = styles[point.kind][1]
        x, y, w, h = rect
        _el(_item(layer, point), "rect", {"class": "cell", "x": x, "y": y, "width": w, "height": h,
                                          "fill": colour, "fill-opacity": 0.2, "stroke": colour,
                                          "stroke-width": 1.5 * u, "stroke-dasharray": f"{_f(6 * u)} {_f(4 * u)}"})
        drawn += 1
    return drawn


def _on_map(frame: Frame, point: Point) -> bool:
    return (point.cell is None and math.isfinite(point.lon) and math.isfinite(point.lat)
            and frame.holds(point.lon, point.lat))


def _draw_uncertainty(layer: ET.Element, frame: Frame, points: Sequence[Point],
                      styles: Mapping[str, tuple[str, str]], u: float) -> int:
    """Circles of the wide uncertainties, under every marker and never catching a tap."""
    drawn = 0
    for point in points:
        m = point.uncertainty_m
        if not _on_map(frame, point) or m is None or not math.isfinite(m) or m <= UNCERTAINTY_MIN_M:
            continue
        x, y = frame.place(point.lon, point.lat)
        colour = styles[point.kind][1]
        _el(layer, "circle", {"class": "uncertainty", "cx": x, "cy": y, "r": m / frame.metres_per_px,
                              "fill": colour, "fill-opacity": 0.1, "stroke": colour, "stroke-opacity": 0.6,
                              "stroke-width": 1.2 * u, "pointer-events": "none"})
        drawn += 1
    return drawn


def _draw_markers(svg: ET.Element, frame: Frame, points: Sequence[Point], styles: Mapping[str, tuple[str, str]],
                  u: float) -> set[str]:
    """A marker at each exact item inside the box, in the caller's order; the kinds drawn."""
    kinds: set[str] = set()
    for point in points:
        if not _on_map(frame, point):
            continue
        x, y = frame.place(point.lon, point.lat)
        holder = _item(svg, point)
        marker = _el(holder, "g", {"class": "marker", "transform": f"translate({_f(x)} {_f(y)})"})
        if point.href:
            _el(marker, "circle", {"r": HIT * u, "fill": "#000000", "fill-opacity": 0})
        shape, colour = styles[point.kind]
        SHAPES[shape](marker, MARKER * u, colour)
        kinds.add(point.kind)
    return kinds


def _draw_scale(svg: ET.Element, frame: Frame, u: float) -> None:
    """A bar of a round distance at the bottom left, on a pale card over whatever is there."""
    km = scale_length_km(frame.metres_per_px, 0.3 * (frame.width - 2 * MARGIN * u))
    length = km * 1000 / frame.metres_per_px
    label = f"{km:g} km"
    size = FONT * u
    x, bottom = PAD * u, frame.height - PAD * u
    card_w = max(length, _text_width(label, size)) + 12 * u
    group = _el(svg, "g", {"class": "scale"})
    _el(group, "rect", {"x": x - 6 * u, "y": bottom - size - 18 * u, "width": card_w, "height": size + 24 * u,
                        "rx": 4 * u, "fill": COLOURS["paper"], "fill-opacity": 0.9})
    _el(group, "rect", {"class": "scale-bar", "x": x, "y": bottom - 6 * u, "width": length, "height": 6 * u,
                        "fill": COLOURS["text"]})
    _el(group, "text", {"x": x, "y": bottom - 12 * u, "font-size": size, "fill": COLOURS["text"]}, label)


def _draw_north(svg: ET.Element, frame: Frame, u: float) -> None:
    """An arrow pointing up with "N" above it, at the top right."""
    size = FONT * u
    cx, top = frame.width - PAD * u - 12 * u, PAD * u
    group = _el(svg, "g", {"class": "north"})
    _el(group, "rect", {"x": cx - 14 * u, "y": top - 6 * u, "width": 28 * u, "height": size + 40 * u,
                        "rx": 4 * u, "fill": COLOURS["paper"], "fill-opacity": 0.9})
    _el(group, "text", {"x": cx, "y": top + size * 0.85, "font-size": size, "font-weight": "bold",
                        "text-anchor": "middle", "fill": COLOURS["text"]}, "N")
    tip = top + size + 4 * u
    arrow = [(cx, tip), (cx + 8 * u, tip + 26 * u), (cx, tip + 19 * u), (cx - 8 * u, tip + 26 * u)]
    _el(group, "polygon", {"points": " ".join(f"{_f(px)},{_f(py)}" for px, py in arrow), "fill": COLOURS["text"]})


def _legend_entries(legend: Mapping[str, str], styles: Mapping[str, tuple[str, str]], drawn: Mapping[str, bool],
                    line_kinds: set[str]) -> list[tuple[str, str]]:
    """(key, words) for what is on the map, in the legend's order; a kind the legend does not
    name is shown by its code, so that no marker goes unexplained."""
    entries = [(k, words) for k, words in legend.items()
               if k in styles or k in line_kinds or drawn.get(k, False)]
    entries += [(k, k) for k in sorted(styles) if k not in legend]
    return entries


def _draw_swatch(parent: ET.Element, key: str, x: float, y: float, styles: Mapping[str, tuple[str, str]],
                 line_kinds: set[str], u: float) -> None:
    """The legend's picture of an entry, 24 wide from x, around its middle y."""
    group = _el(parent, "g", {"transform": f"translate({_f(x + 12 * u)} {_f(y)})"})
    if key in styles:
        shape, colour = styles[key]
        SHAPES[shape](group, MARKER * u, colour)
    elif key in line_kinds:
        _el(group, "path", {"d": f"M{_f(-12 * u)},{_f(3 * u)}C{_f(-4 * u)},{_f(-6 * u)} {_f(4 * u)},{_f(6 * u)} "
                                 f"{_f(12 * u)},{_f(-3 * u)}", "fill": "none", "stroke": COLOURS["river"],
                            "stroke-width": 3.5 * u, "stroke-linecap": "round"})
    elif key == CELL:
        _el(group, "rect", {"x": -11 * u, "y": -8 * u, "width": 22 * u, "height": 16 * u, "fill": COLOURS["text"],
                            "fill-opacity": 0.2, "stroke": COLOURS["text"], "stroke-width": 1.5 * u,
                            "stroke-dasharray": f"{_f(4 * u)} {_f(3 * u)}"})
    else:
        _el(group, "circle", {"r": 10 * u, "fill": COLOURS["text"], "fill-opacity": 0.1, "stroke": COLOURS["text"],
                              "stroke-opacity": 0.6, "stroke-width": 1.2 * u})
        _el(group, "circle", {"r": 2.5 * u, "fill": COLOURS["text"]})


def _draw_legend(svg: ET.Element, entries: Sequence[tuple[str, str]], top: float, width: float,
                 styles: Mapping[str, tuple[str, str]], line_kinds: set[str], u: float) -> float:
    """Entries flowing in rows under the map; where the legend ends."""
    if not entries:
        return top
    size, row = FONT * u, FONT * u * 1.7
    group = _el(svg, "g", {"class": "legend"})
    x, y = PAD * u, top + row / 2
    for key, words in entries:
        needed = 30 * u + _text_width(words, size)
        if x > PAD * u and x + needed > width - PAD * u:
            x, y = PAD * u, y + row
        _draw_swatch(group, key, x, y, styles, line_kinds, u)
        _el(group, "text", {"x": x + 30 * u, "y": y + size * 0.35, "font-size": size, "fill": COLOURS["text"]}, words)
        x += needed + 18 * u
    return y + row / 2


def _ident(title: str, points: Sequence[Point]) -> str:
    """An id for the title, unique to this map's content and stable across builds."""
    digest = hashlib.sha1(repr((title, tuple(points))).encode(), usedforsecurity=False).hexdigest()[:10]
    return f"hubmap-{digest}"


def hub_map(outline: Outline, points: Sequence[Point], *, title: str, legend: Mapping[str, str], width: int = 640,
            description: str | None = None) -> str:
    """The map as SVG markup to put in a page as it is.

    `title` names the map for screen readers (its `<title>`) and `description`, when given,
    says more (its `<desc>`); `legend` maps each kind of point, each kind of line in the
    outline ("river"), and "cell" and "uncertainty" to the reader's words, and only what is on
    the map is shown. Items outside the outline's box are left out. `width` sets the viewBox;
    the SVG takes the page's width (`width="100%"`) and every size scales with it.
    """
    u = width / DESIGN_WIDTH
    frame = fit(outline, width)
    ident = _ident(title, points)
    styles = assign_styles((p.kind for p in points if _on_map(frame, p)
                            or (p.cell is not None and _cell_rect(frame, p.cell) is not None)), legend)
    line_kinds = {line.kind for line in outline.lines}

    svg = ET.Element("svg", {"xmlns": SVG_NS, "class": "hub-map", "viewBox": "", "width": "100%", "role": "img",
                             "aria-labelledby": f"{ident}-title", "font-family": "sans-serif"})
    _el(svg, "title", {"id": f"{ident}-title"}, title)
    if description:
        svg.set("aria-describedby", f"{ident}-desc")
        _el(svg, "desc", {"id": f"{ident}-desc"}, description)
    clip = _el(_el(svg, "defs"), "clipPath", {"id": f"{ident}-clip"})
    _el(clip, "rect", {"x": 0.0, "y": 0.0, "width": float(width), "height": frame.height})

    _el(svg, "rect", {"class": "frame", "x": 0.0, "y": 0.0, "width": float(width), "height": frame.height,
                      "fill": COLOURS["sea"], "stroke": COLOURS["frame"], "stroke-width": u})
    _draw_outline(svg, frame, outline, u)
    layer = _el(svg, "g", {"clip-path": f"url(#{ident}-clip)"})
    _draw_lines(layer, frame, outline, u)
    cells = _draw_cells(layer, frame, points, styles, u)
    circles = _draw_uncertainty(layer, frame, points, styles, u)
    _draw_scale(svg, frame, u)
    _draw_north(svg, frame, u)
    _draw_markers(svg, frame, points, styles, u)

    entries = _legend_entries(legend, styles, {CELL: cells > 0, UNCERTAINTY: circles > 0}, line_kinds)
    bottom = _draw_legend(svg, entries, frame.height + 4 * u, width, styles, line_kinds, u)
    svg.set("viewBox", f"0 0 {width} {_f(bottom + (4 * u if entries else 0))}")  # known once the legend is laid out
    return ET.tostring(svg, encoding="unicode")


__all__ = ["CELL", "UNCERTAINTY", "Frame", "Line", "Outline", "Point", "assign_styles", "check_href", "fit",
           "hub_map", "load_outline", "outline_from_geojson", "scale_length_km"]
