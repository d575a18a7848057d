"""The councils in public, without sign-in: the minutes of their meetings (once the chair
has approved them) and the promotion council's exchange of information (its public topics,
with their replies). What can be shown comes from each workflow's `public` module, so
nothing here can show what it leaves out (a meeting not approved, a topic not public or
hidden, anyone's address)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.web.bounds import plausible_id
from app.web.routes.public import _code
from app.web.site import Site
from engine import db
from engine.errors import NotFound
from words.catalogue import say
from workflows.exchange import public as exchange_public
from workflows.meeting import public as meeting_public
from workflows.tenants import Tenant

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Public:
    """One request's strategy, the reader's language and where links go."""

    site: Site
    tenant: Tenant
    lang: str
    prefix: str

    def say(self, key: str, **values: Any) -> str:
        return say(f"councilpage.{key}", self.lang, **values)

    def store(self, workflow: str) -> Any:
        return self.site.registry[workflow].store


def _public(request: Request, strategy: str | None) -> Public:
    site: Site = request.app.state.site
    code = _code(site, strategy)
    if code is None:
        raise NotFound(f"no strategy {strategy}")
    with db.reading(site.pdca.engine) as conn:
        tenant = site.tenant(conn, code)
    return Public(site, tenant, site.language(request), site.prefix(tenant))


def _in_language(meeting: dict[str, Any], lang: str) -> dict[str, Any]:
    """A meeting's words in the reader's language (the view has both)."""
    return meeting | {
        "council": meeting["council"][lang],
        "agenda": [a | {"title": a["title"][lang], "decisions": [d["text"][lang] for d in a["decisions"]]}
                   for a in meeting["agenda"]],
        "attendance": [m | {"name": m["name"][lang], "seat": m["seat"][lang]} for m in meeting["attendance"]],
        "published_on": (meeting["published_at"] or "")[:10],
    }


@router.get("/public/meetings", response_class=HTMLResponse)
def meetings(request: Request, strategy: str | None = None) -> Response:
    """Every meeting whose minutes are published, the latest first, by fiscal year."""
    p = _public(request, strategy)
    with db.reading(p.site.pdca.engine) as conn:
        shown = [_in_language(m, p.lang) for m in meeting_public.published(conn, p.store("meeting"), p.tenant.id)]
    years: dict[str, list[dict[str, Any]]] = {}
    for m in shown:
        years.setdefault(m["fy_label"], []).append(m)
    return p.site.page(request, "meetings.html", None, tenant=p.tenant, c=p.say, years=years,
                       base=f"{p.prefix}/public/meetings")


@router.get("/public/meetings/{meeting_id:id}", response_class=HTMLResponse)
def meeting(request: Request, meeting_id: int, strategy: str | None = None) -> Response:
    """One meeting's agenda, attendance, minutes and decisions; a meeting not published is the 404 page."""
    p = _public(request, strategy)
    with db.reading(p.site.pdca.engine) as conn:
        found = meeting_public.one(conn, p.store("meeting"), p.tenant.id, meeting_id) \
            if plausible_id(meeting_id) else None
    if found is None:
        raise NotFound(f"no published minutes {meeting_id}")
    return p.site.page(request, "meeting.html", None, tenant=p.tenant, c=p.say, m=_in_language(found, p.lang),
                       base=f"{p.prefix}/public/meetings")


def _topic_in_language(topic: dict[str, Any], lang: str) -> dict[str, Any]:
    return topic | {"by": topic["by"][lang], "actions": [a | {"title": a["title"][lang]} for a in topic["actions"]],
                    "replies": [r | {"by": r["by"][lang]} for r in topic["replies"]]}


@router.get("/public/exchange", response_class=HTMLResponse)
def exchange(request: Request, strategy: str | None = None) -> Response:
    """The promotion council's public topics, the latest first."""
    p = _public(request, strategy)
    with db.reading(p.site.pdca.engine) as conn:
        topics = [t | {"by": t["by"][p.lang]}
                  for t in exchange_public.published(conn, p.store("exchange_topic"), p.tenant.id)]
    return p.site.page(request, "exchange.html", None, tenant=p.tenant, c=p.say, topics=topics,
                       base=f"{p.prefix}/public/exchange")


@router.get("/public/exchange/{topic_id:id}", response_class=HTMLResponse)
def exchange_topic(request: Request, topic_id: int, strategy: str | None = None) -> Response:
    """One public topic with its replies; a topic not public, or hidden, is the 404 page."""
    p = _public(request, strategy)
    with db.reading(p.site.pdca.engine) as conn:
        found = exchange_public.one(conn, p.store("exchange_topic"), p.tenant.id, topic_id) \
            if plausible_id(topic_id) else None
    if found is None:
        raise NotFound(f"no public topic {topic_id}")
    return p.site.page(request, "topic.html", None, tenant=p.tenant, c=p.say, topic=_topic_in_language(found, p.lang),
                       base=f"{p.prefix}/public/exchange")
