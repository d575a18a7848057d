"""Asking to become a partner of the hub, without an account: the public page's form, sent
as the system acting for the applicant (who has no sign-in yet) through the joining
workflow's opening step, checked like every form. The secretariat decides on the request's
page; once accepted, the applicant signs in with their address like everyone."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.web.routes.hub_public import Hub, _hub
from app.web.routes.instances import status_of
from engine import db
from engine.errors import InvalidFields, Refused
from engine.runtime import SYSTEM_ACTOR
from words.catalogue import render as render_said

router = APIRouter(include_in_schema=False)
WORKFLOW = "partner_request"
HONEYPOT = "website"
"""A field people do not see: a form that fills it was filled by a program, and is dropped."""


def _page(request: Request, hub: Hub, status: int = 200, **extra: object) -> Response:
    entry = hub.site.registry[WORKFLOW]
    opening = entry.spec.openings[0]
    with db.reading(hub.site.pdca.engine) as conn:
        option = entry.workflow.opening_options(conn, None, SYSTEM_ACTOR, tenant=hub.tenant.id)[0]
    step = {"trigger": opening.name, "label": opening.label(hub.lang), "fields": option.fields, "may_fire": True,
            "may_draft": False, "kind": "forward", "form": extra.pop("form", {})}
    return hub.site.page(request, "join.html", None, status, tenant=hub.tenant, step=step, honeypot=HONEYPOT,
                         action=f"{hub.page_path}/join", **extra)


@router.get("/public/hub/join", response_class=HTMLResponse)
def join_page(request: Request, strategy: str | None = None) -> Response:
    return _page(request, _hub(request, strategy))


@router.post("/public/hub/join", response_class=HTMLResponse)
async def join(request: Request, strategy: str | None = None) -> Response:
    hub = _hub(request, strategy)
    values = {k: str(v) for k, v in (await request.form()).multi_items()}
    if values.get(HONEYPOT):
        return _page(request, hub, sent=True)  # said as if sent: a program learns nothing
    raw = {k: v for k, v in values.items() if k not in ("trigger", HONEYPOT, "csrf")}
    entry = hub.site.registry[WORKFLOW]
    try:
        with db.writing(hub.site.pdca.engine) as conn:
            entry.workflow.open(conn, "ask", SYSTEM_ACTOR, raw, now=hub.site.clock(), tenant=hub.tenant.id)
    except Refused as exc:
        problems = exc.problems if isinstance(exc, InvalidFields) else ()
        return _page(request, hub, status_of(exc), form=values,
                     error=render_said(exc.said, hub.lang, entry.spec.name_of),
                     problems={name: render_said(why, hub.lang, entry.spec.name_of) for name, why in problems})
    return _page(request, hub, sent=True)
