"""The hub's photos: an accepted item's in public, any item's for those who may see its page
(its sender, the curators, the strategy's people). Served from the database as they were
kept (re-encoded without the camera's metadata), never from the file that was sent."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select

from app.web.bounds import plausible_id
from app.web.routes.hub_public import _hub
from app.web.routes.instances import _by_id
from app.web.site import Site
from engine import db
from engine.errors import NotFound
from workflows.hub.public import one
from workflows.models import HubPhoto

router = APIRouter(include_in_schema=False)
CACHE = "public, max-age=86400"


def _photo(conn: Connection, item_id: int, seq: int) -> Response:
    row = conn.execute(select(HubPhoto.content_type, HubPhoto.data).where(
        HubPhoto.item_id == item_id, HubPhoto.seq == seq)).first() if plausible_id(item_id) and plausible_id(seq) \
        else None
    if row is None:
        raise NotFound(f"no photo {seq} of hub item {item_id}")
    return Response(row.data, media_type=row.content_type,
                    headers={"Cache-Control": CACHE, "X-Content-Type-Options": "nosniff"})


@router.get("/public/hub/{item_id:id}/photos/{seq:id}")
def public_photo(request: Request, item_id: int, seq: int, strategy: str | None = None) -> Response:
    hub = _hub(request, strategy)
    with db.reading(hub.site.pdca.engine) as conn:
        if not plausible_id(item_id) or one(conn, hub.tenant, item_id) is None:
            raise NotFound(f"no public hub item {item_id}")
        return _photo(conn, item_id, seq)


@router.get("/w/hub_item/{item_id:id}/photos/{seq:id}")
def staff_photo(request: Request, item_id: int, seq: int) -> Response:
    site: Site = request.app.state.site
    visitor = site.visitor(request)
    entry = site.registry["hub_item"]
    with db.reading(site.pdca.engine) as conn:
        _by_id(site, conn, visitor, entry, item_id)
        response = _photo(conn, item_id, seq)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
