"""The final review's package (最終評価の資料): the whole period of a strategy in one frozen,
hashed document, built from the yearly results the action cycle publishes (its
snapshots), so that its figures are the database's own.

For each action: its grade and decision in every year, how often its plan was revised, the
flags it was given and how each was resolved; for each indicator: its series of measured
values, the least-squares trend, a forecast for the target year with the method and its
uncertainty, and a verdict (achieved / on course / off course / no data). Then the actions
flagged in two years or more, the council's proposals never answered, and a summary by
basic policy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from workflows import forecast
from workflows.fiscal import fy_label

Snapshot = Callable[[int], dict[str, Any]]
"""fiscal year -> that year's results, as the yearly publication freezes them."""
VERDICTS = ("achieved", "on_course", "off_course", "no_data", "no_target")


def build(strategy: dict[str, Any], snapshots: Sequence[dict[str, Any]], *, summary: str | None = None,
          confidence: float = 0.9) -> dict[str, Any]:
    """The package for `strategy` (code, names, first_fy, target_fy) from its years'
    snapshots, oldest first."""
    target_fy = int(strategy["target_fy"])
    actions: dict[str, dict[str, Any]] = {}
    for snap in snapshots:
        fy = int(snap["fy"])
        for a in snap["actions"]:
            entry = actions.setdefault(a["code"], {
                "code": a["code"], "title_ja": a["title_ja"], "title_en": a["title_en"],
                "basic_policy": a["basic_policy"], "basic_policy_en": a["basic_policy_en"], "division": a["division"],
                "years": [], "proposals": [], "indicators": {}})
            entry |= {"title_ja": a["title_ja"], "title_en": a["title_en"], "division": a["division"]}
            entry["years"].append({
                "fy": fy, "self_grade": a["self_grade"], "council_grade": a["council_grade"],
                "decision": a["decision"], "report_status": a["report_status"],
                "flags": [{k: f.get(k) for k in ("rule", "reason_ja", "reason_en", "resolution")}
                          for f in a.get("flags") or []]})
            entry["proposals"] += [{"fy": fy, **p} for p in a.get("proposals") or []]
            for ind in a["indicators"]:
                entry["indicators"][ind["code"]] = ind  # the latest year's: its history is the series
    out_actions = [_action(a, target_fy, confidence) for _, a in sorted(actions.items())]
    flagged_twice = [a["code"] for a in out_actions if len(a["flagged_years"]) >= 2]
    unanswered = [{"code": a["code"], "fy": p["fy"], "seq": p["seq"], "text": p["text"]}
                  for a in out_actions for p in a["proposals"] if not (p.get("answer") or "").strip()]
    content = {
        "kind": "final_review",
        "strategy": {k: strategy[k] for k in ("code", "name_ja", "name_en", "first_fy", "target_fy")},
        "period_label": f"{fy_label(int(strategy['first_fy']))}–{fy_label(target_fy)}",
        "years": [int(s["fy"]) for s in snapshots],
        "summary": summary,
        "confidence": confidence,
        "actions": out_actions,
        "flagged_twice": flagged_twice,
        "unanswered_proposals": unanswered,
        "by_policy": _by_policy(out_actions),
        "counts": {"by_verdict": dict(Counter(i["verdict"] for a in out_actions for i in a["indicators"]))},
    }
    return content


def _action(a: dict[str, Any], target_fy: int, confidence: float) -> dict[str, Any]:
    years = a["years"]
    flagged = [y["fy"] for y in years if y["flags"]]
    indicators = [_indicator(ind, target_fy, confidence) for _, ind in sorted(a["indicators"].items())]
    return {k: v for k, v in a.items() if k != "indicators"} | {
        "revisions": sum(1 for y in years if y["decision"] == "revise"),
        "flagged_years": flagged,
        "last_grade": next((y["council_grade"] for y in reversed(years) if y["council_grade"]), None),
        "indicators": indicators,
    }


def _indicator(ind: dict[str, Any], target_fy: int, confidence: float) -> dict[str, Any]:
    """An indicator's series with its trend, forecast for the target year and verdict."""
    series = [(int(y), float(v)) for y, v in ind.get("history") or [] if v is not None]
    baseline, target = ind["baseline"], ind["target"]
    judged = forecast.verdict(series, baseline_value=baseline[0], target_value=target[0],
                              direction=ind["direction"], target_year=target[1] or target_fy, confidence=confidence)
    return {
        "code": ind["code"], "name_ja": ind["name_ja"], "name_en": ind["name_en"], "unit": ind["unit"],
        "direction": ind["direction"], "baseline": baseline, "target": target, "series": [list(p) for p in series],
        "forecast": judged.forecast.figures(), "verdict": judged.verdict, "progress": judged.progress,
    }


def _by_policy(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts by basic policy: actions, their last grades, their indicators' verdicts."""
    policies: dict[str, dict[str, Any]] = {}
    for a in actions:
        p = policies.setdefault(a["basic_policy"], {"basic_policy": a["basic_policy"],
                                                    "basic_policy_en": a["basic_policy_en"], "actions": 0,
                                                    "by_grade": Counter(), "by_verdict": Counter()})
        p["actions"] += 1
        if a["last_grade"]:
            p["by_grade"][a["last_grade"]] += 1
        p["by_verdict"].update(i["verdict"] for i in a["indicators"])
    return [p | {"by_grade": dict(p["by_grade"]), "by_verdict": {v: p["by_verdict"].get(v, 0) for v in VERDICTS}}
            for p in policies.values()]


__all__ = ["VERDICTS", "build"]
