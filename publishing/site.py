"""The yearly public report (公表) as a static site: an index and one page per action, in
Japanese and in English, with the results as CSV and XLSX and one stylesheet.

Layout under the output directory:

    index.html             en/index.html
    actions/<code>.html    en/actions/<code>.html
    results.csv  results.xlsx  style.css

Every link is relative, so the same files work opened from disk, copied to any web server,
and served by the web app under /public/<fy>/v<version>/. Nothing is loaded from elsewhere:
no scripts, no fonts, no CDN. Everything from the snapshot is escaped by jinja2.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from publishing import tables
from publishing.charts import indicator_svg
from publishing.labels import (
    LANGUAGES,
    PENDING,
    STATUSES,
    WORDS,
    format_date,
    format_year,
    rule_words,
    word,
)
from words.numbers import format_number, format_percent

STYLESHEET = "style.css"


def _environment() -> Environment:
    """Built per call, not at import: importing the package must do no work."""
    env = Environment(loader=PackageLoader("publishing", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = format_number
    env.filters["pct"] = format_percent
    return env


def page_names(actions: list[dict[str, Any]]) -> dict[str, str]:
    """A safe, unique file name for each action code ("1-1-2" -> "1-1-2.html").

    Codes come from the city's import; anything that is not a letter, digit, dot, dash or
    underscore is replaced, so a code can never leave the actions/ folder.
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for a in actions:
        code = str(a["code"])
        stem = re.sub(r"[^0-9A-Za-z._-]", "_", code).lstrip(".") or "action"
        name, n = f"{stem}.html", 1
        while name.lower() in taken:  # case-insensitive file systems would merge "A" and "a"
            n += 1
            name = f"{stem}-{n}.html"
        taken.add(name.lower())
        names[code] = name
    return names


def _index_path(language: str) -> str:
    return "index.html" if language == "ja" else f"{language}/index.html"


def _action_path(language: str, name: str) -> str:
    return f"actions/{name}" if language == "ja" else f"{language}/actions/{name}"


def _linker(page: str) -> Callable[[str], str]:
    """href(target) for one page: both are paths from the site's root, the result is relative."""
    here = posixpath.dirname(page) or "."
    return lambda target: posixpath.relpath(target, here)


def _groups(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Actions grouped by basic policy, groups in the order of their first action's code."""
    groups: dict[str, dict[str, Any]] = {}
    for a in actions:
        key = a["basic_policy"] or ""
        group = groups.setdefault(key, {"ja": a["basic_policy"], "en": a["basic_policy_en"], "actions": []})
        group["en"] = group["en"] or a["basic_policy_en"]
        group["actions"].append(a)
    return list(groups.values())


def _count_rows(counts: dict[str, int], order: list[str]) -> list[tuple[str, int]]:
    """Known keys in their order, then any others the snapshot has, so no count is dropped."""
    keys = [k for k in order if k in counts] + [k for k in counts if k not in order]
    return [(k, counts[k]) for k in keys]


def _text(language: str, ja: str | None, en: str | None) -> tuple[str, str]:
    """The text in the reader's language and its language tag; English falls back to Japanese."""
    if language == "en" and en:
        return en, "en"
    return (ja or en or ""), ("ja" if ja else language)


def render_pages(snapshot: dict[str, Any]) -> dict[str, str]:
    """Every HTML page of the site, by its path from the site's root, in reading order: for
    each language the index, then the action pages in code order. Kept apart from writing so
    the PDF (publishing.pdf) is made from exactly the pages the site shows."""
    env = _environment()
    actions = tables.actions(snapshot)
    names = page_names(actions)
    groups = _groups(actions)
    pages: dict[str, str] = {}
    for language in LANGUAGES:
        other = next(lang for lang in LANGUAGES if lang != language)

        def common(page: str, twin: str, language: str = language, other: str = other) -> dict[str, Any]:
            href = _linker(page)
            name, name_lang = _text(language, snapshot["strategy"]["name_ja"], snapshot["strategy"]["name_en"])
            return {
                "s": snapshot, "lang": language, "other": other, "t": WORDS[language],
                "w": lambda kind, code: word(kind, code, language),
                "rule": lambda r: rule_words(r, language),
                "text": lambda ja, en: _text(language, ja, en),
                "year": lambda y: format_year(y, language),
                "href": href, "home": href(_index_path(language)), "twin": href(twin),
                "css": href(STYLESHEET), "strategy_name": name, "strategy_lang": name_lang,
                "published": format_date(snapshot["published_at"], language),
                "page_for": lambda code: href(_action_path(language, names[str(code)])),
                "pending": PENDING,
            }

        index = _index_path(language)
        pages[index] = env.get_template("index.html").render(
            **common(index, _index_path(other)), groups=groups,
            grade_counts=_count_rows(snapshot["counts"]["by_grade"], list(snapshot["grades"])),
            status_counts=_count_rows(snapshot["counts"]["by_indicator_status"], list(STATUSES)),
            csv=_linker(index)("results.csv"), xlsx=_linker(index)("results.xlsx"),
        )
        for a in actions:
            page = _action_path(language, names[str(a["code"])])
            charts = [indicator_svg({**ind, "fy": snapshot["fy"]}, language=language) for ind in a["indicators"]]
            pages[page] = env.get_template("action.html").render(
                **common(page, _action_path(other, names[str(a["code"])])), a=a,
                indicators=list(zip(a["indicators"], charts, strict=True)),
                proposals=sorted(a["proposals"], key=lambda p: p["seq"]),
            )

    return pages


def write_site(snapshot: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write the whole site for one published snapshot under out_dir; the written files."""
    out_dir = Path(out_dir)
    written: list[Path] = []

    def write(relative: str, content: str) -> None:
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8", newline="\n")
        written.append(path)

    for relative, content in render_pages(snapshot).items():
        write(relative, content)
    written.append(tables.write_csv(snapshot, out_dir / "results.csv"))
    written.append(tables.write_xlsx(snapshot, out_dir / "results.xlsx"))
    css = resources.files("publishing").joinpath("static", STYLESHEET).read_text(encoding="utf-8")
    write(STYLESHEET, css)
    return written
