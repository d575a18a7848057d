"""The yearly report as one PDF (pdca publish --pdf): read back with pypdf the way a reader's
viewer would, to find the Japanese pages in their order, each action on a sheet of its own,
and the Japanese text set in Noto Sans CJK JP rather than in boxes of a fallback font."""

from __future__ import annotations

import re
from pathlib import Path

from pypdf import PdfReader

from publishing.pdf import PDF_NAME, combined_html, write_pdf
from tests.test_publishing_site import SCRIPT_TITLE, snapshot


def _fonts(reader: PdfReader) -> set[str]:
    names: set[str] = set()
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font") or {}
        names |= {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    return names


def test_the_pdf_holds_the_japanese_report_with_each_action_on_its_own_sheet(tmp_path: Path) -> None:
    path = write_pdf(snapshot(), tmp_path / PDF_NAME)
    reader = PdfReader(path)
    texts = [page.extract_text() for page in reader.pages]
    everything = "\n".join(texts)
    assert len(texts) >= 4  # the index, then at least one sheet for each of the three actions
    assert texts[0].startswith("みどり市生物多様性戦略")
    assert "進行管理の結果（公表）" in texts[0] and "訂正" in texts[0]
    # Each action starts a sheet, in code order (1-1-2 before 1-1-10), after the index.
    starts = [(i, m[1]) for i, text in enumerate(texts) if (m := re.match(r"(\d-\d-\d+) ", text))]
    assert [code for _, code in starts] == ["1-1-2", "1-1-10", "2-1-1"]
    assert starts[0][0] > 0
    for title in ("里山林の保全活動", "外来種（アライグマ）の防除", "生きもの調査の結果の発信", "アライグマの目撃件数"):
        assert title in everything.replace("\n", "")
    assert "Raccoon" not in everything and SCRIPT_TITLE not in everything  # the Japanese pages only
    assert any("NotoSansCJKJP" in name.replace("-", "") for name in _fonts(reader)), _fonts(reader)


def test_the_combined_document_links_inside_itself_and_prints_without_navigation() -> None:
    document = combined_html(snapshot())
    assert document.count('<section class="page"') == 4
    assert 'href="#page-1-1-10"' in document and 'id="page-1-1-10"' in document
    assert 'href="actions/' not in document and "<link " not in document  # nothing to fetch
    assert "@media print" in document and "break-before: page" in document
