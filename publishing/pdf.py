"""The yearly report as one PDF, for the council's files and for readers who print.

Made from the Japanese pages of the static site (the index, then each action page in code
order), the very HTML a reader's browser gets, joined into one document and laid out by
WeasyPrint with the site's own stylesheet under print media. The Japanese text needs the
Noto Sans CJK JP font (Debian's fonts-noto-cjk), which style.css names; nothing is fetched.
"""

from __future__ import annotations

import html
import re
from importlib import resources
from pathlib import Path
from typing import Any

from publishing.site import STYLESHEET, render_pages

PDF_NAME = "results.pdf"
_MAIN = re.compile(r"<main>\n?(.*?)</main>", re.DOTALL)
_HEADER = re.compile(r"<header>.*?</header>", re.DOTALL)
_FOOTER = re.compile(r"<footer>.*?</footer>", re.DOTALL)
_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)


def _anchor(path: str) -> str:
    """The id an action's part of the document gets, from its page's path."""
    return "page-" + re.sub(r"[^0-9A-Za-z_-]", "_", path.removeprefix("actions/").removesuffix(".html"))


def _part(page: str, path: str) -> str:
    """One page's <main>, with links to action pages turned into links inside the PDF."""
    found = _MAIN.search(page)
    if found is None:
        raise ValueError(f"{path} has no <main>")
    prefix = "" if path == "index.html" else "../"
    return re.sub(rf'href="{re.escape(prefix)}(actions/[^"#]+\.html)"',
                  lambda m: f'href="#{_anchor(m[1])}"', found[1])


def combined_html(snapshot: dict[str, Any]) -> str:
    """The Japanese index and action pages as one HTML document, each page in a section that
    starts on a new sheet, with the stylesheet inlined."""
    pages = render_pages(snapshot)
    paths = ["index.html"] + [p for p in pages if p.startswith("actions/")]
    index = pages["index.html"]
    css = resources.files("publishing").joinpath("static", STYLESHEET).read_text(encoding="utf-8")
    title = _TITLE.search(index)
    header = _HEADER.search(index)
    footer = _FOOTER.search(index)
    parts = [f'<section class="page" id="{_anchor(p)}">\n{_part(pages[p], p)}</section>' for p in paths]
    return "\n".join([
        '<!doctype html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">',
        f"<title>{title[1] if title else html.escape(snapshot['fy_label'])}</title>",
        f"<style>\n{css}</style>\n</head>\n<body>",
        header[0] if header else "",
        "<main>", *parts, "</main>",
        footer[0] if footer else "",
        "</body>\n</html>\n",
    ])


def write_pdf(snapshot: dict[str, Any], path: Path) -> Path:
    """Write the report for one published snapshot as a PDF at path; the path."""
    import weasyprint  # imported here: it loads Pango, which only this needs

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weasyprint.HTML(string=combined_html(snapshot), base_url=str(path.parent)).write_pdf(
        path, media_type="print")
    return path
