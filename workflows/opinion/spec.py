"""An advisor's opinion (大学・研究機関 / 地元有識者への意見照会), as data: read the tables at
the bottom as the process. A member of the promotion council (or an admin) asks one of the
strategy's advisors a question about a cycle while the council evaluates it, by a date;
the advisor answers on the cycle's page; the tick reminds them before the date and after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from engine.clock import to_storage
from engine.errors import Said
from engine.spec import OPENING, STAND_IN, Changes, Field, Guard, Label, Role, State, Trigger, WorkflowSpec

if TYPE_CHECKING:
    from engine.runtime import FireContext
    from workflows.opinion.store import OpinionStore

ADVISOR = "advisor"
PROMOTION_MEMBER = "promotion_member"
PROMOTION = "promotion"
"""The body whose members ask, and during whose evaluation opinions are asked."""


def _store(ctx: FireContext) -> OpinionStore:
    return cast("OpinionStore", ctx.store)


# -- guards and checks -------------------------------------------------------------------


def during_evaluation(ctx: FireContext) -> str | None:
    """Opinions inform the promotion council's evaluation: asked while the cycle waits for it."""
    data = ctx.instance.data
    if data["cycle_state"] in _store(ctx).asking_states():
        return None
    return Said(f"opinions are asked during the promotion council's evaluation; this cycle is {data['cycle_state']}",
                ja="有識者への意見照会は、生物多様性推進会議が評価している間に行います。")


def after_today(value: Any, ctx: FireContext) -> str | None:
    today = _store(ctx).today(ctx.conn, ctx.instance, ctx.now)
    if value > today:
        return None
    return Said(f"{value.isoformat()} is not after today", ja=f"{value.isoformat()} は今日より後の日付ではありません")


# -- recorders ---------------------------------------------------------------------------


def record_asked(ctx: FireContext) -> Changes:
    f = ctx.fields
    return Changes(
        {"advisor_id": _store(ctx).person_id(ctx.conn, f["advisor"]), "asked_by": ctx.actor.email,
         "question": f["question"], "due": f["due"], "asked_at": to_storage(ctx.now)},
        [("notify", {"kind": "opinion_requested", "stage": ""})],
    )


def record_answer(ctx: FireContext) -> Changes:
    return Changes({"answer": ctx.fields["answer"], "answered_at": to_storage(ctx.now)})


def record_withdrawal(ctx: FireContext) -> Changes:
    return Changes({"withdrawn_reason": ctx.comment})


# -- the process -------------------------------------------------------------------------

ROLES = (
    Role(ADVISOR, Label("照会先の有識者", "The advisor asked")),
    Role(PROMOTION_MEMBER, Label("生物多様性推進会議の委員", "A member of the promotion council")),
)

STATES = (
    State("asked", Label("回答待ち", "Waiting for the answer"), deadline="due"),
    State("answered", Label("回答済", "Answered"), final=True),
    State("withdrawn", Label("取り下げ", "Withdrawn"), final=True),
)

OPENINGS = (
    Trigger("ask", OPENING, "asked", (PROMOTION_MEMBER, STAND_IN), Label("有識者に意見を照会する", "Ask an advisor"),
            fields=(
                Field("advisor", "choice", Label("有識者", "Advisor"), choices="advisors",
                      invalid=Label("は、この戦略の有識者（[advisors] members）ではありません",
                                    "is not an advisor in the config ([advisors] members)")),
                Field("question", "longtext", Label("照会内容", "Question")),
                Field("due", "date", Label("回答期限", "Answer by"), check=after_today),
            ),
            guards=(Guard("during_evaluation", during_evaluation),), record=record_asked),
)

TRIGGERS = (
    Trigger("answer", "asked", "answered", (ADVISOR,), Label("回答する", "Answer"),
            fields=(Field("answer", "longtext", Label("ご回答", "Your answer")),), record=record_answer),
    Trigger("withdraw", "asked", "withdrawn", (PROMOTION_MEMBER, STAND_IN), Label("照会を取り下げる", "Withdraw"),
            fields=(Field("comment", "longtext", Label("取り下げの理由", "Why it is withdrawn")),),
            record=record_withdrawal, optional=True),
)

OPINION = WorkflowSpec("opinion", STATES, "asked", TRIGGERS, ROLES, Label("有識者への意見照会", "An advisor's opinion"),
                       OPENINGS)
