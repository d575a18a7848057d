"""Who hears what about a cycle, and how a cycle looks in a message.

The calendar's messages (requests, reminders, escalations, packets) are queued by the
action cycle's clock; the owners' notices (returned, decided, revision requested) by its
recorders' `notify` effect. Each message names its cycle (or lists several) and carries
the fiscal year in its payload.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Connection, Date, Integer, Select, String, bindparam, literal, select

from engine.outbox import OutboxMessage, dedupe_key, dedupe_key_bound, outbox_table
from engine.spec import Label
from workflows.action_cycle.spec import ACTION_CYCLE
from workflows.fiscal import fy_label
from workflows.messages import message_columns
from workflows.models import Action, ActionOwner, Cycle, Person
from workflows.registry import MessageKind
from workflows.report_fields import shown
from workflows.tenants import Tenants

SPEC = ACTION_CYCLE
SPEC_SCOPE = "cycle"
"""How a message names the cycle it is about in its dedupe key ('cycle:12')."""
KINDS = (
    MessageKind("plan_requested", "request", True, Label("計画の依頼", "Plan asked for")),
    MessageKind("report_requested", "request", True, Label("実施状況報告の依頼", "Report asked for")),
    MessageKind("plan_reminder", "reminder", True, Label("計画の提出期限のお知らせ", "Plan reminder")),
    MessageKind("report_reminder", "reminder", True, Label("報告の提出期限のお知らせ", "Report reminder")),
    MessageKind("plan_overdue", "overdue", True, Label("計画の提出期限超過", "Plan overdue")),
    MessageKind("report_overdue", "overdue", True, Label("報告の提出期限超過", "Report overdue")),
    MessageKind("plan_escalation", "escalation", False, Label("未承認の計画の報告", "Plans not approved")),
    MessageKind("report_escalation", "escalation", False, Label("未提出の報告の報告", "Reports missing")),
    MessageKind("internal_packet", "packet", False, Label("庁内推進会議の資料", "Internal council packet")),
    MessageKind("promotion_packet", "packet", False, Label("推進会議の資料", "Promotion council packet")),
    MessageKind("decision_reminder", "decisions", False, Label("対応方針の決定期限のお知らせ", "Decisions reminder")),
    MessageKind("decision_overdue", "decisions", False, Label("対応方針の決定期限超過", "Decisions overdue")),
    MessageKind("returned", "returned", False, Label("差し戻し", "Returned")),
    MessageKind("decided", "decided", False, Label("決定のお知らせ", "Decided")),
    MessageKind("revision_requested", "revision", False, Label("見直しの依頼", "Revision asked for")),
    MessageKind("publication_done", "published", False, Label("結果の公表", "Results published")),
)


def to_owners(kind: str, *, tenant: int, fy: int, due: date, step: str, at: datetime, where: Any) -> Select[Any]:
    """One message per cycle `where` selects to each of its active owners, as rows for
    `engine.outbox.queue`."""
    scope = literal(f"{SPEC_SCOPE}:", String) + Cycle.id.cast(String)  # type: ignore[union-attr]
    return (
        select(
            dedupe_key(kind, scope, due, step, Person.email).label("dedupe_key"),
            Person.email.label("recipient"),  # type: ignore[attr-defined]
            Cycle.id.label("instance_id"),  # type: ignore[union-attr]
            *message_columns(kind, workflow=SPEC.name, tenant=tenant, payload={"fy": fy}, due=due, step=step, at=at),
        )
        .join(ActionOwner, ActionOwner.action_id == Cycle.action_id)
        .join(Person, Person.id == ActionOwner.person_id)
        .where(where, Person.active)
    )


def notice_to_owners(kind: str) -> Select[Any]:
    """A notice of one cycle's step to its owners, with everything that varies bound:
    `cycle`, `tenant`, `payload`, `due`, `step`, `key_middle` and `at`. Prepared once per
    kind, it keeps a transition's cost flat."""
    scope = literal(f"{SPEC_SCOPE}:", String) + Cycle.id.cast(String)  # type: ignore[union-attr]
    return (
        select(
            dedupe_key_bound(kind, scope, Person.email).label("dedupe_key"),
            Person.email.label("recipient"),  # type: ignore[attr-defined]
            Cycle.id.label("instance_id"),  # type: ignore[union-attr]
            literal(kind).label("kind"),
            literal(SPEC.name).label("workflow"),
            bindparam("tenant", type_=Integer).label("tenant_id"),
            bindparam("payload", type_=JSON).label("payload"),
            bindparam("due", type_=Date).label("due"),
            bindparam("step", type_=String).label("step"),
            literal("queued").label("status"),
            literal(0).label("attempts"),
            bindparam("at", type_=outbox_table.c.created_at.type).label("created_at"),
        )
        .join(ActionOwner, ActionOwner.action_id == Cycle.action_id)
        .join(Person, Person.id == ActionOwner.person_id)
        .where(Cycle.id == bindparam("cycle"), Person.active)
    )


def views(conn: Connection, ids: Sequence[int], language: str, *, tenants: Tenants | None = None
          ) -> dict[int, dict[str, Any]]:
    """Each cycle as a message shows it; with `tenants`, what its report said in the fields
    its strategy asks for (a packet's agenda shows the outlook and the budget)."""
    rows = conn.execute(
        select(Cycle.id, Cycle.fy, Cycle.state, Cycle.returned_comment, Cycle.flags, Cycle.report_details,
               Action.code, Action.title_ja, Action.title_en, Action.division, Action.strategy_id)
        .join(Action, Action.id == Cycle.action_id)
        .where(Cycle.id.in_(list(ids)))  # type: ignore[union-attr]
    )
    out = {}
    lang = "en" if language == "en" else "ja"
    for row in rows:
        declared = tenants.get(conn, row.strategy_id).report_fields if tenants and row.report_details else ()
        out[row.id] = {
            "code": row.code,
            "title": (row.title_en or row.title_ja) if language == "en" else row.title_ja,
            "division": row.division,
            "fy": row.fy,
            "fy_label": fy_label(row.fy),
            "state": row.state,
            "state_label": SPEC.state(row.state).label(language),
            "path": f"/actions/{row.code}/{row.fy}",
            "flags": [f["reason_en"] if language == "en" else f["reason_ja"]
                      for f in (row.flags or []) if not f.get("resolution")],
            "details": [f"{d['label_' + lang]}: {_short(d['text_' + lang])}"
                        for d in shown(declared, row.report_details) if d["text_" + lang]],
        }
    return out


def _short(text: str, limit: int = 120) -> str:
    """A long answer cut to a line for a list in a message; the page has it whole."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


TOPIC = {"plan": "plan", "report": "report", "decision": "decision"}
"""What a request, reminder or escalation is about, from the first word of its kind."""


def extras(conn: Connection, message: OutboxMessage, context: dict[str, Any], url: Any) -> dict[str, Any]:
    """What a message is about; a packet links to its council's queue, the publication
    notice to the published report."""
    head = message.kind.split("_", 1)[0]
    more: dict[str, Any] = {"topic": TOPIC.get(head, head)}
    if message.kind.endswith("_packet"):
        more["council_url"] = url(f"/councils/{message.kind.removesuffix('_packet')}")
    if message.kind == "publication_done" and context.get("fy"):
        more["url"] = url(f"/public/{context['fy']}/")
    return more


SEAT_KINDS = ("plan_escalation", "report_escalation", "internal_packet", "promotion_packet", "decision_reminder",
              "decision_overdue")
"""The calendar's messages addressed by seat rather than to an action's owners."""


def seat_kinds(seats: dict[str, str]) -> set[str]:
    """The kinds of message someone with these seats (body key -> chair, vice_chair or
    member) receives, as the clock addresses them: escalations to the internal council's
    chair and the secretariat, each council's packet to its members, the decisions
    reminders to the internal chair. A vice chair counts as a chair: they act while the
    chair is away."""
    kinds = {f"{body}_packet" for body in seats if f"{body}_packet" in SEAT_KINDS}
    if seats.get("internal") in ("chair", "vice_chair"):
        kinds |= {"plan_escalation", "report_escalation", "decision_reminder", "decision_overdue"}
    if "secretariat" in seats:
        kinds |= {"plan_escalation", "report_escalation"}
    return kinds
