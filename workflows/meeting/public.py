"""A meeting in words, for its page and for the public: the council, the day, the agenda
with the actions' titles, who attended, the minutes, and the decisions taken on the agenda's
items, each step said as the yearly cycle's spec says it. Only published minutes reach the
public (`published`, `one`); a member's address never does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from engine.clock import from_storage
from engine.spec import Label
from workflows import bodies
from workflows.fiscal import fy_label
from workflows.models import Action, Cycle, Meeting, Person

if TYPE_CHECKING:
    from workflows.meeting.store import MeetingStore

PUBLISHED = "published"
SEATS = {"chair": Label("会長", "chair"), "vice_chair": Label("副会長", "vice chair"),
         "member": Label("委員", "member")}
WORDS = {
    "council": Label("会議", "Council"), "held_on": Label("開催日", "Date"),
    "fy": Label("審議した年度", "Fiscal year taken up"), "kind": Label("区分", "Kind"),
    "agenda": Label("議題（会議資料）", "Agenda (the packet)"), "attendance": Label("出席", "Attendance"),
    "minutes": Label("議事録", "Minutes"), "decisions": Label("決定事項", "Decisions"),
    "returned": Label("会長からの差戻し", "Returned by the chair"), "cancelled": Label("中止の理由", "Why cancelled"),
    "regular": Label("定例会", "Regular meeting"), "extra": Label("臨時会", "Extra meeting"),
    "present": Label("出席", "present"), "absent": Label("欠席", "absent"),
    "nothing": Label("（なし）", "(none)"), "undecided": Label("審議中", "still under discussion"),
}


def _both(label: Label) -> dict[str, str]:
    return {"ja": label.ja, "en": label.en}


def view(conn: Connection, store: MeetingStore, data: Mapping[str, Any], tenant: int | None) -> dict[str, Any]:
    """Everything a reader is told about one meeting, in both languages."""
    names = bodies.body_names(conn, strategy=tenant) if tenant else {}
    ja_name, en_name = names.get(data["body"], (data["body"], data["body"]))
    agenda = list(data.get("agenda") or [])
    actions = {r.id: r for r in conn.execute(
        select(Cycle.id, Action.code, Action.title_ja, Action.title_en, Action.division)
        .join(Action, Action.id == Cycle.action_id).where(Cycle.id.in_(agenda)))} if agenda else {}  # type: ignore[union-attr]
    decisions = list(data.get("decisions") or [])
    people = _names(conn, {d["by"] for d in decisions})
    by_cycle: dict[int, list[Mapping[str, Any]]] = {}
    for d in decisions:  # grouped once: a council's agenda holds every action of the strategy
        by_cycle.setdefault(d["cycle_id"], []).append(d)
    agenda_rows = []
    for cycle_id in agenda:
        a = actions.get(cycle_id)
        if a is None:
            continue
        steps = by_cycle.get(cycle_id, [])
        agenda_rows.append({
            "code": a.code, "title": {"ja": a.title_ja, "en": a.title_en or a.title_ja}, "division": a.division,
            "decisions": [_decision(store, d, people) for d in steps],
            "undecided": cycle_id not in by_cycle and data.get("decisions") is not None,
        })
    attendance = [{"name": {"ja": m["name"], "en": m.get("name_en") or m["name"]},
                   "seat": _both(_seat(m["seat"])), "present": bool(m["present"])}
                  for m in data.get("attendance") or []]
    return {
        "id": data["id"], "state": data["state"], "council": {"ja": ja_name, "en": en_name}, "body": data["body"],
        "held_on": data["held_on"].isoformat(), "fy": data["fy"], "fy_label": fy_label(data["fy"]),
        "regular": bool(data.get("regular", True)), "agenda": agenda_rows, "attendance": attendance,
        "present": sum(1 for m in attendance if m["present"]), "minutes": data.get("minutes"),
        "returned_comment": data.get("returned_comment"), "cancelled_reason": data.get("cancelled_reason"),
        "published_at": _when(data.get("published_at")),
    }


def record_rows(conn: Connection, store: MeetingStore, data: Mapping[str, Any], tenant: int | None
                ) -> list[dict[str, Any]]:
    """The meeting as label/value rows for its staff page (the generic instance page)."""
    v = view(conn, store, data, tenant)
    rows = [
        {"label": _both(WORDS["council"]), "value": v["council"]},
        {"label": _both(WORDS["held_on"]), "value": {"ja": v["held_on"], "en": v["held_on"]}},
        {"label": _both(WORDS["fy"]), "value": {"ja": v["fy_label"], "en": v["fy_label"]}},
        {"label": _both(WORDS["kind"]), "value": _both(WORDS["regular" if v["regular"] else "extra"])},
        {"label": _both(WORDS["agenda"]), "value": _lines(
            [{lang: f"{a['code']} {a['title'][lang]}" + "".join(f"\n　→ {d['text'][lang]}" for d in a["decisions"])
              + (f"\n　→ {WORDS['undecided'](lang)}" if a["undecided"] else "") for lang in ("ja", "en")}
             for a in v["agenda"]])},
    ]
    if v["attendance"]:
        rows.append({"label": _both(WORDS["attendance"]), "value": _lines(
            [{lang: f"{m['name'][lang]}（{m['seat'][lang]}）{WORDS['present' if m['present'] else 'absent'](lang)}"
              for lang in ("ja", "en")} for m in v["attendance"]])})
    if v["minutes"]:
        rows.append({"label": _both(WORDS["minutes"]), "value": {"ja": v["minutes"], "en": v["minutes"]}})
    if v["returned_comment"]:
        rows.append({"label": _both(WORDS["returned"]), "value": {"ja": v["returned_comment"],
                                                                  "en": v["returned_comment"]}})
    if v["cancelled_reason"]:
        rows.append({"label": _both(WORDS["cancelled"]), "value": {"ja": v["cancelled_reason"],
                                                                   "en": v["cancelled_reason"]}})
    return rows


def published(conn: Connection, store: MeetingStore, tenant: int, *, fy: int | None = None) -> list[dict[str, Any]]:
    """The strategy's meetings whose minutes are published, the latest first."""
    t = Meeting.__table__  # type: ignore[attr-defined]
    query = select(t).where(t.c.tenant_id == tenant, t.c.state == PUBLISHED)
    if fy is not None:
        query = query.where(t.c.fy == fy)
    return [view(conn, store, row, tenant) for row in conn.execute(
        query.order_by(t.c.held_on.desc(), t.c.id.desc())).mappings()]


def one(conn: Connection, store: MeetingStore, tenant: int, meeting_id: int) -> dict[str, Any] | None:
    t = Meeting.__table__  # type: ignore[attr-defined]
    row = conn.execute(select(t).where(t.c.id == meeting_id, t.c.tenant_id == tenant,
                                       t.c.state == PUBLISHED)).mappings().first()
    return view(conn, store, row, tenant) if row else None


# -- pieces ----------------------------------------------------------------------------------


def _decision(store: MeetingStore, d: Mapping[str, Any], people: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    trigger = store.parent.trigger(d["trigger"], d["from_state"])
    step = trigger.label if trigger else Label(d["trigger"], d["trigger"])
    after = store.parent.state(d["to_state"]).label if store.parent.has_state(d["to_state"]) else step
    who = people.get(d["by"], (d["by"], d["by"]))
    day = d["at"][:10]
    text = {lang: f"{step(lang)} → {after(lang)}（{who[0 if lang == 'ja' else 1]}、{day}）" if lang == "ja"
            else f"{step(lang)} → {after(lang)} ({who[1]}, {day})" for lang in ("ja", "en")}
    if d.get("comment"):
        text = {lang: f"{text[lang]}: {d['comment']}" for lang in text}
    return {"trigger": d["trigger"], "to_state": d["to_state"], "at": d["at"], "text": text}


def _seat(seat: str) -> Label:
    return SEATS.get(seat, Label(seat, seat))


def _names(conn: Connection, emails: set[str]) -> dict[str, tuple[str, str]]:
    """Who took a step, by name (a council's chair is named in its minutes); never the address."""
    if not emails:
        return {}
    return {r.email: (r.name, r.name_en or r.name) for r in conn.execute(
        select(Person.email, Person.name, Person.name_en).where(Person.email.in_(sorted(emails))))}  # type: ignore[attr-defined]


def _lines(values: list[dict[str, str]]) -> dict[str, str]:
    if not values:
        return _both(WORDS["nothing"])
    return {lang: "\n".join(v[lang] for v in values) for lang in ("ja", "en")}


def _when(value: Any) -> str | None:
    return from_storage(value).isoformat() if isinstance(value, datetime) else value


def for_publication(conn: Connection, tenant: Any, fy: int, *, store: MeetingStore) -> list[dict[str, Any]]:
    """The councils' meetings on the year whose minutes are published, oldest first, as the
    yearly publication freezes them (each links to its minutes on the public pages)."""
    return [{"id": m["id"], "held_on": m["held_on"], "council_ja": m["council"]["ja"],
             "council_en": m["council"]["en"], "regular": m["regular"], "items": len(m["agenda"]),
             "present": m["present"], "seated": len(m["attendance"])}
            for m in reversed(published(conn, store, tenant.id, fy=fy))]
