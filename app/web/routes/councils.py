"""A council's queue: what waits for its chair, for its members to read and its chair to
act on; the chair may take a step on several items at once where one step, with no field
to fill, is the obvious one (accepting reports, approving plans)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.web.bounds import plausible_id, whole_number
from app.web.i18n import translator
from app.web.site import Site
from engine import db
from engine.errors import NotFound, Refused
from workflows import bodies, service
from workflows.fiscal import fy_label
from workflows.registry import Entry

router = APIRouter(include_in_schema=False)


def _site(request: Request) -> Site:
    return request.app.state.site


def quick_step(entry: Entry, state: str, role: str) -> str | None:
    """The one step the role may take from this state that needs no field filled: the one
    a chair can take on several items at once."""
    steps = [t for t in entry.spec.triggers_from(state)
             if role in t.roles and not t.automatic and not any(f.required for f in t.fields)]
    return steps[0].name if len(steps) == 1 else None


def _item(entry: Entry, primary: Entry, row: dict[str, Any]) -> str:
    """How a queue's checkbox names an instance: KEY/FY for the yearly process."""
    ref = f"{row['key']}/{row['fy']}" if row.get("fy") is not None else row["key"]
    return ref if entry is primary else f"{entry.name}:{ref}"


@router.get("/councils/{key}", response_class=HTMLResponse)
def council(request: Request, key: str, strategy: str | None = None) -> Response:
    site = _site(request)
    visitor = site.visitor(request)
    lang = site.language(request)
    t = translator(lang)
    if key not in service.bodies_with_queues(site.registry):
        return site.page(request, "message.html", visitor, 404, heading=t("not_found"), text=key, error=True)
    with db.reading(site.pdca.engine) as conn:
        try:
            tenant = site.tenant(conn, strategy)
            site.admits(conn, visitor, tenant)
        except NotFound as exc:
            return site.page(request, "message.html", visitor, 404, heading=t("not_found"), text=exc.message,
                             error=True)
        if not (site.administers(conn, visitor, tenant)
                or bodies.sits_on(conn, strategy=tenant.id, person_id=visitor.person_id, key=key)):
            return site.page(request, "message.html", visitor, 403, heading=t("forbidden"), error=True,
                             tenant=tenant, text=f"{visitor.email} is not a member of this council")
        rows, coming = _queue(conn, site, tenant, key, visitor, lang)
        moved = _moved(conn, site, tenant, visitor.email, request.query_params.getlist("moved"), lang)
    headings = next(([c["heading"] for c in r["cells"]] for r in rows if r["cells"]), [])
    may_act = any(r["quick"] for r in rows)
    return site.page(request, "council.html", visitor, tenant=tenant, key=key, rows=rows, may_accept=may_act,
                     headings=headings, coming=coming, moved=moved,
                     council_name=_name(conn_names(site, tenant.id), key, lang))


def _queue(conn: Any, site: Site, tenant: Any, key: str, visitor: Any, lang: str) -> tuple[list[dict[str, Any]],
                                                                                      list[dict[str, Any]] | None]:
    """What waits for this council (with the columns its reviewers decide on, and the one
    step its chair may take at once), and what is still to come to it."""
    today = tenant.calendar.today(site.clock())
    chairing = key in bodies.chairing(conn, strategy=tenant.id, person_id=visitor.person_id)
    rows: list[dict[str, Any]] = []
    coming: list[dict[str, Any]] | None = None
    primary = site.registry.primary
    for entry in site.registry:
        role = entry.spec.body_roles().get(key)
        if role is None:
            continue
        waiting = entry.store.rows(conn, tenant=tenant.id, where=entry.store.in_states(entry.spec.waiting_for(role)),
                                   language=lang, today=today)
        review = getattr(entry.store, "review", None)
        cells = review(conn, [r["id"] for r in waiting], language=lang) if review else {}
        for row in waiting:
            step = quick_step(entry, row["state"], role) if chairing else None
            rows.append(row | {"url": site.prefix(tenant) + row["path"], "item": _item(entry, primary, row),
                               "quick": step, "cells": cells.get(row["id"], []),
                               "quick_label": entry.spec.trigger(step, row["state"]).label(lang) if step else None})
        before = entry.spec.coming_to(role)
        if before:
            coming = (coming or []) + [r | {"url": site.prefix(tenant) + r["path"]} for r in entry.store.rows(
                conn, tenant=tenant.id, where=entry.store.in_states(before), language=lang, today=today)]
    if coming is not None:
        coming.sort(key=lambda r: (r["days_left"] is None, r["days_left"] if r["days_left"] is not None else 0))
    return rows, coming


def _moved(conn: Any, site: Site, tenant: Any, email: str, items: list[str], lang: str) -> list[dict[str, Any]]:
    """The items a bulk step moved, as the audit log confirms them: a link cannot make the
    page claim this person moved something they did not."""
    if not items:
        return []
    wanted = set(items[:200])
    found: dict[str, dict[str, Any]] = {}
    for row in service.audit_log(conn, site.registry, tenant=tenant.id, actor=email, limit=len(wanted) * 3 + 20):
        ref = f"{row['code']}/{row['fy']}" if row["fy"] is not None else str(row["code"])
        entry = site.registry.get(row["workflow"])
        if ref in wanted and ref not in found and entry is not None:
            found[ref] = {"code": row["code"], "fy_label": fy_label(row["fy"]) if row["fy"] else "",
                          "url": site.prefix(tenant) + row["path"] if row["path"] else None,
                          "state_label": entry.spec.name_of("state", row["to_state"], lang)}
    return [found[i] for i in items if i in found]


def conn_names(site: Site, tenant_id: int) -> dict[str, tuple[str, str]]:
    with db.reading(site.pdca.engine) as conn:
        return bodies.body_names(conn, strategy=tenant_id)


def _name(names: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    ja, en = names.get(key, (key, key))
    return en if lang == "en" else ja


@router.post("/councils/{key}/accept", response_class=HTMLResponse)
async def take_several(request: Request, key: str, strategy: str | None = None) -> Response:
    """The chair takes the quick step on several items at once; each is its own
    transition, so one refusal (say, an item changed meanwhile) leaves the others done."""
    site = _site(request)
    visitor = site.visitor(request)
    form = await request.form()
    site.check_csrf(visitor, str(form.get("csrf", "")))
    done, refused = [], []
    with db.reading(site.pdca.engine) as conn:
        tenant = site.tenant(conn, strategy)
        site.admits(conn, visitor, tenant)
    primary = site.registry.primary
    items = [str(i) for i in form.getlist("item")]
    if form.get("all"):  # "select all" without script: every item the chair may take at once now
        with db.reading(site.pdca.engine) as conn:
            items = [r["item"] for r in _queue(conn, site, tenant, key, visitor, site.language(request))[0]
                     if r["quick"]]
    for item in items:
        text = str(item)
        name, _, ref = text.rpartition(":")
        entry = site.registry.get(name) if name else primary
        key_part, _, fy = ref.partition("/")
        try:
            if entry is None:
                raise NotFound(f"there is no workflow {name}")
            if key_part.isdecimal() and not plausible_id(whole_number(key_part, digits=19) or 0):
                raise NotFound(f"{ref}: nothing to take at once here")  # an id no database holds
            role = entry.spec.body_roles().get(key)
            with db.writing(site.pdca.engine) as conn:
                instance_id = entry.store.find(conn, tenant=tenant.id, key=key_part, fy=int(fy) if fy else None)
                instance = entry.store.load(conn, instance_id)
                step = quick_step(entry, instance.state, role) if instance and role else None
                if step is None:
                    raise NotFound(f"{ref}: nothing to take at once here")
                entry.workflow.fire_in(conn, instance_id, step, visitor.actor, {}, now=site.clock())
            done.append(ref)
        except (Refused, ValueError) as exc:
            refused.append(f"{key_part}: {exc}")
    t = translator(site.language(request))
    back = f"{site.prefix(tenant)}/councils/{key}"
    if refused:
        return site.page(request, "message.html", visitor, 409, heading=t("refused"), error=True, tenant=tenant,
                         text=f"{t('done')}: {', '.join(done) or '-'}", problems=[(r, "") for r in refused], back=back)
    moved = "".join(f"&moved={quote(ref, safe='/')}" for ref in done)
    return RedirectResponse(f"{back}?done={len(done)}{moved}", status_code=303)
