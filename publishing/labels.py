"""The report's words in Japanese (the default) and English, and how numbers and dates
are written, shared by the pages, the charts and the spreadsheets.

Codes (statuses, decisions, ...) are stored in the snapshot; readers see words. A code we
do not know is shown as it is rather than hidden, so a new status never vanishes from the
public report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

LANGUAGES: tuple[str, ...] = ("ja", "en")
STATUSES: tuple[str, ...] = ("achieved", "on_track", "behind", "no_data", "not_applicable")
PENDING = "pending"  # a flag that has not been resolved yet (resolution is null)

WORDS: dict[str, dict[str, str]] = {
    "ja": {
        "report": "進行管理の結果（公表）", "other_language": "English", "home": "一覧へ戻る",
        "published": "公表日", "version_n": "第{n}版",
        "audit_head": "監査記録の連鎖の先頭（公表時）: 第{seq}行 sha256 {hash}", "correction": "訂正",
        "summary": "評価の集計", "by_grade": "生物多様性推進会議の評価", "by_status": "指標の状況",
        "grade": "評価", "status": "状況", "count": "件数",
        "actions": "取組の一覧", "code": "番号", "title": "取組", "division": "担当課",
        "council_grade": "推進会議の評価", "decision": "対応方針", "indicator_statuses": "指標の状況",
        "flag_marker": "見直し対象", "flag_marker_help": "順応的な見直しの対象になった取組（対応は取組のページに）",
        "downloads": "データ", "csv": "CSV（Excel対応）", "xlsx": "Excel（.xlsx）",
        "basic_policy": "基本方針", "done": "実施状況", "report_status": "実施状況", "report_content": "実施内容",
        "self_grade": "担当課の自己評価", "internal_comment": "庁内推進会議のコメント",
        "promotion": "生物多様性推進会議の評価", "evaluation": "評価内容",
        "proposals": "改善提案と庁内推進会議の回答", "answer": "回答", "no_answer": "回答なし",
        "decision_reason": "理由", "internal": "庁内推進会議の対応方針",
        "indicators": "指標", "indicator": "指標", "unit": "単位", "baseline": "基準値", "target": "目標値",
        "this_year": "今年度の値", "expected": "見込み値", "progress": "進捗率", "no_indicators": "指標はありません。",
        "flags": "順応的な見直し", "rule": "理由となった基準", "reason": "内容", "resolution": "対応",
        "resolution_reason": "対応の理由", "no_flags": "見直しの対象にはなっていません。",
        "fy": "年度", "none": "—", "no_proposals": "提案はありません。",
        "hub_items": "情報拠点に寄せられた記録", "hub_verified": "同定確認済み", "hub_people": "参加{n}人",
        "hub_count": "{n}個体",
        "opinions": "有識者の意見", "opinion_question": "照会内容", "opinion_answer": "意見",
        "meetings": "この年度の会議", "meeting_items": "議題{n}件",
        "meeting_present": "出席{present}名／委員{seated}名",
        "meeting_regular": "定例会", "meeting_extra": "臨時会", "minutes": "議事録",
        "measures": "進捗率＝（今年度の値−基準値）÷（目標値−基準値）。100%で目標値に達します。"
                    "見込み値＝基準値と目標値を結ぶ直線上の今年度の値。",
        "legend": "□ 基準値・目標値　● 実績（大きい点が今年度）　┅ 見込み（基準値と目標値を結ぶ直線）"
                  "　○ 今年度の見込み値",
    },
    "en": {
        "report": "Progress report (publication)", "other_language": "日本語", "home": "Back to the list",
        "published": "Published", "version_n": "version {n}",
        "audit_head": "Head of the audit chain when published: row {seq}, sha256 {hash}", "correction": "Correction",
        "summary": "Summary", "by_grade": "Grades by the promotion council", "by_status": "Indicators by status",
        "grade": "Grade", "status": "Status", "count": "Count",
        "actions": "Actions", "code": "Code", "title": "Action", "division": "Division",
        "council_grade": "Council grade", "decision": "Decision", "indicator_statuses": "Indicators",
        "flag_marker": "Flagged",
        "flag_marker_help": "Flagged for adaptive revision (how it was resolved: on the action page)",
        "downloads": "Data", "csv": "CSV (opens in Excel)", "xlsx": "Excel (.xlsx)",
        "basic_policy": "Basic policy", "done": "What was done", "report_status": "Implementation",
        "report_content": "What was done", "self_grade": "Division's self grade",
        "internal_comment": "Internal council's comment", "promotion": "Promotion council's evaluation",
        "evaluation": "Evaluation", "proposals": "Proposals and the internal council's answers",
        "answer": "Answer", "no_answer": "No answer",
        "decision_reason": "Reason", "internal": "Internal council's decision",
        "indicators": "Indicators", "indicator": "Indicator", "unit": "Unit", "baseline": "Baseline",
        "target": "Target", "this_year": "This year", "expected": "Expected", "progress": "Progress",
        "no_indicators": "This action has no indicators.",
        "flags": "Adaptive revision", "rule": "Rule", "reason": "Why", "resolution": "Outcome",
        "resolution_reason": "Reason for the outcome", "no_flags": "This action was not flagged for revision.",
        "fy": "Fiscal year", "none": "—", "no_proposals": "No proposals.",
        "hub_items": "Records sent to the information hub", "hub_verified": "identification verified",
        "hub_people": "{n} taking part", "hub_count": "{n} individuals",
        "opinions": "Advisors' opinions", "opinion_question": "Asked", "opinion_answer": "Opinion",
        "meetings": "The councils' meetings on this year", "meeting_items": "{n} items",
        "meeting_present": "{present} of {seated} members present", "meeting_regular": "regular meeting",
        "meeting_extra": "extra meeting", "minutes": "minutes",
        "measures": "Progress = (this year's value − baseline) ÷ (target − baseline); 100% means the target "
                    "is reached. Expected = this year's point on the straight line from baseline to target.",
        "legend": "□ baseline and target · ● measured (the large dot is this year) · ┅ expected "
                  "(straight line from baseline to target) · ○ expected this year",
    },
}

VALUE_WORDS: dict[str, dict[str, dict[str, str]]] = {
    "ja": {
        "status": {"achieved": "達成", "on_track": "順調", "behind": "遅れ", "no_data": "データなし",
                   "not_applicable": "対象外"},
        "report_status": {"implemented": "実施", "partly_implemented": "一部実施", "not_implemented": "未実施"},
        "decision": {"continue": "継続", "revise": "見直し", "complete": "完了", "discontinue": "廃止"},
        "resolution": {"revised": "見直した", "kept": "見直さずに継続", PENDING: "未対応"},
        "direction": {"up": "大きいほど良い", "down": "小さいほど良い"},
        "rule": {"indicator": "指標の遅れ", "grade": "評価", "late": "報告の遅れ", "returned": "差し戻し",
                 "repeated": "前年度も対象"},
    },
    "en": {
        "status": {"achieved": "Achieved", "on_track": "On track", "behind": "Behind", "no_data": "No data",
                   "not_applicable": "Not applicable"},
        "report_status": {"implemented": "Implemented", "partly_implemented": "Partly implemented",
                          "not_implemented": "Not implemented"},
        "decision": {"continue": "Continue", "revise": "Revise", "complete": "Complete",
                     "discontinue": "Discontinue"},
        "resolution": {"revised": "Revised", "kept": "Kept as planned", PENDING: "Not resolved yet"},
        "direction": {"up": "higher is better", "down": "lower is better"},
        "rule": {"indicator": "Indicator behind", "grade": "Grade", "late": "Late report", "returned": "Returned",
                 "repeated": "Flagged the year before"},
    },
}

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def check_language(language: str) -> str:
    """A wrong language is a programming error; failing loudly beats a half-translated page."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    return language


def word(kind: str, code: str | None, language: str) -> str:
    """The reader's word for a code; an unknown code is shown as it is, a missing one as empty."""
    if code is None:
        return ""
    return VALUE_WORDS[check_language(language)].get(kind, {}).get(code, str(code))


def rule_words(rule: str, language: str) -> str:
    """A flag's rule in words; an indicator's rule names the indicator ('指標の遅れ（S1）')."""
    kind, _, item = rule.partition(":")
    name = word("rule", kind, language)
    return f"{name}（{item}）" if item and language == "ja" else f"{name} ({item})" if item else name


def format_year(year: Any, language: str) -> str:
    """Fiscal years as the city writes them: "2019年度" / "FY2019"."""
    if isinstance(year, bool) or not isinstance(year, int):
        return ""
    return f"{year}年度" if check_language(language) == "ja" else f"FY{year}"


def format_date(iso: str | None, language: str) -> str:
    """The publication date in the reader's way; text we cannot read is shown unchanged."""
    if not iso:
        return ""
    try:
        when = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    if check_language(language) == "ja":
        return f"{when.year}年{when.month}月{when.day}日"
    return f"{when.day} {MONTHS_EN[when.month - 1]} {when.year}"
