"""A council's meeting (会議), as data: read the tables at the bottom as the process.

The calendar convenes each council on its meeting day, with the items then waiting for it
as the agenda (the packet its members were sent); the secretariat may call an extra meeting
too. After the meeting the secretariat records who attended and the minutes; the decisions
the council took on the agenda's items from the meeting day on are taken from the audit
with them. The council's chair approves the minutes, and they are published, or returns
them with a comment. A meeting that did not take place is recorded as cancelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from engine.clock import to_storage
from engine.errors import Said
from engine.spec import OPENING, SYSTEM, Changes, Field, Guard, Label, Role, State, Trigger, WorkflowSpec

if TYPE_CHECKING:
    from engine.runtime import FireContext
    from workflows.meeting.store import MeetingStore

SECRETARIAT = "secretariat"
CHAIR = "chair"
"""The chair of the meeting's own council (the vice chair while the chair is away)."""


def _store(ctx: FireContext) -> MeetingStore:
    return cast("MeetingStore", ctx.store)


# -- guards and checks -------------------------------------------------------------------


def held(ctx: FireContext) -> str | None:
    """Minutes are written after the meeting, not before."""
    held_on = ctx.instance.data["held_on"]
    if _store(ctx).today(ctx.conn, ctx.instance, ctx.now) >= held_on:
        return None
    return Said(f"the meeting is on {held_on.isoformat()}; record its minutes after it",
                ja=f"会議は {held_on.isoformat()} に開かれます。議事録は会議の後に記録してください。")


# -- recorders ---------------------------------------------------------------------------


def record_convened(ctx: FireContext) -> Changes:
    """The agenda is what waits for the council on the day it is convened, as its packet says."""
    f, store = ctx.fields, _store(ctx)
    body, fy, held_on = f["body"], int(f["fy"]), f["held_on"]
    return Changes({"body": body, "fy": fy, "held_on": held_on, "regular": ctx.actor.is_system,
                    "agenda": store.agenda(ctx.conn, ctx.instance.tenant, body, fy),
                    "title": store.title(ctx.conn, ctx.instance.tenant, body, fy, held_on)})


def record_minutes(ctx: FireContext) -> Changes:
    store = _store(ctx)
    return Changes({"attendance": store.attendance(ctx.conn, ctx.instance, ctx.fields["present"]),
                    "minutes": ctx.fields["minutes"],
                    "decisions": store.decisions(ctx.conn, ctx.instance, ctx.now), "returned_comment": None},
                   [("notify", {"kind": "minutes_to_approve", "roles": [CHAIR]})])


def record_returned(ctx: FireContext) -> Changes:
    return Changes({"returned_comment": ctx.comment},
                   [("notify", {"kind": "minutes_returned", "roles": [SECRETARIAT]})])


def record_published(ctx: FireContext) -> Changes:
    return Changes({"published_at": to_storage(ctx.now)})


def record_cancelled(ctx: FireContext) -> Changes:
    return Changes({"cancelled_reason": ctx.comment})


# -- the process -------------------------------------------------------------------------

ROLES = (
    Role(SECRETARIAT, Label("事務局", "The secretariat")),
    Role(CHAIR, Label("会議の会長（議長）", "The council's chair")),
)

STATES = (
    State("convened", Label("議事録の作成待ち", "Minutes to be written")),
    State("minutes_review", Label("会長の確認待ち", "Minutes waiting for the chair")),
    State("published", Label("議事録公開済", "Minutes published"), final=True),
    State("cancelled", Label("中止", "Cancelled"), final=True),
)

OPENINGS = (
    Trigger("convene", OPENING, "convened", (SYSTEM, SECRETARIAT), Label("会議を招集する", "Convene a meeting"),
            fields=(
                Field("body", "choice", Label("会議", "Council"), choices="councils"),
                Field("fy", "number", Label("審議する年度", "Fiscal year taken up")),
                Field("held_on", "date", Label("開催日", "Date of the meeting")),
            ), record=record_convened),
)

TRIGGERS = (
    Trigger("record_minutes", "convened", "minutes_review", (SECRETARIAT,),
            Label("出席者と議事録を記録する", "Record attendance and minutes"),
            fields=(
                Field("present", "several", Label("出席した委員", "Members present"), choices="members"),
                Field("minutes", "longtext", Label("議事録（議事の経過と主な意見）",
                                                   "Minutes (the discussion and the main opinions)")),
            ), guards=(Guard("held", held),), record=record_minutes),
    Trigger("approve_minutes", "minutes_review", "published", (CHAIR,),
            Label("議事録を承認して公開する", "Approve the minutes and publish them"), record=record_published,
            confirm=True),
    Trigger("return_minutes", "minutes_review", "convened", (CHAIR,),
            Label("議事録を差し戻す", "Return the minutes for changes"),
            fields=(Field("comment", "longtext", Label("直すところ", "What to change")),), record=record_returned),
    Trigger("cancel", "convened", "cancelled", (SECRETARIAT,), Label("会議の中止を記録する", "Record it was cancelled"),
            fields=(Field("comment", "longtext", Label("中止の理由", "Why it did not take place")),),
            record=record_cancelled, optional=True, confirm=True),
)

MEETING = WorkflowSpec("meeting", STATES, "convened", TRIGGERS, ROLES, Label("会議", "A council meeting"), OPENINGS)
