"""What the public may see of the hub: accepted items only, a sensitive species placed at
its grid square (never the spot), the sender named by their organisation or the name they
recorded under, never by their address. Every public output (the hub's page, its map, its
feed, the CSV, the Darwin Core Archive, the yearly report's list under each action) reads
items through `accepted` and nothing else, so none of them can leak what this leaves out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from engine.clock import from_storage
from workflows.fiscal import fiscal_year_of
from workflows.hub.sensitive import Place, public_place
from workflows.hub.spec import OBSERVATION
from workflows.models import HubItem, Person
from workflows.tenants import Tenant

hub = HubItem.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Filters:
    """What the public page filters by; None: any."""

    kind: str | None = None
    group: str | None = None
    action: str | None = None
    fy: int | None = None


@dataclass(frozen=True)
class PublicItem:
    id: int
    kind: str
    title: str
    event_date: date
    fy: int
    locality: str
    place: Place
    actions: tuple[str, ...]
    occurrence_id: str
    accepted_at: datetime
    by: str
    """Who sent it, as the public reads it: their organisation, else the name they recorded under."""
    scientific_name: str | None = None
    vernacular_name: str | None = None
    species_group: str | None = None
    basis_of_record: str | None = None
    occurrence_status: str | None = None
    individual_count: int | None = None
    recorded_by: str | None = None
    verified: bool = False
    participants: int | None = None
    text: str | None = None

    @property
    def is_observation(self) -> bool:
        return self.kind == OBSERVATION


def _where(tenant: Tenant, filters: Filters) -> list[Any]:
    where = [hub.c.tenant_id == tenant.id, hub.c.state == "accepted"]
    if filters.kind:
        where.append(hub.c.kind == filters.kind)
    if filters.group:
        where.append(hub.c.species_group == filters.group)
    if filters.fy is not None:
        start = tenant.calendar.start
        where += [hub.c.event_date >= date(filters.fy, *start), hub.c.event_date < date(filters.fy + 1, *start)]
    return where


def accepted(conn: Connection, tenant: Tenant, filters: Filters = Filters(), *, limit: int | None = None,
             offset: int = 0, newest_accepted: bool = False) -> list[PublicItem]:
    """The accepted items of a strategy as the public sees them: newest observation first,
    or (`newest_accepted`, for a feed) the most recently accepted first."""
    order = (hub.c.accepted_at.desc(), hub.c.id.desc()) if newest_accepted else (hub.c.event_date.desc(),
                                                                                  hub.c.id.desc())
    query = (select(hub, Person.organisation, Person.name).outerjoin(Person, Person.id == hub.c.created_by)
             .where(*_where(tenant, filters)).order_by(*order))
    if filters.action is None:  # paged by the database
        query = query.offset(offset).limit(limit) if limit is not None else query.offset(offset)
        return [_public(r, tenant) for r in conn.execute(query).mappings()]
    rows = _serving(conn.execute(query).mappings(), filters.action)
    rows = rows[offset:offset + limit] if limit is not None else rows[offset:]
    return [_public(r, tenant) for r in rows]


def _serving(rows: Any, action: str) -> list[Any]:
    """The rows serving an action: `actions` is a JSON list, filtered here the same way on
    SQLite and PostgreSQL."""
    return [r for r in rows if action in (r["actions"] or [])]


def count(conn: Connection, tenant: Tenant, filters: Filters = Filters()) -> int:
    if filters.action:
        return len(_serving(conn.execute(select(hub.c.actions).where(*_where(tenant, filters))).mappings(),
                            filters.action))
    return int(conn.execute(select(func.count()).select_from(hub).where(*_where(tenant, filters))).scalar_one())


def by_action(conn: Connection, tenant: Tenant, fy: int) -> dict[str, list[PublicItem]]:
    """Each action's accepted items of a fiscal year: what the yearly report lists under it."""
    out: dict[str, list[PublicItem]] = {}
    for item in accepted(conn, tenant, Filters(fy=fy)):
        for code in item.actions:
            out.setdefault(code, []).append(item)
    return out


def for_publication(conn: Connection, tenant: Tenant, fy: int) -> dict[str, list[dict[str, Any]]]:
    """What the yearly publication freezes under each action: the year's accepted items
    that serve it, as the public may read them (no coordinates: the hub's page has those)."""
    return {code: [{"id": i.id, "kind": i.kind, "title": i.title, "date": i.event_date.isoformat(), "by": i.by,
                    "verified": i.verified, "participants": i.participants, "individual_count": i.individual_count,
                    "scientific_name": i.scientific_name, "vernacular_name": i.vernacular_name}
                   for i in items]
            for code, items in by_action(conn, tenant, fy).items()}


def _public(r: Any, tenant: Tenant) -> PublicItem:
    place = public_place(r["latitude"], r["longitude"], r["uncertainty_m"], r["scientific_name"], tenant.sensitive)
    observed = r["kind"] == OBSERVATION
    return PublicItem(
        id=r["id"], kind=r["kind"], title=_title(r, place), event_date=r["event_date"],
        fy=fiscal_year_of(r["event_date"], *tenant.calendar.start), locality=_locality(r, place),
        place=place, actions=tuple(r["actions"] or ()), occurrence_id=r["occurrence_id"],
        accepted_at=from_storage(r["accepted_at"]), by=r["organisation"] or r["recorded_by"] or r["name"] or "",
        scientific_name=r["scientific_name"], vernacular_name=r["vernacular_name"],
        species_group=r["species_group"], basis_of_record=r["basis_of_record"],
        occurrence_status=r["occurrence_status"], individual_count=r["individual_count"],
        recorded_by=r["recorded_by"] if observed else None, verified=r["verified_by"] is not None,
        participants=r["participants"], text=r["text"],
    )


def _title(r: Any, place: Place) -> str:
    """An observation's title names its place (トウキョウサンショウウオ（北部の谷戸）): for a
    sensitive species the public reads the grid square there too."""
    if place.square is None:
        return str(r["title"])
    return f"{r['vernacular_name'] or r['scientific_name']}（2次メッシュ {place.square.code}）"


def one(conn: Connection, tenant: Tenant, item_id: int) -> PublicItem | None:
    """One accepted item of the strategy, as the public sees it; None for any other."""
    row = conn.execute(select(hub, Person.organisation, Person.name).outerjoin(Person, Person.id == hub.c.created_by)
                       .where(*_where(tenant, Filters()), hub.c.id == item_id)).mappings().first()
    return _public(row, tenant) if row is not None else None


def _locality(r: Any, place: Place) -> str:
    """A sensitive species' place name would tell as much as its coordinates (谷戸の名前):
    the public reads the grid square instead."""
    if place.square is not None:
        return f"2次メッシュ {place.square.code}"
    return str(r["locality"])


def occurrences(items: Sequence[PublicItem], *, page_url: str, license: str) -> list[dict[str, Any]]:
    """The accepted observations as Darwin Core occurrences, generalised where they must be
    and saying so (`dataGeneralizations`, `informationWithheld`)."""
    out = []
    for item in items:
        if not item.is_observation:
            continue
        square = item.place.square
        out.append({
            "occurrenceID": item.occurrence_id, "basisOfRecord": item.basis_of_record or "HumanObservation",
            "scientificName": item.scientific_name, "vernacularName": item.vernacular_name,
            "eventDate": item.event_date, "decimalLatitude": item.place.latitude,
            "decimalLongitude": item.place.longitude, "geodeticDatum": "WGS84" if item.place.latitude else None,
            "coordinateUncertaintyInMeters": item.place.uncertainty_m, "locality": item.locality,
            "individualCount": item.individual_count, "occurrenceStatus": item.occurrence_status,
            "recordedBy": item.recorded_by or item.by,
            "informationWithheld": "precise location withheld (sensitive species)" if square else None,
            "dataGeneralizations": (f"coordinates generalised to the centre of the 2nd-level standard grid "
                                    f"square (JIS X 0410) {square.code}") if square else None,
            "license": license, "modified": item.accepted_at.date().isoformat(),
            "associatedReferences": f"{page_url.rstrip('/')}/{item.id}",
        })
    return out
