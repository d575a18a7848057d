"""Saving a step's form without firing it. Who may is the workflow's answer (`Option.may_draft`):
the people who fire it, and for a step of a body's chair the body's members (members draft,
the chair approves)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from app.web.models import Draft
from engine.clock import to_storage


def save(conn: Connection, *, workflow: str, instance_id: int, trigger: str, values: dict[str, Any], by: str,
         now: datetime) -> None:
    discard(conn, workflow=workflow, instance_id=instance_id, trigger=trigger)
    conn.execute(insert(Draft).values(workflow=workflow, instance_id=instance_id, trigger=trigger, values=values,
                                      saved_by=by, saved_at=to_storage(now)))


def load(conn: Connection, *, workflow: str, instance_id: int) -> dict[str, dict[str, Any]]:
    rows = conn.execute(select(Draft.trigger, Draft.values, Draft.saved_by)
                        .where(Draft.workflow == workflow, Draft.instance_id == instance_id))
    return {t: {"values": v, "saved_by": by} for t, v, by in rows}


def discard(conn: Connection, *, workflow: str, instance_id: int, trigger: str) -> None:
    conn.execute(delete(Draft).where(Draft.workflow == workflow, Draft.instance_id == instance_id,  # type: ignore[arg-type]
                                     Draft.trigger == trigger))
