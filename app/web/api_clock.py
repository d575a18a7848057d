"""The clock through the API, for the deployment's admins: run the tick and deliver the
outbox now, from any node, as `pdca tick` and `pdca drain` do on the command line.

What for: a monitor that found the scheduler late can catch up without a shell on the
machine; a rehearsal deployment (or a test) drives its days through the web nodes with
`at`, exactly as `pdca tick --at` replays a day. Both are as safe to call on every node at
once as the scheduler's own jobs: ticks take turns and find the day's work done, and the
outbox hands each message to one sender.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.web.api import REFUSALS, Visitor, refusal
from engine import db
from engine.errors import Refused, WrongRole
from workflows.tick import tick

router = APIRouter(prefix="/api/clock", tags=["clock"], responses=REFUSALS)


class DrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime | None = Field(default=None, description="the time to act at, with its offset "
                                                                "(default: now), as `pdca tick --at`")


class TickRequest(DrainRequest):
    strategy: str | None = Field(default=None, description="this strategy's code only (default: all)")


class TickDone(BaseModel):
    at: datetime
    transitions: dict[str, int] = Field(description="how many times each trigger fired")
    messages: dict[str, int] = Field(description="how many messages of each kind were queued")


class DrainDone(BaseModel):
    at: datetime
    sent: int
    retrying: int
    dead: int


def _deployment_admin(visitor: Any) -> JSONResponse | None:
    if visitor.admin:
        return None
    return refusal(WrongRole(f"{visitor.email} is not the deployment's admin", roles=("admin",), holders=()))


@router.post("/tick", response_model=TickDone)
def run_tick(request: Request, visitor: Visitor, body: TickRequest | None = None) -> Any:
    """Do whatever each strategy's calendar says is due by `at` (idempotent)."""
    if (refused := _deployment_admin(visitor)) is not None:
        return refused
    body = body or TickRequest()
    pdca = request.app.state.pdca
    now = body.at or request.app.state.clock()
    try:
        with db.writing(pdca.engine) as conn:
            only = pdca.tenants.by_code(conn, body.strategy).id if body.strategy else None
            report = tick(conn, pdca.registry, pdca.tenants, now=now, strategy=only)
    except Refused as exc:
        return refusal(exc)
    return TickDone(at=now, transitions=dict(+report.transitions), messages=dict(+report.messages))


@router.post("/drain", response_model=DrainDone)
def run_drain(request: Request, visitor: Visitor, body: DrainRequest | None = None) -> Any:
    """Deliver what the outbox holds that is due by `at`, through [mail]."""
    from app.mail import delivery

    if (refused := _deployment_admin(visitor)) is not None:
        return refused
    body = body or DrainRequest()
    now = body.at or request.app.state.clock()
    report = delivery(request.app.state.pdca).drain(now)
    return DrainDone(at=now, sent=report.sent, retrying=report.retrying, dead=report.dead)
