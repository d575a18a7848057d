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
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import Connection, insert, select, update

from engine.clock import from_storage
from engine.errors import Said
from engine.fields import parse_number
from words.catalogue import say
from workflows import actions
from workflows.hub.measures import HUB_MEASURES
from workflows.indicators import value_range
from workflows.models import Action, Indicator, Person

REQUIRED = ("code", "basic_policy", "title_ja", "division", "owners")
ACTION_COLUMNS = (*REQUIRED, "basic_policy_en", "title_en", "plan")
INDICATOR_COLUMNS = (
    "indicator_code", "indicator_name_ja", "indicator_name_en", "unit", "direction",
    "baseline_value", "baseline_year", "target_value", "target_year", "hub_measure", "minimum", "maximum",
)
COLUMNS = ACTION_COLUMNS + INDICATOR_COLUMNS
CODE = re.compile(r"^\d+(-\d+){0,4}$")
INDICATOR_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
SPLIT_EMAILS = re.compile(r"[;,\s]+")


class ImportRefused(Exception):
    """Every problem in the file, by row; nothing was written."""

    def __init__(self, problems: list[Said]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s); nothing was imported")


@dataclass
class ActionRow:
    row: int
    values: dict[str, str]
    owners: list[str] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Kept:
    """A field the file would change but someone else changed since the last import: in
    English for scripts (`str`), and said as a sentence by `kept_words`."""

    code: str
    what: str
    why: str
    field: str = ""
    """the file's column ("" for a whole ended action)"""
    indicator: str | None = None
    change: actions.Change | None = None
    ended: str | None = None
    """completed | discontinued, for an ended action"""

    def __str__(self) -> str:
        return f"kept: {self.code} {self.what} ({self.why})".replace("  ", " ")


def kept_words(kept: Kept, language: str, *, names: dict[str, tuple[str, str | None, str | None]], zone: ZoneInfo,
               step_name: Callable[[str], str]) -> str:
    """What the import left as it was, and why, as a sentence: which action and field, who
    changed it, when and by which step (`names`: email -> (name, name_en, division);
    `step_name`: a step's program name -> its words)."""
    change = kept.change
    what = say(f"import_field.{kept.field}", language) if kept.field else ""
    if kept.indicator:
        what = say("import.kept_indicator", language, indicator=kept.indicator, field=what)
    if change is None:
        if kept.ended:
            return say("import.kept_ended_unknown", language, code=kept.code,
                       status=say(f"action_status.{kept.ended}", language))
        return say("import.kept_unknown", language, code=kept.code, field=what)
    when = from_storage(change.at).astimezone(zone).strftime("%Y/%m/%d")
    name, name_en, division = names.get(change.actor, (change.actor, None, None))
    shown = (name_en or name) if language == "en" else name
    who = say("history.person", language, name=shown, division=division) if division else shown
    if change.actor == "system":
        who = say("history.system_actor", language)
    values = {"code": kept.code, "field": what, "when": when, "who": who}
    if kept.ended:
        return say("import.kept_ended", language, status=say(f"action_status.{kept.ended}", language),
                   step=step_name(change.by or ""), **values)
    if change.trigger == actions.ADOPTED:
        return say("import.kept_revised", language, step=step_name(change.by or ""), **values)
    return say("import.kept_changed", language, **values)


@dataclass
class Imported:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    indicators: int = 0
    codes: list[str] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(row number, column -> text) for every non-empty row; raises on an unusable file."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
            try:
                rows = [[_cell(v) for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
            finally:
                workbook.close()
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, EOFError, IndexError,
                ElementTree.ParseError) as exc:  # corrupt, truncated, or no workbook at all
            raise ImportRefused([Said(f"{path.name}: not a readable Excel workbook ({type(exc).__name__})",
                                      "import.not_workbook", file=path.name)]) from None
    else:
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "cp932"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportRefused([Said(f"{path.name}: neither UTF-8 nor Shift_JIS text", "import.encoding",
                                      file=path.name)])
        rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    if not rows:
        raise ImportRefused([Said(f"{path.name}: the file is empty", "import.empty", file=path.name)])
    header = [h.strip().lower() for h in rows[0]]
    problems = [Said(f"row 1: missing column {c!r}", "import.missing_column", column=c) for c in REQUIRED
                if c not in header]
    problems += [
        Said(f"row 1: unknown column {h!r} (columns: {', '.join(COLUMNS)})", "import.unknown_column", column=h,
             columns=", ".join(COLUMNS))
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


def _indicator(number: int, row: dict[str, str], problems: list[Said]) -> dict[str, Any] | None:
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
        problems.append(Said(f"{where}: indicator_code {out['code']!r} must be 1-32 letters, digits, - or _",
                             "import.indicator_code", row=number, value=out["code"]))
    if not out["name_ja"]:
        problems.append(Said(f"{where}: indicator_name_ja is empty", "import.indicator_name", row=number))
    out["hub_measure"] = row.get("hub_measure", "").strip().lower() or None
    if out["hub_measure"] is not None and out["hub_measure"] not in HUB_MEASURES:
        problems.append(Said(f"{where}: hub_measure {out['hub_measure']!r} must be one of {', '.join(HUB_MEASURES)}",
                             "import.hub_measure", row=number, value=out["hub_measure"],
                             measures=", ".join(HUB_MEASURES)))
    if out["direction"] not in ("up", "down"):
        problems.append(Said(f"{where}: direction {out['direction']!r} must be up or down", "import.direction",
                             row=number, value=out["direction"]))
    for column, parse in (
        ("baseline_value", _number), ("target_value", _number),
        ("baseline_year", _year), ("target_year", _year), ("minimum", _number), ("maximum", _number),
    ):
        try:
            out[column] = parse(row.get(column, ""))
        except ValueError as exc:
            detail = str(exc) if "plausible" in str(exc) else "not a number"
            key = "import.year" if "plausible" in str(exc) else "import.number"
            problems.append(Said(f"{where}: {column} {row.get(column)!r}: {detail}", key, row=number, column=column,
                                 value=row.get(column)))
    if out.get("target_value") is None:
        problems.append(Said(f"{where}: target_value is empty (a numerical target is required)",
                             "import.no_target", row=number))
    low, high = value_range(out["unit"], out.get("minimum"), out.get("maximum"))
    if low is not None and high is not None and high < low:
        problems.append(Said(f"{where}: maximum {high:g} is below minimum {low:g}", "import.range_order",
                             row=number, low=f"{low:g}", high=f"{high:g}"))
    for column in ("baseline_value", "target_value"):
        value = out.get(column)
        if value is not None and ((low is not None and value < low) or (high is not None and value > high)):
            problems.append(Said(f"{where}: {column} {value:g} is outside what the indicator can be",
                                 "import.out_of_range", row=number, column=column, value=f"{value:g}"))
    by, ty = out.get("baseline_year"), out.get("target_year")
    if by is not None and ty is not None and ty < by:
        problems.append(Said(f"{where}: target_year {ty} is before baseline_year {by}", "import.years_order",
                             row=number, target=ty, baseline=by))
    return out


def check_rows(rows: list[tuple[int, dict[str, str]]], people: set[str]) -> list[ActionRow]:
    problems: list[Said] = []
    actions: dict[str, ActionRow] = {}
    for number, row in rows:
        where = f"row {number}"
        code = row.get("code", "")
        if not CODE.match(code):
            problems.append(Said(f"{where}: code {code!r} must look like 2-1-3", "import.code", row=number,
                                 value=code))
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
                problems.append(Said(
                    f"{where}: {column} of action {code} differs from row {action.row} "
                    f"({value!r} vs {before!r})", "import.differs", row=number, column=column, code=code,
                    first=action.row, value=value, before=before))
            action.values.setdefault(column, value)
        if row.get("owners"):
            emails = [e for e in SPLIT_EMAILS.split(row["owners"].lower()) if e]
            if not emails:
                problems.append(Said(f"{where}: owners {row['owners']!r} has no email in it", "import.no_email",
                                     row=number, value=row["owners"]))
            for email in emails:
                if email and email not in people:
                    problems.append(Said(f"{where}: owner {email} is not a person in the config",
                                         "import.unknown_owner", row=number, email=email))
                elif email and email not in action.owners:
                    action.owners.append(email)
        indicator = _indicator(number, row, problems)
        if indicator is not None:
            if any(i["code"] == indicator["code"] for i in action.indicators):
                problems.append(Said(f"{where}: indicator {indicator['code']} of action {code} appears twice",
                                     "import.indicator_twice", row=number, indicator=indicator["code"], code=code))
            action.indicators.append(indicator)
    for code, action in actions.items():
        for column in REQUIRED:
            if column != "code" and not action.values.get(column):
                problems.append(Said(f"row {action.row}: action {code} has no {column}", "import.required",
                                     row=action.row, code=code, column=column))
    if problems:
        raise ImportRefused(problems)
    return list(actions.values())


UTC_ZONE = ZoneInfo("UTC")
action_table = Action.__table__  # type: ignore[attr-defined]
indicator_table = Indicator.__table__  # type: ignore[attr-defined]
ACTION_FIELDS = ("basic_policy", "basic_policy_en", "title_ja", "title_en", "division", "plan")
INDICATOR_FIELDS = ("name_ja", "name_en", "unit", "direction", "baseline_value", "baseline_year",
                    "target_value", "target_year", "hub_measure", "minimum", "maximum")


class _Merge:
    """Three-way: the file's value, the value now, and what the last import wrote. A value
    that still is what the import wrote belongs to the file and takes the file's value; one
    that differs was changed since by a step or an admin, and stays."""

    def __init__(self, code: str, baseline: dict[str, Any] | None, latest: dict[str, actions.Change],
                 zone: ZoneInfo, indicator: str | None = None) -> None:
        self.code = code
        self.indicator = indicator
        self.baseline = baseline
        self.latest = latest
        self.zone = zone
        self.writes: dict[str, Any] = {}
        self.changes: dict[str, tuple[Any, Any]] = {}
        self.kept: list[Kept] = []
        self.imported: dict[str, Any] = dict(baseline or {})

    def field(self, name: str, new: Any, now: Any, *, label: str | None = None, key: str | None = None) -> None:
        key = key or name
        self.imported[key] = new
        if new == now:
            return
        before = now if self.baseline is None or key not in self.baseline else self.baseline[key]
        if now != before:
            change = self.latest.get(key)
            why = change.why(self.zone) if change else "changed since the last import"
            self.kept.append(Kept(self.code, label or name, why, field=name, indicator=self.indicator, change=change))
            return
        self.writes[name] = new
        self.changes[key] = (now, new)


def import_actions(
    conn: Connection, *, strategy: int, path: Path, now: datetime, zone: ZoneInfo = UTC_ZONE,
    actor: str = "system",
) -> Imported:
    """Check the whole file, then create or update its actions; the caller's transaction
    makes it all or nothing. A field someone changed since the last import (an adopted
    revision, an admin's new owners) is kept and listed in `kept`; an ended action is left
    as it is. Every change is an audit row of the action naming the file."""
    people = dict(conn.execute(select(Person.email, Person.id).where(Person.active)).all())
    rows = check_rows(read_rows(path), set(people))
    result = Imported()
    existing = {r.code: r for r in conn.execute(select(action_table).where(action_table.c.strategy_id == strategy))}
    ids = [a.id for a in existing.values()]
    latest = actions.latest_changes(conn, ids)
    owners = actions.owners_of(conn, ids)
    for a in rows:
        v = a.values
        code = v["code"]
        wanted = {
            "basic_policy": v["basic_policy"], "basic_policy_en": v.get("basic_policy_en") or None,
            "title_ja": v["title_ja"], "title_en": v.get("title_en") or None, "division": v["division"],
        }
        if v.get("plan"):
            wanted["plan"] = v["plan"]
        result.codes.append(code)
        current = existing.get(code)
        if current is None:
            _create(conn, strategy, code, wanted, a, people, path, now, actor)
            result.created += 1
            result.indicators += len(a.indicators)
            continue
        assert current.id is not None
        if current.status != "active":
            change = latest.get((current.id, "status"))
            why = change.why(zone) if change else f"{current.status} in FY{current.ended_fy}"
            result.kept.append(Kept(code, "", f"{why}; an ended action is left as it is", change=change,
                                    ended=current.status))
            result.unchanged += 1
            continue
        merge = _Merge(code, current.imported, {k[1]: c for k, c in latest.items() if k[0] == current.id}, zone)
        for name, value in wanted.items():
            merge.field(name, value, getattr(current, name))
        merge.field("owners", sorted(a.owners), owners.get(current.id, []))
        if "owners" in merge.writes:
            actions.replace_owners(conn, current.id, [people[e] for e in merge.writes.pop("owners")])
        if merge.writes:
            conn.execute(update(Action).where(Action.id == current.id).values(**merge.writes))  # type: ignore[arg-type]
        merge.changes |= _indicators(conn, current.id, a.indicators, merge, zone)
        result.indicators += len(a.indicators)
        if merge.imported != current.imported:
            conn.execute(update(Action).where(Action.id == current.id).values(imported=merge.imported))  # type: ignore[arg-type]
        result.kept += merge.kept
        if merge.changes:
            actions.record_change(conn, action_id=current.id, strategy=strategy, trigger=actions.IMPORTED,
                                  changes=merge.changes, actor=actor, at=now, by=path.name, status=current.status)
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def _create(
    conn: Connection, strategy: int, code: str, wanted: dict[str, Any], row: ActionRow, people: dict[str, int],
    path: Path, now: datetime, actor: str,
) -> None:
    values = {**wanted, "plan": wanted.get("plan", "")}
    owners = sorted(row.owners)
    imported = {**values, "owners": owners}
    action_id = conn.execute(
        insert(Action).values(strategy_id=strategy, code=code, imported=imported, **values)
    ).inserted_primary_key[0]  # type: ignore[index]
    actions.replace_owners(conn, action_id, [people[e] for e in owners])
    for ind in row.indicators:
        conn.execute(insert(Indicator).values(action_id=action_id, imported=_indicator_baseline(ind), **ind))
    changes: dict[str, tuple[Any, Any]] = {k: (None, v) for k, v in imported.items() if v not in (None, "", [])}
    changes |= {f"indicator {ind['code']}": (None, _indicator_baseline(ind)) for ind in row.indicators}
    actions.record_change(conn, action_id=action_id, strategy=strategy, trigger=actions.IMPORTED, changes=changes,
                          actor=actor, at=now, by=path.name)


def _indicator_baseline(ind: dict[str, Any]) -> dict[str, Any]:
    return {name: ind.get(name) for name in INDICATOR_FIELDS}


def _indicators(
    conn: Connection, action_id: int, rows: list[dict[str, Any]], merge: _Merge, zone: ZoneInfo
) -> dict[str, tuple[Any, Any]]:
    """The file's indicators of one action, merged field by field as the action's own."""
    changes: dict[str, tuple[Any, Any]] = {}
    known = {i.code: i for i in conn.execute(select(indicator_table).where(indicator_table.c.action_id == action_id))}
    for ind in rows:
        current = known.get(ind["code"])
        if current is None:
            conn.execute(insert(Indicator).values(action_id=action_id, imported=_indicator_baseline(ind), **ind))
            changes[f"indicator {ind['code']}"] = (None, _indicator_baseline(ind))
            continue
        sub = _Merge(merge.code, current.imported, {
            name.removeprefix(f"indicator {ind['code']} "): c for name, c in merge.latest.items()
            if name.startswith(f"indicator {ind['code']} ")}, zone, indicator=ind["code"])
        for name in INDICATOR_FIELDS:
            sub.field(name, ind.get(name), getattr(current, name), label=f"indicator {ind['code']} {name}")
        if sub.writes:
            conn.execute(update(Indicator).where(Indicator.id == current.id).values(**sub.writes))  # type: ignore[arg-type]
        if sub.imported != current.imported:
            conn.execute(update(Indicator).where(Indicator.id == current.id).values(imported=sub.imported))  # type: ignore[arg-type]
        merge.kept += sub.kept
        changes |= {f"indicator {ind['code']} {k}": c for k, c in sub.changes.items()}
    return changes
