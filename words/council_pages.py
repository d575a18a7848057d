"""The councils' public words (会議録と情報交換の公開ページ): the meetings' minutes and the
promotion council's exchange of information, by key, in Japanese and English. Part of the
one catalogue: `words.catalogue.say("councilpage.KEY", language, **values)`.

What the secretariat wrote in the minutes and what people posted to the exchange is theirs
and is shown as written; every other word comes from here or from the specs' labels."""

from __future__ import annotations

COUNCIL_PAGE_WORDS: dict[str, tuple[str, str]] = {
    # -- meetings --------------------------------------------------------------------------------
    "meetings": ("会議録", "Minutes of the councils' meetings"),
    "meetings_intro": ("庁内推進会議と生物多様性推進会議の会議ごとに、議題（会議資料）、出席、議事録と決定事項を"
                       "公開しています。会長が承認した議事録を載せています。",
                       "For each meeting of the Intra-office Promotion Council and the Biodiversity Promotion "
                       "Council: its agenda (the packet), who attended, the minutes and the decisions taken. Minutes "
                       "appear here once the council's chair has approved them."),
    "no_meetings": ("公開された会議録はまだありません。", "No minutes have been published yet."),
    "all_meetings": ("会議録の一覧", "All minutes"),
    "held_on": ("開催日", "Date"),
    "council": ("会議", "Council"),
    "fy": ("審議した年度", "Fiscal year taken up"),
    "regular": ("定例会", "Regular meeting"),
    "extra": ("臨時会", "Extra meeting"),
    "agenda": ("議題（会議資料）", "Agenda (the packet)"),
    "agenda_empty": ("この会議で審議した取組はありません。", "No actions were taken up at this meeting."),
    "attendance": ("出席", "Attendance"),
    "present_count": ("出席 {present}名／委員 {seated}名", "{present} of {seated} members present"),
    "present": ("出席", "present"),
    "absent": ("欠席", "absent"),
    "minutes": ("議事録", "Minutes"),
    "decisions": ("決定事項", "Decisions"),
    "undecided": ("審議中", "Still under discussion"),
    "approved_on": ("会長承認・公開 {day}", "Approved by the chair and published {day}"),
    "items": ("議題 {n}件", "{n} items"),
    # -- the exchange ------------------------------------------------------------------------------
    "exchange": ("情報交換の広場", "Exchange of information"),
    "exchange_intro": ("生物多様性推進会議の情報交換の場です。市民・団体・事業者・大学・市の担当課などが、"
                       "取組の進み具合や課題について話題を出し合っています。公開の話題を載せています。",
                       "The Biodiversity Promotion Council's forum: citizens, groups, businesses, universities and "
                       "the city's divisions raise topics on how the actions go and what stands in their way. "
                       "The public topics are shown here."),
    "no_topics": ("公開の話題はまだありません。", "No public topics yet."),
    "all_topics": ("話題の一覧", "All topics"),
    "posted_by": ("投稿", "Posted by"),
    "posted_on": ("投稿日", "Posted"),
    "replies": ("返信 {n}件", "{n} replies"),
    "reply_list": ("返信", "Replies"),
    "no_replies": ("返信はまだありません。", "No replies yet."),
    "actions": ("関係する取組", "Actions concerned"),
    "closed": ("この話題は終了しました。", "This topic is closed."),
    "take_part": ("連携主体・市の担当課・会議の委員は、ログインして話題を出したり返信したりできます。",
                  "Partners, the city's divisions and council members may sign in to raise a topic or reply."),
    "back_public": ("公表ページへ戻る", "Back to the published results"),
    "more": ("情報拠点と会議", "The hub and the councils"),
}
