"""The information hub in public (情報拠点), without sign-in: the accepted items as a list
with filters and a map, one item's page, and the same items as an Atom feed, a CSV and a
Darwin Core Archive.

Every item comes through `workflows.hub.public.accepted`, so nothing here can show what it
leaves out (an item not accepted, a sensitive species' spot, a sender's address). What this
module adds is words: the item's title is said again from its public parts, because the one
stored with it names the place the partner wrote, which for a sensitive species would tell as
much as its coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, select

from app.web.bounds import plausible_id, whole_number
from app.web.routes.public import _code
from app.web.site import Site
from engine import db
from engine.errors import NotFound
from publishing import dwca
from publishing.hub_feed import ATOM_TYPE, FeedWords, atom, csv_bytes
from publishing.hub_map import Outline, Point, hub_map, load_outline
from publishing.site import page_names
from publishing.tables import code_key
from words.catalogue import say
from workflows import bodies
from workflows.fiscal import fiscal_year_of, fy_label
from workflows.hub.public import Filters, PublicItem, accepted, count, occurrences, one
from workflows.hub.spec import BASIS_LABELS, FIELDS_OF, OBSERVATION, SPECIES_GROUPS, STATUS_LABELS
from workflows.models import Action, Membership, Person
from workflows.tenants import Tenant

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
FEED_SIZE = 50
OUTLINE = Path(__file__).resolve().parents[2] / "sample" / "midori_outline.geojson"
"""The city's outline the maps are drawn on where `[hub] outline` names none: the sample city's."""
LICENSE = dwca.CC_BY
MAP_WIDTH = 640


def outline(tenant: Tenant) -> Outline:
    """The strategy's configured outline, else the sample city's."""
    return _outline(tenant.outline or str(OUTLINE))


@cache
def _outline(path: str) -> Outline:
    """Read on the first map asked for, then kept: it is small and never changes while running
    (the config checked it could be read)."""
    return load_outline(Path(path))


# -- what a request asks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Hub:
    """One request's hub: the strategy, the reader's language, the filters and where links go."""

    site: Site
    tenant: Tenant
    lang: str
    filters: Filters
    prefix: str

    def say(self, key: str, **values: Any) -> str:
        return say(f"hubpage.{key}", self.lang, **values)

    @property
    def page_path(self) -> str:
        return f"{self.prefix}/public/hub"

    def query(self, **extra: Any) -> str:
        """The filters (and `extra`) as a query string, so every link keeps what is shown."""
        f = self.filters
        pairs = {"kind": f.kind, "group": f.group, "action": f.action, "fy": f.fy, **extra}
        return urlencode({k: v for k, v in pairs.items() if v not in (None, "")})


def _filters(request: Request) -> Filters:
    """The filters of the address; a value the hub does not know is no filter (the form's empty
    choice sends `kind=`), so an old or hand-made link shows everything rather than an error."""
    q = request.query_params
    kind = q.get("kind") if q.get("kind") in FIELDS_OF else None
    group = q.get("group") if q.get("group") in SPECIES_GROUPS else None
    action = (q.get("action") or "").strip()[:32] or None
    fy = whole_number(q.get("fy"))
    fy = fy if fy is not None and 1900 <= fy <= 2200 else None
    return Filters(kind=kind, group=group, action=action, fy=fy)


def _page_number(request: Request) -> int:
    number = whole_number(request.query_params.get("page"))
    return max(1, min(number, 1_000_000)) if number is not None else 1


def _hub(request: Request, strategy: str | None) -> Hub:
    """The strategy in the address (404 in words when there is none) and the reader's choices."""
    site: Site = request.app.state.site
    code = _code(site, strategy)
    if code is None:
        raise NotFound(f"no strategy {strategy}")
    with db.reading(site.pdca.engine) as conn:
        tenant = site.tenant(conn, code)
    return Hub(site, tenant, site.language(request), _filters(request), site.prefix(tenant))


def _base_url(request: Request, site: Site) -> str:
    """Where absolute links point: the configured public address (`[mail] base_url`, which is
    what a reverse proxy's users see), else the address this request came to."""
    return (site.pdca.settings.mail.base_url or str(request.base_url)).rstrip("/")


# -- an item in words ------------------------------------------------------------------------


def place_words(hub: Hub, item: PublicItem) -> str:
    """The place as the public reads it: the grid square's code for a generalised item."""
    square = item.place.square
    return hub.say("square", code=square.code) if square is not None else item.locality


def title_of(hub: Hub, item: PublicItem) -> str:
    """An observation named by what was seen and its public place; an activity by its title."""
    if not item.is_observation:
        return item.title
    seen = item.vernacular_name or item.scientific_name or ""
    return f"{seen}（{place_words(hub, item)}）" if hub.lang != "en" else f"{seen} ({place_words(hub, item)})"


def _label(labels: dict[str, Any], code: str | None, lang: str) -> str | None:
    """A code in words; one the labels do not know (an import's own vocabulary) is left out
    rather than shown as a program's name."""
    return labels[code](lang) if code in labels else None


def summary_of(hub: Hub, item: PublicItem, action_titles: dict[str, str]) -> str:
    """One plain-text paragraph for the feed: when, where, what, how many, who."""
    parts = [item.event_date.isoformat(), place_words(hub, item), hub.say(f"kind.{item.kind}")]
    if item.is_observation:
        names = " ".join(n for n in (item.vernacular_name, item.scientific_name) if n)
        parts += [names, _label(SPECIES_GROUPS, item.species_group, hub.lang) or ""]
        if item.individual_count is not None:
            parts.append(f"{hub.say('count')}: {item.individual_count}")
        if item.verified:
            parts.append(hub.say("verified"))
    else:
        if item.participants is not None:
            parts.append(f"{hub.say('participants')}: {hub.say('people', n=item.participants)}")
        if item.text:
            parts.append(item.text)
    if item.actions:
        parts.append(f"{hub.say('action')}: " + ", ".join(
            f"{c} {action_titles.get(c, '')}".strip() for c in item.actions))
    parts.append(f"{hub.say('sender')}: {item.by}" if item.by else "")
    if item.place.square is not None:
        parts.append(hub.say("square_note", code=item.place.square.code))
    return " / ".join(p for p in parts if p)


def view(hub: Hub, item: PublicItem, action_titles: dict[str, str],
         report_links: dict[tuple[int, str], str]) -> dict[str, Any]:
    """What a card and an item's page show of an item, every code turned into words."""
    square = item.place.square
    return {
        "id": item.id, "href": f"{hub.page_path}/{item.id}", "title": title_of(hub, item),
        "kind": hub.say(f"kind.{item.kind}"), "observation": item.is_observation,
        "date": item.event_date.isoformat(), "place": place_words(hub, item),
        "square_note": hub.say("square_note", code=square.code) if square is not None else None,
        "vernacular": item.vernacular_name, "scientific": item.scientific_name,
        "group": _label(SPECIES_GROUPS, item.species_group, hub.lang),
        "basis": _label(BASIS_LABELS, item.basis_of_record, hub.lang),
        "status": _label(STATUS_LABELS, item.occurrence_status, hub.lang),
        "count": item.individual_count, "participants": item.participants, "by": item.by,
        "recorded_by": item.recorded_by if item.recorded_by and item.recorded_by != item.by else None,
        "text": item.text, "verified": item.verified, "accepted": item.accepted_at.astimezone(
            hub.tenant.calendar.zone).date().isoformat(),
        "coordinates": None if square is not None or item.place.latitude is None or item.place.longitude is None
        else (dwca.coordinate(item.place.latitude), dwca.coordinate(item.place.longitude)),
        "uncertainty": round(item.place.uncertainty_m) if item.place.uncertainty_m and square is None else None,
        "actions": [{"code": c, "title": action_titles.get(c, ""), "href": report_links.get((item.fy, c))}
                    for c in item.actions],
    }


# -- what the pages read ---------------------------------------------------------------------


def action_titles(conn: Connection, hub: Hub) -> dict[str, str]:
    """The strategy's actions by code, in code order, titled in the reader's language."""
    rows = conn.execute(select(Action.code, Action.title_ja, Action.title_en)
                        .where(Action.strategy_id == hub.tenant.id)).all()
    rows = sorted(rows, key=lambda r: code_key(r.code))
    return {r.code: (r.title_en or r.title_ja) if hub.lang == "en" else r.title_ja for r in rows}


def report_links(conn: Connection, hub: Hub, items: Sequence[PublicItem]) -> dict[tuple[int, str], str]:
    """(fiscal year, action) -> the action's page in that year's latest published results,
    where the year is published and the action is in it."""
    results = hub.site.registry.primary.options["results"]
    links: dict[tuple[int, str], str] = {}
    for fy in sorted({i.fy for i in items if i.actions}):
        published = results.latest(conn, strategy_code=hub.tenant.code, fy=fy)
        if published is None:
            continue
        names = page_names(published["actions"])
        folder = "en/actions" if hub.lang == "en" else "actions"
        for code, name in names.items():
            links[fy, code] = f"{hub.prefix}/public/{fy}/v{published['version']}/{folder}/{name}"
    return links


def fiscal_years(hub: Hub, today_fy: int) -> list[tuple[int, str]]:
    """The strategy's years so far, newest first, as the filter offers them."""
    last = min(hub.tenant.target_fy, today_fy)
    first = min(hub.tenant.first_fy or last, last)
    return [(fy, fy_label(fy)) for fy in range(last, first - 1, -1)]


def the_map(hub: Hub, items: Sequence[PublicItem], *, title: str) -> str:
    """The items on the city's outline as inline SVG; a generalised one drawn as its square."""
    points = []
    for item in items:
        place = item.place
        if place.latitude is None or place.longitude is None:
            continue
        square = place.square
        points.append(Point(place.longitude, place.latitude, title_of(hub, item), item.kind,
                            href=f"{hub.page_path}/{item.id}", uncertainty_m=place.uncertainty_m,
                            cell=(square.west, square.south, square.east, square.north) if square else None))
    legend = {"observation": hub.say("kind.observation"), "activity": hub.say("kind.activity"),
              "river": hub.say("legend.river"), "cell": hub.say("legend.cell"),
              "uncertainty": hub.say("legend.uncertainty")}
    return hub_map(outline(hub.tenant), points, title=title, legend=legend, width=MAP_WIDTH,
                   description=hub.say("map_desc"))


def _one(conn: Connection, hub: Hub, item_id: int) -> PublicItem:
    """An accepted item of this strategy, or the 404 page: read through `accepted` like every
    other public output, so a submitted, rejected or withdrawn item is simply not there."""
    found = one(conn, hub.tenant, item_id) if plausible_id(item_id) else None
    if found is None:
        raise NotFound(f"no public hub item {item_id}")
    return found


def _latest(conn: Connection, hub: Hub, limit: int) -> list[PublicItem]:
    """The most recently accepted items: what a feed reader has not seen yet."""
    return accepted(conn, hub.tenant, hub.filters, limit=limit, newest_accepted=True)


def secretariat(conn: Connection, tenant: Tenant) -> tuple[str, str, str]:
    """(name, email, division) of the strategy's secretariat's first member: the archive's contact."""
    row = conn.execute(bodies.members(tenant.id, bodies.SECRETARIAT).add_columns(Person.name, Person.division)
                       .order_by(Membership.id)).first()
    return (row.name, row.email, row.division or "") if row else ("", "", "")


def dataset(conn: Connection, hub: Hub, observations: Sequence[PublicItem], *, identifier: str) -> dwca.Dataset:
    """What the archive says of itself: the strategy's names, the secretariat as contact, the
    outline's box, and a version that changes whenever what it holds does (the latest day an
    observation was accepted, in the city's time, and their count: "2026-11-02.12")."""
    tenant = hub.tenant
    name, email, division = secretariat(conn, tenant)
    city = outline(tenant)
    latest = max((i.accepted_at for i in observations), default=None)
    day = latest.astimezone(tenant.calendar.zone).date().isoformat() if latest else "0"
    west, south, east, north = city.bounds()
    return dwca.Dataset(
        title=say("hubpage.dataset_title", "ja", strategy=tenant.name_ja),
        title_en=say("hubpage.dataset_title", "en", strategy=tenant.name_en),
        description=say("hubpage.dataset_description", "ja", strategy=tenant.name_ja),
        description_en=say("hubpage.dataset_description", "en", strategy=tenant.name_en),
        publisher=" ".join(p for p in (city.name_ja, division) if p) or tenant.name_ja,
        contact_name=name, contact_email=email, pub_date=tenant.calendar.today(hub.site.clock()),
        version=f"{day}.{len(observations)}", license=LICENSE, language="ja",
        bbox=(west, east, south, north), identifier=identifier, area=city.name_ja or tenant.name_ja,
    )


CSV_COLUMNS = ("id", "kind", "title", "date", "fy", "place", "latitude", "longitude", "uncertainty", "square",
               "vernacular", "scientific", "group", "basis", "status", "count", "participants", "sender",
               "actions", "verified", "accepted", "page", "occurrence_id")


def csv_row(hub: Hub, item: PublicItem, page_url: str) -> dict[str, Any]:
    """One item as a CSV line: its public place (generalised where it must be), codes in words."""
    v = view(hub, item, {}, {})
    square = item.place.square
    return {
        "id": item.id, "kind": v["kind"], "title": v["title"], "date": v["date"], "fy": fy_label(item.fy),
        "place": v["place"], "latitude": item.place.latitude, "longitude": item.place.longitude,
        "uncertainty": item.place.uncertainty_m, "square": square.code if square else None,
        "vernacular": item.vernacular_name, "scientific": item.scientific_name, "group": v["group"],
        "basis": v["basis"], "status": v["status"], "count": item.individual_count,
        "participants": item.participants, "sender": item.by, "actions": " ".join(item.actions),
        "verified": hub.say("yes") if item.verified else None, "accepted": v["accepted"],
        "page": f"{page_url}/{item.id}", "occurrence_id": item.occurrence_id,
    }


def _pages(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


# -- the routes --------------------------------------------------------------------------------


@router.get("/public/hub", response_class=HTMLResponse)
def hub_index(request: Request, strategy: str | None = None) -> Response:
    """The accepted items, newest first, filtered and paged, with their map and downloads."""
    hub = _hub(request, strategy)
    page = _page_number(request)
    with db.reading(hub.site.pdca.engine) as conn:
        total = count(conn, hub.tenant, hub.filters)
        items = accepted(conn, hub.tenant, hub.filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        titles = action_titles(conn, hub)
        links = report_links(conn, hub, items)
    today_fy = fiscal_year_of(hub.tenant.calendar.today(hub.site.clock()), *hub.tenant.calendar.start)
    pages = _pages(total)
    return hub.site.page(
        request, "hub.html", None, tenant=hub.tenant, h=hub.say, hub=hub, total=total,
        items=[view(hub, i, titles, links) for i in items], page_number=page, pages=pages,
        previous=f"?{hub.query(page=page - 1)}" if page > 1 else None,
        next=f"?{hub.query(page=page + 1)}" if page < pages else None,
        map=the_map(hub, items, title=hub.say("map_title")) if items else None,
        kinds=[(k, hub.say(f"kind.{k}")) for k in FIELDS_OF],
        groups=[(k, label(hub.lang)) for k, label in SPECIES_GROUPS.items()],
        actions=list(titles.items()), years=fiscal_years(hub, today_fy),
        downloads=hub.query(),
    )


@router.get("/public/hub/")
def hub_index_slash(request: Request, strategy: str | None = None) -> Response:
    """`/public/hub/` is the hub's page too (not a fiscal year called "hub")."""
    hub = _hub(request, strategy)
    query = request.url.query
    return RedirectResponse(f"{hub.page_path}{'?' + query if query else ''}", status_code=308)


@router.get("/public/hub/feed.atom")
def hub_feed(request: Request, strategy: str | None = None) -> Response:
    """The latest accepted items (the same filters as the page) as an Atom feed."""
    hub = _hub(request, strategy)
    with db.reading(hub.site.pdca.engine) as conn:
        items = _latest(conn, hub, FEED_SIZE)
        titles = action_titles(conn, hub)
    words = FeedWords(title=hub.say("feed_title", strategy=hub.tenant.name(hub.lang)),
                      subtitle=hub.say("feed_subtitle"), author=hub.tenant.name(hub.lang), language=hub.lang)
    body = atom(items, words=words, base_url=_base_url(request, hub.site), page_path=hub.page_path,
                feed_path=f"{hub.page_path}/feed.atom", title=lambda i: title_of(hub, i),
                summary=lambda i: summary_of(hub, i, titles), updated=hub.site.clock())
    return Response(body, media_type=ATOM_TYPE)


@router.get("/public/hub/items.csv")
def hub_csv(request: Request, strategy: str | None = None) -> Response:
    """Every accepted item the filters find, one a line, its columns named in the reader's language."""
    hub = _hub(request, strategy)
    with db.reading(hub.site.pdca.engine) as conn:
        items = accepted(conn, hub.tenant, hub.filters)
    page_url = f"{_base_url(request, hub.site)}{hub.page_path}"
    columns = [(key, hub.say(f"col.{key}")) for key in CSV_COLUMNS]
    body = csv_bytes(columns, (csv_row(hub, i, page_url) for i in items))
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="hub-{hub.tenant.code}.csv"'})


@router.get("/public/hub/occurrences.zip")
def hub_archive(request: Request, strategy: str | None = None) -> Response:
    """The accepted observations the filters find, as a Darwin Core Archive for GBIF and others."""
    hub = _hub(request, strategy)
    page_url = f"{_base_url(request, hub.site)}{hub.page_path}"
    with db.reading(hub.site.pdca.engine) as conn:
        items = [i for i in accepted(conn, hub.tenant, hub.filters) if i.kind == OBSERVATION]
        about = dataset(conn, hub, items, identifier=page_url)
    body = dwca.archive(about, occurrences(items, page_url=page_url, license=LICENSE))
    return Response(body, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="hub-{hub.tenant.code}-dwca.zip"'})


@router.get("/public/hub/{item_id:id}", response_class=HTMLResponse)
def hub_item(request: Request, item_id: int, strategy: str | None = None) -> Response:
    """One accepted item, with a map of just it; any other id is the 404 page."""
    hub = _hub(request, strategy)
    with db.reading(hub.site.pdca.engine) as conn:
        item = _one(conn, hub, item_id)
        titles = action_titles(conn, hub)
        links = report_links(conn, hub, [item])
        photos = hub.site.registry["hub_item"].store.photos_of(conn, item.id, f"{hub.page_path}/{item.id}")
    shown = view(hub, item, titles, links)
    return hub.site.page(request, "hub_item.html", None, tenant=hub.tenant, h=hub.say, hub=hub, item=shown,
                         photos=photos,
                         map=the_map(hub, [item], title=f"{hub.say('map_item_title')}: {shown['title']}")
                         if item.place.latitude is not None else None)
