"""The pages' words, in Japanese (the default) and English."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "ja": {
        "my_work": "自分の作業", "councils": "会議", "internal": "庁内推進会議", "promotion": "生物多様性推進会議",
        "sign_in": "ログイン", "sign_out": "ログアウト", "email": "メールアドレス",
        "send_link": "ログイン用リンクを送る", "link_sent": "ログイン用リンクを送りました",
        "link_sent_text": "登録されているアドレスであれば、ログイン用リンクを送りました。メールを確認してください。",
        "link_invalid": "リンクが無効です",
        "link_invalid_text": "このリンクは期限切れか、すでに使われています。もう一度ログイン用リンクを送ってください。",
        "action": "取組", "fy": "年度", "state": "状態", "owner": "担当課", "due": "期限", "days_left": "残り日数",
        "late": "日超過", "days": "日", "nothing": "いま対応が必要なものはありません。",
        "record": "記録", "indicators": "指標", "baseline": "基準値", "target": "目標値", "this_year": "今年度",
        "history": "経緯", "next_steps": "次に行うこと", "by": "担当", "submit": "実行する",
        "reason_if_none": "値がない場合はその理由", "one_per_line": "1行に1件",
        "proposals": "改善提案", "waiting": "審議を待っている項目", "done": "完了しました",
        "refused": "実行できませんでした", "forbidden": "権限がありません",
        "not_found": "見つかりません", "language": "English", "returned_comment": "差し戻しコメント",
        "version": "版", "when": "日時", "who": "実行者", "step": "操作", "comment": "コメント",
        "admin": "管理", "calendar": "年間予定", "late_items": "期限を過ぎているもの",
        "outbox": "送信メール", "audit": "操作記録", "people": "人と会議",
        "download_ics": "カレンダーに取り込む (.ics)",
        "milestone": "予定", "what_happens": "内容", "status": "状態", "tries": "試行", "error": "エラー",
        "retry_dead": "送れなかったメールを再送する", "filter": "絞り込む", "trigger": "操作",
        "name": "名前", "division": "所属", "role": "役割", "absent": "不在",
        "accept_selected": "選択した報告を承認する",
        "password": "パスワード", "admins_password": "管理者はパスワードでもログインできます",
        "wrong_password": "メールアドレスかパスワードが違います。",
        "save_draft": "下書き保存", "draft_saved": "下書きを保存しました", "draft_by": "下書き",
        "opinions": "有識者への意見照会", "ask_advisor": "有識者に意見を照会する", "advisor": "有識者",
        "question": "照会内容", "your_answer": "ご回答", "answer": "回答する", "no_answer_yet": "回答待ち",
    },
    "en": {
        "my_work": "My work", "councils": "Councils", "internal": "Internal council", "promotion": "Promotion council",
        "sign_in": "Sign in", "sign_out": "Sign out", "email": "Email address",
        "send_link": "Email me a sign-in link", "link_sent": "Sign-in link sent",
        "link_sent_text": "If the address is registered, a sign-in link is on its way. Please check your email.",
        "link_invalid": "This link does not work",
        "link_invalid_text": "The link has expired or has been used already. Please ask for a new one.",
        "action": "Action", "fy": "Fiscal year", "state": "State", "owner": "Division", "due": "Due",
        "days_left": "Days left", "late": " days late", "days": " days", "nothing": "Nothing needs you right now.",
        "record": "Record", "indicators": "Indicators", "baseline": "Baseline", "target": "Target",
        "this_year": "This year", "history": "History", "next_steps": "What can happen next", "by": "By",
        "submit": "Submit", "reason_if_none": "If there is no value, why", "one_per_line": "one per line",
        "proposals": "Proposals", "waiting": "Items waiting for this council", "done": "Done",
        "refused": "This could not be done", "forbidden": "You may not do this",
        "not_found": "Not found", "language": "日本語", "returned_comment": "Returned with this comment",
        "version": "Version", "when": "When", "who": "Who", "step": "Step", "comment": "Comment",
        "admin": "Admin", "calendar": "Calendar", "late_items": "Past their deadline",
        "outbox": "Outbox", "audit": "Audit log", "people": "People and councils",
        "download_ics": "Add to a calendar (.ics)", "milestone": "Milestone", "what_happens": "What happens",
        "status": "Status", "tries": "Tries", "error": "Error", "retry_dead": "Send the undelivered messages again",
        "filter": "Filter", "trigger": "Step", "name": "Name", "division": "Division", "role": "Role",
        "absent": "Away", "accept_selected": "Accept the selected reports",
        "password": "Password", "admins_password": "Admins may also sign in with a password",
        "wrong_password": "The email address or the password is wrong.",
        "save_draft": "Save as draft", "draft_saved": "Draft saved", "draft_by": "Draft by",
        "opinions": "Advisors' opinions", "ask_advisor": "Ask an advisor", "advisor": "Advisor",
        "question": "Question", "your_answer": "Your answer", "answer": "Answer", "no_answer_yet": "Not answered yet",
    },
}


def translator(language: str):  # type: ignore[no-untyped-def]
    words = TEXT.get(language, TEXT["ja"])
    return lambda key: words.get(key, key)
