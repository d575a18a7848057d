"""The numbers an address may carry, within what the databases can hold: a fiscal year out
of 1-9999 is a 422 in words (as `?fy=abc` is), a record's id beyond a 64-bit integer is no
record (404); neither reaches the driver to overflow there."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

LARGEST_ID = 2**63 - 1
"""The largest integer SQLite and PostgreSQL (bigint) store."""

FY = Annotated[int, Path(ge=1, le=9999, description="a fiscal year, e.g. 2026")]
OptionalFY = Annotated[int | None, Query(ge=1, le=9999, description="a fiscal year, e.g. 2026")]


def plausible_id(value: int) -> bool:
    """Whether an id from an address could be a record's (else it is none: 404)."""
    return 0 < value <= LARGEST_ID
