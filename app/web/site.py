"""What every page shares: the templates, the person's language, who is signed in, the
form's CSRF check, and which strategy a page is about.

A strategy's pages live at the site's root for the deployment's first strategy and under
`/s/CODE` for the others; a page about a strategy is shown only to people with a part in
it (a seat, an action they own) and to its admins.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection

from app.bootstrap import Pdca
from app.web import auth
from app.web.bounds import whole_number
from app.web.i18n import translator
from engine import db
from engine.errors import NotFound, WrongRole
from words.catalogue import say
from words.numbers import format_number, format_percent, format_quantity, plain
from workflows import bodies, service
from workflows.fiscal import fy_label
from workflows.messages import Links
from workflows.tenants import Tenant

HERE = Path(__file__).parent
SESSION_COOKIE = "pdca_session"
CSRF_COOKIE = "pdca_csrf"
LANG_COOKIE = "pdca_lang"


class SignInRequired(Exception):
    pass


class Site:
    def __init__(self, pdca: Pdca, clock: Callable[[], datetime]) -> None:
        self.pdca = pdca
        self.clock = clock
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.templates.env.filters["local"] = lambda iso: datetime.fromisoformat(iso).astimezone(
            pdca.calendar.zone).strftime("%Y-%m-%d %H:%M")
        self.templates.env.filters["num"] = format_number
        self.templates.env.filters["plain"] = plain
        self.templates.env.filters["qty"] = format_quantity
        self.templates.env.filters["pct"] = format_percent
        self.links = Links("", pdca.tenants)

    @property
    def registry(self) -> Any:
        return self.pdca.registry

    # -- the person -----------------------------------------------------------------------

    def language(self, request: Request) -> str:
        chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "ja"
        return chosen if chosen in ("ja", "en") else "ja"

    def visitor(self, request: Request) -> auth.Visitor:
        with db.reading(self.pdca.engine) as conn:
            visitor = auth.session_visitor(conn, request.cookies.get(SESSION_COOKIE), now=self.clock())
        if visitor is None:
            raise SignInRequired
        return visitor

    def visitor_if_any(self, request: Request) -> auth.Visitor | None:
        """The signed-in person, or None: an error page shows the navigation when it can,
        and must never fail itself for want of a session."""
        try:
            return self.visitor(request)
        except Exception:  # an error page must render whatever is broken
            return None

    def check_csrf(self, visitor: auth.Visitor, token: str) -> None:
        if not auth.same_secret(visitor.csrf, token):
            raise WrongRole("the form is out of date or did not come from this site; reload the page",
                            roles=(), holders=())

    # -- the strategy ---------------------------------------------------------------------

    def tenant(self, conn: Connection, code: str | None) -> Tenant:
        """The strategy a page is about: the one in its address, else the first."""
        return self.pdca.tenants.by_code(conn, code or self.pdca.tenants.default_code)

    def prefix(self, tenant: Tenant | None) -> str:
        return self.links.prefix(tenant.code if tenant else None)

    def admits(self, conn: Connection, visitor: auth.Visitor, tenant: Tenant) -> None:
        """A strategy's pages are for those with a part in it: else it is not there for them."""
        part = bodies.strategies_of(conn, visitor.person_id)
        if part is not None and tenant.id not in part:
            raise NotFound(f"there is no strategy {tenant.code} for {visitor.email}")

    def administers(self, conn: Connection, visitor: auth.Visitor, tenant: Tenant) -> bool:
        return service.may_administer(conn, tenant=tenant.id, person_id=visitor.person_id)

    # -- the page ---------------------------------------------------------------------------

    def flash(self, request: Request, lang: str) -> str | None:
        """The banner after a step, chosen from our own words: a link cannot make the site
        say something it did not (`done=1`, `done=draft`, or a count)."""
        done = request.query_params.get("done")
        t = translator(lang)
        if done == "draft":
            return t("draft_saved")
        if done in ("calendar", "reminders", "person", "seat", "body", "sent"):
            return t(f"{done}_saved")
        count = whole_number(done)
        if count is not None:
            bulk = "/councils/" in request.url.path or "/admin" in request.url.path  # a count of items
            return f"{t('done')}: {count}" if bulk else t("done")
        return None

    def page(self, request: Request, name: str, visitor: auth.Visitor | None, status: int = 200, *,
             tenant: Tenant | None = None, **context: Any) -> Response:
        lang = self.language(request)
        nav = self._nav(visitor, tenant)
        response = self.templates.TemplateResponse(request, name, {
            "lang": lang, "t": translator(lang), "say": lambda key, **values: say(key, lang, **values),
            "visitor": visitor, "flash": self.flash(request, lang),
            "strategy": tenant.name(lang) if tenant else self._site_name(lang), "prefix": self.prefix(tenant),
            "nav": nav, **context,
        }, status_code=status)
        if "lang" in request.query_params:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax",
                                secure=request.url.scheme == "https")
        return response

    def error_page(self, request: Request, status: int) -> Response:
        """An error as a page in the person's language, with the navigation: what happened
        and where to go next (sign in, My work, or the published results)."""
        key = f"error_{status}" if status in (401, 403, 404, 405, 422, 500, 503) else "error_other"
        t = translator(self.language(request))
        visitor = self.visitor_if_any(request) if status != 401 else None
        if status == 401 or (visitor is None and not request.url.path.startswith(("/public", "/s/"))):
            next_step = ("/sign-in", t("go_sign_in"))
        elif visitor is None:
            next_step = ("/public", t("go_public"))
        else:
            next_step = ("/", t("back_to_work"))
        try:
            return self.page(request, "message.html", visitor, status, heading=t(key), text=t(f"{key}_text"),
                             error=True, next_step=next_step)
        except Exception:  # the navigation failed: show the page without it
            return self.page(request, "message.html", None, status, heading=t(key), text=t(f"{key}_text"),
                             error=True, next_step=next_step)

    def _site_name(self, lang: str) -> str:
        first = self.pdca.settings.strategy
        return first.name_en if lang == "en" else first.name_ja

    def _nav(self, visitor: auth.Visitor | None, tenant: Tenant | None) -> dict[str, Any]:
        """The links a signed-in person sees: councils they sit on, admin if they administer."""
        if visitor is None:
            return {"councils": [], "admin": False}
        now = self.clock()
        with db.reading(self.pdca.engine) as conn:
            tenant = tenant or self.tenant(conn, None)
            seats = bodies.seats_of(conn, strategy=tenant.id, person_id=visitor.person_id)
            names = bodies.body_names(conn, strategy=tenant.id)
            admin = self.administers(conn, visitor, tenant)
            todo = len(service.work_for(conn, self.registry, self.pdca.tenants.configured(conn),
                                        person_id=visitor.person_id, now=now))
            councils = []
            for key in service.bodies_with_queues(self.registry):
                if key in seats or admin:
                    count = len(service.body_rows(conn, self.registry, tenant=tenant, body=key,
                                                  today=tenant.calendar.today(now)))
                    ja, en = names.get(key, (key, key))
                    councils.append({"key": key, "name_ja": ja, "name_en": en, "count": count})
        return {"councils": councils, "admin": admin, "todo": todo}


def people_named(conn: Connection, emails: set[str]) -> dict[str, tuple[str, str | None, str | None]]:
    """email -> (name, English name, division), for saying who did what."""
    from sqlalchemy import select

    from workflows.models import Person

    if not emails:
        return {}
    rows = conn.execute(select(Person.email, Person.name, Person.name_en, Person.division)
                        .where(Person.email.in_(sorted(emails))))  # type: ignore[attr-defined]
    return {r.email: (r.name, r.name_en, r.division) for r in rows}


def _calendar_sentence(fields: dict[str, Any], who: str, language: str) -> str:
    """An admin's change of a fiscal year's calendar: the milestone moved, or closed dates."""
    from words.catalogue import say

    fy = fy_label(int(fields.get("fy", 0)))
    milestone = fields.get("milestone")
    if milestone:
        old, new = fields.get("old", ""), fields.get("new", "")
        return say("history.calendar", language, who=who, fy=fy, milestone=say(f"milestone.{milestone}", language),
                   old=old, new=new)
    what = [say("history.closed_added", language, day=fields["closed_add"])] if fields.get("closed_add") else []
    if fields.get("closed_remove"):
        what.append(say("history.closed_removed", language, day=fields["closed_remove"]))
    return say("history.calendar_closed", language, who=who, fy=fy, what="; ".join(what))


def _directory_sentence(event: dict[str, Any], who: Any, language: str) -> str:
    """An admin's change of a person, a body's seats or its name, or the reminder series."""
    from words.catalogue import join, say
    from workflows.cancelled import series_words

    fields = event.get("fields") or {}
    actor = who(event["actor"])
    trigger = event.get("trigger")
    if trigger == "add_person":
        return say("history.person_added", language, who=actor, person=who(fields.get("email", "")))
    if trigger == "edit_person":
        changed = [say(f"sync_field.{k}", language) for k in fields.get("changes", {})]
        return say("history.person_edited", language, who=actor, person=who(fields.get("email", "")),
                   fields=join(changed, language))
    if trigger == "rename_body":
        ja, en = fields.get("changes", {}).get("name_en" if language == "en" else "name_ja", ["", ""])
        return say("history.body_renamed", language, who=actor, old=ja, new=en)
    if trigger == "set_reminders":
        return say("history.reminders", language, who=actor, old=series_words(fields.get("before", {}), language),
                   new=series_words(fields.get("after", {}), language))
    body = (fields.get("body_name") or ["", ""])[1 if language == "en" else 0]
    moves = [say("history.seat", language, who=actor, body=body, person=who(email),
                 old=say(f"seat.{old}", language) if old else say("page.seat_none", language),
                 new=say(f"seat.{new}", language) if new else say("page.seat_none", language))
             for email, old, new in fields.get("moved", [])]
    return "; ".join(moves)


def sentence(event: dict[str, Any], *, language: str, zone: Any, names: Any, spec: Any) -> dict[str, str]:
    """One history row as a person reads it: when (in the city's time), who (name and
    division) and what, in words."""
    from words.catalogue import say

    when = datetime.fromisoformat(event["at"]).astimezone(zone).strftime("%Y/%m/%d %H:%M")

    def who(email: str) -> str:
        if email == "system":
            return say("history.system_actor", language)
        name, name_en, division = names.get(email, (email, None, None))
        shown = (name_en or name) if language == "en" else name
        return say("history.person", language, name=shown, division=division) if division else shown

    trigger = event.get("trigger", "")
    fields = event.get("fields") or {}
    workflow = event.get("workflow")
    if workflow == "body" or (workflow == "calendar" and trigger == "set_reminders") or (
            workflow == "person" and trigger in ("add_person", "edit_person")):
        return {"when": when, "what": _directory_sentence(event, who, language)}
    if workflow == "person":
        person = who(fields.get("email", ""))
        key = "history.absent" if trigger == "mark_absent" else "history.back"
        return {"when": when, "what": say(key, language, who=who(event["actor"]), person=person)}
    if workflow == "action":
        key = {"import": "history.import", "adopt_plan": "history.adopt", "end_action": "history.ended",
               "set_owners": "history.reassign"}.get(trigger, "history.unknown")
        return {"when": when, "what": say(key, language, who=who(event["actor"]), file=fields.get("by", ""),
                                          step=trigger)}
    if workflow == "calendar":
        return {"when": when, "what": _calendar_sentence(fields, who(event["actor"]), language)}
    step = spec.name_of("trigger", trigger, language) if spec is not None else trigger
    if event["actor"] == "system":
        what = say("history.system", language, step=step)
    elif event.get("on_behalf") == "system":
        what = say("history.for_system", language, who=who(event["actor"]), step=step)
    else:
        what = say("history.by", language, who=who(event["actor"]), step=step)
    return {"when": when, "what": what, "who": who(event["actor"])}
