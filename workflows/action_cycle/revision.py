"""Adaptive revision (順応的な見直し): the rules that flag an action as off plan, in words a
council can act on, and how each flag is resolved at the act phase (by a revision, or kept
with a recorded reason).

Rules (thresholds from `[revision]` in config.toml):
- an indicator behind its line: its change from the baseline is less than
  (100 - `behind_percent`) % of the change the line expects by this year (the flag shows the
  value against the expected value; see words/numbers.py for the two measures);
- a promotion-council grade at or below `grade_at_or_below`;
- a report more than `late_days` days late;
- returned more than `returned_more_than` times;
- flagged in the previous fiscal year too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, select

from words.numbers import format_percent, format_quantity
from workflows import indicators
from workflows.fiscal import fy_label
from workflows.models import Cycle, Indicator, Measurement
from workflows.revision import RevisionIn


@dataclass(frozen=True)
class Flag:
    rule: str
    reason_ja: str
    reason_en: str

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "reason_ja": self.reason_ja, "reason_en": self.reason_en,
                "resolution": None, "resolution_reason": None}


@cache
def _measured() -> Any:
    """Each indicator of an action with its value for a year (prepared once)."""
    return (
        select(Indicator.code, Indicator.name_ja, Indicator.name_en, Indicator.unit, Indicator.direction,
               Indicator.baseline_value,
               Indicator.baseline_year, Indicator.target_value, Indicator.target_year, Measurement.value)
        .outerjoin(Measurement, (Measurement.indicator_id == Indicator.id) & (Measurement.fy == bindparam("fy")))
        .where(Indicator.action_id == bindparam("action")).order_by(Indicator.code)
    )


@cache
def _previous_flags() -> Any:
    return select(Cycle.flags).where(Cycle.action_id == bindparam("action"), Cycle.fy == bindparam("fy"))


def _indicator_flags(conn: Connection, action_id: int, fy: int, rules: RevisionIn) -> list[Flag]:
    flags = []
    rows = conn.execute(_measured(), {"fy": fy, "action": action_id})
    for r in rows:
        target = indicators.Target(r.direction, r.baseline_value, r.baseline_year, r.target_value, r.target_year)
        share = indicators.share_of_expected(target, r.value, fy)
        if share is None or share >= 1 - rules.behind_percent / 100:
            continue
        if indicators.status(target, r.value, fy, on_track_ratio=rules.on_track_ratio) == "achieved":
            continue
        # The value against the expected value, in the indicator's unit; the share is of the
        # change the line expects by now (not 進捗率, which is of the way to the target).
        value = format_quantity(r.value, r.unit)
        wanted = format_quantity(indicators.expected(target, fy), r.unit)
        percent = format_percent(max(share, 0))
        flags.append(Flag(
            f"indicator:{r.code}",
            f"指標「{r.name_ja}」の{fy_label(fy)}の値は{value}で、見込み値{wanted}に届いていません"
            f"（基準値から見込み値までの伸びの{percent}）",
            f"indicator '{r.name_en or r.name_ja}' is at {value} against {wanted} expected for {fy_label(fy)} "
            f"({percent} of the change expected from the baseline)",
        ))
    return flags


def interim_flags(conn: Connection, *, action_id: int, fy: int, values: dict[str, Any], rules: RevisionIn,
                  elapsed: float, day: str) -> list[Flag]:
    """Interim values (a quarter's, say) against what the line expects by this point of the
    year: an action falling behind is flagged months before the check, by the same
    `behind_percent` as at the year's end."""
    flags = []
    for r in conn.execute(_measured(), {"fy": fy, "action": action_id}):
        value = (values.get(r.code) or {}).get("value")
        target = indicators.Target(r.direction, r.baseline_value, r.baseline_year, r.target_value, r.target_year)
        wanted = indicators.expected_during(target, fy, elapsed)
        if value is None or wanted is None or r.baseline_value is None or wanted == r.baseline_value:
            continue
        share = (value - r.baseline_value) / (wanted - r.baseline_value)
        if share >= 1 - rules.behind_percent / 100 or indicators.meets(target, value):
            continue
        shown, due = format_quantity(value, r.unit), format_quantity(wanted, r.unit)
        percent = format_percent(max(share, 0))
        flags.append(Flag(
            f"interim:{r.code}",
            f"指標「{r.name_ja}」の{day}時点の値は{shown}で、この時点の見込み値{due}に届いていません"
            f"（基準値から見込み値までの伸びの{percent}）",
            f"indicator '{r.name_en or r.name_ja}' is at {shown} on {day} against {due} expected by then "
            f"({percent} of the change expected from the baseline)",
        ))
    return flags


def evaluate(
    conn: Connection, *, cycle: dict[str, Any], rules: RevisionIn, grades: list[str], grade: str | None = None,
    report_due: date | None = None, submitted: date | None = None,
) -> list[Flag]:
    """Every rule that holds for this cycle now."""
    fy, flags = cycle["fy"], []
    flags += _indicator_flags(conn, cycle["action_id"], fy, rules)
    flags += grade_flags(grade, rules, grades)
    if report_due and submitted and (submitted - report_due).days > rules.late_days:
        late = (submitted - report_due).days
        flags.append(Flag("late", f"実施状況報告が{late}日遅れました", f"the report came {late} days late"))
    returns = cycle.get("return_count", 0)
    if returns > rules.returned_more_than:
        flags.append(Flag("returned", f"{returns}回差し戻されました", f"returned {returns} times"))
    previous = conn.execute(_previous_flags(), {"action": cycle["action_id"], "fy": fy - 1}).scalar()
    if previous:
        flags.append(Flag("repeated", f"{fy_label(fy - 1)}にも見直しの対象になりました",
                          f"also flagged in {fy_label(fy - 1)}"))
    return flags


def grade_flags(grade: str | None, rules: RevisionIn, grades: list[str]) -> list[Flag]:
    """A grade at or below the configured one ("-", not assessable, never flags)."""
    limit = rules.grade_at_or_below
    if grade and limit and grade in grades and limit in grades and grade != "-" \
            and grades.index(grade) >= grades.index(limit):
        return [Flag("grade", f"推進会議の評価が{grade}です", f"the promotion council graded it {grade}")]
    return []


def merge(existing: list[dict[str, Any]], found: list[Flag]) -> list[dict[str, Any]]:
    """New flags join; a flag already there keeps its resolution; none is dropped, so a
    council sees everything that was ever raised this year."""
    by_rule = {f["rule"]: f for f in existing}
    for flag in found:
        if flag.rule not in by_rule:
            by_rule[flag.rule] = flag.as_dict()
        else:
            by_rule[flag.rule] = by_rule[flag.rule] | {"reason_ja": flag.reason_ja, "reason_en": flag.reason_en}
    return list(by_rule.values())


def unresolved(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in flags if not f.get("resolution")]


def resolve(flags: list[dict[str, Any]], resolution: str, reason: str | None) -> list[dict[str, Any]]:
    return [f if f.get("resolution") else f | {"resolution": resolution, "resolution_reason": reason}
            for f in flags]
