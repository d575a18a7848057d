"""Saving a step's form without firing it, and who may: the people who fire it, and for a
council's step the council's members (members draft, the chair approves)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from app.web.models import Draft
from engine.clock import to_storage
from workflows import service
from workflows.action_cycle import INTERNAL_CHAIR, PROMOTION_CHAIR

COUNCIL_OF = {INTERNAL_CHAIR: "internal", PROMOTION_CHAIR: "promotion"}


def may_draft(conn: Connection, *, person_id: int, email: str, roles: tuple[str, ...], holders: list[str]) -> bool:
    if email in holders:
        return True
    return any(service.sits_on(conn, person_id=person_id, key=COUNCIL_OF[r]) for r in roles if r in COUNCIL_OF)


def save(conn: Connection, *, cycle_id: int, trigger: str, values: dict[str, Any], by: str, now: datetime) -> None:
    conn.execute(delete(Draft).where(Draft.cycle_id == cycle_id, Draft.trigger == trigger))  # type: ignore[arg-type]
    conn.execute(insert(Draft).values(cycle_id=cycle_id, trigger=trigger, values=values, saved_by=by,
                                      saved_at=to_storage(now)))


def load(conn: Connection, *, cycle_id: int) -> dict[str, dict[str, Any]]:
    rows = conn.execute(select(Draft.trigger, Draft.values, Draft.saved_by).where(Draft.cycle_id == cycle_id))
    return {t: {"values": v, "saved_by": by} for t, v, by in rows}


def discard(conn: Connection, *, cycle_id: int, trigger: str) -> None:
    conn.execute(delete(Draft).where(Draft.cycle_id == cycle_id, Draft.trigger == trigger))  # type: ignore[arg-type]
