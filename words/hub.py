"""The information hub's words (情報拠点), by key, in Japanese and English: what a partner or a
curator reads about a file of observations they import. Part of the one catalogue:
`words.catalogue.say("hub.KEY", language, **values)`.

`{row}` is the row as a spreadsheet counts it (the header is row 1), `{column}` the column
as the file names it, `{value}` what the cell holds."""

from __future__ import annotations

HUB_WORDS: dict[str, tuple[str, str]] = {
    "nothing_imported": ("{count}件の問題があるため、何も取り込みませんでした。",
                         "Nothing imported: {count} problem(s)."),
    "imported": ("{count}件の観察記録を取り込みました（{source}）。情報拠点の担当者の確認を待っています。",
                 "{count} observation(s) imported ({source}); they wait for a curator."),
    "already": ("{count}件は以前に取り込み済みのため、そのままにしました。",
                "{count} were imported before and were left as they are."),
    # -- the file as a whole ---------------------------------------------------------------------
    "too_large": ("{file}: ファイルが大きすぎます（{limit}MBまで）。",
                  "{file}: the file is too large ({limit} MB at most)."),
    "too_many_rows": ("{file}: 観察記録が多すぎます（一度に{limit}件まで）。ファイルを分けてください。",
                      "{file}: too many observations ({limit} at most at a time). Please split the file."),
    "encoding": ("{file}: UTF-8でもShift_JISでもありません", "{file}: neither UTF-8 nor Shift_JIS text"),
    "empty": ("{file}: 観察記録がありません", "{file}: the file holds no observations"),
    "unreadable": ("{file}: ファイルを読み取れませんでした", "{file}: the file could not be read"),
    "dwca_unreadable": ("{file}: Darwin Core Archive（zip）として読めませんでした",
                        "{file}: not a readable Darwin Core Archive (zip)"),
    "not_occurrence": ("{file}: コアが「{value}」のアーカイブです。観察記録（Occurrence）のアーカイブを選んでください",
                       "{file}: the archive's core is “{value}”; please choose an archive of occurrences"),
    "unknown_format": ("1行目: 列名が Darwin Core の用語にも、iNaturalist やいきものログの書き出しにも当たりません",
                       "row 1: the column names are neither Darwin Core terms "
                       "nor those of an iNaturalist or いきものログ export"),
    # -- one row -------------------------------------------------------------------------------
    "cells": ("{row}行目: 値が{count}個あり、列（{columns}個）より多くなっています",
              "row {row}: {count} values, more than the {columns} columns"),
    "date_missing": ("{row}行目: 「{column}」（観察した日）がありません",
                     "row {row}: no “{column}” (the day observed)"),
    "date": ("{row}行目: 「{column}」の日付「{value}」を読めません（2025-05-03 の形で書いてください）",
             "row {row}: the date “{value}” in “{column}” cannot be read (write it as 2025-05-03)"),
    "date_future": ("{row}行目: 「{column}」の日付「{value}」は今日（{today}）より後です",
                    "row {row}: the date “{value}” in “{column}” is after today ({today})"),
    "number": ("{row}行目: 「{column}」の「{value}」は数値ではありません",
               "row {row}: “{value}” in “{column}” is not a number"),
    "latitude": ("{row}行目: 緯度「{value}」が -90〜90 の範囲にありません",
                 "row {row}: latitude “{value}” is not between -90 and 90"),
    "longitude": ("{row}行目: 経度「{value}」が -180〜180 の範囲にありません",
                  "row {row}: longitude “{value}” is not between -180 and 180"),
    "coordinates_pair": ("{row}行目: 緯度と経度は両方書くか、両方とも空にしてください",
                         "row {row}: give both latitude and longitude, or neither"),
    "name_missing": ("{row}行目: 学名も和名（種名）もありません", "row {row}: neither a scientific nor a common name"),
    "count": ("{row}行目: 「{column}」の「{value}」は0以上の整数ではありません",
              "row {row}: “{value}” in “{column}” is not a whole number of 0 or more"),
    "uncertainty": ("{row}行目: 「{column}」の「{value}」は0より大きいメートル数ではありません",
                    "row {row}: “{value}” in “{column}” is not a number of metres above 0"),
    "status": ("{row}行目: 「{column}」の「{value}」は present（確認）か absent（未確認）です",
               "row {row}: “{value}” in “{column}” must be present or absent"),
    "basis": ("{row}行目: 「{column}」の「{value}」は記録の種類（{allowed}）のどれでもありません",
              "row {row}: “{value}” in “{column}” is not a kind of record ({allowed})"),
    "duplicate": ("{row}行目: 「{column}」の「{value}」は{first}行目と同じです（同じ記録が2回あります）",
                  "row {row}: “{value}” in “{column}” repeats row {first} (the same record twice)"),
}
