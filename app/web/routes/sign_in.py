"""Signing in by an emailed link (or an admin's password), and out."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.mail import queue_now
from app.web import auth
from app.web.i18n import translator
from app.web.site import CSRF_COOKIE, SESSION_COOKIE, Site
from engine import db

router = APIRouter(include_in_schema=False)


def _site(request: Request) -> Site:
    return request.app.state.site


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: str = "/") -> Response:
    site = _site(request)
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = site.page(request, "sign_in.html", None, csrf=token, next_url=auth.safe_next(next))
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _too_many(request: Request, site: Site) -> Response:
    """Past a sign-in limit: said in words, with when to try again; nothing is sent."""
    t = translator(site.language(request))
    minutes = int(auth.WINDOW.total_seconds() // 60)
    response = site.page(request, "message.html", None, 429, heading=t("too_many"), error=True,
                         text=t("too_many_text").format(minutes=minutes))
    response.headers["Retry-After"] = str(int(auth.WINDOW.total_seconds()))
    return response


def _forged(request: Request, site: Site) -> Response:
    t = translator(site.language(request))
    return site.page(request, "message.html", None, 403, heading=t("forbidden"), error=True,
                     text="The form did not come from this site; reload it and try again.")


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, email: str = Form(...), csrf: str = Form(""), next: str = Form("/")) -> Response:
    site = _site(request)
    t = translator(site.language(request))
    if not auth.same_secret(request.cookies.get(CSRF_COOKIE, ""), csrf):
        return _forged(request, site)
    now = site.clock()
    web = site.pdca.settings.web
    client = _client(request)
    with db.writing(site.pdca.engine) as conn:
        if auth.too_many(conn, kind="link", address=email, client=client, now=now):
            return _too_many(request, site)
        auth.note_attempt(conn, kind="link", address=email, client=client, now=now)
        created = auth.create_link(conn, email=email, next_url=next, now=now, minutes=web.sign_in_minutes)
        if created is not None:
            secret, visitor = created
            link = f"{site.pdca.settings.links_base}/sign-in/{secret}"
            queue_now(site.pdca, conn, kind="sign_in_link", email=visitor.email, now=now,
                      extra={"link": link, "expires_minutes": web.sign_in_minutes})
    return site.page(request, "message.html", None, heading=t("link_sent"), text=t("link_sent_text"))


@router.post("/sign-in/password", response_class=HTMLResponse)
def sign_in_with_password(request: Request, email: str = Form(...), password: str = Form(...),
                          csrf: str = Form(""), next: str = Form("/")) -> Response:
    site = _site(request)
    t = translator(site.language(request))
    if not auth.same_secret(request.cookies.get(CSRF_COOKIE, ""), csrf):
        return _forged(request, site)
    web = site.pdca.settings.web
    now, client = site.clock(), _client(request)
    with db.writing(site.pdca.engine) as conn:
        if auth.too_many(conn, kind="password", address=email, client=client, now=now):
            return _too_many(request, site)
        session = auth.password_session(conn, email=email, password=password, now=now,
                                        session_days=web.session_days)
        auth.note_attempt(conn, kind="password", address=email, client=client, now=now, failed=session is None)
    if session is None:
        return site.page(request, "message.html", None, 401, heading=t("link_invalid"), error=True,
                         text=t("wrong_password"), next_step=("/sign-in", t("go_sign_in")))
    response = RedirectResponse(auth.safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", max_age=web.session_days * 86400)
    return response


@router.get("/sign-in/{secret}", response_class=HTMLResponse)
def follow_link(request: Request, secret: str) -> Response:
    site = _site(request)
    web = site.pdca.settings.web
    with db.writing(site.pdca.engine) as conn:
        redeemed = auth.redeem_link(conn, secret, now=site.clock(), session_days=web.session_days)
    if redeemed is None:
        t = translator(site.language(request))
        return site.page(request, "message.html", None, 401, heading=t("link_invalid"), text=t("link_invalid_text"),
                         error=True, next_step=("/sign-in", t("go_sign_in")))
    session, target = redeemed
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", max_age=web.session_days * 86400)
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf: str = Form("")) -> Response:
    site = _site(request)
    visitor = site.visitor(request)
    site.check_csrf(visitor, csrf)
    with db.writing(site.pdca.engine) as conn:
        auth.end_session(conn, request.cookies.get(SESSION_COOKIE), now=site.clock())
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
