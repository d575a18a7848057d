"""The JSON API: the same operations as the pages and the CLI, for scripts, with personal
API tokens (`pdca token create`). Refusals come back as JSON with the reason:
401 bad token, 403 wrong role, 404 unknown, 409 stale or not possible now (with what is),
422 invalid fields (each named).

The strategy's yearly cycles are at /api/cycles (the first strategy) and
/api/strategies/CODE/cycles; any workflow's instance at /api/workflows/NAME/ID. A strategy
is there only for a token whose person has a part in it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from app.web import auth
from app.web.bounds import FY, OptionalFY, plausible_id
from engine import db
from engine.errors import GuardRefused, InvalidFields, NotAllowedNow, NotFound, Refused, Stale, WrongRole
from engine.runtime import Fired, Instance
from workflows import bodies, service
from workflows.registry import Entry
from workflows.tenants import Tenant


class Problem(BaseModel):
    field: str
    problem: str


class Refusal(BaseModel):
    """Every refusal the API answers, in one shape: `error` is stable for scripts, `message`
    is for people; the rest says more where it applies."""

    error: str = Field(description="unauthorized, wrong_role, not_found, stale, not_allowed_now, guard, "
                                   "invalid_field")
    message: str
    state: str | None = Field(default=None, description="not_allowed_now: the state it is in")
    allowed: list[str] | None = Field(default=None, description="not_allowed_now: what may be fired now")
    problems: list[Problem] | None = Field(default=None, description="invalid_field: each field and its problem")
    by: list[str] | None = Field(default=None, description="wrong_role: who may")
    reasons: list[str] | None = Field(default=None, description="guard: why not, in words")
    detail: list[dict[str, Any]] | None = Field(default=None, description="invalid_field from reading the "
                                                                          "request itself: each error as read")


REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": Refusal, "description": "no API token, or an unknown or revoked one"},
    403: {"model": Refusal, "description": "this token's person may not do this"},
    404: {"model": Refusal, "description": "no such strategy, action, cycle, workflow or instance"},
    409: {"model": Refusal, "description": "changed by someone else since (stale), not possible in its state, "
                                           "or refused by a guard"},
    422: {"model": Refusal, "description": "a field, a key or a value that is not what the route takes"},
    503: {"model": Refusal, "description": "the database is busy or cannot be reached: try again (Retry-After)"},
}
router = APIRouter(prefix="/api", tags=["cycles"], responses=REFUSALS)
STATUS = {WrongRole: 403, Stale: 409, NotAllowedNow: 409, GuardRefused: 409, InvalidFields: 422, NotFound: 404}


class Unauthorized(Exception):
    """No token, or one that is unknown or revoked: answered 401 with this message."""


def _now(request: Request) -> datetime:
    return request.app.state.clock()


class Bearer:
    """The API token a request carries, not yet looked up: a step's route reads it in the
    step's own write transaction (`in_step`), where its use is recorded too, instead of in
    a transaction of its own before it."""

    def __init__(self, secret: str, now: datetime) -> None:
        self.secret, self.now = secret, now

    def use(self, conn: Connection) -> auth.TokenUse:
        use = auth.find_token(conn, self.secret)
        if use is None:
            raise Unauthorized(NO_TOKEN)
        return use

    def in_step(self, conn: Connection) -> auth.Visitor:
        """Who this token acts for, its use recorded in this (write) transaction."""
        use = self.use(conn)
        if use.worth_recording(self.now):
            auth.record_token_use(conn, use.token_id, now=self.now)
        return use.visitor


NO_TOKEN = "a valid API token is required (Authorization: Bearer ...; see `pdca token create`)"


async def api_bearer(request: Request, authorization: Annotated[str | None, Header()] = None) -> Bearer:
    """No database here (this runs on the event loop): a request without a token is
    refused before anything else is read."""
    secret = authorization.removeprefix("Bearer ").strip() if authorization else None
    if not secret:
        raise Unauthorized(NO_TOKEN)
    return Bearer(secret, _now(request))


Token = Annotated[Bearer, Depends(api_bearer)]


def api_visitor(request: Request, bearer: Token) -> auth.Visitor:
    """For the routes that only read: the token looked up before, its use recorded (at
    most every few minutes) in a write of its own."""
    engine = request.app.state.pdca.engine
    with db.reading(engine) as conn:
        use = bearer.use(conn)
    if use.worth_recording(bearer.now):
        with db.writing(engine) as conn:
            auth.record_token_use(conn, use.token_id, now=bearer.now)
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
    model_config = ConfigDict(extra="forbid")

    trigger: str
    fields: dict[str, Any] = Field(default_factory=dict)
    expected_version: int | None = None


class Events(BaseModel):
    """What a step made: the step itself, and any automatic one that followed."""

    events: list[Fired]


STEP = {"response_model": None, "responses": {200: {"model": Events, "description": "the transitions it made"}}}
"""A step's route: its answer documented, not validated again on the way out (the events
come from the engine as they are; validating them cost a thread hop a request)."""


class OpenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trigger: str
    fields: dict[str, Any] = Field(default_factory=dict)
    about: int | None = Field(default=None, description="the id of the parent workflow's instance it is about")


def _tenant(request: Request, conn: Connection, visitor: auth.Visitor, strategy: str | None) -> Tenant:
    pdca = request.app.state.pdca
    tenant = pdca.tenants.by_code(conn, strategy or pdca.tenants.default_code)
    _admit(conn, visitor, tenant)
    return tenant


def _admit(conn: Connection, visitor: auth.Visitor, tenant: Tenant) -> None:
    """A token's person (active, as its look-up saw) sees the strategies they have a part
    in; the deployment's admin every one."""
    if visitor.admin:
        return
    if tenant.id not in bodies.parts_of(conn, visitor.person_id):
        raise NotFound(f"there is no strategy {tenant.code} for this token")


def _cycles(request: Request, visitor: auth.Visitor, strategy: str | None, fy: int | None,
            state: str | None) -> Any:
    pdca = request.app.state.pdca
    try:
        with db.reading(pdca.engine) as conn:
            tenant = _tenant(request, conn, visitor, strategy)
            return service.listing(conn, pdca.registry.primary, tenant=tenant.id, fy=fy, state=state)
    except Refused as exc:
        return refusal(exc)


def _show(request: Request, visitor: auth.Visitor, strategy: str | None, code: str, fy: int) -> Any:
    pdca = request.app.state.pdca
    entry = pdca.registry.primary
    try:
        with db.reading(pdca.engine) as conn:
            tenant = _tenant(request, conn, visitor, strategy)
            instance_id = entry.store.find(conn, tenant=tenant.id, key=code, fy=fy)
            return service.story(conn, entry, instance_id, today=tenant.calendar.today(_now(request)))
    except Refused as exc:
        return refusal(exc)


def _fire(request: Request, bearer: Bearer, workflow: str | None, body: FireRequest, *,
          strategy: str | None = None, code: str | None = None, fy: int | None = None,
          instance_id: int | None = None) -> Any:
    """A step as a script asks for it: the token, the strategy, the instance and the step
    itself in one write transaction (a refusal at any point writes nothing). `workflow`:
    its name (None: the strategy's yearly cycle)."""
    pdca = request.app.state.pdca
    try:
        with db.writing(pdca.engine) as conn:
            visitor = bearer.in_step(conn)
            entry = pdca.registry.primary if workflow is None else pdca.registry[workflow]
            target: Instance | int
            if instance_id is None:
                tenant = _tenant(request, conn, visitor, strategy)
                target = entry.locate(conn, tenant=tenant.id, key=code or "", fy=fy)
            else:
                target = _instance_tenant(request, conn, visitor, entry, instance_id)[1]
            events = entry.workflow.fire_in(conn, target, body.trigger, visitor.actor, body.fields,
                                            now=_now(request), expected_version=body.expected_version)
    except Refused as exc:
        return refusal(exc)
    return {"events": [e.__dict__ for e in events]}


def _instance_tenant(request: Request, conn: Connection, visitor: auth.Visitor, entry: Entry,
                     instance_id: int) -> tuple[Tenant, Instance]:
    """The instance's strategy, once this token may see it, and the instance as read."""
    if not plausible_id(instance_id):
        raise NotFound(f"there is no {entry.name} {instance_id}")
    instance = entry.store.load(conn, instance_id)
    if instance is None or instance.tenant is None:
        raise NotFound(f"there is no {entry.name} {instance_id}")
    tenant = request.app.state.pdca.tenants.get(conn, instance.tenant)
    _admit(conn, visitor, tenant)
    return tenant, instance


@router.get("/cycles")
def list_cycles(request: Request, visitor: Visitor, fy: OptionalFY = None, state: str | None = None) -> Any:
    return _cycles(request, visitor, None, fy, state)


@router.get("/cycles/{code}/{fy}")
def show_cycle(request: Request, visitor: Visitor, code: str, fy: FY) -> Any:
    return _show(request, visitor, None, code, fy)


@router.post("/cycles/{code}/{fy}/fire", **STEP)
def fire(request: Request, bearer: Token, code: str, fy: FY, body: FireRequest) -> Any:
    return _fire(request, bearer, None, body, code=code, fy=fy)


@router.get("/strategies/{strategy}/cycles")
def list_strategy_cycles(request: Request, visitor: Visitor, strategy: str, fy: OptionalFY = None,
                         state: str | None = None) -> Any:
    return _cycles(request, visitor, strategy, fy, state)


@router.get("/strategies/{strategy}/cycles/{code}/{fy}")
def show_strategy_cycle(request: Request, visitor: Visitor, strategy: str, code: str, fy: FY) -> Any:
    return _show(request, visitor, strategy, code, fy)


@router.post("/strategies/{strategy}/cycles/{code}/{fy}/fire", **STEP)
def fire_strategy_cycle(request: Request, bearer: Token, strategy: str, code: str, fy: FY,
                        body: FireRequest) -> Any:
    return _fire(request, bearer, None, body, strategy=strategy, code=code, fy=fy)


@router.get("/workflows")
def list_workflows(request: Request, visitor: Visitor) -> Any:
    """The workflows this deployment runs, with their states and who each waits on."""
    return [{"name": e.name, "label": {"ja": e.spec.label.ja, "en": e.spec.label.en}, "parent": e.parent,
             "states": [{"name": s.name, "label": {"ja": s.label.ja, "en": s.label.en}, "final": s.final,
                         "waits_on": list(e.spec.waits_on(s.name))} for s in e.spec.states],
             "openings": [t.name for t in e.spec.openings]}
            for e in request.app.state.pdca.registry]


@router.get("/workflows/{workflow}/{instance_id}")
def show_instance(request: Request, visitor: Visitor, workflow: str, instance_id: int) -> Any:
    pdca = request.app.state.pdca
    try:
        entry = pdca.registry[workflow]
        with db.reading(pdca.engine) as conn:
            tenant = _instance_tenant(request, conn, visitor, entry, instance_id)[0]
            return service.story(conn, entry, instance_id, today=tenant.calendar.today(_now(request)),
                                 actor=visitor.actor)
    except Refused as exc:
        return refusal(exc)


@router.post("/workflows/{workflow}/{instance_id}/fire", **STEP)
def fire_instance(request: Request, bearer: Token, workflow: str, instance_id: int, body: FireRequest) -> Any:
    return _fire(request, bearer, workflow, body, instance_id=instance_id)


@router.post("/workflows/{workflow}/open", **STEP)
def open_instance(request: Request, bearer: Token, workflow: str, body: OpenRequest,
                  strategy: str | None = None) -> Any:
    """Bring an instance into being (about `about`, an instance of the workflow's parent)."""
    pdca = request.app.state.pdca
    try:
        with db.writing(pdca.engine) as conn:
            visitor = bearer.in_step(conn)
            entry = pdca.registry[workflow]
            parent = None
            if entry.parent:
                mother = pdca.registry[entry.parent]
                if body.about is None:
                    raise InvalidFields([("about", f"a {entry.name} is about a {entry.parent}: give its id")])
                tenant, parent = _instance_tenant(request, conn, visitor, mother, body.about)
            else:
                tenant = _tenant(request, conn, visitor, strategy)
            fired = entry.workflow.open(conn, body.trigger, visitor.actor, body.fields, now=_now(request),
                                        parent=parent, tenant=tenant.id)
    except Refused as exc:
        return refusal(exc)
    return {"events": [fired.__dict__]}
