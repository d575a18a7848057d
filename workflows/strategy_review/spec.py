"""A strategy's own process (戦略の進行管理), as data: read the tables at the bottom as the
process.

The source chapter: in the target year, progress and issues are re-evaluated and the next
strategy drafted. So a strategy is active through its period; in its target year the
calendar opens the final review (最終評価), which the secretariat prepares and the
promotion council approves; the secretariat then drafts the next strategy, the promotion
council approves the draft, and the secretariat adopts it. The adopted strategy is a
strategy of its own, waiting as `adopted` until its first fiscal year begins; the old one
is `finishing` (its last year's check and publication still run) and, once that year is
published, `superseded`. On the way, an optional mid-term review (中間評価) in a
configured year, and an extension of the period (Kumamoto extended its strategy from 2020
to 2022 because the national strategy was delayed), asked by the secretariat with the
reason and approved by the promotion council.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import Said
from engine.spec import OPENING, STAND_IN, SYSTEM, Changes, Field, Guard, Label, Role, State, Trigger, WorkflowSpec

if TYPE_CHECKING:
    from engine.runtime import FireContext

SECRETARIAT = "secretariat"
PROMOTION_CHAIR = "promotion_chair"
MOVE, KEEP = "move", "keep"
"""What an extension does to the targets set for the old target year."""
TREATMENTS = ("keep", "change", "merge", "drop")
"""What becomes of an action in the next strategy: carried over unchanged, carried over
changed, merged into another, or dropped."""


# -- guards and checks -------------------------------------------------------------------


def later_target_year(value: int, ctx: FireContext) -> str | None:
    """An extension moves the target year on, by at most ten years."""
    current = int(ctx.instance.data["target_fy"])
    if current < value <= current + 10:
        return None
    return Said(f"the new target year must come after FY{current}, by ten years at most",
                ja=f"新しい目標年度は{current}年度より後（10年以内）にしてください")


def a_new_code(value: str, ctx: FireContext) -> str | None:
    """The next strategy is a strategy of its own: its code must not be taken."""
    if ctx.store.code_taken(ctx.conn, value.strip()):  # type: ignore[attr-defined]
        return Said(f"there is a strategy {value} already", ja=f"「{value}」という戦略はすでにあります")
    if not value.strip() or len(value.strip()) > 64 or any(c.isspace() for c in value.strip()):
        return Said("a code without spaces, up to 64 characters", ja="空白を含まない64文字以内の記号にしてください")
    return None


def period_follows(ctx: FireContext) -> str | None:
    """The next strategy begins after this one's target year and ends no earlier than it
    begins."""
    first, target = ctx.fields.get("first_fy"), ctx.fields.get("target_fy")
    own_target = int(ctx.instance.data["target_fy"])
    if first is None or target is None:
        return None
    if first <= own_target:
        return Said(f"the next strategy begins after FY{own_target}",
                    ja=f"次期戦略の開始年度は{own_target}年度より後にしてください")
    if target < first:
        return Said("the target year comes no earlier than the first year",
                    ja="目標年度は開始年度以降にしてください")
    return None


def treatment_explained(ctx: FireContext) -> str | None:
    """Only an action carried over unchanged needs no reason; a merge names the action it
    joins, one of the others; a change says what changes."""
    f = ctx.fields
    treatment, reason = f.get("treatment"), (f.get("reason") or "").strip()
    if treatment != "keep" and not reason:
        return Said("say why the action changes, merges or ends", ja="見直し・統合・終了の理由を書いてください")
    if treatment == "merge":
        into = (f.get("into") or "").strip()
        if into == f.get("action") or into not in ctx.store.choices(ctx.conn, ctx.instance, "actions"):  # type: ignore[attr-defined]
            return Said("name the action it merges into (another action of this strategy)",
                        ja="統合先の取組（この戦略のほかの取組）の番号を書いてください")
    if treatment == "change" and not ((f.get("title_ja") or "").strip() or (f.get("plan") or "").strip()):
        return Said("give the changed title or plan", ja="見直し後の取組名か計画を書いてください")
    return None


def a_new_action(ctx: FireContext) -> str | None:
    """A new action has a code no action of this strategy or the draft uses, and owners
    pdca knows."""
    code = (ctx.fields.get("code") or "").strip()
    draft = ctx.instance.data.get("draft") or {}
    if code in ctx.store.choices(ctx.conn, ctx.instance, "actions") or code in {  # type: ignore[attr-defined]
            a["code"] for a in draft.get("new_actions", [])}:
        return Said(f"there is an action {code} already", ja=f"取組「{code}」はすでにあります")
    unknown = ctx.store.unknown_people(ctx.conn, ctx.fields.get("owners") or [])  # type: ignore[attr-defined]
    if unknown:
        return Said(f"not a person pdca knows: {', '.join(unknown)}",
                    ja=f"登録されていない人です: {'、'.join(unknown)}")
    return None


def known_targets(ctx: FireContext) -> str | None:
    """Every tag names a target of a shipped framework, on an action of this strategy (or
    the draft's new ones)."""
    from workflows.strategy_review.contributions import parse_targets

    _, unknown = parse_targets(ctx.fields.get("targets") or [])
    if unknown:
        return Said(f"not a framework target (write e.g. kmgbf:3 or nbsap_japan_2023:A1-1): {', '.join(unknown)}",
                    ja=f"枠組みの目標として読めません（例: kmgbf:3、nbsap_japan_2023:A1-1）: {'、'.join(unknown)}")
    action = (ctx.fields.get("action") or "").strip()
    draft = ctx.instance.data.get("draft") or {}
    if action not in ctx.store.choices(ctx.conn, ctx.instance, "actions") and action not in {  # type: ignore[attr-defined]
            a["code"] for a in draft.get("new_actions", [])}:
        return Said(f"there is no action {action}", ja=f"取組「{action}」はありません")
    return None


def last_year_published(ctx: FireContext) -> str | None:
    """The old strategy is superseded once its target year's results are published."""
    if ctx.store.published(ctx.conn, ctx.instance):  # type: ignore[attr-defined]
        return None
    return Said("the target year's results are not published yet", ja="目標年度の結果がまだ公表されていません")


# -- recorders ---------------------------------------------------------------------------


def _notify(kind: str, *roles: str) -> tuple[str, dict[str, object]]:
    return ("notify", {"kind": kind, "roles": list(roles)})


def record_opened(kind: str, role: str) -> Changes:
    return Changes({}, [_notify(kind, role)])


def record_mid_review(ctx: FireContext) -> Changes:
    return Changes({"mid_review_summary": ctx.fields["summary"]}, [_notify("strategy_step", PROMOTION_CHAIR)])


def record_extension_asked(ctx: FireContext) -> Changes:
    f = ctx.fields
    asked = {"from_fy": int(ctx.instance.data["target_fy"]), "to_fy": int(f["new_target_fy"]),
             "reason": f["reason"], "targets": f["targets"], "state": ctx.instance.state}
    return Changes({"extension": asked}, [_notify("strategy_step", PROMOTION_CHAIR)])


def record_extension_approved(ctx: FireContext) -> Changes:
    return Changes({"returned_comment": None}, [("extend", {}), _notify("strategy_step", SECRETARIAT)])


def record_extension_refused(ctx: FireContext) -> Changes:
    return Changes({"returned_comment": ctx.comment}, [_notify("strategy_step", SECRETARIAT)])


def record_review(ctx: FireContext) -> Changes:
    return Changes({"review_summary": ctx.fields["summary"], "returned_comment": None},
                   [_notify("strategy_step", PROMOTION_CHAIR)])


def record_return(ctx: FireContext) -> Changes:
    return Changes({"returned_comment": ctx.comment}, [_notify("strategy_step", SECRETARIAT)])


def record_approval(ctx: FireContext) -> Changes:
    return Changes({"returned_comment": None}, [_notify("strategy_step", SECRETARIAT)])


def record_review_approved(ctx: FireContext) -> Changes:
    """The council's approval publishes the package, frozen, as the year's results are."""
    return Changes({"returned_comment": None}, [("publish_review", {}), _notify("strategy_step", SECRETARIAT)])


def record_draft(ctx: FireContext) -> Changes:
    f = ctx.fields
    draft = _draft_of(ctx) | {"code": f["code"].strip(), "name_ja": f["name_ja"].strip(),
                              "name_en": f["name_en"].strip(), "first_fy": int(f["first_fy"]),
                              "target_fy": int(f["target_fy"])}
    return Changes({"draft": draft, "returned_comment": None}, [_notify("strategy_step", PROMOTION_CHAIR)])


def _draft_of(ctx: FireContext) -> dict[str, Any]:
    return dict(ctx.instance.data.get("draft") or {})


def record_action_plan(ctx: FireContext) -> Changes:
    f = ctx.fields
    draft = _draft_of(ctx)
    planned = dict(draft.get("actions") or {})
    planned[f["action"]] = {k: (f.get(k) or "").strip() for k in ("treatment", "into", "title_ja", "plan", "reason")}
    return Changes({"draft": draft | {"actions": planned}})


def record_new_action(ctx: FireContext) -> Changes:
    f = ctx.fields
    draft = _draft_of(ctx)
    new = {k: (f.get(k) or "").strip() for k in ("code", "basic_policy", "title_ja", "title_en", "division", "plan",
                                                 "reason")}
    new["owners"] = [e.strip().lower() for e in f.get("owners") or [] if e.strip()]
    return Changes({"draft": draft | {"new_actions": [*draft.get("new_actions", []), new]}})


def _tag_fields(ctx: FireContext) -> dict[str, Any]:
    from workflows.strategy_review.contributions import parse_targets

    found, _ = parse_targets(ctx.fields.get("targets") or [])
    return {"action": ctx.fields["action"].strip(), "indicator": (ctx.fields.get("indicator") or "").strip(),
            "targets": [f"{fw}:{t}" for fw, t in found]}


def record_tags(ctx: FireContext) -> Changes:
    """Tags of this strategy's own actions, in force at once."""
    return Changes({}, [("tag", _tag_fields(ctx))])


def record_draft_tags(ctx: FireContext) -> Changes:
    """Tags of the next strategy's actions, in force once it is adopted."""
    tag = _tag_fields(ctx)
    draft = _draft_of(ctx)
    tags = dict(draft.get("tags") or {}) | {f"{tag['action']}/{tag['indicator']}": tag["targets"]}
    return Changes({"draft": draft | {"tags": tags}})


def record_target(ctx: FireContext) -> Changes:
    """A target chosen in place of the proposed one, with why."""
    f = ctx.fields
    draft = _draft_of(ctx)
    key = f"{f['action'].strip()}/{f['indicator'].strip()}"
    targets = dict(draft.get("targets") or {}) | {key: {"value": float(f["target_value"]), "reason": f["reason"]}}
    return Changes({"draft": draft | {"targets": targets}})


def known_indicator(ctx: FireContext) -> str | None:
    """The indicator is one the next strategy carries over."""
    key = (ctx.fields.get("action") or "").strip(), (ctx.fields.get("indicator") or "").strip()
    if key in ctx.store.carried_indicators(ctx.conn, ctx.instance):  # type: ignore[attr-defined]
        return None
    return Said(f"the next strategy carries no indicator {key[1]} of action {key[0]}",
                ja=f"次期戦略に引き継ぐ取組{key[0]}の指標{key[1]}はありません")


def record_adoption(ctx: FireContext) -> Changes:
    return Changes({}, [("adopt_next", {})])


# -- the fields steps take ---------------------------------------------------------------

COMMENT = Field("comment", "longtext", Label("コメント", "Comment"))
OPTIONAL_COMMENT = Field("comment", "longtext", Label("コメント", "Comment"), required=False)
EXTENSION_FIELDS = (
    Field("new_target_fy", "number", Label("新しい目標年度", "New target year"), check=later_target_year),
    Field("reason", "longtext", Label("延長の理由", "Why the period is extended")),
    Field("targets", "choice", Label("目標年度が同じ数値目標", "Targets set for the old target year"),
          choices=(MOVE, KEEP), labels={MOVE: Label("新しい目標年度に移す", "Move them to the new target year"),
                                        KEEP: Label("そのままにする", "Keep them as they are")}),
)

# -- the process -------------------------------------------------------------------------

ROLES = (
    Role(SECRETARIAT, Label("事務局", "The secretariat")),
    Role(PROMOTION_CHAIR, Label("生物多様性推進会議の会長", "Chair of the promotion council"), body="promotion"),
)

STATES = (
    State("adopted", Label("採択済（開始前）", "Adopted, not begun")),
    State("active", Label("推進中", "Under way")),
    State("mid_review", Label("中間評価中", "Mid-term review"), deadline="mid_review_due"),
    State("extension_review", Label("期間延長の審議中", "Extension under review")),
    State("final_review", Label("最終評価中", "Final review"), deadline="final_review_due"),
    State("review_council", Label("最終評価の審議中", "Final review before the council")),
    State("next_drafting", Label("次期戦略の策定中", "Next strategy being drafted"), deadline="draft_due"),
    State("draft_review", Label("次期戦略案の審議中", "Draft before the council")),
    State("draft_approved", Label("次期戦略案の承認済（採択待ち）", "Draft approved, to be adopted")),
    State("finishing", Label("次期戦略へ移行中（最終年度の点検）", "Finishing its last year's check")),
    State("superseded", Label("次期戦略に移行済", "Superseded"), final=True),
)

OPENINGS = (
    Trigger("begin", OPENING, "active", (SYSTEM,), Label("戦略の推進を開始", "Begin the strategy")),
    Trigger("begin_adopted", OPENING, "adopted", (SYSTEM,),
            Label("採択された戦略を登録", "Register the adopted strategy")),
)

TAG_FIELDS = (
    Field("action", "text", Label("取組番号", "Action code")),
    Field("indicator", "text", Label("指標（取組全体なら空欄）", "Indicator (empty: the whole action)"),
          required=False),
    Field("targets", "lines", Label("貢献する目標（例: kmgbf:3、nbsap_japan_2023:A1-1）",
                                    "Targets it serves (e.g. kmgbf:3, nbsap_japan_2023:A1-1)"), required=False),
)

TRIGGERS = (
    # trigger, from, to, who, label, fields, guards, recorder
    Trigger("start", "adopted", "active", (SYSTEM,), Label("計画期間の開始", "The period begins")),
    Trigger("open_mid_review", "active", "mid_review", (SYSTEM,), Label("中間評価を開始", "Open the mid-term review"),
            record=lambda ctx: record_opened("mid_review_opened", SECRETARIAT)),
    Trigger("submit_mid_review", "mid_review", "active", (SECRETARIAT,),
            Label("中間評価をまとめる", "Conclude the mid-term review"),
            fields=(Field("summary", "longtext", Label("中間評価の総括", "Findings of the mid-term review")),),
            record=record_mid_review),
    Trigger("request_extension", "active", "extension_review", (SECRETARIAT,),
            Label("計画期間の延長を諮る", "Ask to extend the period"), fields=EXTENSION_FIELDS,
            record=record_extension_asked, optional=True),
    Trigger("request_extension", "final_review", "extension_review", (SECRETARIAT,),
            Label("計画期間の延長を諮る", "Ask to extend the period"), fields=EXTENSION_FIELDS,
            record=record_extension_asked, optional=True),
    Trigger("approve_extension", "extension_review", "active", (PROMOTION_CHAIR,),
            Label("延長を承認", "Approve the extension"), fields=(OPTIONAL_COMMENT,),
            record=record_extension_approved, confirm=True),
    Trigger("refuse_extension", "extension_review", "active", (PROMOTION_CHAIR,),
            Label("延長を認めない", "Refuse the extension"), fields=(COMMENT,), record=record_extension_refused),
    Trigger("tag_targets", "active", "active", (SECRETARIAT,),
            Label("国の戦略・世界目標との対応を記録", "Record the targets an action serves"), fields=TAG_FIELDS,
            guards=(Guard("known_targets", known_targets),), record=record_tags, optional=True),
    Trigger("tag_targets", "next_drafting", "next_drafting", (SECRETARIAT,),
            Label("国の戦略・世界目標との対応を記録", "Record the targets an action serves"), fields=TAG_FIELDS,
            guards=(Guard("known_targets", known_targets),), record=record_draft_tags, optional=True),
    Trigger("open_final_review", "active", "final_review", (SYSTEM,), Label("最終評価を開始", "Open the final review"),
            record=lambda ctx: record_opened("final_review_opened", SECRETARIAT)),
    Trigger("submit_review", "final_review", "review_council", (SECRETARIAT,),
            Label("最終評価を推進会議に諮る", "Put the final review to the council"),
            fields=(Field("summary", "longtext", Label("最終評価の総括", "Findings of the final review")),),
            record=record_review),
    Trigger("approve_review", "review_council", "next_drafting", (PROMOTION_CHAIR,),
            Label("最終評価を承認して公表", "Approve and publish the final review"), fields=(OPTIONAL_COMMENT,),
            record=record_review_approved, confirm=True),
    Trigger("return_review", "review_council", "final_review", (PROMOTION_CHAIR,),
            Label("最終評価を差し戻す", "Return the final review"), fields=(COMMENT,), record=record_return),
    Trigger("plan_action", "next_drafting", "next_drafting", (SECRETARIAT,),
            Label("取組の扱いを決める", "Decide what becomes of an action"),
            fields=(
                Field("action", "choice", Label("取組", "Action"), choices="actions"),
                Field("treatment", "choice", Label("次期戦略での扱い", "In the next strategy"), choices=TREATMENTS,
                      labels={"keep": Label("そのまま継続", "Carried over unchanged"),
                              "change": Label("見直して継続", "Carried over, changed"),
                              "merge": Label("ほかの取組に統合", "Merged into another"),
                              "drop": Label("終了", "Dropped")}),
                Field("into", "text", Label("統合先の取組番号", "Merged into (action code)"), required=False),
                Field("title_ja", "text", Label("見直し後の取組名", "Changed title"), required=False),
                Field("plan", "longtext", Label("見直し後の計画", "Changed plan"), required=False),
                Field("reason", "longtext", Label("理由", "Why"), required=False),
            ),
            guards=(Guard("treatment_explained", treatment_explained),), record=record_action_plan, optional=True),
    Trigger("add_action", "next_drafting", "next_drafting", (SECRETARIAT,),
            Label("新しい取組を加える", "Add a new action"),
            fields=(
                Field("code", "text", Label("取組番号", "Action code")),
                Field("basic_policy", "text", Label("基本方針", "Basic policy")),
                Field("title_ja", "text", Label("取組名", "Title")),
                Field("title_en", "text", Label("取組名（英語）", "Title in English"), required=False),
                Field("division", "text", Label("担当課", "Division")),
                Field("owners", "lines", Label("担当者のメールアドレス", "Owners' email addresses")),
                Field("plan", "longtext", Label("計画", "Plan")),
                Field("reason", "longtext", Label("加える理由", "Why it is added")),
            ),
            guards=(Guard("a_new_action", a_new_action),), record=record_new_action, optional=True),
    Trigger("set_target", "next_drafting", "next_drafting", (SECRETARIAT,),
            Label("次期の数値目標を決める", "Set a next target"),
            fields=(
                Field("action", "text", Label("取組番号", "Action code")),
                Field("indicator", "text", Label("指標", "Indicator")),
                Field("target_value", "number", Label("目標値", "Target value")),
                Field("reason", "longtext", Label("提案値と違う値にする理由", "Why, in place of the proposed value")),
            ),
            guards=(Guard("known_indicator", known_indicator),), record=record_target, optional=True),
    Trigger("submit_draft", "next_drafting", "draft_review", (SECRETARIAT,),
            Label("次期戦略案を推進会議に諮る", "Put the draft to the council"),
            fields=(
                Field("code", "text", Label("次期戦略の記号", "Code of the next strategy"), check=a_new_code),
                Field("name_ja", "text", Label("次期戦略の名称", "Name of the next strategy (Japanese)")),
                Field("name_en", "text", Label("次期戦略の英語名", "Name of the next strategy (English)")),
                Field("first_fy", "number", Label("開始年度", "First fiscal year")),
                Field("target_fy", "number", Label("目標年度", "Target fiscal year")),
            ),
            guards=(Guard("period_follows", period_follows),), record=record_draft),
    Trigger("approve_draft", "draft_review", "draft_approved", (PROMOTION_CHAIR,),
            Label("次期戦略案を承認", "Approve the draft"), fields=(OPTIONAL_COMMENT,), record=record_approval),
    Trigger("return_draft", "draft_review", "next_drafting", (PROMOTION_CHAIR,),
            Label("次期戦略案を差し戻す", "Return the draft"), fields=(COMMENT,), record=record_return),
    Trigger("adopt", "draft_approved", "finishing", (SECRETARIAT,),
            Label("次期戦略を採択", "Adopt the next strategy"), fields=(OPTIONAL_COMMENT,),
            record=record_adoption, confirm=True),
    Trigger("supersede", "finishing", "superseded", (SYSTEM,), Label("次期戦略に移行", "Hand over to the next"),
            guards=(Guard("last_year_published", last_year_published),)),
)

STRATEGY_REVIEW = WorkflowSpec("strategy", STATES, "active", TRIGGERS, ROLES,
                               Label("戦略の進行管理", "The strategy"), OPENINGS)

__all__ = ["KEEP", "MOVE", "PROMOTION_CHAIR", "SECRETARIAT", "STAND_IN", "STRATEGY_REVIEW", "TREATMENTS"]
