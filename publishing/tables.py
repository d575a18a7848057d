"""The year's results as rows, for people who want the numbers rather than the pages:
`results.csv` and `results.xlsx` beside the site.

`rows` is the single definition of what a row holds; the CSV and the workbook both write
exactly those rows, so the two downloads never disagree with each other.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

from publishing.cells import safe_rows
from publishing.labels import PENDING, rule_words, word
from words.numbers import plain

COLUMNS: tuple[str, ...] = (
    "fy", "code", "basic_policy", "title_ja", "title_en", "division", "report_status", "self_grade",
    "council_grade", "decision", "indicator_code", "indicator_name_ja", "indicator_name_en", "unit", "direction",
    "baseline_value", "baseline_year", "target_value", "target_year", "value", "reason", "expected", "progress",
    "status",
)
ACTION_FIELDS: tuple[str, ...] = (
    "code", "basic_policy", "basic_policy_en", "title_ja", "title_en", "division", "report_status",
    "report_content", "self_grade", "internal_comment", "council_grade", "evaluation", "decision",
    "decision_reason",
)
ACTION_COLUMNS: tuple[str, ...] = ("fy", *ACTION_FIELDS, "proposals", "answers", "flags", "flag_resolutions")
INDICATOR_COLUMNS = COLUMNS[COLUMNS.index("indicator_code"):]
WRAPPED = {"report_content", "internal_comment", "evaluation", "decision_reason", "proposals", "answers", "flags",
           "flag_resolutions"}


def detail_columns(snapshot: dict[str, Any]) -> tuple[str, ...]:
    """The columns of the fields the strategy's report asks beyond the cycle's own
    (`details.budget`), as the publication froze them; none for a strategy that asks none."""
    return tuple(f"details.{f['key']}" for f in snapshot.get("report_fields") or [])


def columns(snapshot: dict[str, Any]) -> tuple[str, ...]:
    """The results' columns: the fixed ones, with the report's own fields after the decision."""
    at = COLUMNS.index("decision") + 1
    return COLUMNS[:at] + detail_columns(snapshot) + COLUMNS[at:]


def action_columns(snapshot: dict[str, Any]) -> tuple[str, ...]:
    at = ACTION_COLUMNS.index("self_grade") + 1
    return ACTION_COLUMNS[:at] + detail_columns(snapshot) + ACTION_COLUMNS[at:]


def _details(action: dict[str, Any]) -> dict[str, Any]:
    """What the report said in the strategy's fields: numbers as numbers, a choice as its
    value (A, B...: what people write and sort by), text as written."""
    return {f"details.{d['key']}": plain(d["value"]) if d["type"] == "number" else d["value"]
            for d in action.get("report_details") or []}


def code_key(code: Any) -> tuple[tuple[int, int | str], ...]:
    """Action codes in the order people read them: 1-1-2 before 1-1-10."""
    return tuple((0, int(part)) if part.isdigit() else (1, part)
                 for part in re.split(r"(\d+)", str(code)) if part)


def actions(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """The snapshot's actions in code order; the pages and the files share this order."""
    return sorted(snapshot["actions"], key=lambda a: code_key(a["code"]))


def _pair(value: Any) -> tuple[Any, Any]:
    if not isinstance(value, list | tuple):
        return None, None
    return (value[0] if len(value) > 0 else None), (value[1] if len(value) > 1 else None)


def rows(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per indicator; an action without indicators still gets one row, so every
    action is in the file."""
    out: list[dict[str, Any]] = []
    for a in actions(snapshot):
        base = {
            "fy": snapshot["fy"], "code": a["code"], "basic_policy": a["basic_policy"], "title_ja": a["title_ja"],
            "title_en": a["title_en"], "division": a["division"], "report_status": a["report_status"],
            "self_grade": a["self_grade"], "council_grade": a["council_grade"], "decision": a["decision"],
            **_details(a),
        }
        if not a["indicators"]:
            out.append(base | dict.fromkeys(INDICATOR_COLUMNS))
        for ind in a["indicators"]:
            baseline_value, baseline_year = _pair(ind["baseline"])
            target_value, target_year = _pair(ind["target"])
            out.append(base | {
                "indicator_code": ind["code"], "indicator_name_ja": ind["name_ja"], "indicator_name_en": ind["name_en"],
                "unit": ind["unit"], "direction": ind["direction"], "baseline_value": baseline_value,
                "baseline_year": baseline_year, "target_value": target_value, "target_year": target_year,
                "value": plain(ind["value"]), "reason": ind["reason"], "expected": plain(ind["expected"]),
                "progress": plain(ind["progress"]), "status": ind["status"],
            })
    return out


def action_rows(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per action, with its proposals, answers and flags one per line."""
    out = []
    for a in actions(snapshot):
        proposals = sorted(a["proposals"], key=lambda p: p["seq"])
        flags = a["flags"]
        out.append({
            "fy": snapshot["fy"], **{k: a[k] for k in ACTION_FIELDS}, **_details(a),
            "proposals": "\n".join(f"{p['seq']}. {p['text']}" for p in proposals) or None,
            "answers": "\n".join(f"{p['seq']}. {p['answer'] or ''}".rstrip() for p in proposals) or None,
            "flags": "\n".join(f["reason_ja"] for f in flags) or None,
            "flag_resolutions": "\n".join(
                f"{rule_words(f['rule'], 'ja')}: {word('resolution', f['resolution'] or PENDING, 'ja')}"
                + (f"（{f['resolution_reason']}）" if f["resolution_reason"] else "")
                for f in flags) or None,
        })
    return out


def write_csv(snapshot: dict[str, Any], path: Path) -> Path:
    """UTF-8 with a byte-order mark: without it, Excel in Japan reads the file as Shift_JIS
    and shows garbage. Empty cells are empty strings, numbers are written as Python writes them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns(snapshot), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(safe_rows(rows(snapshot)))
    return path


def _fill(sheet: Any, columns: tuple[str, ...], data: list[dict[str, Any]], widths: dict[str, int]) -> None:
    """Header, then the values as they are: numbers stay numbers, so people can sum and chart them."""
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r, row in enumerate(data, start=2):
        for c, name in enumerate(columns, start=1):
            value = row.get(name)
            cell = sheet.cell(row=r, column=c)
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters make Excel refuse the file
            cell.value = value
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula stays text
            if name == "progress" and value is not None:
                cell.number_format = "0.0%"
            if name in WRAPPED or name.startswith("details."):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for c, name in enumerate(columns, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].width = widths.get(name, 14)
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = sheet.dimensions


def write_xlsx(snapshot: dict[str, Any], path: Path) -> Path:
    """A workbook with the "results" sheet (the CSV's rows) and an "actions" sheet (one row
    per action, with the long texts the CSV leaves out)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    results = book.active
    results.title = "results"
    _fill(results, columns(snapshot), rows(snapshot), {"title_ja": 36, "title_en": 36, "basic_policy": 28,
                                             "indicator_name_ja": 28, "indicator_name_en": 28, "reason": 28})
    _fill(book.create_sheet("actions"), action_columns(snapshot), action_rows(snapshot),
          {"title_ja": 36, "title_en": 36, "basic_policy": 28, "report_content": 48, "evaluation": 40,
           "proposals": 48, "answers": 48, "flags": 48, "flag_resolutions": 36, "internal_comment": 36})
    book.properties.title = f"{snapshot['strategy']['name_ja']} {snapshot['fy_label']}"
    book.save(path)
    return path
