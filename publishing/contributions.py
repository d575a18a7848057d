"""The contribution table as files: one row per framework target and the action (or
indicator) serving it, words in Japanese, for the city's input to national reporting."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from publishing import tables
from publishing.cells import safe_rows
from publishing.labels import word

COLUMNS: tuple[str, ...] = (
    "framework", "target", "target_label", "target_title_ja", "target_title_en", "wording_checked", "action",
    "action_title_ja", "action_title_en", "indicator", "indicator_name_ja", "council_grade", "indicator_status",
)


def rows(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for t in table:
        for s in t["serving"]:
            out.append({
                "framework": t["framework_ja"], "target": t["target"], "target_label": t["label_ja"],
                "target_title_ja": t["title_ja"], "target_title_en": t["title_en"],
                "wording_checked": "確認済" if t["verified"] else "未確認", "action": s["action"],
                "action_title_ja": s["title_ja"], "action_title_en": s["title_en"], "indicator": s["indicator"],
                "indicator_name_ja": s["indicator_name_ja"], "council_grade": s["council_grade"],
                "indicator_status": word("status", s["status"], "ja") or None,
            })
    return out


def csv_bytes(table: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark, as the yearly results: Excel in Japan reads it right."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(safe_rows(rows(table)))
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(table: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    tables._fill(book.active, COLUMNS, rows(table), {"target_title_ja": 40, "target_title_en": 40,
                                                     "action_title_ja": 36, "action_title_en": 36})
    book.active.title = "contributions"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


__all__ = ["COLUMNS", "csv_bytes", "rows", "xlsx_bytes"]
