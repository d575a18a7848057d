"""The secretariat's people page: who is who in a strategy, and the changes an admin makes
there — a person added or edited, someone marked away or back, a seat in a body given or
taken (previewed first, with the messages it re-plans), a body renamed, an action handed
to other owners. Every refusal is said beside its field; every change is audited."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.web import auth
from app.web.i18n import translator
from app.web.routes.admin import _admin, _kind_words, _said
from app.web.site import Site
from engine import db
from engine.errors import NotFound
from words.catalogue import render as render_said
from workflows import people_admin, service
from workflows.problems import FieldProblems
from workflows.tenants import Tenant

router = APIRouter(include_in_schema=False)

PERSON_FORM = ("email", "name", "name_en", "division", "language", "why")


def _seat_kinds(site: Site) -> list[Any]:
    """What each workflow says a seat receives (its `seat_kinds` option)."""
    return [entry.options["seat_kinds"] for entry in site.registry if "seat_kinds" in entry.options]


def _people_page(request: Request, site: Site, visitor: auth.Visitor, tenant: Tenant, status: int = 200,
                 **extra: Any) -> Response:
    with db.reading(site.pdca.engine) as conn:
        directory = service.directory_view(conn, tenant=tenant.id)
        codes = [r["code"] for r in site.registry.primary.store.rows(conn, tenant=tenant.id, open_only=False)]
    context = {"owner_form": {}, "owner_problem": None, "person_form": {}, "person_errors": {},
               "edit_form": {}, "edit_errors": {}, "seat_form": {}, "seat_errors": {}, "seat_preview": None,
               "body_form": {}, "body_errors": {}} | extra
    return site.page(request, "admin.html", visitor, status, tenant=tenant, section="people", directory=directory,
                     codes=sorted(set(codes)), seat_roles=people_admin.SEAT_ROLES,
                     members_only=people_admin.MEMBERS_ONLY, **context)


@router.get("/admin/people", response_class=HTMLResponse)
def admin_people(request: Request, strategy: str | None = None) -> Response:
    site, visitor, tenant = _admin(request, strategy)
    return _people_page(request, site, visitor, tenant)


async def _form(request: Request, site: Site, visitor: auth.Visitor) -> dict[str, str]:
    form = {k: str(v) for k, v in (await request.form()).items()}
    site.check_csrf(visitor, form.get("csrf", ""))
    return form


def _done(site: Site, tenant: Tenant, what: str) -> Response:
    return RedirectResponse(f"{site.prefix(tenant)}/admin/people?done={what}", status_code=303)


@router.post("/admin/people/add", response_class=HTMLResponse)
async def admin_add_person(request: Request, strategy: str | None = None) -> Response:
    """A new person, checked as `[[people]]` in config.toml is; give them a seat or an
    action next."""
    site, visitor, tenant = _admin(request, strategy)
    form = await _form(request, site, visitor)
    values = {k: form.get(k, "").strip() for k in PERSON_FORM} | {"admin": form.get("admin") == "1",
                                                                   "digest": form.get("digest") == "1"}
    values = {k: v for k, v in values.items() if v != "" or k in ("email", "name")}
    try:
        with db.writing(site.pdca.engine) as conn:
            people_admin.add_person(conn, tenant=tenant.id, values=values, why=form.get("why", ""),
                                    by=visitor.actor, now=site.clock())
    except FieldProblems as problem:
        return _people_page(request, site, visitor, tenant, 422, person_form=form,
                            person_errors=_said(problem.problems, site.language(request)))
    return _done(site, tenant, "person")


@router.post("/admin/people/edit", response_class=HTMLResponse)
async def admin_edit_person(request: Request, strategy: str | None = None) -> Response:
    """A person's name, division, language and digest; removed (they stay named in the
    audit) or restored."""
    site, visitor, tenant = _admin(request, strategy)
    form = await _form(request, site, visitor)
    values: dict[str, Any] = {k: form.get(k, "").strip() or None for k in ("name", "name_en", "division")}
    values["name"] = values["name"] or ""
    values |= {"language": form.get("language", "ja"), "digest": form.get("digest") == "1",
               "active": form.get("active", "1") == "1"}
    if "admin" in form:
        values["admin"] = form.get("admin") == "1"
    try:
        with db.writing(site.pdca.engine) as conn:
            people_admin.edit_person(conn, tenant=tenant.id, email=form.get("email", ""), values=values,
                                     why=form.get("why", ""), by=visitor.actor, now=site.clock())
    except FieldProblems as problem:
        return _people_page(request, site, visitor, tenant, 422, edit_form=form,
                            edit_errors=_said(problem.problems, site.language(request)))
    return _done(site, tenant, "person")


def _seat_preview(plan: people_admin.SeatPlan, site: Site, lang: str) -> dict[str, Any]:
    t = translator(lang)

    def seat(role: str) -> str:
        return t(f"seat_{role}") if role else t("seat_none")

    return {"moved": [{"email": e, "before": seat(a), "after": seat(b)} for e, a, b in plan.moved],
            "cancelled": [{"kind": _kind_words(site, m["kind"], lang), "recipient": m["recipient"],
                           "due": m["due"].isoformat() if m["due"] else ""} for m in plan.cancelled]}


@router.post("/admin/people/seat", response_class=HTMLResponse)
async def admin_seat(request: Request, strategy: str | None = None) -> Response:
    """Give or take a seat in one of the strategy's bodies: preview first (who moves, which
    queued messages stop), then save with `confirm`."""
    site, visitor, tenant = _admin(request, strategy)
    form = await _form(request, site, visitor)
    lang = site.language(request)
    change = people_admin.SeatChange(body=form.get("body", ""), email=form.get("email", "").strip().lower(),
                                     role=form.get("role", ""), why=form.get("why", ""))
    kinds = _seat_kinds(site)
    edit = {k: form.get(k, "") for k in ("body", "email", "role", "why")}
    try:
        if form.get("confirm") == "yes":
            with db.writing(site.pdca.engine) as conn:
                people_admin.save_seat(conn, kinds, tenant=tenant.id, change=change, by=visitor.actor,
                                       now=site.clock())
            return _done(site, tenant, "seat")
        with db.reading(site.pdca.engine) as conn:
            plan = people_admin.plan_seat(conn, kinds, tenant=tenant.id, change=change)
    except FieldProblems as problem:
        return _people_page(request, site, visitor, tenant, 422, seat_form=edit,
                            seat_errors=_said(problem.problems, lang))
    return _people_page(request, site, visitor, tenant, seat_form=edit, seat_preview=_seat_preview(plan, site, lang))


@router.post("/admin/people/body", response_class=HTMLResponse)
async def admin_body_name(request: Request, strategy: str | None = None) -> Response:
    site, visitor, tenant = _admin(request, strategy)
    form = await _form(request, site, visitor)
    try:
        with db.writing(site.pdca.engine) as conn:
            people_admin.rename_body(conn, tenant=tenant.id, body=form.get("body", ""),
                                     name_ja=form.get("name_ja", ""), name_en=form.get("name_en", ""),
                                     why=form.get("why", ""), by=visitor.actor, now=site.clock())
    except FieldProblems as problem:
        return _people_page(request, site, visitor, tenant, 422, body_form=form,
                            body_errors=_said(problem.problems, site.language(request)))
    return _done(site, tenant, "body")


@router.post("/admin/people/absence")
def admin_absence(request: Request, csrf: str = Form(""), email: str = Form(""), absent: str = Form(""),
                  strategy: str | None = None) -> Response:
    """Mark someone away (their vice chair acts for them) or back; audited."""
    site, visitor, tenant = _admin(request, strategy)
    site.check_csrf(visitor, csrf)
    with db.writing(site.pdca.engine) as conn:
        service.set_absent(conn, email=email, absent=absent == "1", now=site.clock(), by=visitor.actor)
    return RedirectResponse(f"{site.prefix(tenant)}/admin/people?done=1", status_code=303)


@router.post("/admin/people/owners", response_class=HTMLResponse)
def admin_owners(request: Request, csrf: str = Form(""), code: str = Form(""), emails: str = Form(""),
                 strategy: str | None = None) -> Response:
    """Hand an action to other owners; what was queued for the former owner is re-planned."""
    site, visitor, tenant = _admin(request, strategy)
    site.check_csrf(visitor, csrf)
    wanted = [e for e in re.split(r"[\s,、]+", emails) if e]
    try:
        with db.writing(site.pdca.engine) as conn:
            service.reassign(conn, site.registry, tenant=tenant.id, code=code.strip(), emails=wanted,
                             by=visitor.email, now=site.clock())
    except NotFound as exc:
        lang = site.language(request)
        return _people_page(request, site, visitor, tenant, 422, owner_form={"code": code, "emails": emails},
                            owner_problem=render_said(exc.said, lang, site.registry.primary.spec.name_of))
    return RedirectResponse(f"{site.prefix(tenant)}/admin/people?done=1", status_code=303)
