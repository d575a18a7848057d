"""The web app: server-rendered pages (Jinja2), no script and no external asset, and the
JSON API. This module only composes: the routes are grouped by audience in
`app/web/routes/`, what every page shares is in `app/web/site.py`, and every page and step
asks the same authorization answer of the workflow (`Workflow.options`).

A strategy's pages are at the site's root for the deployment's first strategy, and under
/s/CODE for every strategy (the first included).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from app.bootstrap import Pdca
from app.database_errors import explain as explain_database_error
from app.web import api, api_clock
from app.web.encoding import Utf8Forms
from app.web.headers import SecurityHeaders
from app.web.i18n import translator
from app.web.routes import (
    admin,
    admin_people,
    councils,
    councils_public,
    hub_join,
    hub_photos,
    hub_public,
    instances,
    openings,
    public,
    sign_in,
    work,
)
from app.web.site import HERE, SignInRequired, Site
from engine.clock import utc_now
from engine.errors import NotFound, WrongRole

STRATEGY = "/s/{strategy}"
AS_READ: dict[Any, Callable[[Any], Any]] = {
    bytes: lambda b: b.decode("utf-8", "replace"), float: lambda f: f if math.isfinite(f) else str(f)}
"""What a request's unreadable input is echoed as: JSON holds neither bytes that are not
UTF-8 nor infinity (a body of `1e999`)."""
CANNOT_HOLD = {
    "ja": "送られた値のどれかが長すぎるか、保存できない文字（NUL）や範囲外の数を含んでいます。何も保存されていません。"
          "値を直して、もう一度送ってください。",
    "en": "A value sent is too long, or holds a character (NUL) or a number that cannot be stored; nothing was "
          "saved. Correct it and send it again."}
"""Said when the database refuses a value (PostgreSQL: text with a NUL character, longer than
its column, a number out of range)."""
log = logging.getLogger(__name__)


def _is_api(request: Request) -> bool:
    """The JSON API answers errors in JSON, as its clients expect."""
    return request.url.path.startswith(("/api/", "/openapi.json")) or request.url.path == "/api"


def create_app(pdca: Pdca, *, clock: Callable[[], datetime] = utc_now) -> FastAPI:
    """The app for one deployment; `clock` is replaceable so tests pass the time."""
    app = FastAPI(title="pdca", docs_url=None, redoc_url=None)
    site = Site(pdca, clock)
    app.state.pdca = pdca
    app.state.clock = clock
    app.state.site = site
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
    app.include_router(api_clock.router)
    app.include_router(sign_in.router)
    app.include_router(work.router)
    for router in (admin.router, admin_people.router, councils.router, hub_join.router, hub_public.router,
                   hub_photos.router, councils_public.router,
                   public.router, openings.router, instances.router):  # /w/NAME/new before /w/NAME/ID
        app.include_router(router)
        app.include_router(router, prefix=STRATEGY)

    async def not_utf8(scope: Scope, receive: Receive, send: Send) -> None:
        """A form whose bytes are not UTF-8: refused before any route reads it, nothing stored."""
        request = Request(scope, receive)
        t = translator(site.language(request))
        response: Response = JSONResponse({"error": "not_utf8", "message": t("not_utf8_text")}, status_code=400) \
            if _is_api(request) else site.page(request, "message.html", None, 400, heading=t("not_utf8"),
                                               error=True, text=t("not_utf8_text"))
        await response(scope, receive, send)

    app.add_middleware(Utf8Forms, refuse=not_utf8)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(api.Unauthorized)
    async def _no_token(_request: Request, exc: api.Unauthorized) -> Response:
        return JSONResponse({"error": "unauthorized", "message": str(exc)}, status_code=401)

    @app.exception_handler(SignInRequired)
    async def _sign_in_first(request: Request, _exc: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={target}", status_code=303)

    @app.exception_handler(WrongRole)
    async def _forbidden(request: Request, _exc: WrongRole) -> Response:
        return site.error_page(request, 403)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, _exc: NotFound) -> Response:
        return site.error_page(request, 404)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Unknown addresses, wrong methods and the like: a page for people, JSON for the API."""
        if _is_api(request):
            return await http_exception_handler(request, exc)
        return site.error_page(request, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _unreadable(request: Request, exc: RequestValidationError) -> Response:
        """An address with a value that is not what the page takes (?fy=abc): said in words."""
        if _is_api(request):
            problems = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
            return JSONResponse({"error": "invalid_field", "message": "; ".join(
                f"{p['field']}: {p['problem']}" for p in problems), "problems": problems,
                "detail": jsonable_encoder(exc.errors(), custom_encoder=AS_READ)}, status_code=422)
        return site.error_page(request, 422)

    @app.exception_handler(DataError)
    async def _cannot_hold(request: Request, exc: DataError) -> Response:
        """A value the database will not hold is the sender's to correct: 422 in words, with
        nothing saved (its transaction rolled back), not the 503 of a database out of reach."""
        log.warning("a value the database cannot hold on %s %s: %s", request.method, request.url.path, exc.orig)
        lang = site.language(request)
        if _is_api(request):
            return JSONResponse({"error": "invalid_field", "message": CANNOT_HOLD[lang]}, status_code=422)
        return site.page(request, "message.html", site.visitor_if_any(request), 422,
                         heading=translator(lang)("refused"), error=True, text=CANNOT_HOLD[lang])

    @app.exception_handler(DBAPIError)
    async def _database_unavailable(request: Request, exc: DBAPIError) -> Response:
        """The database busy past its timeout, restarting, or out of reach: the person is
        told to try again in a moment (503, Retry-After), nothing was saved; the operator
        reads the cause in the log, in words (`app.database_errors`)."""
        log.warning("database error on %s %s: %s", request.method, request.url.path,
                    explain_database_error(exc, pdca.settings.database.url))
        if _is_api(request):
            response: Response = JSONResponse(
                {"error": "database_unavailable",
                 "message": "the database is busy or cannot be reached; nothing was saved: try again"},
                status_code=503)
        else:
            response = site.error_page(request, 503)
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> Response:
        """A fault of ours is logged with its traceback for us, and never shown to the person."""
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        if _is_api(request):
            return JSONResponse({"error": "internal", "message": "internal server error"}, status_code=500)
        return site.error_page(request, 500)

    return app
