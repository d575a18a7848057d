"""The web app: sign-in by emailed link, each person's work, the action page with the
forms its next steps declare, the councils' queues. Server-rendered pages (Jinja2), no
script and no external asset; every page and every step checks the person on the server.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from fastapi import FastAPI, Form, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app.bootstrap import Pdca
from app.ics import milestones_ics
from app.mail import queue_now
from app.public import ensure_site
from app.web import api, auth, drafts
from app.web.i18n import translator
from engine import db
from engine.clock import utc_now
from engine.errors import GuardRefused, InvalidFields, NotAllowedNow, NotFound, Refused, Stale, WrongRole
from notifications.drain import list_messages, retry
from workflows import opinions, results, service
from workflows.action_cycle import ACTION_CYCLE
from workflows.fiscal import fy_label

HERE = Path(__file__).parent
SESSION_COOKIE = "pdca_session"
CSRF_COOKIE = "pdca_csrf"
LANG_COOKIE = "pdca_lang"
STATUS = {WrongRole: 403, Stale: 409, NotAllowedNow: 409, GuardRefused: 409, InvalidFields: 422, NotFound: 404}


def status_of(exc: Refused) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)


class SignInRequired(Exception):
    pass


def create_app(pdca: Pdca, *, clock: Callable[[], datetime] = utc_now) -> FastAPI:
    """The app for one deployment; `clock` is replaceable so tests pass the time."""
    app = FastAPI(title="pdca", docs_url=None, redoc_url=None)
    app.state.pdca = pdca
    app.state.clock = clock
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["local"] = lambda iso: datetime.fromisoformat(iso).astimezone(
        pdca.calendar.zone).strftime("%Y-%m-%d %H:%M")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # The API's documentation, with Swagger UI's files served from here, not from a CDN.
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="pdca API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")
    app.include_router(api.router)
    web = pdca.settings.web

    def language(request: Request) -> str:
        chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "ja"
        return chosen if chosen in ("ja", "en") else "ja"

    def flash(request: Request, lang: str) -> str | None:
        """The banner after a step, chosen from our own words: a link cannot make the site
        say something it did not (`done=1`, `done=draft`, or a count)."""
        done = request.query_params.get("done")
        t = translator(lang)
        if done == "draft":
            return t("draft_saved")
        if done is not None and done.isdigit():
            return t("done") if done == "1" and "/actions/" in request.url.path else f"{t('done')}: {int(done)}"
        return None

    def page(request: Request, name: str, visitor: auth.Visitor | None, status: int = 200, **context: Any) -> Response:
        lang = language(request)
        response = templates.TemplateResponse(request, name, {
            "lang": lang, "t": translator(lang), "visitor": visitor, "flash": flash(request, lang),
            "strategy": pdca.settings.strategy.name_en if lang == "en" else pdca.settings.strategy.name_ja,
            **context,
        }, status_code=status)
        if "lang" in request.query_params:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax",
                                secure=request.url.scheme == "https")
        return response

    def visitor_of(request: Request) -> auth.Visitor:
        with db.reading(pdca.engine) as conn:
            visitor = auth.session_visitor(conn, request.cookies.get(SESSION_COOKIE), now=clock())
        if visitor is None:
            raise SignInRequired
        return visitor

    def check_csrf(visitor: auth.Visitor, token: str) -> None:
        if not secrets.compare_digest(visitor.csrf, token or ""):
            raise WrongRole("the form is out of date or did not come from this site; reload the page",
                            roles=(), holders=())

    @app.exception_handler(api.Unauthorized)
    async def _no_token(_request: Request, exc: api.Unauthorized) -> Response:
        return JSONResponse({"error": "unauthorized", "message": str(exc)}, status_code=401)

    @app.exception_handler(SignInRequired)
    async def _sign_in_first(request: Request, _exc: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={target}", status_code=303)

    # -- signing in ----------------------------------------------------------------------

    @app.get("/sign-in", response_class=HTMLResponse)
    def sign_in_form(request: Request, next: str = "/") -> Response:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = page(request, "sign_in.html", None, csrf=token, next_url=auth.safe_next(next))
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax", secure=request.url.scheme == "https")
        return response

    @app.post("/sign-in", response_class=HTMLResponse)
    def sign_in(request: Request, email: str = Form(...), csrf: str = Form(""), next: str = Form("/")) -> Response:
        t = translator(language(request))
        if not secrets.compare_digest(request.cookies.get(CSRF_COOKIE, ""), csrf):
            return page(request, "message.html", None, 403, heading=t("forbidden"), error=True,
                        text="The form did not come from this site; reload it and try again.")
        now = clock()
        with db.writing(pdca.engine) as conn:
            created = auth.create_link(conn, email=email, next_url=next, now=now, minutes=web.sign_in_minutes)
            if created is not None:
                secret, visitor = created
                link = f"{pdca.settings.links_base}/sign-in/{secret}"
                queue_now(pdca, conn, kind="sign_in_link", email=visitor.email, now=now,
                          extra={"link": link, "expires_minutes": web.sign_in_minutes})
        return page(request, "message.html", None, heading=t("link_sent"), text=t("link_sent_text"))

    @app.post("/sign-in/password", response_class=HTMLResponse)
    def sign_in_with_password(request: Request, email: str = Form(...), password: str = Form(...),
                              csrf: str = Form(""), next: str = Form("/")) -> Response:
        t = translator(language(request))
        if not secrets.compare_digest(request.cookies.get(CSRF_COOKIE, ""), csrf):
            return page(request, "message.html", None, 403, heading=t("forbidden"), error=True,
                        text="The form did not come from this site; reload it and try again.")
        with db.writing(pdca.engine) as conn:
            session = auth.password_session(conn, email=email, password=password, now=clock(),
                                            session_days=web.session_days)
        if session is None:
            return page(request, "message.html", None, 401, heading=t("link_invalid"), error=True,
                        text=t("wrong_password"), back="/sign-in")
        response = RedirectResponse(auth.safe_next(next), status_code=303)
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https", max_age=web.session_days * 86400)
        return response

    @app.get("/sign-in/{secret}", response_class=HTMLResponse)
    def follow_link(request: Request, secret: str) -> Response:
        with db.writing(pdca.engine) as conn:
            redeemed = auth.redeem_link(conn, secret, now=clock(), session_days=web.session_days)
        if redeemed is None:
            t = translator(language(request))
            return page(request, "message.html", None, 401, heading=t("link_invalid"), text=t("link_invalid_text"),
                        error=True, back="/sign-in")
        session, target = redeemed
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https", max_age=web.session_days * 86400)
        return response

    @app.post("/sign-out")
    def sign_out(request: Request, csrf: str = Form("")) -> Response:
        visitor = visitor_of(request)
        check_csrf(visitor, csrf)
        with db.writing(pdca.engine) as conn:
            auth.end_session(conn, request.cookies.get(SESSION_COOKIE), now=clock())
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    # -- pages ---------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        visitor = visitor_of(request)
        now = clock()
        with db.reading(pdca.engine) as conn:
            rows = service.work_for(conn, person_id=visitor.person_id, calendar=pdca.calendar,
                                    today=pdca.calendar.today(now), language=language(request))
        return page(request, "home.html", visitor, rows=rows)

    @app.get("/councils/{key}", response_class=HTMLResponse)
    def council(request: Request, key: str) -> Response:
        visitor = visitor_of(request)
        t = translator(language(request))
        if key not in service.CHAIR_WAITS:
            return page(request, "message.html", visitor, 404, heading=t("not_found"), text=key, error=True)
        with db.reading(pdca.engine) as conn:
            if not (visitor.admin or service.sits_on(conn, person_id=visitor.person_id, key=key)):
                return page(request, "message.html", visitor, 403, heading=t("forbidden"), error=True,
                            text=f"{visitor.email} is not a member of this council")
            rows = service.council_queue(conn, key=key, calendar=pdca.calendar,
                                         today=pdca.calendar.today(clock()), language=language(request))
            chairing = service.chair_roles(conn, person_id=visitor.person_id)
            may_accept = key == "internal" and "internal_chair" in chairing
        return page(request, "council.html", visitor, key=key, rows=rows, may_accept=may_accept)

    @app.post("/councils/internal/accept", response_class=HTMLResponse)
    async def accept_several(request: Request) -> Response:
        """The internal chair accepts several reports at once; each is its own transition,
        so one refusal (say, a report changed meanwhile) leaves the others done."""
        visitor = visitor_of(request)
        form = await request.form()
        check_csrf(visitor, str(form.get("csrf", "")))
        accepted, refused = [], []
        for item in form.getlist("item"):
            code, _, fy = str(item).partition("/")
            try:
                with db.writing(pdca.engine) as conn:
                    strategy = service.strategy_id(conn, pdca.strategy_code)
                    cycle = service.find_cycle(conn, strategy=strategy, code=code, fy=int(fy))
                    pdca.workflow.fire_in(conn, cycle, "accept_report", visitor.actor, {}, now=clock())
                accepted.append(code)
            except (Refused, ValueError) as exc:
                refused.append(f"{code}: {exc}")
        t = translator(language(request))
        if refused:
            return page(request, "message.html", visitor, 409, heading=t("refused"), error=True,
                        text=f"{t('done')}: {', '.join(accepted) or '-'}", problems=[(r, "") for r in refused],
                        back="/councils/internal")
        return RedirectResponse(f"/councils/internal?done={len(accepted)}", status_code=303)

    def action_page(request: Request, visitor: auth.Visitor, code: str, fy: int, status: int = 200,
                    **extra: Any) -> Response:
        lang = language(request)
        now = clock()
        with db.reading(pdca.engine) as conn:
            try:
                strategy = service.strategy_id(conn, pdca.strategy_code)
                cycle = service.find_cycle(conn, strategy=strategy, code=code, fy=fy)
            except NotFound as exc:
                t = translator(lang)
                return page(request, "message.html", visitor, 404, heading=t("not_found"), text=exc.message, error=True)
            story = service.cycle_story(conn, pdca.workflow, cycle, calendar=pdca.calendar,
                                        today=pdca.calendar.today(now))
            saved = drafts.load(conn, cycle_id=cycle)
            steps = []
            for allowed in story["allowed"]:
                trigger = ACTION_CYCLE.trigger(allowed["trigger"], story["state"])
                if trigger is None:
                    continue
                may = visitor.email in allowed["by"] or ("system" in allowed["by"] and visitor.admin)
                drafting = drafts.may_draft(conn, person_id=visitor.person_id, email=visitor.email,
                                            roles=trigger.roles, holders=allowed["by"])
                if may or drafting:
                    draft = saved.get(trigger.name)
                    steps.append({"trigger": trigger.name, "label": trigger.label(lang), "fields": allowed["fields"],
                                  "may_fire": may, "may_draft": drafting and trigger.fields != (),
                                  "form": draft["values"] if draft else {},
                                  "draft_by": draft["saved_by"] if draft else None})
        zone = pdca.calendar.zone
        for h in story["history"]:
            h["at"] = datetime.fromisoformat(h["at"]).astimezone(zone).isoformat()
        form = extra.pop("form", None)
        if form is not None:  # a refused form comes back as it was sent
            for step in steps:
                if step["trigger"] == form.get("trigger"):
                    step["form"] = form
        with db.reading(pdca.engine) as conn:
            asked = opinions.for_cycle(conn, cycle)
            may_ask = story["state"] in opinions.ASKING_STATES and (
                visitor.admin or service.sits_on(conn, person_id=visitor.person_id, key="promotion"))
            advisors = opinions.advisors(conn) if may_ask else []
        title = (story["title_en"] or story["title_ja"]) if lang == "en" else story["title_ja"]
        return page(request, "action.html", visitor, status, s=story, steps=steps, title=title, opinions=asked,
                    may_ask=may_ask, advisors=advisors, **extra)

    @app.post("/actions/{code}/{fy}/opinions", response_class=HTMLResponse)
    def ask_opinion(request: Request, code: str, fy: int, csrf: str = Form(""), advisor: str = Form(""),
                    question: str = Form(""), due: str = Form("")) -> Response:
        visitor = visitor_of(request)
        now = clock()
        try:
            check_csrf(visitor, csrf)
            try:
                due_date = date.fromisoformat(due)
            except ValueError:
                raise InvalidFields([("due", f"{due!r} is not a date (YYYY-MM-DD)")]) from None
            with db.writing(pdca.engine) as conn:
                strategy = service.strategy_id(conn, pdca.strategy_code)
                cycle = service.find_cycle(conn, strategy=strategy, code=code, fy=fy)
                opinions.ask(conn, cycle_id=cycle, advisor=advisor, question=question, due=due_date, by=visitor.actor,
                             today=pdca.calendar.today(now), now=now)
        except Refused as exc:
            problems = list(exc.problems) if isinstance(exc, InvalidFields) else []
            return action_page(request, visitor, code, fy, status_of(exc), error=exc.message, problems=problems)
        return RedirectResponse(f"/actions/{code}/{fy}?done=1", status_code=303)

    @app.post("/opinions/{request_id}/answer", response_class=HTMLResponse)
    def answer_opinion(request: Request, request_id: int, csrf: str = Form(""), answer: str = Form(""),
                       code: str = Form(""), fy: int = Form(0)) -> Response:
        visitor = visitor_of(request)
        try:
            check_csrf(visitor, csrf)
            with db.writing(pdca.engine) as conn:
                opinions.answer(conn, request_id=request_id, text=answer, by=visitor.actor, now=clock())
        except Refused as exc:
            problems = list(exc.problems) if isinstance(exc, InvalidFields) else []
            return action_page(request, visitor, code, fy, status_of(exc), error=exc.message, problems=problems)
        return RedirectResponse(f"/actions/{code}/{fy}?done=1", status_code=303)

    @app.get("/actions/{code}/{fy}", response_class=HTMLResponse)
    def action(request: Request, code: str, fy: int) -> Response:
        return action_page(request, visitor_of(request), code, fy)

    @app.post("/actions/{code}/{fy}/fire", response_class=HTMLResponse)
    async def fire(request: Request, code: str, fy: int) -> Response:
        visitor = visitor_of(request)
        form = await request.form()
        values = {k: str(v) for k, v in form.multi_items()}
        raw = {k: v for k, v in values.items() if k not in ("csrf", "trigger", "version")}
        trigger_name = values.get("trigger", "")
        if "save_draft" in values:
            raw.pop("save_draft", None)
            return save_draft(request, visitor, code, fy, trigger_name, values, raw)
        try:
            check_csrf(visitor, values.get("csrf", ""))
            version = int(values.get("version") or 0) or None
            with db.writing(pdca.engine) as conn:
                strategy = service.strategy_id(conn, pdca.strategy_code)
                cycle = service.find_cycle(conn, strategy=strategy, code=code, fy=fy)
                instance = pdca.workflow.store.load(conn, cycle)
                trigger = ACTION_CYCLE.trigger(trigger_name, instance.state) if instance else None
                for f in trigger.fields if trigger else ():
                    if f.type == "lines" and f.name in raw:
                        raw[f.name] = [line for line in str(raw[f.name]).splitlines() if line.strip()]
                pdca.workflow.fire_in(conn, cycle, trigger_name, visitor.actor, raw, now=clock(),
                                      expected_version=version)
                drafts.discard(conn, cycle_id=cycle, trigger=trigger_name)
        except Refused as exc:
            problems = list(exc.problems) if isinstance(exc, InvalidFields) else []
            return action_page(request, visitor, code, fy, status_of(exc), error=exc.message, problems=problems,
                               form=values)
        return RedirectResponse(f"/actions/{code}/{fy}?done=1", status_code=303)

    def save_draft(request: Request, visitor: auth.Visitor, code: str, fy: int, trigger_name: str,
                   values: dict[str, str], raw: dict[str, Any]) -> Response:
        try:
            check_csrf(visitor, values.get("csrf", ""))
            with db.writing(pdca.engine) as conn:
                strategy = service.strategy_id(conn, pdca.strategy_code)
                cycle = service.find_cycle(conn, strategy=strategy, code=code, fy=fy)
                instance = pdca.workflow.store.load(conn, cycle)
                trigger = ACTION_CYCLE.trigger(trigger_name, instance.state) if instance else None
                if trigger is None:
                    raise NotAllowedNow(f"{trigger_name} is not possible now", state=instance.state if instance else "",
                                        allowed=[])
                holders = pdca.workflow.store.holders(conn, instance, trigger.roles)  # type: ignore[arg-type]
                if not drafts.may_draft(conn, person_id=visitor.person_id, email=visitor.email, roles=trigger.roles,
                                        holders=holders):
                    raise WrongRole(f"{visitor.email} may not draft {trigger_name}", roles=trigger.roles,
                                    holders=holders)
                drafts.save(conn, cycle_id=cycle, trigger=trigger_name, values=raw, by=visitor.email, now=clock())
        except Refused as exc:
            return action_page(request, visitor, code, fy, status_of(exc), error=exc.message, form=values)
        return RedirectResponse(f"/actions/{code}/{fy}?done=draft", status_code=303)

    # -- the public report (no sign-in) --------------------------------------------------

    @app.get("/public", response_class=HTMLResponse)
    def public_index(request: Request) -> Response:
        with db.reading(pdca.engine) as conn:
            years = results.published(conn, strategy_code=pdca.strategy_code)
        return page(request, "public.html", None, years=years)

    def nothing_there(what: str) -> Response:
        return JSONResponse({"error": "not_found", "message": what}, status_code=404)

    def plausible(fy: int, number: int = 1) -> bool:
        return 1900 <= fy <= 2200 and 1 <= number <= 100_000

    @app.get("/public/{fy}/")
    def public_latest(fy: int) -> Response:
        if not plausible(fy):
            return nothing_there(f"FY{fy} is not published")
        with db.reading(pdca.engine) as conn:
            latest = results.latest(conn, strategy_code=pdca.strategy_code, fy=fy)
        if latest is None:
            return JSONResponse({"error": "not_found", "message": f"FY{fy} is not published"}, status_code=404)
        return RedirectResponse(f"/public/{fy}/v{latest['version']}/", status_code=303)

    @app.get("/public/{fy}/v{number}/{path:path}")
    def public_file(fy: int, number: int, path: str) -> Response:
        if not plausible(fy, number) or "\x00" in path:
            return nothing_there(f"FY{fy} v{number}/{path}")
        with db.reading(pdca.engine) as conn:
            publication = results.version(conn, strategy_code=pdca.strategy_code, fy=fy, number=number)
        if publication is None:
            return JSONResponse({"error": "not_found", "message": f"FY{fy} v{number} is not published"},
                                status_code=404)
        root = ensure_site(pdca, publication).resolve()
        wanted = (root / (path or "index.html")).resolve()
        if wanted.is_dir():
            wanted = wanted / "index.html"
        if not wanted.is_relative_to(root) or not wanted.is_file():
            return JSONResponse({"error": "not_found", "message": path}, status_code=404)
        return FileResponse(wanted)

    # -- admin and secretariat ------------------------------------------------------------

    def admin_of(request: Request) -> auth.Visitor:
        visitor = visitor_of(request)
        if not visitor.admin:
            raise WrongRole(f"{visitor.email} is not an admin", roles=("admin",), holders=())
        return visitor

    @app.exception_handler(WrongRole)
    async def _not_admin(request: Request, exc: WrongRole) -> Response:
        t = translator(language(request))
        return page(request, "message.html", None, 403, heading=t("forbidden"), text=exc.message, error=True)

    @app.get("/admin", response_class=HTMLResponse)
    def admin_calendar(request: Request, fy: int | None = None) -> Response:
        visitor = admin_of(request)
        lang = language(request)
        now = clock()
        year = fy if fy is not None else pdca.calendar.fiscal_year(now)
        milestones = [
            {"name": m.name, "date": m.day.isoformat(), "rule_date": m.when.rule.isoformat(), "shifted": m.when.moved,
             "reasons": m.when.reasons, "what": m.what(lang)}
            for m in pdca.calendar.year(year)
        ]
        with db.reading(pdca.engine) as conn:
            late = service.late_cycles(conn, calendar=pdca.calendar, today=pdca.calendar.today(now), language=lang)
        return page(request, "admin.html", visitor, section="calendar", fy=year, fy_label=fy_label(year),
                    milestones=milestones, late=late)

    @app.get("/admin/calendar.ics")
    def admin_ics(request: Request, fy: int) -> Response:
        admin_of(request)
        title = f"{pdca.settings.strategy.name_ja} {fy_label(fy)}"
        body = milestones_ics(pdca.calendar.year(fy), strategy=pdca.strategy_code, title=title,
                              language=language(request), stamp=clock())
        return Response(body, media_type="text/calendar; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="pdca-fy{fy}.ics"'})

    @app.get("/admin/outbox", response_class=HTMLResponse)
    def admin_outbox(request: Request, status: str | None = None) -> Response:
        visitor = admin_of(request)
        with db.reading(pdca.engine) as conn:
            messages = list_messages(conn, status=status or None)
        return page(request, "admin.html", visitor, section="outbox", messages=messages, status_filter=status)

    @app.post("/admin/outbox/retry")
    def admin_retry(request: Request, csrf: str = Form("")) -> Response:
        visitor = admin_of(request)
        check_csrf(visitor, csrf)
        with db.writing(pdca.engine) as conn:
            count = retry(conn, all_dead=True)
        return RedirectResponse(f"/admin/outbox?done={count}", status_code=303)

    @app.get("/admin/audit", response_class=HTMLResponse)
    def admin_audit(request: Request, code: str | None = None, actor: str | None = None,
                    trigger: str | None = None) -> Response:
        visitor = admin_of(request)
        with db.reading(pdca.engine) as conn:
            events = service.audit_log(conn, code=code or None, actor=actor or None, trigger=trigger or None)
        return page(request, "admin.html", visitor, section="audit", events=events,
                    filters={"code": code, "actor": actor, "trigger": trigger})

    @app.get("/admin/people", response_class=HTMLResponse)
    def admin_people(request: Request) -> Response:
        visitor = admin_of(request)
        with db.reading(pdca.engine) as conn:
            directory = service.directory_view(conn)
        return page(request, "admin.html", visitor, section="people", directory=directory)

    return app
