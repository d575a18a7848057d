"""The information hub's public words (情報拠点の公開ページ): its list, an item's page, its map,
its feed, its CSV's columns and its Darwin Core Archive's description, by key, in Japanese and
English. Part of the one catalogue: `words.catalogue.say("hubpage.KEY", language, **values)`.

What partners wrote (names, places, remarks) is theirs and is shown as they wrote it; every
other word on those pages comes from here or from the hub's spec labels, so no program name
(`observation`, `insects`, `HumanObservation`) ever reaches a reader."""

from __future__ import annotations

HUB_PAGE_WORDS: dict[str, tuple[str, str]] = {
    # -- the list --------------------------------------------------------------------------------
    "title": ("情報拠点: 生きものの記録と活動", "Information hub: wildlife records and activities"),
    "intro": ("市民・団体・事業者・大学・博物館などから寄せられ、担当者が確認して公開した生きものの観察記録と"
              "活動報告です。",
              "Records of wildlife and reports of activities sent by citizens, groups, businesses, universities, "
              "the museum and others, checked by the hub's curators before they are shown here."),
    "filters": ("絞り込み", "Filter"),
    "kind": ("種類", "Kind"),
    "kind.observation": ("観察記録", "Wildlife record"),
    "kind.activity": ("活動報告", "Activity report"),
    "group": ("分類群", "Group"),
    "action": ("関係する取組", "Actions it serves"),
    "fy": ("年度", "Fiscal year"),
    "any": ("すべて", "All"),
    "apply": ("絞り込む", "Show"),
    "clear": ("条件を外す", "Clear the filter"),
    "found": ("{count}件", "{count} found"),
    "page_of": ("{page}/{pages}ページ", "page {page} of {pages}"),
    "previous": ("前のページ", "Previous page"),
    "next": ("次のページ", "Next page"),
    "nothing": ("該当する記録はありません。", "Nothing found."),
    "downloads": ("データのダウンロード", "Downloads"),
    "feed": ("更新情報（Atom フィード）", "Updates (Atom feed)"),
    "csv": ("一覧（CSV、Excel で開けます）", "List (CSV, opens in Excel)"),
    "dwca": ("観察記録（Darwin Core Archive、GBIF 形式）", "Wildlife records (Darwin Core Archive, as GBIF reads)"),
    "downloads_note": ("ダウンロードには、いま絞り込んでいる条件が反映されます。",
                       "The downloads hold what the filter above shows."),
    "all_items": ("情報拠点の一覧へ", "All items of the hub"),
    "back_public": ("公表ページへ", "Published results"),
    # -- one item --------------------------------------------------------------------------------
    "date": ("日付", "Date"),
    "place": ("場所", "Place"),
    "species": ("種", "Species"),
    "count": ("個体数", "Individuals"),
    "participants": ("参加者数", "Participants"),
    "people": ("{n}人", "{n}"),
    "sender": ("提供", "Sent by"),
    "recorded_by": ("観察した人", "Recorded by"),
    "basis": ("記録の種類", "Kind of record"),
    "status": ("確認の有無", "Present or absent"),
    "uncertainty": ("位置の誤差", "Uncertainty of the place"),
    "metres": ("約{m}m", "about {m} m"),
    "what_done": ("活動の内容", "What was done"),
    "verified": ("同定確認済み", "Identification verified"),
    "verified_note": ("専門家が種の同定を確認しました。", "An expert has verified the identification."),
    "accepted": ("公開日", "Published"),
    "square": ("2次メッシュ {code}", "grid square {code}"),
    "square_note": ("保護が必要な種のため、場所は約10km四方の区画（2次メッシュ {code}）までしか示していません。",
                    "This species needs protection: its place is shown only to the ~10 km grid square "
                    "({code}) it lies in."),
    "no_place": ("位置の記録なし", "No coordinates recorded"),
    "coordinates": ("緯度・経度", "Latitude, longitude"),
    "report_link": ("{fy}の公表結果で見る", "see it in the published results of {fy}"),
    "not_public": ("この記録は公開されていません。", "This item is not public."),
    # -- the map -----------------------------------------------------------------------------------
    "map_title": ("情報拠点の地図", "Map of the information hub"),
    "map_item_title": ("この記録の場所", "Where this item is"),
    "map_desc": ("市の輪郭の上に、このページの記録を示しています。保護が必要な種は約10km四方の区画で示しています。",
                 "The city's outline with the items of this page on it; species that need protection are shown "
                 "as their ~10 km grid square."),
    "map_links": ("地図に示した記録", "Items on the map"),
    "map_page_only": ("地図と下の一覧は、このページの記録を示しています。", "The map shows the items of this page."),
    "legend.cell": ("保護が必要な種（約10km四方の区画）", "Species that needs protection (~10 km square)"),
    "legend.uncertainty": ("位置の誤差の範囲", "Uncertainty of the place"),
    "legend.river": ("川", "River"),
    # -- the feed ----------------------------------------------------------------------------------
    "feed_title": ("{strategy}: 情報拠点", "{strategy}: information hub"),
    "feed_subtitle": ("担当者が確認して公開した、生きものの観察記録と活動報告の新着",
                      "The latest wildlife records and activity reports, as the hub's curators accept them"),
    # -- the CSV's columns -------------------------------------------------------------------------
    "col.id": ("番号", "No."),
    "col.kind": ("種類", "Kind"),
    "col.title": ("件名", "Title"),
    "col.date": ("日付", "Date"),
    "col.fy": ("年度", "Fiscal year"),
    "col.place": ("場所", "Place"),
    "col.latitude": ("緯度", "Latitude"),
    "col.longitude": ("経度", "Longitude"),
    "col.uncertainty": ("位置の誤差（m）", "Uncertainty (m)"),
    "col.square": ("2次メッシュ（場所を区画までにした記録）", "Grid square (where the place is generalised)"),
    "col.vernacular": ("和名", "Common name"),
    "col.scientific": ("学名", "Scientific name"),
    "col.group": ("分類群", "Group"),
    "col.basis": ("記録の種類", "Kind of record"),
    "col.status": ("確認の有無", "Present or absent"),
    "col.count": ("個体数", "Individuals"),
    "col.participants": ("参加者数", "Participants"),
    "col.sender": ("提供", "Sent by"),
    "col.actions": ("関係する取組", "Actions it serves"),
    "col.verified": ("同定確認", "Identification verified"),
    "col.accepted": ("公開日", "Published"),
    "col.page": ("ページ", "Page"),
    "col.occurrence_id": ("記録のID", "Record ID"),
    "yes": ("済", "yes"),
    # -- the archive's description -----------------------------------------------------------------
    "dataset_title": ("{strategy} 情報拠点の生きもの観察記録", "{strategy}: wildlife records of the information hub"),
    "dataset_description": ("{strategy}の情報拠点に市民・団体・事業者・大学・博物館などから寄せられ、担当者が確認して"
                            "公開した生きものの観察記録です。保護が必要な種は、2次メッシュ（約10km四方）の中心に"
                            "位置を丸めています。",
                            "Wildlife records sent to the information hub of {strategy} by citizens, groups, "
                            "businesses, universities, the museum and others, and accepted by its curators. "
                            "Species that need protection are placed at the centre of their second-level grid "
                            "square (about 10 km)."),
}
