"""My work: a to-do list. What waits for the signed-in person, most urgent first, each
with the one step it waits for; then what of theirs waits for someone else; and, for a
strategy's admins, what is late."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.web.routes.openings import sendable
from app.web.site import Site
from engine import db
from workflows import bodies, service

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    site: Site = request.app.state.site
    visitor = site.visitor(request)
    lang = site.language(request)
    now = site.clock()
    with db.reading(site.pdca.engine) as conn:
        tenants = site.pdca.tenants.configured(conn)
        mine = service.work_for(conn, site.registry, tenants, person_id=visitor.person_id, now=now, language=lang)
        others = service.waiting_on_others(conn, site.registry, tenants, person_id=visitor.person_id, now=now,
                                           language=lang)
        administered = bodies.administered(conn, person_id=visitor.person_id)
        send = sendable(conn, site, visitor, tenants, lang)
        late = []
        for tenant in tenants:
            if administered is None or tenant.id in administered:
                late += [row | {"strategy": tenant.code} for row in service.late(
                    conn, site.registry, tenant=tenant, today=tenant.calendar.today(now), language=lang)]
    for row in (*mine, *others, *late):
        row["url"] = site.links.prefix(row["strategy"]) + row["path"]
    for row in mine:
        row["button"] = row["url"] + (f"#step-{row['next_step']}" if row.get("next_step") else "")
    return site.page(request, "home.html", visitor, rows=mine, others=others, late=late, several=len(tenants) > 1,
                     send=send,
                     may_administer=administered is None or bool(administered))
