"""Asking to become a partner of the hub, without an account: the public page's form, sent
as the system acting for the applicant (who has no sign-in yet) through the joining
workflow's opening step, checked like every form; a link mailed to the address confirms it
(its secret exists only in that message). Then the secretariat decides on the request's
page; once accepted, the applicant signs in with their address like everyone."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.mail import queue_now
from app.web.auth import digest
from app.web.routes.hub_public import Hub, _hub
from app.web.routes.instances import status_of
from engine import db
from engine.errors import InvalidFields, Refused
from engine.runtime import SYSTEM_ACTOR
from words.catalogue import render as render_said
from workflows.hub.joining import CONFIRM_WITHIN

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
    now = hub.site.clock()
    try:
        with db.writing(hub.site.pdca.engine) as conn:
            fired = entry.workflow.open(conn, "ask", SYSTEM_ACTOR, raw, now=now, tenant=hub.tenant.id)
            asked = entry.store.load(conn, fired.instance_id)
            secret = secrets.token_urlsafe(32)
            entry.store.set_confirmation(conn, fired.instance_id, digest(secret))
            link = f"{hub.site.pdca.settings.links_base}{hub.page_path}/join/confirm/{secret}"
            queue_now(hub.site.pdca, conn, kind="partner_confirm", email=asked.data["email"], now=now, extra={
                "link": link, "expires_days": CONFIRM_WITHIN.days, "language": asked.data["language"],
                "recipient": {"email": asked.data["email"], "name": asked.data["name"]}})
    except Refused as exc:
        problems = exc.problems if isinstance(exc, InvalidFields) else ()
        return _page(request, hub, status_of(exc), form=values,
                     error=render_said(exc.said, hub.lang, entry.spec.name_of),
                     problems={name: render_said(why, hub.lang, entry.spec.name_of) for name, why in problems})
    return _page(request, hub, sent=True)


def _confirm_page(request: Request, hub: Hub, secret: str, status: int = 200, **extra: object) -> Response:
    return hub.site.page(request, "join_confirm.html", None, status, tenant=hub.tenant,
                         action=f"{hub.page_path}/join/confirm/{secret}", **extra)


@router.get("/public/hub/join/confirm/{secret}", response_class=HTMLResponse)
def confirm_page(request: Request, secret: str, strategy: str | None = None) -> Response:
    """The mailed link shows a button, so that a mail program looking at links ahead confirms nothing."""
    hub = _hub(request, strategy)
    with db.reading(hub.site.pdca.engine) as conn:
        found = hub.site.registry[WORKFLOW].store.by_confirmation(conn, digest(secret), now=hub.site.clock())
    return _confirm_page(request, hub, secret, 200 if found else 404, invalid=found is None)


@router.post("/public/hub/join/confirm/{secret}", response_class=HTMLResponse)
def confirm(request: Request, secret: str, strategy: str | None = None) -> Response:
    hub = _hub(request, strategy)
    entry = hub.site.registry[WORKFLOW]
    now = hub.site.clock()
    try:
        with db.writing(hub.site.pdca.engine) as conn:
            found = entry.store.by_confirmation(conn, digest(secret), now=now)
            if found is None:
                return _confirm_page(request, hub, secret, 404, invalid=True)
            entry.workflow.fire_in(conn, found.id, "confirm", SYSTEM_ACTOR, {}, now=now)
    except Refused as exc:
        return _confirm_page(request, hub, secret, status_of(exc),
                             error=render_said(exc.said, hub.lang, entry.spec.name_of))
    return _confirm_page(request, hub, secret, confirmed=True)
