"""A fiscal year's results as plain data, and their publication (公表).

`snapshot` gathers what the public report shows, for every action of the year: what was
done, the councils' grades, evaluations, proposals and answers, the decision, each
indicator against its target, and the adaptive-revision flags. `publish` freezes it:
stored with the SHA-256 of its canonical JSON, never updated; publishing unchanged results
again is a no-op, and a changed year becomes a new version that must say why. Each version
records the head of its strategy's audit chain when it was made (`audit_head`), so anyone
can later check the published year against the log (`pdca audit verify`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from engine import audit
from engine.clock import to_storage
from engine.errors import InvalidFields, NotFound
from workflows import indicators
from workflows.fiscal import fy_label
from workflows.frozen import content_hash
from workflows.models import (
    Action,
    Cycle,
    Indicator,
    Measurement,
    OpinionRequest,
    Person,
    Proposal,
    Publication,
    Strategy,
)
from workflows.report_fields import ReportFieldIn, shown


def snapshot(conn: Connection, *, strategy_code: str, fy: int, on_track_ratio: float = 0.9,
             hub: Mapping[str, list[dict[str, Any]]] | None = None,
             meetings: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The year's results as they stand. Where the strategy's report asks more than the
    cycle's own fields, each action carries what its report said in them, frozen with their
    words; a strategy that asks nothing more has the snapshot it always had. With `hub`
    (the information hub's accepted items of the year, by action), each action lists those
    serving it; with `meetings` (the councils' meetings on the year whose minutes are
    published), the year lists them."""
    s = conn.execute(
        select(Strategy.id, Strategy.code, Strategy.name_ja, Strategy.name_en, Strategy.grades,
               Strategy.report_fields)
        .where(Strategy.code == strategy_code)
    ).first()
    if s is None:
        raise NotFound(f"strategy {strategy_code!r} is not in the database; run `pdca init`")
    cycles = conn.execute(
        select(Cycle.id, Cycle.state, Cycle.report_status, Cycle.report_content, Cycle.self_grade,
               Cycle.report_details, Cycle.internal_comment, Cycle.council_grade, Cycle.evaluation, Cycle.decision,
               Cycle.decision_reason,
               Cycle.flags, Action.id.label("action_id"), Action.code, Action.basic_policy,  # type: ignore[union-attr]
               Action.basic_policy_en, Action.title_ja, Action.title_en, Action.division)
        .join(Action, Action.id == Cycle.action_id)
        .where(Action.strategy_id == s.id, Cycle.fy == fy)
        .order_by(Action.code)
    ).all()
    action_ids = [c.action_id for c in cycles]
    report_fields = [ReportFieldIn(**f) for f in s.report_fields or []]
    measured: dict[int, dict[int, tuple[float | None, str | None]]] = defaultdict(dict)
    for ind_id, year, value, reason in conn.execute(
        select(Measurement.indicator_id, Measurement.fy, Measurement.value, Measurement.reason)
        .join(Indicator, Indicator.id == Measurement.indicator_id)
        .where(Indicator.action_id.in_(action_ids), Measurement.fy <= fy)  # type: ignore[attr-defined]
    ):
        measured[ind_id][year] = (value, reason)
    by_action: dict[int, list[Any]] = defaultdict(list)
    found = Session(bind=conn).scalars(
        select(Indicator).where(Indicator.action_id.in_(action_ids)).order_by(Indicator.code)  # type: ignore[attr-defined]
    )
    for ind in found:
        by_action[ind.action_id].append(ind)
    proposals: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in conn.execute(select(Proposal.cycle_id, Proposal.seq, Proposal.text, Proposal.answer)
                          .where(Proposal.cycle_id.in_([c.id for c in cycles])).order_by(Proposal.seq)):  # type: ignore[attr-defined]
        proposals[p.cycle_id].append({"seq": p.seq, "text": p.text, "answer": p.answer})
    opinions = _opinions(conn, [c.id for c in cycles])
    actions = []
    status_counts: Counter[str] = Counter()
    grade_counts: Counter[str] = Counter()
    for c in cycles:
        rows = []
        for ind in by_action[c.action_id]:
            target = indicators.Target(ind.direction, ind.baseline_value, ind.baseline_year, ind.target_value,
                                       ind.target_year)  # type: ignore[arg-type]
            value, reason = measured[ind.id].get(fy, (None, None))
            state = indicators.status(target, value, fy, on_track_ratio=on_track_ratio)
            status_counts[state] += 1
            rows.append({
                "code": ind.code, "name_ja": ind.name_ja, "name_en": ind.name_en, "unit": ind.unit,
                "direction": ind.direction, "baseline": [ind.baseline_value, ind.baseline_year],
                "target": [ind.target_value, ind.target_year], "value": value, "reason": reason,
                "expected": indicators.expected(target, fy), "progress": indicators.progress(target, value),
                "status": state,
                "history": [[year, v] for year, (v, _r) in sorted(measured[ind.id].items()) if v is not None],
            })
        if c.council_grade:
            grade_counts[c.council_grade] += 1
        actions.append({
            "code": c.code, "basic_policy": c.basic_policy, "basic_policy_en": c.basic_policy_en,
            "title_ja": c.title_ja, "title_en": c.title_en, "division": c.division, "state": c.state,
            "report_status": c.report_status, "report_content": c.report_content, "self_grade": c.self_grade,
            "internal_comment": c.internal_comment, "council_grade": c.council_grade, "evaluation": c.evaluation,
            "decision": c.decision, "decision_reason": c.decision_reason, "indicators": rows,
            "proposals": proposals[c.id], "flags": list(c.flags or []),
        } | ({"report_details": shown(report_fields, c.report_details)} if report_fields else {})
          | ({"hub_items": list(hub.get(c.code, []))} if hub is not None else {})
          | ({"opinions": opinions[c.id]} if opinions.get(c.id) else {}))
    more = {"report_fields": [{"key": f.key, "label_ja": f.label_ja, "label_en": f.label_en, "unit": f.unit}
                              for f in report_fields]} if report_fields else {}
    more |= {"meetings": [dict(m) for m in meetings]} if meetings else {}
    return more | {
        "strategy": {"code": s.code, "name_ja": s.name_ja, "name_en": s.name_en},
        "fy": fy, "fy_label": fy_label(fy), "version": 0, "published_at": None, "note": None,
        "grades": list(s.grades),
        "counts": {"by_grade": {g: grade_counts.get(g, 0) for g in s.grades},
                   "by_indicator_status": {st: status_counts.get(st, 0) for st in indicators.STATUSES}},
        "actions": actions,
    }


def _opinions(conn: Connection, cycle_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The advisors' answered opinions on each cycle, which stay with the action they
    concern: who (by name), what they were asked, what they answered."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = conn.execute(
        select(OpinionRequest.cycle_id, Person.name, Person.name_en, OpinionRequest.question, OpinionRequest.answer)
        .join(Person, Person.id == OpinionRequest.advisor_id)
        .where(OpinionRequest.cycle_id.in_(cycle_ids), OpinionRequest.state == "answered")  # type: ignore[attr-defined]
        .order_by(OpinionRequest.id))
    for r in rows:
        out[r.cycle_id].append({"advisor": r.name, "advisor_en": r.name_en, "question": r.question,
                                "answer": r.answer})
    return out


def publish(
    conn: Connection, *, strategy_code: str, fy: int, now: datetime, hub: Mapping[str, list[dict[str, Any]]],
    meetings: Sequence[Mapping[str, Any]], note: str | None = None, on_track_ratio: float = 0.9,
) -> tuple[dict[str, Any], bool]:
    """Freeze the year's results; (the publication, whether a new version was made). The
    publication date is shown as `now` is given: pass it in the city's time zone. `hub`:
    the information hub's accepted items of the year by action (the registry's `hub_items`
    option; empty where there is no hub) and `meetings`: the councils' meetings on the year
    whose minutes are published (the `meetings` option), asked of every caller, so that
    publishing the same results again is recognised as the same."""
    content = snapshot(conn, strategy_code=strategy_code, fy=fy, on_track_ratio=on_track_ratio, hub=hub,
                       meetings=meetings)
    strategy_id = conn.execute(select(Strategy.id).where(Strategy.code == strategy_code)).scalar_one()
    digest = content_hash(content)
    last = latest(conn, strategy_code=strategy_code, fy=fy)
    if last is not None and last["source_hash"] == digest:
        return last, False
    if last is not None and not (note or "").strip():
        raise InvalidFields([("note", f"FY{fy} was published as version {last['version']}; "
                                      "say what this correction changes")])
    version = (last["version"] if last else 0) + 1
    seq, head = audit.head(conn, strategy_id)
    frozen = content | {"version": version, "published_at": now.isoformat(), "note": note,
                        "source_hash": digest, "audit_head": {"seq": seq, "hash": head}}
    conn.execute(insert(Publication).values(
        strategy_id=strategy_id, fy=fy, version=version, published_at=to_storage(now), note=note,
        content=frozen, content_hash=content_hash(frozen),
    ))
    return frozen | {"content_hash": content_hash(frozen)}, True


def _publication(row: Any) -> dict[str, Any]:
    return row.content | {"content_hash": row.content_hash}


def latest(conn: Connection, *, strategy_code: str, fy: int) -> dict[str, Any] | None:
    row = conn.execute(
        select(Publication.content, Publication.content_hash)
        .join(Strategy, Strategy.id == Publication.strategy_id)
        .where(Strategy.code == strategy_code, Publication.fy == fy)
        .order_by(Publication.version.desc())  # type: ignore[attr-defined]
    ).first()
    return _publication(row) if row else None


def version(conn: Connection, *, strategy_code: str, fy: int, number: int) -> dict[str, Any] | None:
    row = conn.execute(
        select(Publication.content, Publication.content_hash)
        .join(Strategy, Strategy.id == Publication.strategy_id)
        .where(Strategy.code == strategy_code, Publication.fy == fy, Publication.version == number)
    ).first()
    return _publication(row) if row else None


def published(conn: Connection, *, strategy_code: str) -> list[dict[str, Any]]:
    """Every fiscal year with its versions, newest year first."""
    rows = conn.execute(
        select(Publication.fy, func.max(Publication.version).label("versions"))
        .join(Strategy, Strategy.id == Publication.strategy_id)
        .where(Strategy.code == strategy_code).group_by(Publication.fy).order_by(Publication.fy.desc())  # type: ignore[attr-defined]
    )
    return [{"fy": r.fy, "fy_label": fy_label(r.fy), "versions": r.versions} for r in rows]


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between two snapshots, action by action (grades, decisions, statuses)."""
    old = {a["code"]: a for a in before["actions"]}
    changes = []
    for a in after["actions"]:
        prior = old.get(a["code"])
        if prior is None:
            changes.append({"code": a["code"], "change": "new"})
            continue
        for key in ("council_grade", "decision", "report_status"):
            if prior.get(key) != a.get(key):
                changes.append({"code": a["code"], "change": key, "before": prior.get(key), "after": a.get(key)})
        statuses_before = {i["code"]: i["status"] for i in prior["indicators"]}
        for i in a["indicators"]:
            if statuses_before.get(i["code"]) != i["status"]:
                changes.append({"code": a["code"], "change": f"indicator {i['code']}",
                                "before": statuses_before.get(i["code"]), "after": i["status"]})
    gone = set(old) - {a["code"] for a in after["actions"]}
    changes += [{"code": code, "change": "gone"} for code in sorted(gone)]
    return changes


def measured_series(conn: Connection, indicator_ids: list[int]) -> dict[int, list[tuple[int, float]]]:
    """Each indicator's measured values by fiscal year, oldest first (years with a reason
    instead of a value left out): what the target-year review and the next strategy's
    baselines are computed from."""
    series: dict[int, list[tuple[int, float]]] = defaultdict(list)
    if not indicator_ids:
        return {}
    rows = conn.execute(select(Measurement.indicator_id, Measurement.fy, Measurement.value).where(
        Measurement.indicator_id.in_(indicator_ids), Measurement.value.is_not(None))  # type: ignore[attr-defined]
        .order_by(Measurement.indicator_id, Measurement.fy))
    for indicator_id, fy, value in rows:
        series[indicator_id].append((int(fy), float(value)))
    return dict(series)


def year_results(conn: Connection, strategy_code: str, fy: int, on_track_ratio: float) -> dict[str, Any]:
    """A year's results as its publication freezes them: the published version if there is
    one (what citizens read), else the snapshot as it stands."""
    published = latest(conn, strategy_code=strategy_code, fy=fy)
    if published is not None:
        return published
    return snapshot(conn, strategy_code=strategy_code, fy=fy, on_track_ratio=on_track_ratio)
