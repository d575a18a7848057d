"""The action cycle: one action of the strategy through one fiscal year, plan -> do ->
check -> act. Read the two tables at the bottom (STATES, TRIGGERS) as the city's process;
the functions above them are the guards (each returns a reason a person can act on) and
the recorders (each says what the step writes down; none sends anything).
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import bindparam, func, select

from engine.clock import to_storage
from engine.errors import Said
from engine.spec import OPENING, SYSTEM, Changes, Field, Guard, Label, Role, State, Trigger, WorkflowSpec
from workflows.action_cycle import revision
from workflows.fiscal import fy_label
from workflows.models import Action, Cycle, Indicator, Measurement, Proposal

if TYPE_CHECKING:
    from engine.runtime import BulkContext, FireContext
    from workflows.action_cycle.store import CycleStore

OWNER = "owner"
INTERNAL_CHAIR = "internal_chair"
PROMOTION_CHAIR = "promotion_chair"

REPORT_STATUSES = ("implemented", "partly_implemented", "not_implemented")
STATUS_LABELS = {
    "implemented": Label("実施", "Implemented"),
    "partly_implemented": Label("一部実施", "Partly implemented"),
    "not_implemented": Label("未実施", "Not implemented"),
}
DECISIONS = ("continue", "revise", "complete", "discontinue")


def _data(ctx: FireContext, key: str) -> Any:
    return ctx.instance.data[key]


def _store(ctx: FireContext | BulkContext) -> CycleStore:
    return cast("CycleStore", ctx.store)


# -- guards ------------------------------------------------------------------------------


def action_active(ctx: FireContext) -> str | None:
    status = _data(ctx, "action_status")
    if status == "active":
        return None
    ended = {"completed": "完了", "discontinued": "廃止"}.get(status, status)
    return Said(
        f"action {_data(ctx, 'code')} was {status} in {fy_label(_data(ctx, 'ended_fy'))}; "
        "no further steps are due for it",
        ja=f"取組 {_data(ctx, 'code')} は{fy_label(_data(ctx, 'ended_fy'))}に{ended}となりました。"
           "これ以上の手続きはありません。",
    )


def plan_written(ctx: FireContext) -> str | None:
    if (ctx.fields.get("plan") or _data(ctx, "plan") or "").strip():
        return None
    return Said("the plan is empty: write it (field plan) before submitting",
                ja="計画が空です。計画を書いてから提出してください。")


def fiscal_year_begun(ctx: FireContext) -> str | None:
    begins = _store(ctx).calendar(ctx.conn, ctx.instance).year_begins(_data(ctx, "fy"))
    if ctx.now >= begins:
        return None
    return Said(
        f"{fy_label(_data(ctx, 'fy'))} begins on {begins.date().isoformat()}; the approved plan starts then",
        ja=f"{fy_label(_data(ctx, 'fy'))}は{begins.date().isoformat()}に始まります。"
           "承認された計画はそのときに実施に移ります。",
    )


# -- the same guards as SQL, for the clock's set-based steps ------------------------------


def action_active_sql(ctx: BulkContext) -> Any:
    return Cycle.action_id.in_(select(Action.id).where(Action.status == "active"))  # type: ignore[attr-defined]


def fiscal_year_begun_sql(ctx: BulkContext) -> Any:
    if ctx.tenant is None:
        raise ValueError("the year's start depends on the strategy's calendar: fire per strategy")
    calendar = _store(ctx).tenants.calendar(ctx.conn, ctx.tenant)
    return Cycle.fy <= calendar.fiscal_year(ctx.now)


@cache
def _unreported() -> Any:
    """Indicators of an action without a value or a reason for a year (prepared once)."""
    return (
        select(Indicator.code)  # type: ignore[call-overload]
        .outerjoin(Measurement, (Measurement.indicator_id == Indicator.id) & (Measurement.fy == bindparam("fy")))
        .where(Indicator.action_id == bindparam("action"), Measurement.id.is_(None))  # type: ignore[union-attr]
        .order_by(Indicator.code)
    )


def every_indicator_reported(ctx: FireContext) -> str | None:
    """An indicator added after the report was submitted would otherwise go unreported."""
    rows = ctx.conn.execute(_unreported(), {"fy": _data(ctx, "fy"), "action": _data(ctx, "action_id")}).scalars().all()
    if not rows:
        return None
    return Said(
        f"indicator {', '.join(rows)} has no value or reason for {fy_label(_data(ctx, 'fy'))}; "
        "return the report so the owner can add it",
        ja=f"指標 {', '.join(rows)} に{fy_label(_data(ctx, 'fy'))}の値も、値がない理由もありません。"
           "担当課が追記できるよう報告を差し戻してください。",
    )


def revision_changes_plan(ctx: FireContext) -> str | None:
    if ctx.fields["revised_plan"].strip() != (_data(ctx, "action_plan") or "").strip():
        return None
    return Said("the revised plan is the same as the current plan: change what the council asked for",
                ja="見直し案がいまの計画と同じです。会議で求められた点を直してください。")


# -- recorders ---------------------------------------------------------------------------


def record_plan(ctx: FireContext) -> Changes:
    return Changes({"plan": ctx.fields.get("plan") or _data(ctx, "plan"), "returned_comment": None})


def notify_owners(kind: str) -> tuple[str, dict[str, Any]]:
    """An effect: the cycle's owners get a notice of this step (queued, sent later)."""
    return ("notify", {"kind": kind})


def record_return(ctx: FireContext) -> Changes:
    return Changes(
        {"returned_comment": ctx.comment, "return_count": _data(ctx, "return_count") + 1}
    )


def record_return_to_owner(ctx: FireContext) -> Changes:
    return Changes(record_return(ctx).columns, [notify_owners("returned")])


def record_approval(ctx: FireContext) -> Changes:
    return Changes({}, [notify_owners("decided")])


def record_report(ctx: FireContext) -> Changes:
    f = ctx.fields
    return Changes(
        {
            "report_status": f["status"],
            "report_content": f["content"],
            "self_grade": f["self_grade"],
            "report_details": f.get("details") or {},
            "returned_comment": None,
        },
        [("measurements", {"values": f["indicators"]})],
    )


def _flags(ctx: FireContext) -> list[dict[str, Any]]:
    """The adaptive-revision rules, evaluated as the internal council accepts the report."""
    return _store(ctx).flags_now(ctx.conn, ctx.instance.data)


def record_acceptance(ctx: FireContext) -> Changes:
    return Changes({"internal_comment": ctx.comment, "flags": _flags(ctx)}, [notify_owners("decided")])


def record_evaluation(ctx: FireContext) -> Changes:
    f = ctx.fields
    return Changes(
        {"council_grade": f["grade"], "evaluation": f["evaluation"],
         "flags": _store(ctx).with_grade(ctx.conn, ctx.instance.data, f["grade"])},
        [("proposals", {"texts": f.get("proposals", [])}), notify_owners("decided")],
    )


ANSWER_LINE = re.compile(r"^\s*(\d+)\s*[:：.．]\s*(.+)$")


def numbered_answers(lines: list[str]) -> list[tuple[int, str]]:
    """'2: text' answers proposal 2; a line without a number answers the next in order."""
    answers, position = [], 0
    for line in lines:
        match = ANSWER_LINE.match(line)
        position = int(match[1]) if match else position + 1
        answers.append((position, (match[2] if match else line).strip()))
    return answers


def answers_fit_proposals(ctx: FireContext) -> str | None:
    lines = ctx.fields.get("answers") or []
    if not lines:
        return None
    count = ctx.conn.execute(select(func.count()).select_from(Proposal).where(
        Proposal.cycle_id == ctx.instance.id)).scalar_one()
    wrong = sorted({n for n, _ in numbered_answers(lines) if not 1 <= n <= count})
    if not wrong:
        return None
    return Said(f"there are {count} proposal(s); no proposal {', '.join(map(str, wrong))} to answer "
                "(write 'N: answer', N from 1)",
                ja=f"改善提案は{count}件です。提案 {', '.join(map(str, wrong))} はありません"
                   "（「番号: 対応」の番号は1から）。")


def flags_resolved(ctx: FireContext) -> str | None:
    """Every flag needs an answer at the act phase: a revision, or a reason to keep going."""
    open_flags = revision.unresolved(_data(ctx, "flags") or [])
    if not open_flags or (ctx.fields.get("flags_kept_because") or "").strip():
        return None
    reasons = "; ".join(f["reason_en"] for f in open_flags)
    reasons_ja = "、".join(f["reason_ja"] for f in open_flags)
    return Said(f"flagged for adaptive revision ({reasons}): decide revise, or keep it with a reason "
                "(field flags_kept_because)",
                ja=f"見直しの対象です（{reasons_ja}）。見直しを決めるか、続ける理由を書いてください。")


def _closing(ctx: FireContext) -> dict[str, Any]:
    return {"closed_at": to_storage(ctx.now)}


def record_decision(decision: str) -> Any:
    def record(ctx: FireContext) -> Changes:
        columns: dict[str, Any] = {"decision": decision, "decision_reason": ctx.comment}
        flags = _data(ctx, "flags") or []
        answered = [("answer_proposals", {"answers": ctx.fields["answers"]})] if ctx.fields.get("answers") else []
        if decision == "revise":
            columns["flags"] = revision.resolve(flags, "revised", ctx.comment)
            return Changes(columns, [notify_owners("revision_requested"), *answered])
        kept = ctx.fields.get("flags_kept_because") or ctx.comment
        columns["flags"] = revision.resolve(flags, "kept" if decision != "discontinue" else "discontinued", kept)
        effects: list[tuple[str, dict[str, Any]]] = [notify_owners("decided"), *answered]
        if decision in ("complete", "discontinue"):
            status = "completed" if decision == "complete" else "discontinued"
            effects.append(("end_action", {"status": status}))
        return Changes({**columns, **_closing(ctx)}, effects)

    record.__name__ = f"record_{decision}"
    return record


def record_revision(ctx: FireContext) -> Changes:
    return Changes({"revised_plan": ctx.fields["revised_plan"], "returned_comment": None})


def record_adoption(ctx: FireContext) -> Changes:
    return Changes(_closing(ctx), [("adopt_plan", {"plan": _data(ctx, "revised_plan")}), notify_owners("decided")])


def record_midyear_request(ctx: FireContext) -> Changes:
    """A revision asked for during the year, with why: the plan stays until it is approved."""
    return Changes({"revised_plan": ctx.fields["revised_plan"], "returned_comment": None})


def record_midyear_adoption(ctx: FireContext) -> Changes:
    """The revised plan becomes the year's and the action's plan; the year goes on."""
    plan = _data(ctx, "revised_plan")
    return Changes({"plan": plan, "revised_plan": None}, [("adopt_plan", {"plan": plan}), notify_owners("decided")])


def record_midyear_return(ctx: FireContext) -> Changes:
    return Changes({"revised_plan": None, "returned_comment": ctx.comment}, [notify_owners("returned")])


def record_progress(ctx: FireContext) -> Changes:
    """Interim indicator values, kept with their day, and evaluated at once by the
    adaptive-revision rules: a flag can be raised months before the check."""
    store = _store(ctx)
    cycle = ctx.instance.data
    day, elapsed = store.point_in_year(ctx.conn, cycle, ctx.now)
    posted = [*(cycle.get("interim") or []), {"day": day, "values": ctx.fields["indicators"],
                                               "comment": ctx.comment}]
    found = store.interim_flags(ctx.conn, cycle, ctx.fields["indicators"], elapsed=elapsed, day=day)
    return Changes({"interim": posted, "flags": revision.merge(list(cycle["flags"] or []), found)})


def within_range(value: Any, ctx: FireContext) -> str | None:
    """An indicator's value must be one it can take: no -5 ha of woodland, no 120 % (its
    declared least and most, or what its unit implies)."""
    wrong = _store(ctx).out_of_range(ctx.conn, ctx.instance, value or {})
    if not wrong:
        return None
    said = [(code, f"{v:g}", _bounds(low, high, unit)) for code, v, low, high, unit in wrong]
    return Said("; ".join(f"{code}: {v} must be {en}" for code, v, (_, en) in said),
                ja="、".join(f"{code}: {v} は{ja}の値です" for code, v, (ja, _) in said))


def _bounds(low: float | None, high: float | None, unit: str) -> tuple[str, str]:
    """'0ha以上、100ha以下' / 'at least 0ha and at most 100ha'."""
    ja, en = [], []
    if low is not None:
        ja.append(f"{low:g}{unit}以上")
        en.append(f"at least {low:g}{unit}")
    if high is not None:
        ja.append(f"{high:g}{unit}以下")
        en.append(f"at most {high:g}{unit}")
    return "、".join(ja), " and ".join(en)


def record_late(ctx: FireContext) -> Changes:
    """A report long past its date flags the cycle for adaptive revision, through a step of
    its own: the version moves and the audit says when, so a step taken at the same moment
    cannot overwrite it unseen."""
    days = _store(ctx).rules(ctx.conn, ctx.instance.data["strategy_id"]).late_days
    flag = revision.Flag("late", f"実施状況報告が期限から{days}日を過ぎても提出されていません",
                         f"the report is more than {days} days late")
    return Changes({"flags": revision.merge(list(ctx.instance.data["flags"] or []), [flag])})


def record_check_opened(ctx: FireContext | BulkContext) -> Changes:
    return Changes({"check_opened_at": to_storage(ctx.now)})


def record_opened(ctx: FireContext | BulkContext) -> Changes:
    """A cycle opens with no flags yet and is stamped with its opening."""
    return Changes({"flags": [], "created_at": to_storage(ctx.now)})


# -- the fields triggers take ------------------------------------------------------------

COMMENT = Field("comment", "longtext", Label("コメント", "Comment"))
ANSWERS = Field("answers", "lines",
                Label("改善提案への対応（「番号: 対応」を1行ずつ。番号なしは提案の順）",
                      "Answers to the proposals, one per line: 'N: answer' (without N, in order)"),
                required=False)
KEPT_BECAUSE = Field("flags_kept_because", "longtext",
                     Label("見直しせずに続ける理由（見直し対象の場合）", "Why keep going despite the flags"),
                     required=False)
OPTIONAL_COMMENT = Field("comment", "longtext", Label("コメント", "Comment"), required=False)

# -- the process -------------------------------------------------------------------------

STATES = (
    State("plan.drafting", Label("計画作成中", "Drafting the plan"), deadline="plan_due"),
    State("plan.review", Label("計画審査中", "Plan under review"), deadline="plan_due"),
    State("plan.approved", Label("計画承認済", "Plan approved")),
    State("do.implementing", Label("実施中", "Implementing")),
    State("do.revision_review", Label("年度途中の見直し審査中", "Mid-year revision under review")),
    State("check.self_assessment", Label("実施状況報告中", "Self-assessment"), deadline="report_due"),
    State("check.internal_review", Label("庁内推進会議で点検中", "Internal council review"),
          deadline="internal_council_meeting"),
    State("check.council_evaluation", Label("推進会議で評価中", "Promotion council evaluation"),
          deadline="promotion_council_meeting"),
    State("act.deciding", Label("対応方針の決定中", "Deciding"), deadline="decisions_due"),
    State("act.revising", Label("見直し中", "Revising"), deadline="decisions_due"),
    State("act.revision_review", Label("見直し審査中", "Revision under review"),
          deadline="decisions_due"),
    State("closed", Label("完了", "Closed"), final=True),
)

ROLES = (
    Role(OWNER, Label("担当課", "Owner")),
    Role(INTERNAL_CHAIR, Label("庁内推進会議の会長", "Chair of the internal council"), body="internal"),
    Role(PROMOTION_CHAIR, Label("生物多様性推進会議の会長", "Chair of the promotion council"), body="promotion"),
)

ACTIVE = Guard("action_active", action_active, sql=action_active_sql)
FLAGS_RESOLVED = Guard("flags_resolved", flags_resolved)
ANSWERS_FIT = Guard("answers_fit_proposals", answers_fit_proposals)

DECISION = Label("対応方針", "Decision")

TRIGGERS = (
    # trigger, from, to, who, label, fields, guards, recorder
    Trigger("submit_plan", "plan.drafting", "plan.review", (OWNER,),
            Label("計画を提出", "Submit the plan"),
            fields=(Field("plan", "longtext", Label("計画", "Plan"), required=False),),
            guards=(ACTIVE, Guard("plan_written", plan_written)), record=record_plan),
    Trigger("approve_plan", "plan.review", "plan.approved", (INTERNAL_CHAIR,),
            Label("計画を承認", "Approve the plan"), fields=(OPTIONAL_COMMENT,), guards=(ACTIVE,),
            record=record_approval),
    Trigger("return_plan", "plan.review", "plan.drafting", (INTERNAL_CHAIR,),
            Label("計画を差し戻す", "Return the plan"), fields=(COMMENT,), record=record_return_to_owner),
    Trigger("start", "plan.approved", "do.implementing", (SYSTEM,),
            Label("実施開始", "Start"), automatic=True,
            guards=(ACTIVE, Guard("fiscal_year_begun", fiscal_year_begun, sql=fiscal_year_begun_sql))),
    Trigger("request_revision", "do.implementing", "do.revision_review", (OWNER, INTERNAL_CHAIR),
            Label("年度途中で計画を見直す", "Revise the plan during the year"),
            fields=(Field("revised_plan", "longtext", Label("見直し後の計画", "Revised plan")),
                    Field("comment", "longtext", Label("見直しの理由", "Why it is revised now"))),
            guards=(ACTIVE, Guard("revision_changes_plan", revision_changes_plan)), record=record_midyear_request,
            optional=True),
    Trigger("approve_midyear_revision", "do.revision_review", "do.implementing", (INTERNAL_CHAIR,),
            Label("年度途中の見直しを承認", "Approve the mid-year revision"), fields=(OPTIONAL_COMMENT,),
            record=record_midyear_adoption),
    Trigger("return_midyear_revision", "do.revision_review", "do.implementing", (INTERNAL_CHAIR,),
            Label("年度途中の見直しを差し戻す", "Return the mid-year revision"), fields=(COMMENT,),
            record=record_midyear_return),
    Trigger("post_progress", "do.implementing", "do.implementing", (OWNER,),
            Label("途中経過を報告", "Post interim progress"),
            fields=(Field("indicators", "measures", Label("指標の途中の値", "Indicator values so far"),
                          items="indicators", check=within_range), OPTIONAL_COMMENT),
            guards=(ACTIVE,), record=record_progress, optional=True),
    Trigger("open_check", "do.implementing", "check.self_assessment", (SYSTEM,),
            Label("点検を開始", "Open the check"), guards=(ACTIVE,), record=record_check_opened),
    Trigger("flag_late", "check.self_assessment", "check.self_assessment", (SYSTEM,),
            Label("報告の遅れを見直し対象にする", "Flag the late report for revision"), guards=(ACTIVE,),
            record=record_late, optional=True),
    Trigger("submit_report", "check.self_assessment", "check.internal_review", (OWNER,),
            Label("実施状況を報告", "Submit the report"),
            fields=(
                Field("status", "choice", Label("実施状況", "Implementation status"),
                      choices=REPORT_STATUSES, labels=STATUS_LABELS),
                Field("content", "longtext", Label("実施内容", "What was done")),
                Field("indicators", "measures", Label("指標の実績", "Indicator values"),
                      items="indicators", check=within_range),
                Field("self_grade", "choice", Label("自己評価", "Self grade"), choices="grades"),
                Field("details", "fieldset", Label("報告事項", "Report details"), items="report_fields",
                      required=False),
            ),
            guards=(ACTIVE,), record=record_report),
    Trigger("accept_report", "check.internal_review", "check.council_evaluation",
            (INTERNAL_CHAIR,), Label("点検結果を承認", "Accept the report"),
            fields=(OPTIONAL_COMMENT,),
            guards=(ACTIVE, Guard("every_indicator_reported", every_indicator_reported)),
            record=record_acceptance),
    Trigger("return_report", "check.internal_review", "check.self_assessment", (INTERNAL_CHAIR,),
            Label("報告を差し戻す", "Return the report"), fields=(COMMENT,), record=record_return_to_owner),
    Trigger("approve_evaluation", "check.council_evaluation", "act.deciding", (PROMOTION_CHAIR,),
            Label("評価を承認", "Approve the evaluation"),
            fields=(
                Field("grade", "choice", Label("評価", "Grade"), choices="grades"),
                Field("evaluation", "longtext", Label("評価内容", "Evaluation")),
                Field("proposals", "lines", Label("改善提案", "Proposals"), required=False),
            ),
            record=record_evaluation),
    Trigger("return_evaluation", "check.council_evaluation", "check.internal_review",
            (PROMOTION_CHAIR,), Label("庁内推進会議へ差し戻す", "Return to the internal council"),
            fields=(COMMENT,), record=record_return),
    Trigger("decide_continue", "act.deciding", "closed", (INTERNAL_CHAIR,),
            Label("継続", "Continue"), fields=(OPTIONAL_COMMENT, KEPT_BECAUSE, ANSWERS),
            guards=(FLAGS_RESOLVED, ANSWERS_FIT), record=record_decision("continue"), choice_of=DECISION),
    Trigger("decide_complete", "act.deciding", "closed", (INTERNAL_CHAIR,),
            Label("完了", "Complete"), fields=(OPTIONAL_COMMENT, KEPT_BECAUSE, ANSWERS),
            guards=(FLAGS_RESOLVED, ANSWERS_FIT), record=record_decision("complete"), choice_of=DECISION,
            confirm=True),
    Trigger("decide_discontinue", "act.deciding", "closed", (INTERNAL_CHAIR,),
            Label("廃止", "Discontinue"), fields=(COMMENT, ANSWERS), guards=(ANSWERS_FIT,),
            record=record_decision("discontinue"), choice_of=DECISION, confirm=True),
    Trigger("decide_revise", "act.deciding", "act.revising", (INTERNAL_CHAIR,),
            Label("見直し", "Revise"),
            fields=(Field("comment", "longtext", Label("見直しの内容", "What to revise")), ANSWERS),
            guards=(ANSWERS_FIT,),
            record=record_decision("revise"), choice_of=DECISION),
    Trigger("submit_revision", "act.revising", "act.revision_review", (OWNER,),
            Label("見直し案を提出", "Submit the revision"),
            fields=(Field("revised_plan", "longtext", Label("見直し後の計画", "Revised plan")),),
            guards=(ACTIVE, Guard("revision_changes_plan", revision_changes_plan)),
            record=record_revision),
    Trigger("approve_revision", "act.revision_review", "closed", (INTERNAL_CHAIR,),
            Label("見直しを承認", "Approve the revision"), fields=(OPTIONAL_COMMENT,),
            record=record_adoption),
    Trigger("return_revision", "act.revision_review", "act.revising", (INTERNAL_CHAIR,),
            Label("見直し案を差し戻す", "Return the revision"), fields=(COMMENT,),
            record=record_return_to_owner),
)

OPENINGS = (
    # The calendar's plan window opens each active action's cycle for the next year.
    Trigger("open", OPENING, "plan.drafting", (SYSTEM,), Label("年度サイクルを開始", "Open the year's cycle"),
            record=record_opened),
)

ACTION_CYCLE = WorkflowSpec("action_cycle", STATES, "plan.drafting", TRIGGERS, ROLES,
                            Label("取組の年度サイクル", "An action's yearly cycle"), OPENINGS)

