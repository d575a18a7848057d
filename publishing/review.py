"""The final review's package published as a static site, like a year's results: one page
in Japanese and one in English, and the figures as CSV and XLSX, with the same stylesheet.

Layout under the output directory:

    index.html   en/index.html   review.csv   review.xlsx   style.css

Every link is relative; nothing is loaded from elsewhere; everything from the package is
escaped by jinja2. The charts (the verdicts by basic policy, each indicator's forecast) are
inline SVG drawn by `publishing.charts`, which escapes what it takes from the package itself.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from openpyxl import Workbook

from publishing import tables
from publishing.cells import safe_rows
from publishing.charts import VERDICT_ORDER, forecast_svg, method_words, verdict_bars_svg
from publishing.labels import LANGUAGES, format_date, format_year, word
from publishing.site import STYLESHEET
from words.catalogue import say
from words.numbers import format_number, format_percent, plain

COLUMNS: tuple[str, ...] = (
    "code", "basic_policy", "title_ja", "title_en", "division", "last_grade", "revisions", "flagged_years",
    "indicator_code", "indicator_name_ja", "indicator_name_en", "unit", "direction", "baseline_value",
    "baseline_year", "target_value", "target_year", "series", "forecast_method", "forecast_value", "forecast_low",
    "forecast_high", "verdict", "progress",
)


def _t(language: str) -> Any:
    return lambda key, **values: say(f"review.{key}", language, **values)


def render_pages(package: dict[str, Any]) -> dict[str, str]:
    """The page in each language, by its path from the site's root."""
    env = Environment(loader=PackageLoader("publishing", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = format_number
    env.filters["pct"] = format_percent
    actions = sorted(package["actions"], key=lambda a: tables.code_key(a["code"]))
    pages = {}
    for language in LANGUAGES:
        page = "index.html" if language == "ja" else f"{language}/index.html"
        other = "en/index.html" if language == "ja" else "../index.html"
        css = STYLESHEET if language == "ja" else f"../{STYLESHEET}"
        here = "" if language == "ja" else "../"
        pages[page] = env.get_template("review.html").render(
            p=package, lang=language, t=_t(language), actions=actions, twin=other, css=css,
            csv=f"{here}review.csv", xlsx=f"{here}review.xlsx",
            text=lambda ja, en, language=language: (en or ja) if language == "en" else (ja or en),
            w=lambda kind, code, language=language: word(kind, code, language),
            year=lambda y, language=language: format_year(y, language),
            method=lambda f, language=language: method_words(f, language),
            verdicts=VERDICT_ORDER, bars=verdict_bars_svg(package["by_policy"], language=language),
            chart=lambda a, i, language=language: forecast_svg(i, language=language, action=a["code"]),
            published=format_date(package.get("published_at"), language))
    return pages


def rows(package: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per indicator (an action without indicators still gets one), words in
    Japanese, numbers as numbers."""
    out: list[dict[str, Any]] = []
    for a in sorted(package["actions"], key=lambda a: tables.code_key(a["code"])):
        base = {"code": a["code"], "basic_policy": a["basic_policy"], "title_ja": a["title_ja"],
                "title_en": a["title_en"], "division": a["division"], "last_grade": a["last_grade"],
                "revisions": a["revisions"], "flagged_years": "・".join(map(str, a["flagged_years"])) or None}
        if not a["indicators"]:
            out.append(base | dict.fromkeys(COLUMNS[COLUMNS.index("indicator_code"):]))
        for ind in a["indicators"]:
            f = ind["forecast"]
            out.append(base | {
                "indicator_code": ind["code"], "indicator_name_ja": ind["name_ja"], "indicator_name_en": ind["name_en"],
                "unit": ind["unit"], "direction": word("direction", ind["direction"], "ja"),
                "baseline_value": plain(ind["baseline"][0]), "baseline_year": ind["baseline"][1],
                "target_value": plain(ind["target"][0]), "target_year": ind["target"][1],
                "series": "; ".join(f"{y}: {format_number(v)}" for y, v in ind["series"]) or None,
                "forecast_method": method_words(f, "ja"), "forecast_value": plain(f.get("value")),
                "forecast_low": plain(f.get("low")), "forecast_high": plain(f.get("high")),
                "verdict": say(f"review.verdict.{ind['verdict']}", "ja"), "progress": plain(ind["progress"]),
            })
    return out


def write_site(package: dict[str, Any], out_dir: Path) -> list[Path]:
    """The whole site for one published package under out_dir; the written files."""
    out_dir = Path(out_dir)
    written: list[Path] = []
    for relative, content in render_pages(package).items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8", newline="\n")
        written.append(path)
    data = rows(package)
    with (out_dir / "review.csv").open("w", encoding="utf-8-sig", newline="") as f:  # BOM: Excel in Japan
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(safe_rows(data))
    written.append(out_dir / "review.csv")
    book = Workbook()
    tables._fill(book.active, COLUMNS, data, {"title_ja": 36, "title_en": 36, "basic_policy": 28, "series": 36,
                                              "forecast_method": 48, "indicator_name_ja": 28})
    book.active.title = "review"
    book.properties.title = f"{package['strategy']['name_ja']} {package['period_label']}"
    book.save(out_dir / "review.xlsx")
    written.append(out_dir / "review.xlsx")
    css = resources.files("publishing").joinpath("static", STYLESHEET).read_text(encoding="utf-8")
    (out_dir / STYLESHEET).write_text(css, encoding="utf-8", newline="\n")
    written.append(out_dir / STYLESHEET)
    return written


__all__ = ["COLUMNS", "method_words", "render_pages", "rows", "write_pdf", "write_site"]


def write_pdf(package: dict[str, Any], path: Path) -> Path:
    """The Japanese page as one PDF for the council's files, laid out by WeasyPrint with the
    site's stylesheet under print media (Noto Sans CJK JP for the Japanese, nothing fetched)."""
    import weasyprint  # imported here: it loads Pango, which only this needs

    page = render_pages(package)["index.html"]
    css = resources.files("publishing").joinpath("static", STYLESHEET).read_text(encoding="utf-8")
    page = page.replace(f'<link rel="stylesheet" href="{STYLESHEET}">', f"<style>\n{css}</style>")
    page = page.replace('<details class="chart">', '<details class="chart" open>')  # paper cannot be clicked
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weasyprint.HTML(string=page, base_url=str(path.parent)).write_pdf(path, media_type="print")
    return path
