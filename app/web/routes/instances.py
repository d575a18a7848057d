"""An instance's page, for any workflow, and its forms.

Every instance has a page at /w/WORKFLOW/ID, built from its spec and the one authorization
answer (`Workflow.options`): its record, its history, a form for each step this person may
take or prepare as a draft, and the instances of the workflows that hang from it (an
advisor's opinion about a cycle) with their own forms and openings. The strategy's yearly
process has its page at /actions/CODE/FY, the same page with the cycle's details.

A workflow hanging from another may name the path segment of its pages (`Entry.options
['segment']`, e.g. `opinions`): it is opened from its parent's page at PARENT/SEGMENT and
its steps are fired at /SEGMENT/ID/TRIGGER.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from app.web import auth, drafts
from app.web.bounds import FY, plausible_id, whole_number
from app.web.i18n import translator
from app.web.site import Site, people_named, sentence
from engine import db
from engine.errors import InvalidFields, NotAllowedNow, NotFound, Refused, Said, Stale, WrongRole
from engine.runtime import Instance, Option
from words.catalogue import render as render_said
from words.catalogue import say
from words.numbers import plain
from workflows import service
from workflows.registry import Entry
from workflows.tenants import Tenant

router = APIRouter(include_in_schema=False)
STATUS = {WrongRole: 403, NotAllowedNow: 409, InvalidFields: 422, NotFound: 404}


def status_of(exc: Refused) -> int:
    from engine.errors import GuardRefused, Stale

    table = {**STATUS, Stale: 409, GuardRefused: 409}
    return next((code for kind, code in table.items() if isinstance(exc, kind)), 400)


def _site(request: Request) -> Site:
    return request.app.state.site


def segment(entry: Entry) -> str:
    return entry.options.get("segment") or f"w/{entry.name}"


def _field_words(spec: Any, name: str, language: str, labels: dict[str, Any] | None = None) -> str:
    """A field's name as its form labels it ("指標の実績 S1" for indicators.S1); a field the
    strategy asks of a report by the words that came with the refusal ("予算額（千円）")."""
    if labels and name in labels:
        return labels[name](language)
    head, _, item = name.partition(".")
    if name == "confirm":
        return say("page.confirm_field", language)
    for trigger in (*spec.triggers, *spec.openings):
        for f in trigger.fields:
            if f.name == head:
                return f.label(language) + (f" {item.removesuffix('.reason')}" if item else "")
    return name


def _path(site: Site, entry: Entry, instance: Instance) -> str:
    """Where an instance's page is: its store's address for the strategy's yearly process
    and for workflows that show on their parent's page, else the generic page."""
    if entry is site.registry.primary or entry.parent:
        return entry.store.address(instance)["path"]
    return f"/w/{entry.name}/{instance.id}"


def _steps(spec: Any, options: list[Option], saved: dict[str, dict[str, Any]], lang: str,
           sent: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The forms this person may fill: each starts from its saved draft, else from what was
    sent the last time this step was taken here (a returned report comes back as it was).
    Steps that are one decision (`choice_of`) become one form with the step as a choice;
    a step back (a return) looks apart from the steps forward."""
    steps: list[dict[str, Any]] = []
    decisions: dict[str, dict[str, Any]] = {}
    for option in options:
        if not (option.may_fire or option.may_draft):
            continue
        trigger = option.trigger
        draft = saved.get(trigger.name)
        before = (sent or {}).get(trigger.name)
        form = draft["values"] if draft else as_form(before, option.fields) if before else {}
        choice = {"trigger": trigger.name, "label": trigger.label(lang), "confirm": trigger.confirm}
        if trigger.choice_of is not None and option.may_fire:
            heading = trigger.choice_of(lang)
            step = decisions.get(heading)
            if step is None:
                step = decisions[heading] = {
                    "trigger": f"choice-{len(decisions)}", "label": heading, "fields": [], "may_fire": True,
                    "button": say("page.decide", lang),
                    "may_draft": False, "form": {}, "draft_by": None, "kind": "forward", "choices": [],
                    "required": None}
                steps.append(step)
            step["choices"].append(choice)
            names = {f["name"] for f in step["fields"]}
            step["fields"] += [f for f in option.fields if f["name"] not in names]
            required = {f["name"] for f in option.fields if f.get("required")}
            step["required"] = required if step["required"] is None else step["required"] & required
            continue
        steps.append({"trigger": trigger.name, "label": trigger.label(lang), "fields": option.fields,
                      "may_fire": option.may_fire, "may_draft": option.may_draft, "form": form,
                      "draft_by": draft["saved_by"] if draft else None,
                      "kind": "back" if spec.goes_back(trigger) else "forward", "confirm": trigger.confirm})
    for step in decisions.values():  # a field is marked required only where every choice needs it
        step["fields"] = [f | {"required": f["name"] in step["required"]} for f in step["fields"]]
    return steps


def as_form(fields: dict[str, Any], declared: Any) -> dict[str, str]:
    """Values a step recorded, as its form's inputs hold them: a measure per item
    ("indicators.S1", "indicators.S1.reason"), a fieldset's fields by their form names
    ("details.budget"), lines one per line, numbers as written."""
    form: dict[str, str] = {}
    for f in declared:
        name, kind = f["name"], f["type"]
        value = fields.get(name)
        if value is None:
            continue
        if kind == "measures" and isinstance(value, dict):
            for item, measure in value.items():
                measure = measure if isinstance(measure, dict) else {"value": measure}
                if measure.get("value") is not None:
                    form[f"{name}.{item}"] = str(plain(measure["value"]))
                if measure.get("reason"):
                    form[f"{name}.{item}.reason"] = str(measure["reason"])
        elif kind == "fieldset" and isinstance(value, dict):
            subs = f.get("fields", [])  # named as the form names them: details.KEY
            form |= as_form({sub["name"]: value.get(sub["key"]) for sub in subs}, subs)
        elif isinstance(value, list):
            form[name] = "\n".join(str(v) for v in value)
        else:
            form[name] = str(plain(value))
    return form


def _children(conn: Connection, site: Site, entry: Entry, instance: Instance, visitor: auth.Visitor,
              lang: str, page_path: str, tenant: Tenant) -> list[dict[str, Any]]:
    """The instances of the workflows that hang from this one, and how to open one."""
    out = []
    for child in site.registry.children(entry.name):
        lister = getattr(child.store, "for_parent", None)
        rows = []
        for row in (lister(conn, instance.id) if lister else []):
            loaded = child.store.load(conn, row["id"])
            if loaded is None:
                continue
            story = service.story(conn, child, row["id"], today=tenant.calendar.today(site.clock()),
                                  actor=visitor.actor)
            options = child.workflow.options(conn, loaded, visitor.actor)
            rows.append({"story": story, "state_label": story["state_label"][lang],
                         "steps": _steps(child.spec, options, {}, lang),
                         "action": f"{site.prefix(tenant)}/{segment(child)}/{row['id']}"})
        openings = [o for o in child.workflow.opening_options(conn, instance, visitor.actor, tenant=tenant.id)
                    if o.may_fire]
        out.append({"name": child.name, "label": child.spec.label(lang), "rows": rows,
                    "openings": [{"trigger": o.trigger.name, "label": o.trigger.label(lang), "fields": o.fields,
                                  "may_fire": True, "may_draft": False, "form": {}, "draft_by": None}
                                 for o in openings],
                    "open_action": f"{site.prefix(tenant)}{page_path}/{segment(child)}"})
    return out


def render(request: Request, site: Site, visitor: auth.Visitor, entry: Entry, instance_id: int, tenant: Tenant,
           status: int = 200, *, refusal: Refused | None = None, refused_by: Entry | None = None,
           **extra: Any) -> Response:
    """The instance's page; after a refusal, with what was refused said in the person's
    language, each field's problem beside the field, and the form as it was sent."""
    lang = site.language(request)
    if refusal is not None:
        spec = (refused_by or entry).spec
        extra["error"] = render_said(refusal.said, lang, spec.name_of)
        problems = refusal.problems if isinstance(refusal, InvalidFields) else ()
        extra["problems"] = {name: render_said(why, lang, spec.name_of) for name, why in problems}
        labels = refusal.labels if isinstance(refusal, InvalidFields) else {}
        extra["problem_list"] = [(_field_words(spec, name, lang, labels), extra["problems"][name])
                                 for name, _ in problems]
    with db.reading(site.pdca.engine) as conn:
        story = service.story(conn, entry, instance_id, today=tenant.calendar.today(site.clock()),
                              actor=visitor.actor)
        instance = entry.store.load(conn, instance_id)
        assert instance is not None
        options = entry.workflow.options(conn, instance, visitor.actor)
        saved = drafts.load(conn, workflow=entry.name, instance_id=instance_id)
        page_path = _path(site, entry, instance)
        children = _children(conn, site, entry, instance, visitor, lang, page_path, tenant)
        names = people_named(conn, {h["actor"] for h in story["history"]})
    zone = tenant.calendar.zone
    story["lines"] = [sentence(h, language=lang, zone=zone, names=names, spec=entry.spec) | {"comment": h["comment"]}
                      for h in story["history"]]
    sent = {h["trigger"]: h["fields"] for h in story["history"] if h["fields"]}  # the newest wins
    prefill = getattr(entry.store, "prefill", None)
    if prefill is not None:  # a step the store can fill in from the record (what a returned item said)
        sent = prefill(instance) | sent
    steps = _steps(entry.spec, options, saved, lang, sent)
    form = extra.pop("form", None)
    if form is not None:  # a refused form comes back as it was sent, beside its problems
        for step in steps:
            if step["trigger"] == form.get("trigger") or any(c["trigger"] == form.get("trigger")
                                                             for c in step.get("choices", ())):
                step["form"] = form
        for child in children:
            if refused_by is not None and child["name"] == refused_by.name:
                for opening in child["openings"]:
                    opening["form"] = form | {"trigger": opening["trigger"]}
    title = (story.get("title_en") or story.get("title_ja")) if lang == "en" else story.get("title_ja")
    template = entry.options.get("template", "instance.html")
    return site.page(request, template, visitor, status, tenant=tenant, s=story, steps=steps,
                     title=title or story["label"], children=children, entry=entry,
                     fire_action=f"{site.prefix(tenant)}{page_path}/fire" if entry is site.registry.primary
                     else f"{site.prefix(tenant)}/w/{entry.name}/{instance_id}/fire", **extra)


def _not_found(request: Request, site: Site, visitor: auth.Visitor, message: str) -> Response:
    t = translator(site.language(request))
    return site.page(request, "message.html", visitor, 404, heading=t("not_found"), text=message, error=True)


def _locate(site: Site, conn: Connection, visitor: auth.Visitor, strategy: str | None, entry: Entry,
            key: str, fy: int | None) -> tuple[Tenant, int]:
    tenant = site.tenant(conn, strategy)
    site.admits(conn, visitor, tenant)
    return tenant, entry.store.find(conn, tenant=tenant.id, key=key, fy=fy)


def _by_id(site: Site, conn: Connection, visitor: auth.Visitor, entry: Entry, instance_id: int) -> tuple[Tenant, int]:
    if not plausible_id(instance_id):
        raise NotFound(f"there is no {entry.name} {instance_id}")
    instance = entry.store.load(conn, instance_id)
    if instance is None or instance.tenant is None:
        raise NotFound(f"there is no {entry.name} {instance_id}")
    tenant = site.pdca.tenants.get(conn, instance.tenant)
    site.admits(conn, visitor, tenant)
    return tenant, instance_id


def _raw(values: dict[str, str], entry: Entry, instance: Instance | None, trigger: str) -> dict[str, Any]:
    """The form's fields as the trigger takes them (a `lines` field, one per line)."""
    raw: dict[str, Any] = {k: v for k, v in values.items()
                           if k not in ("csrf", "trigger", "version", "save_draft", "confirm")}
    spec_trigger = entry.spec.trigger(trigger, instance.state) if instance else None
    for f in spec_trigger.fields if spec_trigger else ():
        if f.type == "lines" and f.name in raw:
            raw[f.name] = [line for line in str(raw[f.name]).splitlines() if line.strip()]
    return raw


def _version(values: dict[str, str]) -> int | None:
    """The version the form was read at; a form that says something else is refused."""
    text = values.get("version") or ""
    if not text:
        return None
    number = whole_number(text)
    if number is None:
        raise InvalidFields([("version", Said(f"{text!r} is not a version number; reload the page", "field.version"))])
    return number or None


def joined(pairs: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """A form as name -> text; a name sent several times (the ticked boxes of a `several`
    field) keeps every value, one per line, as a `lines` field reads them."""
    values: dict[str, str] = {}
    for k, v in pairs:
        values[k] = f"{values[k]}\n{v}" if k in values else str(v)
    return values


async def _form(request: Request) -> dict[str, str]:
    return joined((await request.form()).multi_items())


def _fire(request: Request, site: Site, visitor: auth.Visitor, entry: Entry, tenant: Tenant, instance_id: int,
          values: dict[str, str], back: str) -> Response:
    trigger = values.get("trigger", "")
    try:
        site.check_csrf(visitor, values.get("csrf", ""))
        version = _version(values)
        with db.writing(site.pdca.engine) as conn:
            instance = entry.store.load(conn, instance_id)
            raw = _raw(values, entry, instance, trigger)
            if "save_draft" in values:
                _save_draft(conn, site, visitor, entry, instance, trigger, raw)
            else:
                _check_confirmed(entry, instance, trigger, values)
                entry.workflow.fire_in(conn, instance or instance_id, trigger, visitor.actor, raw, now=site.clock(),
                                       expected_version=version)
                drafts.discard(conn, workflow=entry.name, instance_id=instance_id, trigger=trigger)
    except Stale as exc:
        taken = _taken_already(site, entry, instance_id, trigger, visitor, _version(values), site.language(request))
        if taken is not None:  # the back button and the same form again: the step is done, not lost
            return render(request, site, visitor, entry, instance_id, tenant, notice=taken)
        return render(request, site, visitor, entry, instance_id, tenant, status_of(exc), refusal=exc, form=values)
    except Refused as exc:
        return render(request, site, visitor, entry, instance_id, tenant, status_of(exc), refusal=exc, form=values)
    done = "draft" if "save_draft" in values else "1"
    return RedirectResponse(f"{back}?done={done}", status_code=303)


def _check_confirmed(entry: Entry, instance: Instance | None, trigger: str, values: dict[str, str]) -> None:
    """A step that cannot be undone is taken from a page only once the person has ticked
    that they mean it (scripts through the API say so by calling it)."""
    declared = entry.spec.trigger(trigger, instance.state) if instance else None
    if declared is not None and declared.confirm and values.get("confirm") != "yes":
        raise InvalidFields([("confirm", Said("confirm that this cannot be undone", "field.confirm",
                                              trigger=trigger))])


def _taken_already(site: Site, entry: Entry, instance_id: int, trigger: str, visitor: auth.Visitor,
                   version: int | None, lang: str) -> str | None:
    """Whether this person took this very step on this instance from the version their form
    was read at: then a stale form is their own earlier submission (the back button), and
    the page says when it was taken instead of blaming someone else."""
    if version is None:
        return None
    with db.reading(site.pdca.engine) as conn:
        taken = next((h for h in service.history(conn, entry.name, instance_id)
                      if h["version"] == version + 1 and h["trigger"] == trigger and h["actor"] == visitor.email), None)
        if taken is None:
            return None
        names = people_named(conn, {taken["actor"]})
        tenant = site.pdca.tenants.get(conn, entry.store.load(conn, instance_id).tenant)  # type: ignore[union-attr]
    line = sentence(taken, language=lang, zone=tenant.calendar.zone, names=names, spec=entry.spec)
    return render_said(Said("already done", "refused.already_done", when=line["when"], who=line["who"]), lang,
                       entry.spec.name_of)


def _save_draft(conn: Connection, site: Site, visitor: auth.Visitor, entry: Entry, instance: Instance | None,
                trigger: str, raw: dict[str, Any]) -> None:
    if instance is None:
        raise NotFound(f"there is no {entry.name}")
    option = next((o for o in entry.workflow.options(conn, instance, visitor.actor) if o.trigger.name == trigger),
                  None)
    if option is None:
        raise NotAllowedNow(f"{trigger} is not possible now", state=instance.state, allowed=[])
    if not option.may_draft:
        raise WrongRole(f"{visitor.email} may not draft {trigger}", roles=option.trigger.roles,
                        holders=option.holders)
    drafts.save(conn, workflow=entry.name, instance_id=instance.id, trigger=trigger, values=raw, by=visitor.email,
                now=site.clock())


# -- the strategy's yearly process: /actions/CODE/FY --------------------------------------------


def _cycle(request: Request, strategy: str | None, code: str, fy: int
           ) -> tuple[Site, auth.Visitor, Entry, Tenant, int] | Response:
    """The yearly cycle a page is about, or the 404 page saying there is none."""
    site = _site(request)
    visitor = site.visitor(request)
    entry = site.registry.primary
    try:
        with db.reading(site.pdca.engine) as conn:
            tenant, instance_id = _locate(site, conn, visitor, strategy, entry, code, fy)
    except NotFound as exc:
        return _not_found(request, site, visitor, exc.message)
    return site, visitor, entry, tenant, instance_id


@router.get("/actions/{code}/{fy}", response_class=HTMLResponse)
def action(request: Request, code: str, fy: FY, strategy: str | None = None) -> Response:
    found = _cycle(request, strategy, code, fy)
    if isinstance(found, Response):
        return found
    site, visitor, entry, tenant, instance_id = found
    return render(request, site, visitor, entry, instance_id, tenant)


@router.post("/actions/{code}/{fy}/fire", response_class=HTMLResponse)
async def fire(request: Request, code: str, fy: FY, strategy: str | None = None) -> Response:
    values = await _form(request)
    found = _cycle(request, strategy, code, fy)
    if isinstance(found, Response):
        return found
    site, visitor, entry, tenant, instance_id = found
    return _fire(request, site, visitor, entry, tenant, instance_id, values,
                 f"{site.prefix(tenant)}/actions/{code}/{fy}")


@router.post("/actions/{code}/{fy}/{child}", response_class=HTMLResponse)
async def open_child(request: Request, code: str, fy: FY, child: str, strategy: str | None = None) -> Response:
    """Open an instance of a workflow that hangs from this cycle (its segment names it)."""
    site = _site(request)
    visitor = site.visitor(request)
    values = await _form(request)
    parent_entry = site.registry.primary
    entry = next((e for e in site.registry.children(parent_entry.name) if segment(e) == child), None)
    if entry is None:
        return _not_found(request, site, visitor, f"/actions/{code}/{fy}/{child}")
    try:
        with db.reading(site.pdca.engine) as conn:
            tenant, parent_id = _locate(site, conn, visitor, strategy, parent_entry, code, fy)
    except NotFound as exc:
        return _not_found(request, site, visitor, exc.message)
    back = f"{site.prefix(tenant)}/actions/{code}/{fy}"
    try:
        site.check_csrf(visitor, values.get("csrf", ""))
        trigger = values.get("trigger") or (entry.spec.openings[0].name if len(entry.spec.openings) == 1 else "")
        raw = {k: v for k, v in values.items() if k not in ("csrf", "trigger")}
        with db.writing(site.pdca.engine) as conn:
            parent = parent_entry.store.load(conn, parent_id)
            entry.workflow.open(conn, trigger, visitor.actor, raw, now=site.clock(), parent=parent, tenant=tenant.id)
    except Refused as exc:
        return render(request, site, visitor, parent_entry, parent_id, tenant, status_of(exc), refusal=exc,
                      refused_by=entry, form=values)
    return RedirectResponse(f"{back}?done=1", status_code=303)


# -- any workflow: /w/WORKFLOW/ID -----------------------------------------------------------------


def _instance(request: Request, workflow: str, instance_id: int
              ) -> tuple[Site, auth.Visitor, Entry, Tenant] | Response:
    """The instance a generic page is about, or the 404 page saying there is none."""
    site = _site(request)
    visitor = site.visitor(request)
    try:
        entry = site.registry[workflow]
        with db.reading(site.pdca.engine) as conn:
            tenant, _ = _by_id(site, conn, visitor, entry, instance_id)
    except NotFound as exc:
        return _not_found(request, site, visitor, exc.message)
    return site, visitor, entry, tenant


@router.get("/w/{workflow}/{instance_id}", response_class=HTMLResponse)
def instance_page(request: Request, workflow: str, instance_id: int) -> Response:
    found = _instance(request, workflow, instance_id)
    if isinstance(found, Response):
        return found
    site, visitor, entry, tenant = found
    return render(request, site, visitor, entry, instance_id, tenant)


@router.post("/w/{workflow}/{instance_id}/fire", response_class=HTMLResponse)
async def instance_fire(request: Request, workflow: str, instance_id: int) -> Response:
    values = await _form(request)
    found = _instance(request, workflow, instance_id)
    if isinstance(found, Response):
        return found
    site, visitor, entry, tenant = found
    return _fire(request, site, visitor, entry, tenant, instance_id, values,
                 f"{site.prefix(tenant)}/w/{workflow}/{instance_id}")


@router.post("/{child}/{instance_id}/{trigger}", response_class=HTMLResponse)
async def child_fire(request: Request, child: str, instance_id: int, trigger: str) -> Response:
    """A step of an instance shown on its parent's page (an advisor's answer, say); back to
    that page after."""
    site = _site(request)
    visitor = site.visitor(request)
    # The answer form of earlier releases also sent the cycle's code and year: not fields.
    values = {k: v for k, v in (await _form(request)).items() if k not in ("code", "fy")} | {"trigger": trigger}
    entry = next((e for e in site.registry if e.parent and segment(e) == child), None)
    if entry is None:
        return _not_found(request, site, visitor, f"/{child}/{instance_id}/{trigger}")
    try:
        with db.reading(site.pdca.engine) as conn:
            tenant, _ = _by_id(site, conn, visitor, entry, instance_id)
            instance = entry.store.load(conn, instance_id)
            assert instance is not None
            back = f"{site.prefix(tenant)}{entry.store.address(instance)['path']}"
            parent = entry.store.parent_of(instance)  # type: ignore[attr-defined]
    except NotFound as exc:
        return _not_found(request, site, visitor, exc.message)
    try:
        site.check_csrf(visitor, values.get("csrf", ""))
        raw = _raw(values, entry, instance, trigger)
        with db.writing(site.pdca.engine) as conn:
            entry.workflow.fire_in(conn, instance_id, trigger, visitor.actor, raw, now=site.clock(),
                                   expected_version=_version(values))
    except Refused as exc:
        return render(request, site, visitor, site.registry[entry.parent], parent, tenant,  # type: ignore[index]
                      status_of(exc), refusal=exc, refused_by=entry, form=values)
    return RedirectResponse(f"{back}?done=1", status_code=303)
