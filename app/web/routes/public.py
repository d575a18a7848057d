"""The published results (公表), without sign-in: each strategy's years and their versions."""

from __future__ import annotations

from typing import Any, NoReturn

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from app.public import ensure_review_site, ensure_site
from app.web.bounds import whole_number
from app.web.site import Site
from engine import db
from engine.errors import NotFound
from publishing import contributions
from workflows.fiscal import fy_label

router = APIRouter(include_in_schema=False)


def _results(site: Site) -> Any:
    """The yearly publication, made by the strategy's yearly workflow."""
    return site.registry.primary.options["results"]


def _nothing_there(what: str) -> NoReturn:
    """Nothing published there: the app's 404 page, in the reader's language."""
    raise NotFound(what)


def _serve(site_root: Any, path: str) -> Response:
    """A file of a published site; nothing outside it, whatever the path says."""
    root = site_root.resolve()
    wanted = (root / (path or "index.html")).resolve()
    if wanted.is_dir():
        wanted = wanted / "index.html"
    if not wanted.is_relative_to(root) or not wanted.is_file():
        return _nothing_there(path)
    return FileResponse(wanted)


def _plausible(fy: int, number: int = 1) -> bool:
    return 1900 <= fy <= 2200 and 1 <= number <= 100_000


def _code(site: Site, strategy: str | None) -> str | None:
    """The strategy's code, or None when there is no such strategy (a configured one, or
    one adopted in the database as a successor)."""
    code = strategy or site.pdca.tenants.default_code
    if code in site.pdca.tenants.codes:
        return code
    with db.reading(site.pdca.engine) as conn:
        try:
            return site.tenant(conn, code).code
        except NotFound:
            return None


def _reviews(site: Site) -> Any:
    """The store of the workflow whose instances are the strategies (their final reviews)."""
    return next((e.store for e in site.registry if e.options.get("strategy_level")), None)


@router.get("/public", response_class=HTMLResponse)
def public_index(request: Request, strategy: str | None = None) -> Response:
    site: Site = request.app.state.site
    code = _code(site, strategy)
    if code is None:
        return _nothing_there(f"no strategy {strategy}")
    with db.reading(site.pdca.engine) as conn:
        try:
            tenant = site.tenant(conn, code)
        except NotFound as exc:
            return _nothing_there(exc.message)
        years = _results(site).published(conn, strategy_code=code)
        reviews = _reviews(site)
        review = reviews.published_review(conn, tenant.id) if reviews is not None else None
    return site.page(request, "public.html", None, tenant=tenant, years=years, review=review)


def _contributions(request: Request, strategy: str | None) -> tuple[Site, Any, list[dict[str, Any]], int | None]:
    site: Site = request.app.state.site
    code = _code(site, strategy)
    reviews = _reviews(site)
    if code is None or reviews is None:
        return _nothing_there(f"no strategy {strategy}")
    with db.reading(site.pdca.engine) as conn:
        tenant = site.tenant(conn, code)
        table, fy = reviews.contribution_table(conn, tenant.id)
    return site, tenant, table, fy


@router.get("/public/contributions", response_class=HTMLResponse)
def public_contributions(request: Request, strategy: str | None = None) -> Response:
    """For each framework target, the actions and indicators serving it and where they
    stand in the latest year's results."""
    site, tenant, table, fy = _contributions(request, strategy)
    return site.page(request, "contributions.html", None, tenant=tenant, table=table,
                     fy_label=fy_label(fy) if fy else None)


@router.get("/public/contributions.csv")
def public_contributions_csv(request: Request, strategy: str | None = None) -> Response:
    _, tenant, table, _ = _contributions(request, strategy)
    return Response(contributions.csv_bytes(table), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="contributions-{tenant.code}.csv"'})


@router.get("/public/contributions.xlsx")
def public_contributions_xlsx(request: Request, strategy: str | None = None) -> Response:
    _, tenant, table, _ = _contributions(request, strategy)
    return Response(contributions.xlsx_bytes(table), headers={
        "Content-Disposition": f'attachment; filename="contributions-{tenant.code}.xlsx"'},
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@router.get("/public/review/{path:path}")
def public_review(request: Request, path: str, strategy: str | None = None) -> Response:
    """The final review as published: /public/review/ is the latest version, v<n>/ one."""
    site: Site = request.app.state.site
    code = _code(site, strategy)
    reviews = _reviews(site)
    head, _, rest = path.partition("/")
    number = whole_number(head[1:]) if head.startswith("v") else None
    if code is None or reviews is None or "\x00" in path or (number is not None and not _plausible(2000, number)):
        return _nothing_there(f"review/{path}")
    with db.reading(site.pdca.engine) as conn:
        tenant = site.tenant(conn, code)
        package = reviews.published_review(conn, tenant.id, number)
    if package is None:
        return _nothing_there("the final review is not published")
    if number is None:
        return RedirectResponse(f"{site.links.prefix(code)}/public/review/v{package['version']}/", status_code=303)
    return _serve(ensure_review_site(site.pdca, package), rest)


@router.get("/public/{fy}/")
def public_latest(request: Request, fy: int, strategy: str | None = None) -> Response:
    site: Site = request.app.state.site
    code = _code(site, strategy)
    if code is None or not _plausible(fy):
        return _nothing_there(f"FY{fy} is not published")
    with db.reading(site.pdca.engine) as conn:
        latest = _results(site).latest(conn, strategy_code=code, fy=fy)
    if latest is None:
        return _nothing_there(f"FY{fy} is not published")
    return RedirectResponse(f"{site.links.prefix(code)}/public/{fy}/v{latest['version']}/", status_code=303)


@router.get("/public/{fy}/v{number}/{path:path}")
def public_file(request: Request, fy: int, number: int, path: str, strategy: str | None = None) -> Response:
    site: Site = request.app.state.site
    code = _code(site, strategy)
    if code is None or not _plausible(fy, number) or "\x00" in path:
        return _nothing_there(f"FY{fy} v{number}/{path}")
    with db.reading(site.pdca.engine) as conn:
        publication = _results(site).version(conn, strategy_code=code, fy=fy, number=number)
    if publication is None:
        return _nothing_there(f"FY{fy} v{number} is not published")
    return _serve(ensure_site(site.pdca, publication), path)
