"""The framework targets a local biodiversity strategy contributes to, shipped as bilingual data.

When a city drafts its next strategy every action and indicator is tagged with the targets it
serves in Japan's national strategy and in the Kunming-Montreal Global Biodiversity Framework,
and the contribution table lists, per framework target, the actions serving it: the city's
input to national reporting. Those targets are fixed texts published by others, so they live
here as one TOML file per framework (reviewable by a person who reads the official text, not
a migration) and are read once per process.

Each file starts with a `[framework]` table (code, name_ja, name_en, source, adopted) followed
by `[[items]]`. Validation is strict and happens on load, so a typo in a code, a parent that
does not exist or an unknown kind fails loudly with the file named, rather than a tag silently
pointing nowhere in a published contribution table.

Codes are unique within a framework and stable: they are what an action's tag stores. Where
the source numbers two kinds alike (the national strategy has a state target 1-1 and an action
target 1-1), the code carries a prefix and `number` keeps the source's own numbering for display.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

HERE = Path(__file__).resolve().parent

Language = Literal["ja", "en"]
LANGUAGES: tuple[Language, ...] = ("ja", "en")

KINDS: dict[str, dict[Language, str]] = {
    "goal": {"ja": "ゴール", "en": "Goal"},
    "target": {"ja": "ターゲット", "en": "Target"},
    "basic_strategy": {"ja": "基本戦略", "en": "Basic strategy"},
    "state_target": {"ja": "状態目標", "en": "State target"},
    "action_target": {"ja": "行動目標", "en": "Action target"},
}
"""Every kind an item may have, with how a page names it."""

NEEDS_PARENT = frozenset({"state_target", "action_target"})
"""Kinds that only make sense under another item (a national target under its basic strategy)."""

SOURCES = frozenset({"official", "translation"})
"""Where a title's wording comes from: the publisher's own text, or our faithful translation
(shown to readers as unofficial)."""

FRAMEWORK_KEYS = {"code": str, "name_ja": str, "name_en": str, "source": str, "adopted": date}
FRAMEWORK_OPTIONAL = {"source_ja": str, "source_en": str, "note": str}
ITEM_KEYS = {"code": str, "kind": str, "title_ja": str, "title_en": str}
ITEM_OPTIONAL = {
    "number": str, "parent": str, "summary_ja": str, "summary_en": str,
    "ja_source": str, "en_source": str, "shortened": bool, "verified": bool,
}


@dataclass(frozen=True)
class FrameworkItem:
    """One goal, target or strategy of a framework.

    `shortened` marks a title cut down from a very long official text; `verified` is False
    where the wording could not be checked against the official text when the data was
    compiled, so a page can flag it before it goes into a published table.
    """

    code: str
    kind: str
    title_ja: str
    title_en: str
    number: str
    parent: str | None = None
    summary_ja: str | None = None
    summary_en: str | None = None
    ja_source: str = "official"
    en_source: str = "official"
    shortened: bool = False
    verified: bool = True

    def label(self, language: Language = "ja") -> str:
        """How the source names it: 「状態目標1-1」, 'Target 3'."""
        kind = KINDS[self.kind][_language(language)]
        return f"{kind}{self.number}" if language == "ja" else f"{kind} {self.number}"


@dataclass(frozen=True)
class Framework:
    """A framework as one file describes it; items keep the file's order (the source's order)."""

    code: str
    name_ja: str
    name_en: str
    source: str
    adopted: date
    items: tuple[FrameworkItem, ...]
    source_ja: str | None = None
    source_en: str | None = None
    note: str | None = None

    def name(self, language: Language = "ja") -> str:
        return self.name_ja if _language(language) == "ja" else self.name_en

    def of_kind(self, kind: str) -> tuple[FrameworkItem, ...]:
        return tuple(i for i in self.items if i.kind == kind)

    def children(self, code: str) -> tuple[FrameworkItem, ...]:
        return tuple(i for i in self.items if i.parent == code)


def load(code: str, directory: Path | None = None) -> Framework:
    """The framework in `<directory>/<code>.toml` (this package by default), read once: the
    files ship with the code and do not change while a process runs."""
    return _load(code, (directory or HERE).resolve())


@cache
def _load(code: str, directory: Path) -> Framework:
    path = directory / f"{code}.toml"
    if not path.is_file():
        raise ValueError(f"no framework {code!r}: {path} does not exist")
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML: {e}") from e
    return _parse(data, code=code, where=str(path))


def frameworks(directory: Path | None = None) -> list[Framework]:
    """Every framework shipped (one per TOML file), sorted by code."""
    folder = (directory or HERE).resolve()
    return [load(p.stem, folder) for p in sorted(folder.glob("*.toml"))]


def item(framework: Framework | str, code: str) -> FrameworkItem:
    """The item with this code; `framework` may be given by its code. KeyError names both,
    because the caller usually holds a stored tag that no longer matches the data."""
    fw = load(framework) if isinstance(framework, str) else framework
    for i in fw.items:
        if i.code == code:
            return i
    raise KeyError(f"{fw.code} has no item {code!r}")


def title(it: FrameworkItem, language: Language = "ja") -> str:
    return it.title_ja if _language(language) == "ja" else it.title_en


def _language(language: str) -> Language:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: expected one of {', '.join(LANGUAGES)}")
    return language  # type: ignore[return-value]


def _parse(data: dict[str, Any], *, code: str, where: str) -> Framework:
    head = data.get("framework")
    if not isinstance(head, dict):
        raise ValueError(f"{where}: the file must start with a [framework] table")
    _check_keys(head, FRAMEWORK_KEYS, FRAMEWORK_OPTIONAL, f"{where}: [framework]")
    if head["code"] != code:
        raise ValueError(f"{where}: [framework] code is {head['code']!r} but the file is named {code!r}")
    unknown = set(data) - {"framework", "items"}
    if unknown:
        raise ValueError(f"{where}: unknown top-level keys {sorted(unknown)}")
    rows = data.get("items")
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{where}: no [[items]]")

    items: list[FrameworkItem] = []
    seen: set[str] = set()
    for n, row in enumerate(rows, start=1):
        at = f"{where}: item {n}" + (f" ({row['code']!r})" if isinstance(row, dict) and "code" in row else "")
        if not isinstance(row, dict):
            raise ValueError(f"{at}: not a table")
        _check_keys(row, ITEM_KEYS, ITEM_OPTIONAL, at)
        if row["kind"] not in KINDS:
            raise ValueError(f"{at}: unknown kind {row['kind']!r}: expected one of {', '.join(KINDS)}")
        if row["code"] in seen:
            raise ValueError(f"{at}: duplicate code {row['code']!r}")
        seen.add(row["code"])
        for language in LANGUAGES:
            if not row[f"title_{language}"].strip():
                raise ValueError(f"{at}: empty title_{language}")
            src = row.get(f"{language}_source", "official")
            if src not in SOURCES:
                raise ValueError(f"{at}: {language}_source {src!r}: expected one of {', '.join(sorted(SOURCES))}")
        if row["kind"] in NEEDS_PARENT and "parent" not in row:
            raise ValueError(f"{at}: a {row['kind']} needs a parent")
        items.append(FrameworkItem(number=row.get("number", row["code"]), **{
            k: v for k, v in row.items() if k != "number"}))

    codes = {i.code: i for i in items}
    for i in items:
        if i.parent is None:
            continue
        if i.parent not in codes:
            raise ValueError(f"{where}: item {i.code!r}: parent {i.parent!r} does not exist")
        if i.parent == i.code:
            raise ValueError(f"{where}: item {i.code!r} is its own parent")

    return Framework(items=tuple(items), **head)


def _check_keys(table: dict[str, Any], required: dict[str, type], optional: dict[str, type], at: str) -> None:
    missing = [k for k in required if k not in table]
    if missing:
        raise ValueError(f"{at}: missing {', '.join(missing)}")
    allowed = required | optional
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"{at}: unknown keys {unknown}")
    for k, v in table.items():
        want = allowed[k]
        # a TOML datetime is also a date; the adoption day is a plain date
        if not isinstance(v, want) or (want is date and hasattr(v, "hour")):
            raise ValueError(f"{at}: {k} should be a {want.__name__}, got {v!r}")
