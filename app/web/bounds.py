"""The numbers an address may carry, within what the databases can hold: a fiscal year out
of 1-9999 is a 422 in words (as `?fy=abc` is), a record's id beyond a 64-bit integer is no
record (404); neither reaches the driver to overflow there."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from starlette.convertors import IntegerConvertor, register_url_convertor

LARGEST_ID = 2**63 - 1
"""The largest integer SQLite and PostgreSQL (bigint) store."""

FY = Annotated[int, Path(ge=1, le=9999, description="a fiscal year, e.g. 2026")]
OptionalFY = Annotated[int | None, Query(ge=1, le=9999, description="a fiscal year, e.g. 2026")]


def plausible_id(value: int) -> bool:
    """Whether an id from an address could be a record's (else it is none: 404)."""
    return 0 < value <= LARGEST_ID


def whole_number(text: str | None, *, digits: int = 18) -> int | None:
    """The whole number a link or a form wrote (full-width digits as people type them), or
    None when it is none: `str.isdigit()` passes "²" and "①", which `int()` cannot read,
    and `int()` refuses more than 4,300 digits."""
    return int(text) if text and text.isdecimal() and len(text) <= digits else None


class _Id(IntegerConvertor):
    """`{name:id}` in a route's path: a record's id. One too long for `int()` to read (over
    4,300 digits) is no record's, a 404 in words like any id beyond `LARGEST_ID`."""

    def convert(self, value: str) -> int:
        return int(value) if len(value) <= 19 else LARGEST_ID + 1


register_url_convertor("id", _Id())
