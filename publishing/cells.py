"""A cell of any CSV the project writes: text that a spreadsheet would run as a formula is
kept as text. OWASP's list of the characters such a cell begins with; a leading apostrophe
makes Excel and LibreOffice show the rest as typed. Numbers stay numbers, and a cell that is
only "-" (a grade meaning "not graded") is no formula and stays as it is. The XLSX exports
need none of this: their cells are typed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START) and value != "-":
        return "'" + value
    return value


def safe_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{key: safe(value) for key, value in row.items()} for row in rows]
