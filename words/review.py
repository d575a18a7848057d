"""The final review's public words (最終評価の公表), by key, in Japanese and English. Part of
the one catalogue: `words.catalogue.say("review.KEY", language)`."""

from __future__ import annotations

REVIEW_WORDS: dict[str, tuple[str, str]] = {
    "title": ("計画期間の最終評価", "Final review of the strategy's period"),
    "period": ("計画期間", "Period"),
    "published": ("公表日", "Published"),
    "version": ("第{n}版", "version {n}"),
    "summary": ("総括", "Findings"),
    "by_policy": ("基本方針ごとの集計", "By basic policy"),
    "basic_policy": ("基本方針", "Basic policy"),
    "actions": ("取組数", "Actions"),
    "last_grade": ("最後の評価", "Last grade"),
    "indicators": ("指標の見通し", "Indicators: where they are heading"),
    "action": ("取組", "Action"),
    "indicator": ("指標", "Indicator"),
    "series": ("実績の推移", "Measured values"),
    "forecast": ("目標年度の見通し", "Forecast for the target year"),
    "target": ("目標値", "Target"),
    "verdict": ("判定", "Verdict"),
    "progress": ("進捗率", "Progress"),
    "years": ("年度ごとの評価と対応方針", "Grade and decision each year"),
    "revisions": ("見直しの回数", "Revisions"),
    "flagged_twice": ("2つ以上の年度で見直し対象となった取組", "Actions flagged in two years or more"),
    "unanswered": ("回答のない改善提案", "Proposals never answered"),
    "nothing": ("ありません。", "None."),
    "downloads": ("データ", "Data"),
    "csv": ("CSV（Excel対応）", "CSV (opens in Excel)"),
    "xlsx": ("Excel（.xlsx）", "Excel (.xlsx)"),
    "other_language": ("English", "日本語"),
    "verdict.achieved": ("達成", "achieved"),
    "verdict.on_course": ("達成の見込み", "on course"),
    "verdict.off_course": ("達成は難しい見込み", "off course"),
    "verdict.no_data": ("データなし", "no data"),
    "verdict.no_target": ("数値目標なし", "no numerical target"),
    "method.least_squares": ("最小二乗法による直線（{n}年度分）、{confidence}予測区間 {low}〜{high}",
                             "least-squares line over {n} years, {confidence} prediction interval {low} to {high}"),
    "method.two_points": ("2年度分の値を結ぶ直線（ばらつきは測れません）",
                          "the line through two measured years (no scatter to measure)"),
    "method.last_value": ("実績が1年度分のため、その値のまま", "one measured year: that value, flat"),
    "method.none": ("実績がありません", "nothing measured"),
    "how": ("見通しの求め方: 実績の各年度の値に最小二乗法で直線を当てはめ、目標年度の値を求めます。"
            "予測区間は、目標年度の1回の観測値が入ると見込まれる範囲です。進捗率＝（最新の実績−基準値）÷（目標値−基準値）。",
            "How the forecast is made: a least-squares line through the measured years, read at the target year. "
            "The prediction interval is where one observation in the target year is expected to fall. "
            "Progress = (latest measured − baseline) ÷ (target − baseline)."),
    "grade_decision": ("{grade}・{decision}", "{grade}, {decision}"),
}
