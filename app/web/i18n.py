"""The pages' words: a lookup in the one catalogue (`words/`), by the person's language."""

from __future__ import annotations

from collections.abc import Callable

from words.catalogue import say


def translator(language: str) -> Callable[[str], str]:
    """`t("my_work")` and the like; a key the catalogue does not have is shown as it is
    (a test fails on any such key on a page)."""

    def t(key: str) -> str:
        try:
            return say(f"page.{key}", language)
        except KeyError:
            return key

    return t
