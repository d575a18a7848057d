"""Bringing an instance into being on the web: a partner sends an observation or an activity
report to the hub, the secretariat writes a note. For every workflow of a strategy whose
instances people open themselves (it has opening steps and hangs from no other instance):
`/w/WORKFLOW/new` shows the forms this person may send, one per opening step, built from
the step's fields like every form; a refusal comes back beside its fields with what was
typed kept; once sent, the new instance's page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection
from starlette.datastructures import UploadFile

from app.web import auth
from app.web.routes.instances import joined, status_of
from app.web.site import Site
from engine import db
from engine.errors import InvalidFields, NotFound, Refused
from engine.spec import SYSTEM
from words.catalogue import render as render_said
from workflows import bodies
from workflows.registry import Entry
from workflows.tenants import Tenant

router = APIRouter(include_in_schema=False)


def openable(entry: Entry) -> bool:
    """A workflow people open themselves in a strategy: not the strategy's own yearly cycle
    or process (the calendar opens those), nor one opened from another instance's page."""
    by_people = any(set(t.roles) - {SYSTEM} for t in entry.spec.openings)
    return by_people and entry.parent is None and not entry.options.get("strategy_level")


def sendable(conn: Connection, site: Site, visitor: auth.Visitor, tenants: list[Tenant],
             lang: str) -> list[dict[str, Any]]:
    """What this person may send, for My work: each opening step they may take, by strategy."""
    part = bodies.strategies_of(conn, visitor.person_id)
    out = []
    for tenant in tenants:
        if part is not None and tenant.id not in part:
            continue
        for entry in site.registry:
            if not openable(entry):
                continue
            for o in entry.workflow.opening_options(conn, None, visitor.actor, tenant=tenant.id):
                if o.may_fire:
                    out.append({"label": o.trigger.label(lang), "strategy": tenant.code,
                                "url": f"{site.prefix(tenant)}/w/{entry.name}/new#step-{o.trigger.name}"})
    return out


def _entry(site: Site, workflow: str) -> Entry:
    entry = site.registry.get(workflow)
    if entry is None or not openable(entry):
        raise NotFound(f"nothing to send as {workflow}")
    return entry


def _forms(site: Site, visitor: auth.Visitor, entry: Entry, tenant: Tenant, lang: str,
           form: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Each opening step this person may take, as a form; the refused one holds what was sent."""
    with db.reading(site.pdca.engine) as conn:
        site.admits(conn, visitor, tenant)
        options = entry.workflow.opening_options(conn, None, visitor.actor, tenant=tenant.id)
    sent = (form or {}).get("trigger")
    return [{"trigger": o.trigger.name, "label": o.trigger.label(lang), "fields": o.fields, "may_fire": True,
             "may_draft": False, "kind": "forward", "form": form if sent == o.trigger.name else {}}
            for o in options if o.may_fire]


def _page(request: Request, site: Site, visitor: auth.Visitor, entry: Entry, tenant: Tenant, status: int = 200,
          *, refusal: Refused | None = None, form: dict[str, str] | None = None) -> Response:
    lang = site.language(request)
    steps = _forms(site, visitor, entry, tenant, lang, form)
    extra: dict[str, Any] = {}
    if refusal is not None:
        extra["error"] = render_said(refusal.said, lang, entry.spec.name_of)
        problems = refusal.problems if isinstance(refusal, InvalidFields) else ()
        extra["problems"] = {name: render_said(why, lang, entry.spec.name_of) for name, why in problems}
    if not steps and refusal is None:
        status = 403
    return site.page(request, "new.html", visitor, status, tenant=tenant, entry=entry, steps=steps,
                     send_action=f"{site.prefix(tenant)}/w/{entry.name}/new", **extra)


@router.get("/w/{workflow}/new", response_class=HTMLResponse)
def new_page(request: Request, workflow: str, strategy: str | None = None) -> Response:
    site: Site = request.app.state.site
    visitor = site.visitor(request)
    entry = _entry(site, workflow)
    with db.reading(site.pdca.engine) as conn:
        tenant = site.tenant(conn, strategy)
    return _page(request, site, visitor, entry, tenant)


@router.post("/w/{workflow}/new", response_class=HTMLResponse)
async def send(request: Request, workflow: str, strategy: str | None = None) -> Response:
    site: Site = request.app.state.site
    visitor = site.visitor(request)
    entry = _entry(site, workflow)
    posted = await request.form()
    files = {f.name for t in entry.spec.openings for f in t.fields if f.type == "photos"}
    values = joined((k, v) for k, v in posted.multi_items() if k not in files)
    photos = {name: [await u.read() for u in posted.getlist(name) if isinstance(u, UploadFile) and u.filename]
              for name in files}
    with db.reading(site.pdca.engine) as conn:
        tenant = site.tenant(conn, strategy)
    try:
        site.check_csrf(visitor, values.get("csrf", ""))
        with db.reading(site.pdca.engine) as conn:
            site.admits(conn, visitor, tenant)
        raw: dict[str, Any] = {k: v for k, v in values.items() if k not in ("csrf", "trigger")}
        raw |= {name: sent for name, sent in photos.items() if sent}
        with db.writing(site.pdca.engine) as conn:
            fired = entry.workflow.open(conn, values.get("trigger", ""), visitor.actor, raw, now=site.clock(),
                                        tenant=tenant.id)
    except Refused as exc:
        return _page(request, site, visitor, entry, tenant, status_of(exc), refusal=exc, form=values)
    return RedirectResponse(f"{site.prefix(tenant)}/w/{entry.name}/{fired.instance_id}?done=sent", status_code=303)
