"""The catalogue: each key in Japanese and English, with `{name}` places for its values.

`say(key, language, **values)` says one entry. `render(said, language, names)` says a
refusal or a field problem that the engine raised (a `Said`: English text with its key and
values, or with the Japanese its author wrote), turning the program names it carries
(steps, states, roles) into the words `names(kind, code, language)` gives for them.

Nothing here imports the rest of pdca: the engine, the workflows, the pages, the CLI and
mail all read from it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from words.cli import CLI_WORDS
from words.council_pages import COUNCIL_PAGE_WORDS
from words.hub import HUB_WORDS
from words.hub_pages import HUB_PAGE_WORDS
from words.pages import PAGE_WORDS
from words.review import REVIEW_WORDS

Names = Callable[[str, str, str], str]
"""(kind, code, language) -> words: kind is 'trigger', 'state', 'role' or 'field'."""


class Sayable(Protocol):
    key: str
    params: dict[str, Any]
    ja: str | None


WORDS: dict[str, tuple[str, str]] = {
    # -- refusals ----------------------------------------------------------------------------
    "refused.not_found": ("見つかりません。", "Not found."),
    "refused.not_allowed_now": ("「{trigger}」は、いま（{state}）はできません。いまできること: {allowed}",
                                "“{trigger}” is not possible now ({state}). What is possible: {allowed}"),
    "refused.no_such_trigger": ("その操作はありません。いま（{state}）できること: {allowed}",
                                "There is no such step. What is possible now ({state}): {allowed}"),
    "refused.final": ("この件は「{state}」で、これ以上の手続きはありません。",
                      "This is “{state}”: nothing more can happen."),
    "refused.no_opening": ("この操作では始められません。始められるもの: {allowed}",
                           "This does not start one. What does: {allowed}"),
    "refused.wrong_role": ("「{trigger}」は{roles}が行います（{holders}）。",
                           "“{trigger}” is for {roles} ({holders})."),
    "refused.system_step": ("「{trigger}」は年間予定に従って自動で行われます。管理者は手動でも行えます。",
                            "“{trigger}” happens by the calendar; an admin may take it by hand."),
    "refused.stale": ("ほかの人が先に更新しました（いまは第{now}版、開いたときは第{had}版）。ページを読み込み直して、"
                      "内容を確かめてからもう一度行ってください。",
                      "Someone changed this since you opened it (now version {now}, you had {had}). Reload the "
                      "page, check it, and try again."),
    "refused.stale_race": ("保存中にほかの人が更新しました。ページを読み込み直してください。",
                           "Someone changed this while it was being saved. Reload the page."),
    "refused.already_done": ("この操作はすでに行われています（{when}、{who}）。",
                             "This step was taken already ({when}, {who})."),
    "refused.not_now": ("「{trigger}」はいまはできません。", "“{trigger}” is not possible now."),
    "refused.guard": ("{reasons}", "{reasons}"),
    "refused.invalid_fields": ("入力に{count}件の問題があります。各項目の説明を見て直してください。",
                               "{count} field(s) need attention: see the note beside each."),
    "refused.csrf": ("このフォームは古いか、このサイトから送られたものではありません。ページを読み込み直してください。",
                     "This form is out of date or did not come from this site. Reload the page."),
    "refused.not_admin": ("管理者だけが行えます。", "Only an admin may do this."),
    "refused.no_part": ("この戦略のページは、関わりのある人だけが見られます。",
                        "This strategy's pages are for those who have a part in it."),
    "refused.nobody": ("いま担当者がいません", "nobody holds it now"),
    # -- field problems ------------------------------------------------------------------------
    "field.confirm": ("「{trigger}」は取り消せません。確認の欄にチェックを入れてください。",
                      "“{trigger}” cannot be undone: tick the box to confirm."),
    "field.several": ("1つだけ入力してください", "give one value, not several"),
    "field.unknown_item": ("「{item}」はここにはありません", "there is no “{item}” here"),
    "field.measure_not_number": ("「{value}」は数値ではありません。値がない場合は理由の欄に書いてください",
                                 "“{value}” is not a number; if there is none, say why in the reason box"),
    "field.value_and_reason": ("値か理由のどちらか一方を入力してください", "give a value or a reason, not both"),
    "field.measure_missing": ("値を入力するか、値がない理由を書いてください",
                              "give a value, or say why there is none"),
    "field.missing_lines": ("1件以上入力してください", "give at least one"),
    "field.not_files": ("写真はファイルとして送ってください", "send the photos as files"),
    "field.missing": ("入力してください", "this is needed"),
    "field.not_number": ("「{value}」は数値ではありません", "“{value}” is not a number"),
    "field.not_choice": ("選択肢から選んでください", "choose one of the options"),
    "field.below_minimum": ("{minimum}以上の値を入力してください", "must be at least {minimum}"),
    "field.not_date": ("「{value}」は日付ではありません（年-月-日）", "“{value}” is not a date (YYYY-MM-DD)"),
    "field.unknown": ("この操作にはない項目です", "this step does not take this"),
    "field.version": ("版の番号が読めません。ページを読み込み直してください",
                      "the version is unreadable; reload the page"),
    "field.choose": ("選択してください", "Choose…"),
    # -- history, as sentences ------------------------------------------------------------------
    "history.by": ("{who}が{step}", "{who}: {step}"),
    "history.system": ("年間予定により{step}", "By the calendar: {step}"),
    "history.for_system": ("{who}が年間予定に代わって{step}", "{who}, standing in for the calendar: {step}"),
    "history.person": ("{name}（{division}）", "{name} ({division})"),
    "history.absent": ("{who}が{person}を不在にしました", "{who} marked {person} away"),
    "history.back": ("{who}が{person}の不在を解除しました", "{who} marked {person} back"),
    "history.import": ("{who}が取組の一覧（{file}）を取り込みました", "{who} imported the actions ({file})"),
    "history.adopt": ("見直し後の計画が取組の計画になりました", "The revised plan became the action's plan"),
    "history.ended": ("取組が終了しました", "The action ended"),
    "history.reassign": ("{who}が担当者を変えました", "{who} handed the action to other owners"),
    "history.unknown": ("{who}: {step}", "{who}: {step}"),
    "history.system_actor": ("年間予定", "the calendar"),
    # -- the annual calendar's milestones ------------------------------------------------------------
    "milestone.plan_window_opens": ("計画の受付開始", "Plans asked for"),
    "milestone.plan_due": ("計画の提出期限", "Plans due"),
    "milestone.year_start": ("年度の開始", "The year begins"),
    "milestone.check_opens": ("点検の開始", "The check opens"),
    "milestone.report_due": ("実施状況報告の提出期限", "Reports due"),
    "milestone.internal_council_meeting": ("庁内推進会議", "Internal council meets"),
    "milestone.promotion_council_meeting": ("生物多様性推進会議", "Promotion council meets"),
    "milestone.decisions_due": ("対応方針の決定期限", "Decisions due"),
    "milestone.publication": ("結果の公表", "Results published"),
    # -- what the calendar itself does, as a simulation's table counts it ---------------------------
    "clock.publish": ("年度の結果を公表", "Publish the year's results"),
    "clock.flag": ("報告の遅れを見直しの対象に", "Flag a late report for revision"),
    # -- mail, as the outbox shows it ---------------------------------------------------------------
    "status.queued": ("送信待ち", "queued"),
    "status.sending": ("送信中", "sending"),
    "status.sent": ("送信済", "sent"),
    "status.dead": ("送信できず", "undeliverable"),
    "status.folded": ("まとめに含めた", "folded into a digest"),
    "status.cancelled": ("取消し", "cancelled"),
    # -- importing the actions file ------------------------------------------------------------
    "import.kind": ("CSV（.csv）か Excel（.xlsx）のファイルを選んでください。",
                    "Choose a CSV (.csv) or Excel (.xlsx) file."),
    "import.too_large": ("ファイルが大きすぎます（5MBまで）。", "The file is too large (5 MB at most)."),
    "import.unreadable": ("{file}: ファイルを読み取れませんでした。", "{file}: the file could not be read."),
    "import.encoding": ("{file}: UTF-8でもShift_JISでもありません", "{file}: neither UTF-8 nor Shift_JIS text"),
    "import.empty": ("{file}: ファイルが空です", "{file}: the file is empty"),
    "import.range_order": ("{row}行目: maximum {high} が minimum {low} より小さくなっています",
                           "row {row}: maximum {high} is below minimum {low}"),
    "import.out_of_range": ("{row}行目: {column} {value} は、この指標が取りうる値の範囲外です（minimum・maximum、"
                            "または単位から0以上・100%以下）",
                            "row {row}: {column} {value} is outside what the indicator can be (minimum and "
                            "maximum, or from its unit: not below 0, not above 100 %)"),
    "import.not_workbook": ("{file}: Excel のブックとして読めません（壊れているか、途中で切れているか、別の形式です）",
                            "{file}: not a readable Excel workbook (damaged, cut short, or another kind of file)"),
    "import.missing_column": ("1行目: 列「{column}」がありません", "row 1: missing column “{column}”"),
    "import.unknown_column": ("1行目: 「{column}」という列はありません（使える列: {columns}）",
                              "row 1: unknown column “{column}” (columns: {columns})"),
    "import.code": ("{row}行目: 取組番号「{value}」は 2-1-3 の形で書いてください",
                    "row {row}: code “{value}” must look like 2-1-3"),
    "import.differs": ("{row}行目: 取組{code}の{column}が{first}行目と違います（「{value}」と「{before}」）",
                       "row {row}: {column} of action {code} differs from row {first} (“{value}” vs “{before}”)"),
    "import.no_email": ("{row}行目: 担当者「{value}」にメールアドレスがありません",
                        "row {row}: owners “{value}” has no email in it"),
    "import.unknown_owner": ("{row}行目: 担当者{email}は登録されていません",
                             "row {row}: owner {email} is not a person pdca knows"),
    "import.indicator_twice": ("{row}行目: 取組{code}の指標{indicator}が2回出てきます",
                               "row {row}: indicator {indicator} of action {code} appears twice"),
    "import.required": ("{row}行目: 取組{code}に{column}がありません", "row {row}: action {code} has no {column}"),
    "import.indicator_code": ("{row}行目: 指標番号「{value}」は英数字・-・_ の32文字以内で書いてください",
                              "row {row}: indicator_code “{value}” must be 1-32 letters, digits, - or _"),
    "import.indicator_name": ("{row}行目: 指標名（indicator_name_ja）が空です",
                              "row {row}: indicator_name_ja is empty"),
    "import.hub_measure": ("{row}行目: hub_measure「{value}」は {measures} のどれかです",
                           "row {row}: hub_measure “{value}” must be one of {measures}"),
    "import.direction": ("{row}行目: direction「{value}」は up か down です",
                         "row {row}: direction “{value}” must be up or down"),
    "import.number": ("{row}行目: {column}「{value}」は数値ではありません",
                      "row {row}: {column} “{value}” is not a number"),
    "import.year": ("{row}行目: {column}「{value}」は年としてありえません",
                    "row {row}: {column} “{value}” is not a plausible year"),
    "import.no_target": ("{row}行目: 目標値（target_value）が空です（数値目標が必要です）",
                         "row {row}: target_value is empty (a numerical target is required)"),
    "import.years_order": ("{row}行目: 目標年度{target}が基準年度{baseline}より前です",
                           "row {row}: target_year {target} is before baseline_year {baseline}"),
    "import.kept_changed": ("{code}の{field}: {when}に{who}が変更しているため、ファイルの値にしませんでした",
                            "{code} {field}: kept, as {who} changed it on {when}"),
    "import.kept_revised": ("{code}の{field}: {when}に「{step}」で見直し後の計画になったため、"
                            "ファイルの値にしませんでした",
                            "{code} {field}: kept, as “{step}” made the revised plan the action's plan on {when}"),
    "import.kept_ended": ("{code}: {when}に「{step}」で{status}となった取組のため、変えていません",
                          "{code}: left as it is, as “{step}” made it {status} on {when}"),
    "import.kept_ended_unknown": ("{code}: {status}となった取組のため、変えていません",
                                  "{code}: left as it is, as it is {status}"),
    "import.kept_unknown": ("{code}の{field}: 前回の取込の後に変更されているため、ファイルの値にしませんでした",
                            "{code} {field}: kept, as it was changed since the last import"),
    "import.kept_indicator": ("指標{indicator}の{field}", "indicator {indicator} {field}"),
    "import_field.basic_policy": ("基本方針", "basic policy"),
    "import_field.basic_policy_en": ("基本方針（英語）", "basic policy in English"),
    "import_field.title_ja": ("取組名", "title"),
    "import_field.title_en": ("取組名（英語）", "title in English"),
    "import_field.division": ("担当課", "division"),
    "import_field.plan": ("計画", "plan"),
    "import_field.owners": ("担当者", "owners"),
    "import_field.name_ja": ("指標名", "name"),
    "import_field.name_en": ("指標名（英語）", "name in English"),
    "import_field.unit": ("単位", "unit"),
    "import_field.direction": ("望ましい方向", "direction"),
    "import_field.baseline_value": ("基準値", "baseline value"),
    "import_field.baseline_year": ("基準年度", "baseline year"),
    "import_field.target_value": ("目標値", "target value"),
    "import_field.target_year": ("目標年度", "target year"),
    "action_status.completed": ("完了", "completed"),
    "action_status.discontinued": ("廃止", "discontinued"),
    "action_status.active": ("実施中", "active"),
    "owners.no_action": ("取組「{code}」はありません。", "There is no action “{code}”."),
    "owners.none": ("担当者を1人以上入力してください。", "Name at least one owner."),
    "owners.unknown": ("登録されていない人です: {emails}", "Not a person pdca knows: {emails}"),
    "outbox.cancelled_by_owners": ("担当者の変更により取消し: {code}の担当が{old}から{new}に変わりました",
                                   "Cancelled as the owners changed: {code} passed from {old} to {new}"),
    "outbox.cancelled_by_calendar": ("日程の変更により取消し: {milestone}が{old}から{new}に変わりました",
                                     "Cancelled by a calendar change: {milestone} moved from {old} to {new}"),
    "history.calendar": ("{who}が{fy}の{milestone}を{old}から{new}に変えました",
                         "{who} moved {fy} {milestone} from {old} to {new}"),
    "history.calendar_closed": ("{who}が{fy}の閉庁日を変えました（{what}）",
                                "{who} changed {fy} closed dates ({what})"),
    "history.closed_added": ("{day}を追加", "{day} added"),
    "history.closed_removed": ("{day}を削除", "{day} removed"),
    "calendar.why_missing": ("変更の理由を書いてください", "Say why the calendar changes"),
    "calendar.no_milestone": ("この日程は変えられません", "This date cannot be changed"),
    "calendar.nothing": ("変更する日付を入力してください", "Enter the date to change"),
    "calendar.bad_date": ("日付が読めません（例: 2027-05-28）", "This is not a date (e.g. 2027-05-28)"),
    "calendar.outside_year": ("{year}年の日付にしてください（この年度の日程はすべて{year}年です）",
                              "Use a date in {year}: this fiscal year's dates all fall in {year}"),
    "calendar.not_closed": ("この日は閉庁日に入っていません", "This day is not a closed date"),
    "calendar.out_of_order": ("{second}は{first}より後の日にしてください",
                              "{second} must come after {first}"),
    "calendar.refused": ("この日程は保存できません: {detail}", "This calendar cannot be saved: {detail}"),
    "calendar.bad_reminder_days": ("1から90までの日数を、重ならないようにカンマで区切って書いてください"
                                   "（例: 14, 7, 1）",
                                   "Days from 1 to 90, each once, separated by commas (e.g. 14, 7, 1)"),
    "calendar.bad_repeat_days": ("1から60までの日数を書いてください", "A number of days from 1 to 60"),
    "calendar.bad_escalate_after_days": ("1から120までの日数を書いてください", "A number of days from 1 to 120"),
    "outbox.cancelled_by_reminders": ("お知らせの日程の変更により取消し: {old}から{new}に変わりました",
                                      "Cancelled by a change of reminders: from {old} to {new}"),
    "outbox.cancelled_by_seat": ("役割の変更により取消し: {body}の{email}が{old}から{new}になりました",
                                 "Cancelled as seats changed: {email} went from {old} to {new} on {body}"),
    "history.reminders": ("{who}がお知らせの日程を変えました（{old} → {new}）",
                          "{who} changed the reminders ({old} → {new})"),
    "history.series": ("期限の{days}日前、期限後{repeat}日ごと、{escalate}日遅れで事務局へ",
                       "{days} days before, every {repeat} days after, escalated {escalate} days late"),
    "history.person_added": ("{who}が{person}を登録しました", "{who} added {person}"),
    "history.person_edited": ("{who}が{person}の{fields}を変えました", "{who} changed {person}'s {fields}"),
    "history.seat": ("{who}が{body}の{person}を{old}から{new}にしました",
                     "{who} moved {person} on {body} from {old} to {new}"),
    "history.body_renamed": ("{who}が{old}の名称を{new}に変えました", "{who} renamed {old} to {new}"),
    "people.why_missing": ("変更の理由を書いてください", "Say why"),
    "people.bad_email": ("メールアドレスとして読めません（例: hanako@city.example.jp）",
                         "This is not an email address (e.g. hanako@city.example.jp)"),
    "people.bad_name": ("名前を書いてください", "Enter a name"),
    "people.bad_language": ("日本語か英語を選んでください", "Choose Japanese or English"),
    "people.bad_value": ("この値は使えません", "This value cannot be used"),
    "people.exists": ("{email}はすでに登録されています", "{email} is already a person pdca knows"),
    "people.admin_only": ("全体の管理者を決められるのは全体の管理者だけです",
                          "Only an admin of every strategy may change who is one"),
    "people.not_yourself": ("自分自身は外せません", "You cannot remove yourself"),
    "people.unknown": ("{email}は登録されていません（先に人を追加してください）",
                       "{email} is not a person pdca knows (add them first)"),
    "seats.bad_role": ("役割を選んでください", "Choose a seat"),
    "seats.members_only": ("ここには会長や副会長はありません。委員を選んでください",
                           "This body has no chair: choose member"),
    "seats.not_seated": ("{email}はここに入っていません", "{email} has no seat here"),
    "seats.no_chair": ("会長がいなくなります。先にほかの人を会長にしてください",
                       "This would leave the council without a chair: make someone else chair first"),
    "seats.empty_secretariat": ("事務局には1人以上必要です", "The secretariat needs one member at least"),
    "seats.no_body": ("その会議はありません", "There is no such body"),
    "sync_field.name": ("名前", "name"),
    "sync_field.name_en": ("英語の名前", "name in English"),
    "sync_field.division": ("所属", "division"),
    "sync_field.language": ("言語", "language"),
    "sync_field.digest": ("まとめて受け取る設定", "daily digest"),
    "sync_field.admin": ("全体の管理者", "admin of every strategy"),
    "sync_field.active": ("登録", "being listed"),
    "sync_field.name_ja": ("名称", "name"),
    "sync_field.seats": ("委員の構成", "seats"),
    "sync_field.first_fy": ("開始年度", "first year"),
    "sync_field.target_fy": ("目標年度", "target year"),
    "sync_field.grades": ("評価の段階", "grade scale"),
    "sync_field.report_fields": ("報告の項目", "report fields"),
    "kind.digest": ("お知らせのまとめ", "Daily digest"),
    "kind.dead_letters": ("送信できなかったメール", "Undeliverable mail"),
    "kind.sign_in_link": ("ログイン用リンク", "Sign-in link"),
    "kind.opinion_asked": ("意見照会", "Opinion asked"),
    # -- an indicator's standing this year ----------------------------------------------------------
    "indicator.achieved": ("達成", "achieved"),
    "indicator.on_track": ("順調", "on track"),
    "indicator.behind": ("遅れ", "behind"),
    "indicator.no_data": ("データなし", "no data"),
    "indicator.not_applicable": ("数値目標なし", "no numerical target"),
    # -- seats in a body ------------------------------------------------------------------------------
    "seat.chair": ("会長", "chair"),
    "seat.vice_chair": ("副会長", "vice chair"),
    "seat.member": ("委員", "member"),
    # -- a strategy's bodies, as a message's reason names them ---------------------------------------
    "body.internal": ("庁内推進会議", "the internal council"),
    "body.promotion": ("推進会議", "the promotion council"),
    "body.secretariat": ("事務局", "the secretariat"),
    "body.advisors": ("有識者", "the advisors"),
    # -- roles the engine knows ------------------------------------------------------------------
    "role.system": ("年間予定（自動）", "the calendar"),
    "role.admin": ("管理者", "an admin"),
}


WORDS.update({f"page.{key}": pair for key, pair in PAGE_WORDS.items()})
WORDS.update({f"cli.{key}": pair for key, pair in CLI_WORDS.items()})
WORDS.update({f"review.{key}": pair for key, pair in REVIEW_WORDS.items()})
WORDS.update({f"hub.{key}": pair for key, pair in HUB_WORDS.items()})
WORDS.update({f"hubpage.{key}": pair for key, pair in HUB_PAGE_WORDS.items()})
WORDS.update({f"councilpage.{key}": pair for key, pair in COUNCIL_PAGE_WORDS.items()})


def say(key: str, language: str, **values: Any) -> str:
    """One entry of the catalogue in a language (Japanese unless English is asked for)."""
    ja, en = WORDS[key]
    template = en if language == "en" else ja
    return template.format(**values) if values else template


def has(key: str) -> bool:
    return key in WORDS


def join(items: Sequence[str], language: str) -> str:
    return ("、" if language != "en" else ", ").join(items)


def render(said: Any, language: str, names: Names | None = None) -> str:
    """A refusal or problem in the person's language, with program names turned into words."""
    text = str(said)
    key = getattr(said, "key", "")
    if language != "en" and getattr(said, "ja", None):
        return str(said.ja)
    if not key or key not in WORDS:
        return text
    params = dict(getattr(said, "params", {}) or {})

    def name(kind: str, code: str) -> str:
        return names(kind, code, language) if names is not None else code

    values: dict[str, Any] = {}
    for k, v in params.items():
        if k == "trigger":
            values[k] = name("trigger", v)
        elif k == "state":
            values[k] = name("state", v)
        elif k == "allowed":
            values[k] = join([name("trigger", t) for t in v], language) or say("refused.nobody", language)
        elif k == "roles":
            values[k] = join([name("role", r) for r in v], language)
        elif k == "holders":
            values[k] = join(list(v), language) or say("refused.nobody", language)
        elif k == "reasons":
            values[k] = "\n".join(render(r, language, names) for r in v)
        else:
            values[k] = v
    return say(key, language, **values)
