"""The JSON API: the same operations as the pages and the CLI, for scripts, with personal
API tokens (`pdca token create`). Refusals come back as JSON with the reason:
401 bad token, 403 wrong role, 404 unknown, 409 stale or not possible now (with what is),
422 invalid fields (each named)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.web import auth
from engine import db
from engine.errors import GuardRefused, InvalidFields, NotAllowedNow, NotFound, Refused, Stale, WrongRole
from workflows import service

router = APIRouter(prefix="/api", tags=["cycles"])
STATUS = {WrongRole: 403, Stale: 409, NotAllowedNow: 409, GuardRefused: 409, InvalidFields: 422, NotFound: 404}


class Unauthorized(Exception):
    """No token, or one that is unknown or revoked: answered 401 with this message."""


def _now(request: Request) -> datetime:
    return request.app.state.clock()


def api_visitor(request: Request, authorization: Annotated[str | None, Header()] = None) -> auth.Visitor:
    secret = authorization.removeprefix("Bearer ").strip() if authorization else None
    engine, now = request.app.state.pdca.engine, _now(request)
    with db.reading(engine) as conn:
        use = auth.find_token(conn, secret)
    if use is None:
        raise Unauthorized("a valid API token is required (Authorization: Bearer ...; see `pdca token create`)")
    if use.worth_recording(now):
        with db.writing(engine) as conn:
            auth.record_token_use(conn, use.token_id, now=now)
    return use.visitor


Visitor = Annotated[auth.Visitor, Depends(api_visitor)]


def refusal(exc: Refused) -> JSONResponse:
    body: dict[str, Any] = {"error": exc.code, "message": exc.message}
    if isinstance(exc, NotAllowedNow):
        body |= {"state": exc.state, "allowed": list(exc.allowed)}
    if isinstance(exc, InvalidFields):
        body["problems"] = [{"field": name, "problem": why} for name, why in exc.problems]
    if isinstance(exc, WrongRole):
        body["by"] = list(exc.holders)
    if isinstance(exc, GuardRefused):
        body["reasons"] = list(exc.reasons)
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    return JSONResponse(body, status_code=status)


class FireRequest(BaseModel):
    trigger: str
    fields: dict[str, Any] = Field(default_factory=dict)
    expected_version: int | None = None


@router.get("/cycles")
def list_cycles(request: Request, visitor: Visitor, fy: int | None = None, state: str | None = None) -> Any:
    pdca = request.app.state.pdca
    with db.reading(pdca.engine) as conn:
        try:
            strategy = service.strategy_id(conn, pdca.strategy_code)
        except Refused as exc:
            return refusal(exc)
        return service.list_cycles(conn, strategy=strategy, fy=fy, state=state)


@router.get("/cycles/{code}/{fy}")
def show_cycle(request: Request, visitor: Visitor, code: str, fy: int) -> Any:
    pdca = request.app.state.pdca
    with db.reading(pdca.engine) as conn:
        try:
            strategy = service.strategy_id(conn, pdca.strategy_code)
            cycle = service.find_cycle(conn, strategy=strategy, code=code, fy=fy)
            return service.cycle_story(conn, pdca.workflow, cycle, calendar=pdca.calendar,
                                       today=pdca.calendar.today(_now(request)))
        except Refused as exc:
            return refusal(exc)


@router.post("/cycles/{code}/{fy}/fire")
def fire(request: Request, visitor: Visitor, code: str, fy: int, body: FireRequest) -> Any:
    pdca = request.app.state.pdca
    try:
        with db.writing(pdca.engine) as conn:
            strategy = service.strategy_id(conn, pdca.strategy_code)
            cycle = service.find_cycle(conn, strategy=strategy, code=code, fy=fy)
            events = pdca.workflow.fire_in(conn, cycle, body.trigger, visitor.actor, body.fields, now=_now(request),
                                           expected_version=body.expected_version)
    except Refused as exc:
        return refusal(exc)
    return {"events": [e.__dict__ for e in events]}
