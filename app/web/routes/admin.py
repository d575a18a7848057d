"""The secretariat's pages: the year's calendar and what is late, the outbox, the audit
log, the people and bodies; each for one strategy, for its admins."""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.ics import milestones_ics
from app.importing import ImportRefused, Kept, import_actions, kept_words
from app.web import auth
from app.web.bounds import whole_number
from app.web.i18n import translator
from app.web.site import Site, people_named, sentence
from engine import db
from engine.errors import NotFound, WrongRole
from notifications.drain import list_messages, message_kinds, retry, subjects
from words.catalogue import has, say
from words.catalogue import render as render_said
from workflows import calendar_admin, service
from workflows.calendar import RULE_KEYS, Milestone, reason_words
from workflows.calendar_store import stored_year
from workflows.cancelled import cancelled_words
from workflows.fiscal import fy_label
from workflows.tenants import Tenant

router = APIRouter(include_in_schema=False)


def _local(iso: str | None, zone: Any) -> str:
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%Y/%m/%d %H:%M") if iso else ""


PAGE_SIZE = 50


@dataclass
class Window:
    """The dates and page a list is asked for, read from the address; what could not be
    read is said in `problems` (in the person's words) and left out, never a 422."""

    since: datetime | None
    until: datetime | None
    page: int
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


def _window(request: Request, zone: ZoneInfo, t: Callable[[str], str]) -> Window:
    """From/to are whole days in the city's time zone: `to` includes its day."""
    raw = {k: (request.query_params.get(k) or "").strip() for k in ("from", "to")}
    problems: list[str] = []
    days: dict[str, date | None] = {}
    for key, text in raw.items():
        try:
            days[key] = date.fromisoformat(text) if text else None
        except ValueError:
            days[key] = None
            problems.append(f"{t('bad_date')}: {t('date_' + key)} 「{text[:20]}」")
    since = datetime.combine(days["from"], time(0), zone) if days["from"] else None
    until = datetime.combine(days["to"] + timedelta(days=1), time(0), zone) if days["to"] else None
    if since and until and until <= since:
        problems.append(t("dates_reversed"))
    number = whole_number(request.query_params.get("page"))
    page = number if number is not None and 0 < number <= 100_000 else 1
    return Window(since, until, page, {k: v for k, v in raw.items() if v}, problems)


def _pages(path: str, filters: dict[str, str | None], page: int, more: bool) -> dict[str, Any]:
    """Links to the newer and older pages that keep every filter."""

    def link(number: int) -> str:
        kept = {k: v for k, v in filters.items() if v} | ({"page": str(number)} if number > 1 else {})
        return f"{path}?{urlencode(kept)}" if kept else path

    return {"number": page, "newer": link(page - 1) if page > 1 else None, "older": link(page + 1) if more else None}


def _kind_words(site: Site, kind: str, lang: str) -> str:
    return site.registry.kind_label(kind, lang) or (say(f"kind.{kind}", lang) if has(f"kind.{kind}") else kind)


def _step_choices(site: Site, steps: list[tuple[str, str]], lang: str) -> list[tuple[str, str]]:
    """What can have happened, in words, once per step name."""
    words = {"mark_absent": "absent_marked", "mark_back": "back_marked", "import": "imported",
             "adopt_plan": "plan_adopted", "end_action": "action_ended", "set_owners": "owners_set",
             calendar_admin.TRIGGER: "calendar_set", calendar_admin.REMINDERS_TRIGGER: "reminders_set",
             "add_person": "person_added", "edit_person": "person_edited", "set_seat": "seat_set",
             "rename_body": "body_renamed"}
    t = translator(lang)
    chosen: dict[str, str] = {}
    for workflow, trigger in steps:
        entry = site.registry.get(workflow)
        if trigger in words:
            chosen.setdefault(trigger, t(words[trigger]))
        elif entry is not None:
            chosen.setdefault(trigger, entry.spec.name_of("trigger", trigger, lang))
    return sorted(chosen.items(), key=lambda pair: pair[1])


def _admin(request: Request, strategy: str | None) -> tuple[Site, auth.Visitor, Tenant]:
    site: Site = request.app.state.site
    visitor = site.visitor(request)
    with db.reading(site.pdca.engine) as conn:
        tenant = site.tenant(conn, strategy)
        if not site.administers(conn, visitor, tenant):
            raise WrongRole(f"{visitor.email} is not an admin of {tenant.name(site.language(request))}",
                            roles=("admin",), holders=())
    return site, visitor, tenant


def _with_weekday(day: date, t: Callable[[str], str]) -> str:
    """A date as people plan with it: '2027-05-28 (金)'."""
    return f"{day.isoformat()} ({t(f'weekday_{day.weekday()}')})"


def _calendar_rows(milestones: list[dict[str, Any]], today: date | None,
                   t: Callable[[str], str]) -> list[dict[str, Any]]:
    """The year's milestones in date order with a row for today (when given) where it falls,
    so the secretariat sees at a glance what is behind and what is next."""
    rows = sorted(milestones, key=lambda m: m["day"])
    if today is None:
        return rows
    for m in rows:
        m["today"] = m["day"] == today
    if not any(m["today"] for m in rows):
        at = next((i for i, m in enumerate(rows) if m["day"] > today), len(rows))
        rows.insert(at, {"today_row": True, "date": _with_weekday(today, t)})
    return rows


def _milestone_rows(year: list[Milestone], lang: str, t: Callable[[str], str]) -> list[dict[str, Any]]:
    """Each milestone as the calendar page shows it: its date, and where it moved from and why."""
    return [
        {"key": m.name, "name": say(f"milestone.{m.name}", lang), "day": m.day, "date": _with_weekday(m.day, t),
         "rule_date": m.when.rule.isoformat(), "shifted": m.when.moved, "editable": m.name in RULE_KEYS,
         "reasons": [reason_words(r, lang) for r in m.when.reasons], "what": m.what(lang)}
        for m in year
    ]


def _calendar_page(request: Request, site: Site, visitor: auth.Visitor, tenant: Tenant, year: int, *,
                   status: int = 200, **extra: Any) -> Response:
    """The year's calendar with its edit forms; `extra`: a preview, or problems by field."""
    lang = site.language(request)
    t = translator(lang)
    now = site.clock()
    cal = tenant.calendar
    today = cal.today(now)
    current = cal.fiscal_year(now)
    with db.reading(site.pdca.engine) as conn:
        late = service.late(conn, site.registry, tenant=tenant, today=today, language=lang)
        closed = stored_year(conn, tenant.id, year).closed_dates
    for row in late:
        row["url"] = site.prefix(tenant) + row["path"]
    rows = _calendar_rows(_milestone_rows(cal.year(year), lang, t), today if year == current else None, t)
    settings = cal.settings
    series = {"reminder_days": ", ".join(map(str, settings.reminder_days)), "repeat_days": settings.repeat_days,
              "escalate_after_days": settings.escalate_after_days}
    context = {"edit": {}, "errors": {}, "preview": None, "series_edit": {}, "series_errors": {},
               "series_preview": None} | extra
    return site.page(request, "admin.html", visitor, status, tenant=tenant, section="calendar", fy=year,
                     series=series,
                     fy_label=fy_label(year), milestones=rows, closed=[_with_weekday(d, t) for d in closed],
                     closed_values=[d.isoformat() for d in closed],
                     late=late, current_fy=current, today=_with_weekday(today, t), **context)


@router.get("/admin", response_class=HTMLResponse)
def admin_calendar(request: Request, fy: int | None = None, strategy: str | None = None) -> Response:
    """Opens on the fiscal year containing today (April-March in the city's time): the year
    whose work is live."""
    site, visitor, tenant = _admin(request, strategy)
    year = fy if fy is not None else tenant.calendar.fiscal_year(site.clock())
    if not 1990 <= year <= 2200:
        raise NotFound(f"FY{year} has no calendar")
    return _calendar_page(request, site, visitor, tenant, year)


def _read_change(fy: int, form: dict[str, str]) -> calendar_admin.Change:
    """The form's values as a change; a date that cannot be read is a problem by field."""
    days: dict[str, date | None] = {}
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    for key in ("day", "closed_add", "closed_remove"):
        text = form.get(key, "").strip()
        try:
            days[key] = date.fromisoformat(text) if text else None
        except ValueError:
            days[key] = None
            problems[key] = ("calendar.bad_date", {})
    if problems:
        raise calendar_admin.CalendarProblem(problems)
    return calendar_admin.Change(fy=fy, why=form.get("why", ""), milestone=form.get("milestone") or None,
                                 day=days["day"], closed_add=days["closed_add"],
                                 closed_remove=days["closed_remove"])


def _said(problems: dict[str, tuple[str, dict[str, Any]]], lang: str) -> dict[str, str]:
    """Problems by field in the person's words; milestone names said as milestones."""
    said = {}
    for key, (word, values) in problems.items():
        named = {k: say(f"milestone.{v}", lang) if k in ("first", "second") else v for k, v in values.items()}
        said[key] = say(word, lang, **named)
    return said


def _preview_words(plan: calendar_admin.Plan, site: Site, lang: str, t: Callable[[str], str]) -> dict[str, Any]:
    """What the preview shows: every milestone before and after, and the messages affected."""
    rows = []
    for before, after in zip(_milestone_rows(plan.before, lang, t), _milestone_rows(plan.after, lang, t),
                             strict=True):
        rows.append(after | {"before": before["date"], "changed": before["day"] != after["day"]})
    cancelled = [{"kind": _kind_words(site, m["kind"], lang), "recipient": m["recipient"],
                  "due": _with_weekday(m["due"], t)} for m in plan.cancelled]
    queued = [{"name": say(f"milestone.{name}", lang), "date": _with_weekday(day, t)} for name, day in plan.queued]
    return {"rows": rows, "cancelled": cancelled, "queued": queued}


@dataclass(frozen=True)
class _CalendarForm:
    """One of the calendar page's forms (a year's date, the reminder series): what it reads,
    how its change is previewed and saved, and where the page shows each."""

    fields: tuple[str, ...]
    read: Callable[[int, dict[str, str]], Any]
    plan: Callable[[Any, Tenant, Any, date], Any]
    save: Callable[..., None]
    words: Callable[[Any, Site, str, Callable[[str], str]], dict[str, Any]]
    done: str
    edit: str
    errors: str
    preview: str


async def _preview_or_save(request: Request, fy: int, strategy: str | None, kind: _CalendarForm) -> Response:
    """Preview first (nothing saved), then save with `confirm`: who and why recorded, queued
    messages no longer due cancelled (the next tick queues the new ones)."""
    site, visitor, tenant = _admin(request, strategy)
    form = {k: str(v) for k, v in (await request.form()).items()}
    site.check_csrf(visitor, form.get("csrf", ""))
    if not 1990 <= fy <= 2200:
        raise NotFound(f"FY{fy} has no calendar")
    lang = site.language(request)
    now = site.clock()
    today = tenant.calendar.today(now)
    edit = {k: form.get(k, "") for k in kind.fields}
    try:
        change = kind.read(fy, form)
        if form.get("confirm") == "yes":
            with db.writing(site.pdca.engine) as conn:
                kind.save(conn, tenant, change, actor=visitor.email, now=now, today=today)
            site.pdca.tenants.forget()
            return RedirectResponse(f"{site.prefix(tenant)}/admin?fy={fy}&done={kind.done}", status_code=303)
        with db.reading(site.pdca.engine) as conn:
            plan = kind.plan(conn, tenant, change, today)
    except calendar_admin.CalendarProblem as problem:
        return _calendar_page(request, site, visitor, tenant, fy, status=422,
                              **{kind.edit: edit, kind.errors: _said(problem.problems, lang)})
    return _calendar_page(request, site, visitor, tenant, fy,
                          **{kind.edit: edit, kind.preview: kind.words(plan, site, lang, translator(lang))})


def _read_series(form: dict[str, str]) -> calendar_admin.ReminderChange:
    """The reminder form's values; a number that cannot be read is a problem by field."""
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    days = [d for d in re.split(r"[\s,、，]+", form.get("reminder_days", "")) if d]
    if not all(whole_number(d) is not None for d in days):
        problems["reminder_days"] = ("calendar.bad_reminder_days", {})
    numbers = {}
    for key in ("repeat_days", "escalate_after_days"):
        text = form.get(key, "").strip()
        number = whole_number(text)
        if number is None:
            problems[key] = (f"calendar.bad_{key}", {})
        numbers[key] = number or 0
    if problems:
        raise calendar_admin.CalendarProblem(problems)
    return calendar_admin.ReminderChange(tuple(int(d) for d in days), numbers["repeat_days"],
                                         numbers["escalate_after_days"], form.get("why", ""))


def _series_preview(plan: calendar_admin.ReminderPlan, site: Site, lang: str,
                    t: Callable[[str], str]) -> dict[str, Any]:
    rows = [{"name": say(f"milestone.{m.name}", lang), "date": _with_weekday(m.day, t),
             "before": [_with_weekday(d, t) for d in before], "after": [_with_weekday(d, t) for d in after]}
            for m, before, after in plan.dates]
    cancelled = [{"kind": _kind_words(site, m["kind"], lang), "recipient": m["recipient"],
                  "due": _with_weekday(m["due"], t)} for m in plan.cancelled]
    return {"rows": rows, "cancelled": cancelled, "before": plan.before, "after": plan.after}


DATE_FORM = _CalendarForm(
    ("milestone", "day", "closed_add", "closed_remove", "why"), _read_change, calendar_admin.plan_change,
    calendar_admin.save_change, _preview_words, "calendar", "edit", "errors", "preview")
SERIES_FORM = _CalendarForm(
    ("reminder_days", "repeat_days", "escalate_after_days", "why"), lambda _fy, form: _read_series(form),
    calendar_admin.plan_reminders, calendar_admin.save_reminders, _series_preview, "reminders",
    "series_edit", "series_errors", "series_preview")


@router.post("/admin/calendar", response_class=HTMLResponse)
async def admin_calendar_change(request: Request, fy: int, strategy: str | None = None) -> Response:
    """A milestone's date or a closed date of one fiscal year, previewed with the shifted
    dates and their reasons, then saved."""
    return await _preview_or_save(request, fy, strategy, DATE_FORM)


@router.post("/admin/reminders", response_class=HTMLResponse)
async def admin_reminders(request: Request, fy: int, strategy: str | None = None) -> Response:
    """The reminder series (days before a due date, the repeat after it, when lateness is
    escalated): previewed, then saved; queued messages the new series would not send are
    cancelled."""
    return await _preview_or_save(request, fy, strategy, SERIES_FORM)


@router.get("/admin/calendar.ics")
def admin_ics(request: Request, fy: int, strategy: str | None = None) -> Response:
    site, _, tenant = _admin(request, strategy)
    if not 1990 <= fy <= 2200:
        raise NotFound(f"FY{fy} has no calendar")
    title = f"{tenant.name_ja} {fy_label(fy)}"
    body = milestones_ics(tenant.calendar.year(fy), strategy=tenant.code, title=title,
                          language=site.language(request), stamp=site.clock())
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="pdca-fy{fy}.ics"'})


@router.get("/admin/outbox", response_class=HTMLResponse)
def admin_outbox(request: Request, status: str | None = None, kind: str | None = None,
                 recipient: str | None = None, strategy: str | None = None) -> Response:
    site, visitor, tenant = _admin(request, strategy)
    lang = site.language(request)
    t = translator(lang)
    zone = tenant.calendar.zone
    window = _window(request, zone, t)
    with db.reading(site.pdca.engine) as conn:
        messages = list_messages(conn, status=status or None, tenant=tenant.id, untenanted=visitor.admin,
                                 kind=kind or None, recipient=recipient or None, since=window.since,
                                 until=window.until, limit=PAGE_SIZE + 1, offset=window.offset)
        said = subjects(conn, [m["id"] for m in messages])
        kinds = message_kinds(conn, tenant=tenant.id, untenanted=visitor.admin)
    more = len(messages) > PAGE_SIZE
    messages = messages[:PAGE_SIZE]
    for m in messages:
        m["kind_label"] = _kind_words(site, m["kind"], lang)
        m["status_label"] = say(f"status.{m['status']}", lang) if has(f"status.{m['status']}") else m["status"]
        m["last_error"] = cancelled_words(m.get("last_error"), lang)
        m["subject"] = said.get(m["id"], "")
        m["when"] = _local(m.get("sent_at") or m.get("created_at"), zone)
    filters = {"status": status, "kind": kind, "recipient": recipient} | window.values
    return site.page(request, "admin.html", visitor, tenant=tenant, section="outbox", messages=messages,
                     status_filter=status, filters=filters, problems=window.problems,
                     kinds=[(k, _kind_words(site, k, lang)) for k in kinds],
                     pages=_pages(f"{site.prefix(tenant)}/admin/outbox", filters, window.page, more))


@router.post("/admin/outbox/retry")
def admin_retry(request: Request, csrf: str = Form(""), strategy: str | None = None) -> Response:
    site, visitor, tenant = _admin(request, strategy)
    site.check_csrf(visitor, csrf)
    with db.writing(site.pdca.engine) as conn:
        count = retry(conn, all_dead=True, tenant=tenant.id, untenanted=visitor.admin)
    return RedirectResponse(f"{site.prefix(tenant)}/admin/outbox?done={count}", status_code=303)


@router.get("/admin/audit", response_class=HTMLResponse)
def admin_audit(request: Request, code: str | None = None, actor: str | None = None, trigger: str | None = None,
                strategy: str | None = None) -> Response:
    site, visitor, tenant = _admin(request, strategy)
    lang = site.language(request)
    window = _window(request, tenant.calendar.zone, translator(lang))
    with db.reading(site.pdca.engine) as conn:
        events = service.audit_log(conn, site.registry, tenant=tenant.id, code=code or None, actor=actor or None,
                                   trigger=trigger or None, since=window.since, until=window.until,
                                   limit=PAGE_SIZE + 1, offset=window.offset)
        names = people_named(conn, {e["actor"] for e in events} | {
            (e.get("fields") or {}).get("email", "") for e in events})
        steps = service.audit_steps(conn, tenant=tenant.id)
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    for e in events:
        e["url"] = site.prefix(tenant) + e["path"] if e.get("path") else None
        entry = site.registry.get(e["workflow"])
        e |= sentence(e, language=lang, zone=tenant.calendar.zone, names=names,
                      spec=entry.spec if entry is not None else None)
    filters = {"code": code, "actor": actor, "trigger": trigger} | window.values
    return site.page(request, "admin.html", visitor, tenant=tenant, section="audit", events=events,
                     filters=filters, problems=window.problems, steps=_step_choices(site, steps, lang),
                     pages=_pages(f"{site.prefix(tenant)}/admin/audit", filters, window.page, more))


UPLOAD_LIMIT = 5 * 1024 * 1024
"""An actions file is a few hundred rows; anything this large is a mistake."""


@router.get("/admin/import", response_class=HTMLResponse)
def admin_import_page(request: Request, strategy: str | None = None) -> Response:
    site, visitor, tenant = _admin(request, strategy)
    return site.page(request, "admin.html", visitor, tenant=tenant, section="import", problems=[], result=None)


@router.post("/admin/import", response_class=HTMLResponse)
async def admin_import(request: Request, strategy: str | None = None) -> Response:
    """Import the actions file (CSV or XLSX, as `pdca import`): every bad row is listed in
    the person's language and nothing is written; else the actions are created or updated
    in one transaction, with what the file could not change because someone else had."""
    site, visitor, tenant = _admin(request, strategy)
    form = await request.form()
    site.check_csrf(visitor, str(form.get("csrf", "")))
    lang = site.language(request)
    upload = form.get("file")
    name = Path(getattr(upload, "filename", "") or "").name
    data = await upload.read(UPLOAD_LIMIT + 1) if hasattr(upload, "read") else b""
    problems: list[str] = []
    if not name or Path(name).suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
        problems = [say("import.kind", lang)]
    elif len(data) > UPLOAD_LIMIT:
        problems = [say("import.too_large", lang)]
    result = None
    if not problems:
        with tempfile.TemporaryDirectory(prefix="pdca-upload-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            try:
                with db.writing(site.pdca.engine) as conn:
                    result = import_actions(conn, strategy=tenant.id, path=path, now=site.clock(),
                                            zone=tenant.calendar.zone, actor=visitor.email)
            except ImportRefused as exc:
                problems = [render_said(p, lang) for p in exc.problems]
            except (ValueError, OSError, zipfile.BadZipFile):
                problems = [say("import.unreadable", lang, file=name)]
    status = 422 if problems else 200
    kept = _kept_words(site, result.kept, lang, tenant) if result else []
    return site.page(request, "admin.html", visitor, status, tenant=tenant, section="import", problems=problems,
                     result=result, file=name, kept=kept)


def _kept_words(site: Site, kept: list[Kept], lang: str, tenant: Tenant) -> list[str]:
    """What the import left as it was, each a sentence naming who changed it and when."""
    spec = site.registry.primary.spec
    with db.reading(site.pdca.engine) as conn:
        names = people_named(conn, {k.change.actor for k in kept if k.change})
    return [kept_words(k, lang, names=names, zone=tenant.calendar.zone,
                       step_name=lambda step: spec.name_of("trigger", step, lang)) for k in kept]
