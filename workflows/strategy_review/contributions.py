"""Which framework targets a strategy's actions serve, and the contribution table built from
them: for each Kunming-Montreal or national-strategy target, the actions and indicators
tagged with it and where they stand in the latest year's results (the city's input to
national reporting)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from workflows import frameworks
from workflows.models import Action, FrameworkTag, Indicator


def parse_targets(lines: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """'kmgbf:3', 'nbsap_japan_2023:A1-1' -> (framework, target) pairs; and what is not a
    target of a shipped framework, as written."""
    known = {f.code: f for f in frameworks.frameworks()}
    found, unknown = [], []
    for line in lines:
        text = line.strip()
        if not text:
            continue
        framework, _, target = text.partition(":")
        fw = known.get(framework.strip().lower())
        if fw is None or target.strip() not in {i.code for i in fw.items}:
            unknown.append(text)
            continue
        found.append((fw.code, target.strip()))
    return sorted(set(found)), unknown


def set_tags(conn: Connection, strategy: int, action: str, indicator: str, targets: Sequence[tuple[str, str]]) -> None:
    """Replace what one action (or one of its indicators) is tagged with."""
    conn.execute(delete(FrameworkTag).where(  # type: ignore[arg-type]
        FrameworkTag.strategy_id == strategy, FrameworkTag.action_code == action,
        FrameworkTag.indicator_code == indicator))
    if targets:
        conn.execute(insert(FrameworkTag), [
            {"strategy_id": strategy, "action_code": action, "indicator_code": indicator, "framework": fw, "target": t}
            for fw, t in targets])


def tags_of(conn: Connection, strategy: int) -> list[Any]:
    return list(conn.execute(select(FrameworkTag.action_code, FrameworkTag.indicator_code, FrameworkTag.framework,
                                    FrameworkTag.target).where(FrameworkTag.strategy_id == strategy)))


def table(conn: Connection, strategy: int, results: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per framework target with something tagged, in the framework's order: the
    target in both languages (and whether its wording was checked), and each action or
    indicator serving it with its standing in `results` (a year's published results)."""
    by_code = {a["code"]: a for a in (results or {}).get("actions", [])}
    for code, title_ja, title_en in conn.execute(select(Action.code, Action.title_ja, Action.title_en).where(
            Action.strategy_id == strategy)):
        by_code.setdefault(code, {"title_ja": title_ja, "title_en": title_en})
    names = {(a, i): (ja, en) for a, i, ja, en in conn.execute(
        select(Action.code, Indicator.code, Indicator.name_ja, Indicator.name_en)
        .join(Indicator, Indicator.action_id == Action.id).where(Action.strategy_id == strategy))}
    tagged: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for action, indicator, fw, target in tags_of(conn, strategy):
        tagged.setdefault((fw, target), []).append((action, indicator))
    rows = []
    for fw in frameworks.frameworks():
        for it in fw.items:
            serving = tagged.get((fw.code, it.code))
            if not serving:
                continue
            entries = []
            for action, indicator in sorted(serving):
                a = by_code.get(action, {})
                ind = next((i for i in a.get("indicators", []) if i["code"] == indicator), None) if indicator else None
                named = names.get((action, indicator), (None, None))
                entries.append({"action": action, "indicator": indicator or None, "title_ja": a.get("title_ja"),
                                "title_en": a.get("title_en"), "council_grade": a.get("council_grade"),
                                "status": ind["status"] if ind else None,
                                "indicator_name_ja": named[0], "indicator_name_en": named[1]})
            rows.append({"framework": fw.code, "framework_ja": fw.name_ja, "framework_en": fw.name_en,
                         "target": it.code, "label_ja": it.label("ja"), "label_en": it.label("en"),
                         "title_ja": it.title_ja, "title_en": it.title_en, "verified": it.verified,
                         "serving": entries})
    return rows


__all__ = ["parse_targets", "set_tags", "table", "tags_of"]
