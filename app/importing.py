"""`pdca import`: actions and their indicators from a CSV (UTF-8 or Shift_JIS) or XLSX file.

One row per indicator; an action without indicators takes one row with the indicator
columns empty. Rows of the same action repeat its code; its other columns may be repeated
(they must then agree) or left empty. Everything is checked before anything is written;
one bad row imports nothing, and every bad row is listed by its spreadsheet row number
(the header is row 1).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import Connection, delete, insert, select, update

from engine.fields import parse_number
from workflows.models import Action, ActionOwner, Indicator, Person

REQUIRED = ("code", "basic_policy", "title_ja", "division", "owners")
ACTION_COLUMNS = (*REQUIRED, "basic_policy_en", "title_en", "plan")
INDICATOR_COLUMNS = (
    "indicator_code", "indicator_name_ja", "indicator_name_en", "unit", "direction",
    "baseline_value", "baseline_year", "target_value", "target_year",
)
COLUMNS = ACTION_COLUMNS + INDICATOR_COLUMNS
CODE = re.compile(r"^\d+(-\d+){0,4}$")
INDICATOR_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
SPLIT_EMAILS = re.compile(r"[;,\s]+")


class ImportRefused(Exception):
    """Every problem in the file, by row; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s); nothing was imported")


@dataclass
class ActionRow:
    row: int
    values: dict[str, str]
    owners: list[str] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Imported:
    created: int = 0
    updated: int = 0
    indicators: int = 0
    codes: list[str] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(row number, column -> text) for every non-empty row; raises on an unusable file."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            rows = [[_cell(v) for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
        finally:
            workbook.close()
    else:
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "cp932"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportRefused([f"{path.name}: neither UTF-8 nor Shift_JIS text"])
        rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    if not rows:
        raise ImportRefused([f"{path.name}: the file is empty"])
    header = [h.strip().lower() for h in rows[0]]
    problems = [f"row 1: missing column {c!r}" for c in REQUIRED if c not in header]
    problems += [
        f"row 1: unknown column {h!r} (columns: {', '.join(COLUMNS)})"
        for h in header if h and h not in COLUMNS
    ]
    if problems:
        raise ImportRefused(problems)
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        out.append((number, {h: (row[i] if i < len(row) else "") for i, h in enumerate(header) if h}))
    return out


def _number(text: str) -> float | None:
    if not text:
        return None
    number = parse_number(text)
    if number is None:
        raise ValueError("not a number")
    return number


def _year(text: str) -> int | None:
    if not text:
        return None
    year = int(text)
    if not 1950 <= year <= 2200:
        raise ValueError(f"{year} is not a plausible year")
    return year


def _indicator(number: int, row: dict[str, str], problems: list[str]) -> dict[str, Any] | None:
    if not any(row.get(c) for c in INDICATOR_COLUMNS):
        return None
    where = f"row {number}"
    out: dict[str, Any] = {
        "code": row.get("indicator_code", ""),
        "name_ja": row.get("indicator_name_ja", ""),
        "name_en": row.get("indicator_name_en") or None,
        "unit": row.get("unit", ""),
        "direction": row.get("direction", "").lower(),
    }
    if not INDICATOR_CODE.match(out["code"]):
        problems.append(f"{where}: indicator_code {out['code']!r} must be 1-32 letters, digits, - or _")
    if not out["name_ja"]:
        problems.append(f"{where}: indicator_name_ja is empty")
    if out["direction"] not in ("up", "down"):
        problems.append(f"{where}: direction {out['direction']!r} must be up or down")
    for column, parse in (
        ("baseline_value", _number), ("target_value", _number),
        ("baseline_year", _year), ("target_year", _year),
    ):
        try:
            out[column] = parse(row.get(column, ""))
        except ValueError as exc:
            detail = str(exc) if "plausible" in str(exc) else "not a number"
            problems.append(f"{where}: {column} {row.get(column)!r}: {detail}")
    if out.get("target_value") is None:
        problems.append(f"{where}: target_value is empty (a numerical target is required)")
    by, ty = out.get("baseline_year"), out.get("target_year")
    if by is not None and ty is not None and ty < by:
        problems.append(f"{where}: target_year {ty} is before baseline_year {by}")
    return out


def check_rows(rows: list[tuple[int, dict[str, str]]], people: set[str]) -> list[ActionRow]:
    problems: list[str] = []
    actions: dict[str, ActionRow] = {}
    for number, row in rows:
        where = f"row {number}"
        code = row.get("code", "")
        if not CODE.match(code):
            problems.append(f"{where}: code {code!r} must look like 2-1-3")
            continue
        action = actions.get(code)
        if action is None:
            action = actions[code] = ActionRow(number, {})
        for column in ACTION_COLUMNS:
            value = row.get(column, "")
            if not value:
                continue
            before = action.values.get(column)
            if before is not None and before != value:
                problems.append(
                    f"{where}: {column} of action {code} differs from row {action.row} "
                    f"({value!r} vs {before!r})"
                )
            action.values.setdefault(column, value)
        if row.get("owners"):
            emails = [e for e in SPLIT_EMAILS.split(row["owners"].lower()) if e]
            if not emails:
                problems.append(f"{where}: owners {row['owners']!r} has no email in it")
            for email in emails:
                if email and email not in people:
                    problems.append(f"{where}: owner {email} is not a person in the config")
                elif email and email not in action.owners:
                    action.owners.append(email)
        indicator = _indicator(number, row, problems)
        if indicator is not None:
            if any(i["code"] == indicator["code"] for i in action.indicators):
                problems.append(f"{where}: indicator {indicator['code']} of action {code} appears twice")
            action.indicators.append(indicator)
    for code, action in actions.items():
        for column in REQUIRED:
            if column != "code" and not action.values.get(column):
                problems.append(f"row {action.row}: action {code} has no {column}")
    if problems:
        raise ImportRefused(problems)
    return list(actions.values())


def import_actions(conn: Connection, *, strategy: int, path: Path) -> Imported:
    """Check the whole file, then create or update its actions; the caller's transaction
    makes it all or nothing."""
    people = dict(conn.execute(select(Person.email, Person.id).where(Person.active)).all())
    actions = check_rows(read_rows(path), set(people))
    result = Imported()
    existing = dict(
        conn.execute(select(Action.code, Action.id).where(Action.strategy_id == strategy)).all()
    )
    for a in actions:
        v = a.values
        values = {
            "basic_policy": v["basic_policy"], "basic_policy_en": v.get("basic_policy_en"),
            "title_ja": v["title_ja"], "title_en": v.get("title_en"), "division": v["division"],
        }
        code = v["code"]
        if code in existing:
            action_id = existing[code]
            if v.get("plan"):
                values["plan"] = v["plan"]
            conn.execute(update(Action).where(Action.id == action_id).values(**values))  # type: ignore[arg-type]
            result.updated += 1
        else:
            values |= {"strategy_id": strategy, "code": code, "plan": v.get("plan", "")}
            action_id = conn.execute(insert(Action).values(**values)).inserted_primary_key[0]  # type: ignore[index]
            result.created += 1
        result.codes.append(code)
        conn.execute(delete(ActionOwner).where(ActionOwner.action_id == action_id))  # type: ignore[arg-type]
        conn.execute(
            insert(ActionOwner),
            [{"action_id": action_id, "person_id": people[e]} for e in a.owners],
        )
        known = dict(
            conn.execute(
                select(Indicator.code, Indicator.id).where(Indicator.action_id == action_id)
            ).all()
        )
        for ind in a.indicators:
            if ind["code"] in known:
                conn.execute(update(Indicator).where(Indicator.id == known[ind["code"]]).values(**ind))  # type: ignore[arg-type]
            else:
                conn.execute(insert(Indicator).values(action_id=action_id, **ind))
            result.indicators += 1
    return result
