"""What the migrations own: the SQLModel tables, and nothing else in the database (the
scheduler's job table, for one, belongs to APScheduler)."""

from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if not reflected or compare_to is not None:
        return True
    if type_ == "table":
        return name in SQLModel.metadata.tables
    table = getattr(obj, "table", None)
    return table is None or table.name in SQLModel.metadata.tables
