"""My work: what waits for the signed-in person, in every strategy they have a part in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.web.site import Site
from engine import db
from workflows import service

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    site: Site = request.app.state.site
    visitor = site.visitor(request)
    lang = site.language(request)
    with db.reading(site.pdca.engine) as conn:
        tenants = site.pdca.tenants.configured(conn)
        rows = service.work_for(conn, site.registry, tenants, person_id=visitor.person_id, now=site.clock(),
                                language=lang)
    for row in rows:
        row["url"] = site.links.prefix(row["strategy"]) + row["path"]
    return site.page(request, "home.html", visitor, rows=rows, several=len(tenants) > 1)
